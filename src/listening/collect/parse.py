"""Bytes in, documents out: feeds, comment feeds and comment threads of HTML pages.

No network here: the fetcher hands us the body and the response headers. What the web does
wrong (malformed XML, wrong charset, an HTML page instead of a feed) is reported in the result,
never raised.

Document ids
    A post is named by its canonical link (``text.canonical_url``: tracking parameters and
    non-comment fragments dropped), else by its guid, else by (source, title, text) with
    ``extra["is_id_from_content"]``. Links first because the same article reached through two
    feeds (the site's feed and a Google Alert) shares a link but not a guid.

    A comment is named by its thread plus its comment fragment:
    ``stable_id(canonical_url(thread_url + "#comment-N"))``. WordPress writes one comment four
    ways: link ``/mon-article/#comment-N`` (``/comment-page-2/#comment-N`` once comments are
    paged, which shifts as comments arrive), guid ``/?p=412#comment-N`` (``comment_guid()``),
    and RFC 4685 ``thr:in-reply-to`` ``href``/``ref`` carrying the parent's link and guid
    (``feed-atom-comments.php``). All four share the fragment, so a comment's own id and every
    reference to it resolve alike, and a comment read from the post's HTML page
    (``li#comment-N``) gets the same id. Blogger (``#c123``) and TypePad (``#comment-6a00…``)
    follow the same shape. Comments without a comment fragment fall back to the post rule.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser
from zoneinfo import ZoneInfo

from listening.analyze.lang import detect_language
from listening.collect.text import (
    canonical_url,
    cap_title,
    comment_fragment,
    content_fingerprint,
    html_to_text,
    normalise_author,
    strip_controls,
    unwrap_redirect,
)
from listening.models import Document, stable_id

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


@dataclass
class ParsedFeed:
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
    feed_author = _entry_author(d.feed) if str(d.get("version", "")).startswith("atom") else None
    n_refused = 0
    for entry in d.entries:
        doc = _entry_document(entry, source, feed_url, collected_at, thread, post_id)
        doc.author = doc.author or feed_author
        result.documents.append(doc)
        n_refused += "url_refused" in doc.extra
        result.n_dates_estimated += doc.is_date_estimated
        if not is_comment_feed and (cf := _comment_feed(entry, doc, feed_url)):
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


def _entry_link(entry, feed_url: str) -> str | None:
    """The entry's web address; None when it has none, or one that is not http(s)."""
    link = _raw_entry_link(entry)
    if not link:
        return None
    url = canonical_url(unwrap_redirect(_join(feed_url, link)))
    return url if _is_web_url(url) else None


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


def _is_web_url(url: str) -> bool:
    # A javascript: or data: "link" (spam, or a broken CMS) is not an address: it must never
    # become a document's URL, which dashboards show as a link.
    return urlsplit(url).scheme.lower() in ("http", "https")


def _comment_id(thread: str, *identifiers: str | None) -> str | None:
    """The id of the comment named by the first identifier carrying a comment fragment."""
    for identifier in identifiers:
        if fragment := comment_fragment(identifier):
            return _comment_key(thread, fragment)
    return None


def _comment_key(thread: str, fragment: str) -> str:
    # The one place the comment id rule lives: feeds and HTML pages both come through here.
    return stable_id(canonical_url(f"{thread}#{fragment}"))


def _entry_text(entry) -> str:
    # Full content beats the summary (WordPress puts an excerpt in <description>).
    candidates = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    raw = max(candidates, key=len) if candidates else entry.get("summary", "") or ""
    return _strip_reddit_footer(html_to_text(raw))


# Reddit's Atom appends "submitted by /u/x [link] [comments]" to every entry: boilerplate
# that would skew language detection and brand matching.
_REDDIT_FOOTER = re.compile(r"\s*submitted by\s+/u/\S+\s*(?:\[link\]\s*)?(?:\[comments\])?\s*$")


