"""Where more documents are: the feeds a page advertises, and where each post's comments are.

Both read what a body says (``<link rel="alternate">``, ``wfw:commentRss``, ``rel="replies"``…)
and never fetch: the crawler decides what to fetch next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from listening.collect.htmltree import PageError, elements, page_tree
from listening.collect.text import canonical_url, is_web_url
from listening.models import Document

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
     "text/xml", "application/feed+xml"}
)  # fmt: skip


@dataclass
class CommentFeed:
    """Where to collect the comments of one post.

    ``format`` is ``'feed'`` for a comment feed and ``'html'`` when the only pointer is the
    post's page (TypePad ``rel="replies" type="text/html"``, RSS ``<comments>``): read it with
    ``extract_page_comments``.
    """

    url: str
    thread_url: str
    post_id: str
    n_comments: int | None
    format: str = "feed"


def discover_feeds(html: bytes, base_url: str) -> list[str]:
    """Feeds a page advertises: ``<link rel="alternate" type="application/(rss|atom)+xml">``."""
    try:
        root = page_tree(html)
    except PageError:
        return []
    base = next((b for b in elements(root, ("base",)) if b.get("href")), None)
    base_url = urljoin(base_url, base.get("href")) if base is not None else base_url
    found: list[str] = []
    for link in elements(root, ("link",)):
        rels = (link.get("rel") or "").lower().split()
        ctype = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rels and ctype in ("application/rss+xml", "application/atom+xml"):
            url = urljoin(base_url, href)
            if href and url not in found:
                found.append(url)
    return found


_COUNT_KEYS = ("slash_comments", "thr_total")
_REDDIT_THREAD = re.compile(r"^https://(?:www\.|old\.)?reddit\.com/r/[^/]+/comments/[^/]+/")


def comment_feed(entry, doc: Document, feed_url: str) -> CommentFeed | None:
    found = _announced_comments(entry, doc, feed_url)
    return found if found is not None and is_web_url(found.url) else None


def _announced_comments(entry, doc: Document, feed_url: str) -> CommentFeed | None:
    n = _count(*(entry.get(k) for k in _COUNT_KEYS))
    html_url = None
    for link in entry.get("links", []):
        if link.get("rel") != "replies" or not link.get("href"):
            continue
        n = n if n is not None else _count(link.get("thr:count"), link.get("count"))
        href = urljoin(feed_url, link["href"])
        if (link.get("type") or "").split(";")[0].strip() in FEED_TYPES:
            return CommentFeed(href, doc.thread_url, doc.document_id, n)
        html_url = html_url or href
    if wfw := (entry.get("wfw_commentrss") or "").strip():
        return CommentFeed(urljoin(feed_url, wfw), doc.thread_url, doc.document_id, n)
    comments_page = (entry.get("comments") or "").strip()
    # An empty <wfw:commentRss/> next to slash:comments is a WordPress feed whose plugin
    # blanked the element; WordPress serves each post's comments at permalink + "feed"
    # (get_post_comments_feed_link(), wp-includes/link-template.php).
    if (
        entry.get("slash_comments") is not None
        and doc.url
        and comments_page
        and canonical_url(urljoin(feed_url, comments_page)) == doc.url
    ):
        # ".../mon-article/" -> ".../mon-article/feed/"; ".../42.html" -> ".../42.html/feed"
        derived = f"{doc.url}feed/" if doc.url.endswith("/") else f"{doc.url}/feed"
        return CommentFeed(derived, doc.thread_url, doc.document_id, n)
    if _REDDIT_THREAD.match(doc.url):
        # Every Reddit thread is also a feed of its comments at "<thread>/.rss".
        return CommentFeed(f"{doc.url.rstrip('/')}/.rss", doc.thread_url, doc.document_id, n)
    if html_url or comments_page:
        page = html_url or urljoin(feed_url, comments_page)
        return CommentFeed(page, doc.thread_url, doc.document_id, n, format="html")
    return None


def _count(*values) -> int | None:
    for v in values:
        try:
            if v is not None and str(v).strip() != "":
                return int(str(v).strip())
        except ValueError:
            continue
    return None
