"""One feed entry (a feedparser-shaped dict) to one ``Document``: its id, link, text, date,
author and, for a comment, what it answers.

The id rules themselves live in ``listening.collect.ids``; ``listening.collect.feeds`` calls
``entry_document`` once per entry.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from listening.analyze.lang import detect_language
from listening.collect.ids import comment_page, find_comment_id, same_page
from listening.collect.text import (
    canonical_url,
    cap_title,
    content_fingerprint,
    html_to_text,
    is_web_url,
    normalise_author,
    strip_controls,
    unwrap_redirect,
)
from listening.models import Document, stable_id


def entry_document(
    entry, source: str, feed_url: str, collected_at: datetime, thread: str | None, post_id
) -> Document:
    link = _entry_link(entry, feed_url)
    guid = strip_controls(entry.get("id") or "").strip() or None
    title = entry.get("title")
    if title and entry.get("title_detail", {}).get("type", "").endswith("html"):
        title = html_to_text(title)
    title, text = cap_title(title, _entry_text(entry))
    extra: dict = {}
    if link is None and (raw := _raw_entry_link(entry)):
        scheme = urlsplit(raw).scheme.lower() or "relative"
        extra["url_refused"] = f"the feed's link is a {scheme}: URL, not a web page; kept none"
    if thread is not None and (page := comment_page(link)) and not same_page(page, thread):
        # A site-wide comments feed (WordPress /comments/feed/) mixes posts: each comment's
        # own link names its post.
        thread = page
    comment_id = find_comment_id(thread, link, guid) if thread is not None else None
    # Some platforms give every comment its post's link: that names the post, not the comment.
    link_names_entry = bool(link) and not (thread and same_page(link, thread))
    if comment_id:
        document_id = comment_id
    elif link_names_entry:
        document_id = stable_id(link)
    elif guid:
        document_id = stable_id(guid)
    else:
        document_id = stable_id(source, title or "", text)
        extra["is_id_from_content"] = True
    url = link or (guid if guid and is_web_url(guid) else "")

    published, estimated = _entry_date(entry, collected_at)
    author = entry_author(entry)
    kind = "comment" if thread is not None else "post"
    parent_id = _parent_id(entry, thread, post_id, feed_url) if thread is not None else None
    if kind == "comment" and title and _BY_TITLE.match(title):
        author = author or normalise_author(title)
        lang_text = text
    else:
        lang_text = f"{title or ''}\n{text}"
    return Document(
        document_id=document_id,
        kind=kind,
        url=url,
        thread_url=thread or url or f"urn:listening:document:{document_id}",
        source=source,
        text=text,
        published_at=published,
        collected_at=collected_at,
        parent_id=parent_id,
        author=author,
        title=title,
        lang=detect_language(lang_text),
        is_date_estimated=estimated,
        guid=guid,
        content_hash=content_fingerprint(text),
        extra=extra,
    )


def _entry_link(entry, feed_url: str) -> str | None:
    """The entry's web address; None when it has none, or one that is not http(s)."""
    link = _raw_entry_link(entry)
    if not link:
        return None
    url = canonical_url(unwrap_redirect(_join(feed_url, link)))
    return url if is_web_url(url) else None


# Every entry of a feed joins its links to the same feed URL, and comment feeds repeat their
# post's links: urljoin is pure, so remember recent answers.
_join = functools.lru_cache(maxsize=1 << 14)(urljoin)


def _raw_entry_link(entry) -> str:
    link = entry.get("link")
    if not link:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    return strip_controls(link or "").strip()


def _entry_text(entry) -> str:
    # Full content beats the summary (WordPress puts an excerpt in <description>).
    candidates = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    raw = max(candidates, key=len) if candidates else entry.get("summary", "") or ""
    return _strip_reddit_footer(html_to_text(raw))


# Reddit's Atom appends "submitted by /u/x [link] [comments]" to every entry: boilerplate
# that would skew language detection and brand matching.
_REDDIT_FOOTER = re.compile(r"\s*submitted by\s+/u/\S+\s*(?:\[link\]\s*)?(?:\[comments\])?\s*$")


def _strip_reddit_footer(text: str) -> str:
    # Every match holds "submitted by": without it, skip the pattern's try at every whitespace
    # run (30 us on a 2 KB entry, a tenth of its parse).
    return _REDDIT_FOOTER.sub("", text) if "submitted by" in text else text


# WordPress comment feeds title each item "By: <author>" (feed-rss2-comments.php); as text
# it says nothing and its English "By" would sway language detection.
_BY_TITLE = re.compile(r"^\s*(?:by|par|de)\s*:", re.IGNORECASE)


def _entry_date(entry, collected_at: datetime) -> tuple[datetime, bool]:
    # feedparser normalises every date format it knows to a UTC struct_time.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            try:
                return datetime(*t[:6], tzinfo=UTC), False
            except (TypeError, ValueError):
                continue
    return collected_at.astimezone(UTC), True


def entry_author(entry) -> str | None:
    detail = entry.get("author_detail") or {}
    name = detail.get("name") or entry.get("author")
    if not name and detail.get("email"):
        name = detail["email"]
    return normalise_author(name)


def _parent_id(entry, thread: str, post_id: str | None, feed_url: str) -> str | None:
    """RFC 4685 §3: ``thr:in-reply-to`` names what this entry answers: the post or a comment.

    WordPress points top-level comments at the post (ref = post guid, href = permalink) and
    replies at the parent comment (ref = comment guid, href = comment link).
    """
    reply = entry.get("thr_in-reply-to")
    if not isinstance(reply, dict):
        return None
    href, ref = (reply.get("href") or "").strip(), (reply.get("ref") or "").strip()
    href = canonical_url(_join(feed_url, href)) if href else ""
    if parent := find_comment_id(thread, href, ref):
        return parent
    if href:
        parent = None if same_page(href, thread) else stable_id(href)
    elif ref:
        parent = stable_id(ref)
    return None if parent == post_id else parent