def _strip_reddit_footer(text: str) -> str:
    return _REDDIT_FOOTER.sub("", text)


# WordPress comment feeds title each item "By: <author>" (feed-rss2-comments.php); as text
# it says nothing and its English "By" would sway language detection.
_BY_TITLE = re.compile(r"^\s*(?:by|par|de)\s*:", re.IGNORECASE)


def _entry_document(
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
    if thread is not None and (page := _comment_page(link)) and not _same_page(page, thread):
        # A site-wide comments feed (WordPress /comments/feed/) mixes posts: each comment's
        # own link names its post.
        thread = page
    comment_id = _comment_id(thread, link, guid) if thread is not None else None
    # Some platforms give every comment its post's link: that names the post, not the comment.
    link_names_entry = bool(link) and not (thread and _same_page(link, thread))
    if comment_id:
        document_id = comment_id
    elif link_names_entry:
        document_id = stable_id(link)
    elif guid:
        document_id = stable_id(guid)
    else:
        document_id = stable_id(source, title or "", text)
        extra["is_id_from_content"] = True
    url = link or (guid if guid and _is_web_url(guid) else "")

    published, estimated = _entry_date(entry, collected_at)
    author = _entry_author(entry)
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


def _entry_author(entry) -> str | None:
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
    if parent := _comment_id(thread, href, ref):
        return parent
    if href:
        parent = None if _same_page(href, thread) else stable_id(href)
    elif ref:
        parent = stable_id(ref)
    return None if parent == post_id else parent


def _same_page(a: str, b: str) -> bool:
    """Same post page, whatever the scheme or trailing slash; a comment fragment differs."""
    pa, pb = urlsplit(a), urlsplit(b)
    if comment_fragment(a):
        return False
    return (pa.netloc, pa.path.rstrip("/"), pa.query) == (pb.netloc, pb.path.rstrip("/"), pb.query)


# WordPress paginates long threads: get_comment_link() then inserts "/comment-page-N/" (pretty
# permalinks) or "cpage=N" (plain ones) into the post's permalink. Blogger adds
# "showComment=<ms>", TypePad "cid=<id>", WordPress reply links "replytocom=N".
_COMMENT_PAGE = re.compile(r"/comment-page-\d+/?$")
_COMMENT_PARAMS = frozenset({"cpage", "showcomment", "cid", "replytocom"})


def _comment_page(link: str | None) -> str | None:
    """The post page a comment link points into, when the link names a comment."""
    if not link or not comment_fragment(link):
        return None
    parts = urlsplit(link)
    path = _COMMENT_PAGE.sub("/", parts.path)
    query = "&".join(
        piece
        for piece in parts.query.split("&")
        if piece and piece.split("=", 1)[0].lower() not in _COMMENT_PARAMS
    )
    return parts._replace(path=path, query=query, fragment="").geturl()


_COUNT_KEYS = ("slash_comments", "thr_total")
_REDDIT_THREAD = re.compile(r"^https://(?:www\.|old\.)?reddit\.com/r/[^/]+/comments/[^/]+/")


def _comment_feed(entry, doc: Document, feed_url: str) -> CommentFeed | None:
    found = _announced_comments(entry, doc, feed_url)
    return found if found is not None and _is_web_url(found.url) else None


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


# --- HTML pages --------------------------------------------------------------------------------
#
# libxml2 (through lxml) builds the tree: it is forgiving like a browser (unclosed tags, stray
# end tags), written in C, and never recurses in Python, so a page of 100,000 nested tags is
# just a deep tree. Every walk below is iterative for the same reason.


class PageError(ValueError):
    """An HTML page that cannot be read at all (empty, or not HTML)."""


def _tree(html: bytes):
    """The page's element tree (lxml.html); ``PageError`` when there is nothing to read."""
    import lxml.etree
    import lxml.html  # heavy import kept out of module import (DAG parsing stays cheap)

    text = _decode_html(html).replace("\x00", "")
    if not text.strip():
        raise PageError("empty page: the server sent no content")
    parser = lxml.html.HTMLParser(recover=True, remove_comments=True, huge_tree=True)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise PageError(f"unreadable HTML page: {exc}") from None
    return root


def _elements(root, tags: tuple[str, ...] | None = None):
    """Elements under ``root`` (comments and processing instructions skipped)."""
    for el in root.iter(*(tags or ())):
        if isinstance(el.tag, str):
            yield el


def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _html(el) -> str:
    """The element's markup, for ``html_to_text`` (libxml2 serialises without recursion)."""
    import lxml.html

    return lxml.html.tostring(el, encoding="unicode", with_tail=False)


def _text(el) -> str:
    return html_to_text(_html(el)) if el is not None else ""


def _decode_html(html: bytes) -> str:
    head = html[:2048]
    m = re.search(rb"""<meta[^>]+charset=["']?([\w.:-]+)""", head, re.IGNORECASE)
    for enc in ([m.group(1).decode("ascii")] if m else []) + ["utf-8"]:
        try:
            return html.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return html.decode("windows-1252", "replace")


def discover_feeds(html: bytes, base_url: str) -> list[str]:
    """Feeds a page advertises: ``<link rel="alternate" type="application/(rss|atom)+xml">``."""
    try:
        root = _tree(html)
    except PageError:
        return []
    base = next((b for b in _elements(root, ("base",)) if b.get("href")), None)
    base_url = urljoin(base_url, base.get("href")) if base is not None else base_url
    found: list[str] = []
    for link in _elements(root, ("link",)):
        rels = (link.get("rel") or "").lower().split()
        ctype = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rels and ctype in ("application/rss+xml", "application/atom+xml"):
            url = urljoin(base_url, href)
            if href and url not in found:
                found.append(url)
    return found


_COMMENT_ID = re.compile(r"^(?:li-)?comment-(\d+)$")
_MONTH_NAMES = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
)
_FR_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES.split())}
_FR_DATE = re.compile(
    r"(\d{1,2})(?:er)?\s+("
    + "|".join(_FR_MONTHS)
    + r")\s+(\d{4})(?:\D{1,6}(\d{1,2})\s*[h:]\s*(\d{2}))?",
    re.IGNORECASE,
)
_PARIS = ZoneInfo("Europe/Paris")


