"""Bytes in, documents out: a feed or a comment feed read into documents (``parse_feed``).

No network here: the fetcher hands us the body and the response headers. What the web does
wrong (malformed XML, wrong charset, an HTML page instead of a feed) is reported in the result,
never raised.

Each entry becomes a document in ``listening.collect.entries`` (ids: ``listening.collect.ids``);
where each post's comments are is found by ``listening.collect.discover``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from listening.collect.discover import CommentFeed, comment_feed
from listening.collect.entries import entry_author, entry_document
from listening.collect.text import canonical_url, html_to_text
from listening.models import Document


@dataclass
class ParsedFeed:
    """What ``parse_feed`` read in one body: its documents, where their comments are, and how
    well it went."""

    documents: list[Document] = field(default_factory=list)
    comment_feeds: list[CommentFeed] = field(default_factory=list)
    is_bozo: bool = False  # malformed but salvaged (feedparser's bozo bit)
    bozo_message: str | None = None
    is_feed: bool = True  # False when the body is not a feed at all
    error: str | None = None  # one human-readable line when nothing usable came out
    n_dates_estimated: int = 0
    title: str | None = None


# --- safety: no entity expansion ---------------------------------------------------------------

# An internal DTD subset is the only place entities can be declared; feeds never need one.
# feedparser 6 already keeps only "safe" declarations (sanitizer.replace_doctype), but its
# regexes miss declarations that do not start a line, and still allow a large text entity
# referenced many times (quadratic blow-up). We drop the whole internal subset before parsing:
# references to the dropped entities become parse errors (bozo) and stay unexpanded text.
_DOCTYPE = re.compile(rb"<!DOCTYPE\b[^\[>]*(\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z]")


def _defuse_doctype(body: bytes) -> tuple[bytes, bool]:
    m = _DOCTYPE.search(body)
    if not m or not m.group(1):
        return body, False
    first = _FIRST_ELEMENT.search(body)
    if first and first.start() < m.start():
        return body, False  # a "<!DOCTYPE" inside content is just text
    head = body[m.start() : m.start(1)].rstrip()
    return body[: m.start()] + head + b">" + body[m.end() :], True


# --- charset: UTF-8 bytes declared as Latin-1 --------------------------------------------------

_XML_DECL_ENC = re.compile(rb"""^(\s*<\?xml[^>]*encoding=["'])([\w.:-]+)(["'])""", re.IGNORECASE)
_LATIN = {"iso-8859-1", "iso-8859-15", "latin-1", "latin1", "windows-1252", "cp1252", "us-ascii"}


def _fix_utf8_declared_latin(body: bytes, headers: dict[str, str]) -> tuple[bytes, str | None]:
    """feedparser trusts a Latin-1 declaration and turns UTF-8 "é" into "Ã©" silently.

    Valid multi-byte UTF-8 is vanishingly unlikely in real Latin-1 text, so when the bytes
    decode as UTF-8 and contain non-ASCII, the declaration is the thing that is wrong.
    """
    declared = []
    if m := _XML_DECL_ENC.match(body):
        declared.append(m.group(2).decode("ascii").lower())
    ctype = headers.get("content-type", "")
    if m2 := re.search(r"charset=[\"']?([\w.:-]+)", ctype, re.IGNORECASE):
        declared.append(m2.group(1).lower())
    if not declared or not any(d in _LATIN for d in declared) or body.isascii():
        return body, None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body, None
    if m:
        body = _XML_DECL_ENC.sub(rb"\1utf-8\3", body, count=1)
    if ctype:
        headers["content-type"] = re.sub(
            r"charset=[\"']?[\w.:-]+[\"']?", "charset=utf-8", ctype, flags=re.IGNORECASE
        )
    return body, f"declared {'/'.join(declared)} but the bytes are UTF-8; read as UTF-8"


# --- feeds -------------------------------------------------------------------------------------


def parse_feed(
    body: bytes,
    headers: dict[str, str],
    *,
    source: str,
    feed_url: str,
    collected_at: datetime,
    thread_url: str | None = None,
    post_id: str | None = None,
    fast: bool = True,
) -> ParsedFeed:
    """Parse a feed body. With ``thread_url`` it is the comment feed of that post.

    Plain RSS 2.0 and Atom 1.0 are read by ``listening.collect.fastfeed`` (lxml), everything else by
    feedparser; both give the same documents. ``fast=False`` always uses feedparser (the
    equivalence test and ``bench/parse.py`` compare the two).
    """
    try:
        return _parse_feed(body, headers, source, feed_url, collected_at, thread_url, post_id, fast)
    except Exception as exc:  # a hostile body must not stop the run: report it as data
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        return ParsedFeed(is_feed=False, error=f"unreadable feed ({reason}); tell the site's owner")


def _parse_feed(
    body: bytes,
    headers: dict[str, str],
    source: str,
    feed_url: str,
    collected_at: datetime,
    thread_url: str | None,
    post_id: str | None,
    fast: bool = True,
) -> ParsedFeed:
    if not body or not body.strip():
        return ParsedFeed(is_feed=False, error="empty body: the server sent no content")
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    # Relative links resolve against Content-Location, else where the feed was fetched from.
    # We resolve them ourselves: given a base, feedparser also "resolves" Atom ids, turning
    # Reddit's "t3_1abcde" into a URL.
    feed_url = urljoin(feed_url, hdrs.pop("content-location", "")) or feed_url
    # Without a content type feedparser flags every feed bozo ("no Content-type specified");
    # application/xml lets the XML declaration or BOM name the charset (RFC 7303 §3.2).
    hdrs.setdefault("content-type", "application/xml")
    body, defused = _defuse_doctype(body)
    body, charset_note = _fix_utf8_declared_latin(body, hdrs)
    d = None
    if fast and not defused and not charset_note:
        # fastfeed imports lxml and feedparser: kept out of DAG parsing
        from listening.collect import fastfeed

        d = fastfeed.parse(body, hdrs)
    if d is None:
        import feedparser  # heavy import kept out of module import (DAG parsing stays cheap)

        try:
            # Always a stream: feedparser.parse() treats str *and bytes* as a URL or a file
            # path first (api._open_resource calls open() on them).
            # We keep text only (html_to_text) and resolve links ourselves, so feedparser's
            # HTML sanitizer and relative-URI rewriting, two extra HTML parses per field, are
            # skipped.
            d = feedparser.parse(
                io.BytesIO(body),
                response_headers=hdrs,
                sanitize_html=False,
                resolve_relative_uris=False,
            )
        except Exception as exc:  # a hostile body must not stop the run: report it as data
            reason = f"{type(exc).__name__}: {exc}"
            return ParsedFeed(is_feed=False, error=f"unparseable feed: {reason}")

    notes = [n for n in (charset_note,) if n]
    if defused:
        notes.append("DOCTYPE internal subset removed (entity declarations are never expanded)")
    if d.get("bozo"):
        notes.append(f"{type(d.get('bozo_exception')).__name__}: {d.get('bozo_exception')}")
    result = ParsedFeed(
        is_bozo=bool(notes), bozo_message="; ".join(notes) or None, title=_feed_title(d)
    )
    if not d.get("version") and not d.entries:
        result.is_feed = result.is_bozo = False
        looks_html = b"<html" in body[:4096].lower() or "html" in hdrs.get("content-type", "")
        result.error = (
            "not a feed: the body is an HTML page; find its feed with discover_feeds()"
            if looks_html
            else "not a feed: no RSS, RDF or Atom root element found"
        )
        return result

    is_comment_feed = thread_url is not None
    thread = canonical_url(thread_url) if is_comment_feed else None
    # RFC 4287 §4.2.1: an Atom entry without an author inherits the feed's. (RSS's
    # managingEditor names an editor, not the author, so it is not inherited.)
    feed_author = entry_author(d.feed) if str(d.get("version", "")).startswith("atom") else None
    n_refused = 0
    for entry in d.entries:
        doc = entry_document(entry, source, feed_url, collected_at, thread, post_id)
        doc.author = doc.author or feed_author
        result.documents.append(doc)
        n_refused += "url_refused" in doc.extra
        result.n_dates_estimated += doc.is_date_estimated
        if not is_comment_feed and (cf := comment_feed(entry, doc, feed_url)):
            result.comment_feeds.append(cf)
    if n_refused:
        note = (
            f"{n_refused} item link(s) not http(s) (javascript:, data:…) were dropped; "
            "those items are kept without a URL"
        )
        result.is_bozo, result.bozo_message = True, "; ".join([*notes, note])
    if not result.documents and d.get("bozo"):
        result.error = f"malformed feed with no readable entries ({result.bozo_message})"
    return result


def _feed_title(d) -> str | None:
    title = d.feed.get("title")
    return html_to_text(title) or None if title else None
