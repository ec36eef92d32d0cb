"""One body to documents, with no network: the task a parser process runs.

``parse_body`` takes a ``ParseTask`` (the bytes and what the unit knows about them) and returns a
``Parsed`` (the documents as staged JSON lines, the threads the feed announces, or one line
saying why nothing usable came out). It runs in a parser process (``listening.collect.parsepool``
preloads this module) or in the fetching process, and never raises for what a page does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from listening.models import Document


@dataclass
class ParseTask:
    """One body to parse, with what the parser needs to know (sent to a parser process)."""

    role: str  # 'main' | 'child'
    kind: str  # the feed's kind: feed | site | page | comments (children: comments | page)
    discover: bool  # a 'site' source's page: find its feed
    body: bytes
    headers: dict[str, str]
    final_url: str
    source: str
    collected_at: datetime
    thread_url: str | None = None
    post_id: str | None = None


@dataclass
class Parsed:
    """What came out of one body: documents as staged JSON lines, and what the unit needs."""

    lines: list[tuple[str, bytes]] = field(default_factory=list)  # (document_id, JSON)
    posts: list[tuple[str, str]] = field(default_factory=list)  # (document_id, url)
    comment_feeds: list[Any] = field(default_factory=list)  # listening.collect.discover.CommentFeed
    newest: datetime | None = None  # the latest published_at among the documents
    is_feed: bool = True
    error: str | None = None  # one line when nothing usable came out
    is_bozo: bool = False
    bozo_message: str | None = None
    feeds: list[str] | None = None  # a site's page: the feeds it announces
    as_page: bool = False  # a 'page' source's HTML read as an article and its comments


_encoder = None


def _lines(docs: Iterable[Document]) -> list[tuple[str, bytes]]:
    """One staged JSON line per document (msgspec encodes dataclasses and datetimes directly,
    with no deep copy; RFC 3339 timestamps)."""
    global _encoder
    if _encoder is None:
        import msgspec

        _encoder = msgspec.json.Encoder()
    return [(d.document_id, _encoder.encode(d)) for d in docs]


def _parsed_docs(docs: list[Document], **kwargs) -> Parsed:
    newest = max((d.published_at for d in docs), default=None)
    return Parsed(lines=_lines(docs), newest=newest, **kwargs)


def parse_body(task: ParseTask) -> Parsed:
    """Bytes to documents, with no network: runs in a parser process (or in the caller)."""
    from listening.collect.discover import discover_feeds
    from listening.collect.feeds import parse_feed
    from listening.collect.pages import extract_page_comments, parse_page

    if task.discover:
        feeds = _safely(discover_feeds, task.body, task.final_url)
        return Parsed(feeds=[] if isinstance(feeds, str) else feeds)
    if task.role == "child" and task.kind == "page":
        docs = _safely(
            extract_page_comments,
            task.body,
            task.final_url,
            source=task.source,
            collected_at=task.collected_at,
        )
        if isinstance(docs, str):
            return Parsed(is_feed=False, error=docs)
        return _parsed_docs(docs)
    parsed = parse_feed(
        task.body,
        task.headers,
        source=task.source,
        feed_url=task.final_url,
        collected_at=task.collected_at,
        thread_url=task.thread_url,
        post_id=task.post_id,
    )
    html_page = task.role == "main" and task.kind == "page" and not parsed.is_feed
    if html_page and _looks_html(task.headers, task.body):
        at = task.collected_at
        docs = _safely(parse_page, task.body, task.final_url, source=task.source, collected_at=at)
        if isinstance(docs, str):
            return Parsed(is_feed=False, error=docs, as_page=True)
        return _parsed_docs(docs, as_page=True)
    if not parsed.is_feed:
        return Parsed(is_feed=False, error=parsed.error or "not a feed")
    return _parsed_docs(
        parsed.documents,
        posts=[(d.document_id, d.url) for d in parsed.documents if d.kind == "post"],
        comment_feeds=parsed.comment_feeds,
        is_bozo=parsed.is_bozo,
        bozo_message=parsed.bozo_message,
    )


def _safely(parse: Callable[..., list], *args, **kwargs) -> list | str:
    """``parse(*args, **kwargs)``, or one line saying why the page could not be read.

    What a hostile page does to a parser (a ``RecursionError``, a ``MemoryError`` on absurd
    markup, a parser bug) is that page's problem: it becomes its source's ``last_error`` and
    every other source is still collected.
    """
    from listening.collect.htmltree import PageError

    try:
        return parse(*args, **kwargs)
    except PageError as exc:
        return str(exc)
    except Exception as exc:  # whatever the page does to the parser is that page's problem
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        return f"unreadable HTML page ({reason}); tell the site's owner"


def _looks_html(headers: dict[str, str], body: bytes) -> bool:
    ctype = headers.get("content-type", "")
    return "html" in ctype or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