def extract_page_comments(
    html: bytes, page_url: str, *, source: str, collected_at: datetime
) -> list[Document]:
    """Comments of a WordPress-style post page (``comments_template()`` / ``wp_list_comments()``).

    Comments are ``li.comment`` with id ``comment-N`` (``li-comment-N`` in older themes) inside
    ``ol.commentlist`` or ``ol.comment-list``; replies nest in ``ul.children``. Raises
    ``PageError`` when the page cannot be read at all.
    """
    return _page_comments(_tree(html), page_url, source, collected_at)


def parse_page(
    html: bytes, page_url: str, *, source: str, collected_at: datetime
) -> list[Document]:
    """A post page read as a source (``kind = "page"``): the article, then its comments.

    The post's text is the article body only (see ``_article``): navigation, sidebars, share
    buttons and the comment thread stay out of it, so a brand named in one comment is one
    mention (the comment's) and the post's sentiment is its author's alone. Raises
    ``PageError`` when the page cannot be read at all.
    """
    root = _tree(html)
    comments = _page_comments(root, page_url, source, collected_at)
    thread = _thread_url(root, page_url)
    article = _article(root)
    title, text = cap_title(_page_title(root, article), _text(article))
    published, estimated = _article_date(root, article, collected_at)
    post = Document(
        document_id=stable_id(thread),
        kind="post",
        url=thread,
        thread_url=thread,
        source=source,
        text=text,
        published_at=published,
        collected_at=collected_at,
        title=title,
        lang=detect_language(f"{title or ''}\n{text}"),
        is_date_estimated=estimated,
        content_hash=content_fingerprint(text),
    )
    return [post, *comments]


def _thread_url(root, page_url: str) -> str:
    canonical = next(
        (
            n
            for n in _elements(root, ("link",))
            if "canonical" in (n.get("rel") or "").lower().split() and n.get("href")
        ),
        None,
    )
    href = canonical.get("href") if canonical is not None else ""
    thread = canonical_url(urljoin(page_url, href) if href else page_url)
    return urlsplit(thread)._replace(fragment="").geturl()


def _page_comments(root, page_url: str, source: str, collected_at: datetime) -> list[Document]:
    thread = _thread_url(root, page_url)
    docs: list[Document] = []
    seen: set[str] = set()
    for lst in _elements(root, ("ol", "ul")):
        if not _classes(lst) & {"commentlist", "comment-list"}:
            continue
        for li in _elements(lst, ("li",)):
            m = _COMMENT_ID.match(li.get("id") or "")
            if not m or m.group(1) in seen:
                continue
            seen.add(m.group(1))
            docs.append(_page_comment(li, m.group(1), thread, source, collected_at))
    return docs


# --- the article of a post page -----------------------------------------------------------------

# Where themes put the post body, most specific first: schema.org's articleBody, WordPress
# (the_content() inside .entry-content, older themes .post-content / .entry), Blogger
# (.post-body), then the HTML5 elements. The first match with text wins.
_ARTICLE_XPATHS = (
    "//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' articleBody ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' entry-content ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' post-content ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' post-body ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' article-content ')]",
    "//article",
    "//main",
    "//*[@role='main']",
    "//body",
)
# Never part of an article: page furniture and the comment thread (WordPress wraps it in
# #comments / .comments-area, the reply form in #respond).
_NOT_ARTICLE_TAGS = ("nav", "aside", "footer", "form", "script", "style", "noscript", "template")
_NOT_ARTICLE = re.compile(
    r"^(?:comments?|comments-area|commentlist|comment-list|comment-respond|respond|"
    r"sidebar|widget(?:-area)?|share|sharedaddy|related(?:-posts)?|navigation|nav-links|"
    r"post-navigation|site-header|site-footer|breadcrumbs?)$"
)


def _furniture(el) -> bool:
    if el.tag in _NOT_ARTICLE_TAGS:
        return True
    names = _classes(el) | {el.get("id") or ""}
    return any(_NOT_ARTICLE.match(n) for n in names if n)


def _article(root):
    """The element holding the post body, with furniture and comments removed."""
    for xpath in _ARTICLE_XPATHS:
        for candidate in root.xpath(xpath):
            if candidate.tag == "body" or not _inside_furniture(candidate):
                _strip_furniture(candidate)
                if (candidate.text_content() or "").strip():
                    return candidate
    return None


def _inside_furniture(el) -> bool:
    parent = el.getparent()
    while parent is not None:
        if _furniture(parent):
            return True
        parent = parent.getparent()
    return False


def _strip_furniture(el) -> None:
    doomed = [n for n in _elements(el) if n is not el and _furniture(n)]
    for node in doomed:
        if node.getparent() is not None:  # an ancestor may have gone already
            node.drop_tree()


def _page_title(root, article) -> str | None:
    for meta in _elements(root, ("meta",)):
        is_title = (meta.get("property") or meta.get("name") or "").lower() == "og:title"
        if is_title and (title := html_to_text(meta.get("content") or "")):
            return title
    if article is not None:
        h1 = next(_elements(article, ("h1",)), None) if article.tag != "body" else None
        if h1 is not None and (title := _text(h1)):
            return title
    title_el = next(_elements(root, ("title",)), None)
    return _text(title_el) or None


def _article_date(root, article, collected_at: datetime) -> tuple[datetime, bool]:
    for meta in _elements(root, ("meta",)):
        is_date = (meta.get("property") or "").lower() == "article:published_time"
        if is_date and (parsed := _iso_date(meta.get("content"))):
            return parsed, False
    if article is not None:
        for el in _elements(article, ("time",)):
            if parsed := _iso_date(el.get("datetime")):
                return parsed, False
    return collected_at.astimezone(UTC), True


def _iso_date(value: str | None) -> datetime | None:
    try:
        dt = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    # A page shows local time without an offset; French sites: Europe/Paris.
    return (dt if dt.tzinfo else dt.replace(tzinfo=_PARIS)).astimezone(UTC)


# --- one comment of a post page -----------------------------------------------------------------


def _page_comment(li, number: str, thread: str, source: str, collected_at) -> Document:
    own = _own_part(li)
    url = canonical_url(f"{thread}#comment-{number}")
    parent_li = li.getparent()
    while parent_li is not None and not (
        parent_li.tag == "li" and _COMMENT_ID.match(parent_li.get("id") or "")
    ):
        parent_li = parent_li.getparent()
    parent_id = None
    if parent_li is not None:
        parent_number = _COMMENT_ID.match(parent_li.get("id")).group(1)
        parent_id = _comment_key(thread, f"comment-{parent_number}")

    fn = _first(own, lambda n: "fn" in _classes(n))
    author = normalise_author(_text(fn)) if fn is not None else None
    published, estimated = _page_date(own, collected_at)
    content = _first(own, lambda n: "comment-content" in _classes(n))
    if content is not None:
        text = _text(content)
    else:  # Twenty Ten-era markup: bare <p> in the comment body
        text = "\n\n".join(t for t in (_text(p) for p in own if p.tag == "p") if t)
    return Document(
        document_id=_comment_key(thread, f"comment-{number}"),
        kind="comment",
        url=url,
        thread_url=thread,
        source=source,
        text=text,
        published_at=published,
        collected_at=collected_at,
        parent_id=parent_id,
        author=author,
        lang=detect_language(text),
        is_date_estimated=estimated,
        content_hash=content_fingerprint(text),
    )


def _own_part(li) -> list:
    """The elements of a comment, without its replies (``ul.children``) or reply links."""
    out = []
    stack = [c for c in reversed(li) if isinstance(c.tag, str)]
    while stack:
        node = stack.pop()
        if _classes(node) & {"children", "reply", "comment-respond"}:
            continue
        out.append(node)
        stack.extend(c for c in reversed(node) if isinstance(c.tag, str))
    return out


def _first(nodes: list, pred):
    return next((n for n in nodes if pred(n)), None)


def _page_date(nodes: list, collected_at: datetime) -> tuple[datetime, bool]:
    time_el = _first(nodes, lambda n: n.tag == "time" and n.get("datetime"))
    if time_el is not None and (parsed := _iso_date(time_el.get("datetime"))):
        return parsed, False
    meta = _first(
        nodes, lambda n: _classes(n) & {"comment-metadata", "commentmetadata", "comment-meta"}
    )
    if meta is not None and (m := _FR_DATE.search(_text(meta))):
        day, month, year, hour, minute = m.groups()
        # The page shows local time without an offset; French sites: Europe/Paris.
        try:
            local = datetime(
                int(year), _FR_MONTHS[month.lower()], int(day), int(hour or 0), int(minute or 0),
                tzinfo=_PARIS,
            )  # fmt: skip
            return local.astimezone(UTC), False
        except ValueError:  # "31 février", "25 h 70": not a date after all
            pass
    return collected_at.astimezone(UTC), True


def robots_allows(robots_txt: bytes, user_agent: str, url: str) -> bool:
    """Whether robots.txt lets ``user_agent`` fetch ``url`` (RFC 9309, via urllib.robotparser)."""
    parser = RobotFileParser()
    parser.parse(robots_txt.decode("utf-8", "replace").splitlines())
    return parser.can_fetch(user_agent, url)
