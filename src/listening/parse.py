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

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser
from zoneinfo import ZoneInfo

from listening.lang import detect_language
from listening.models import Document, stable_id
from listening.text import (
    canonical_url,
    comment_fragment,
    content_fingerprint,
    html_to_text,
    normalise_author,
    unwrap_redirect,
)

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
) -> ParsedFeed:
    """Parse a feed body. With ``thread_url`` it is the comment feed of that post."""
    import feedparser  # heavy import kept out of module import (DAG parsing stays cheap)

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
    try:
        # Always a stream: feedparser.parse() treats str *and bytes* as a URL or a file path
        # first (api._open_resource calls open() on them).
        # We keep text only (html_to_text) and resolve links ourselves, so feedparser's HTML
        # sanitizer and relative-URI rewriting, two extra HTML parses per field, are skipped.
        d = feedparser.parse(
            io.BytesIO(body),
            response_headers=hdrs,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # a hostile body must not stop the run: report it as data
        return ParsedFeed(is_feed=False, error=f"unparseable feed: {type(exc).__name__}: {exc}")

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
    for entry in d.entries:
        doc = _entry_document(entry, source, feed_url, collected_at, thread, post_id)
        doc.author = doc.author or feed_author
        result.documents.append(doc)
        result.n_dates_estimated += doc.is_date_estimated
        if not is_comment_feed and (cf := _comment_feed(entry, doc, feed_url)):
            result.comment_feeds.append(cf)
    if not result.documents and d.get("bozo"):
        result.error = f"malformed feed with no readable entries ({result.bozo_message})"
    return result


def _feed_title(d) -> str | None:
    title = d.feed.get("title")
    return html_to_text(title) or None if title else None


def _entry_link(entry, feed_url: str) -> str | None:
    link = entry.get("link")
    if not link:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not link:
        return None
    return canonical_url(unwrap_redirect(urljoin(feed_url, link.strip())))


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
    guid = (entry.get("id") or "").strip() or None
    title = entry.get("title")
    if title and entry.get("title_detail", {}).get("type", "").endswith("html"):
        title = html_to_text(title)
    title = title.strip() if title else None
    text = _entry_text(entry)
    extra: dict = {}
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
    url = link or (guid if guid and guid.startswith(("http://", "https://")) else "")

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
    href = canonical_url(urljoin(feed_url, href)) if href else ""
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


class _Node:
    __slots__ = ("attrs", "children", "parent", "tag")

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find_all(self, pred) -> list[_Node]:
        out, stack = [], list(reversed(self.children))
        while stack:
            node = stack.pop()
            if isinstance(node, _Node):
                if pred(node):
                    out.append(node)
                stack.extend(reversed(node.children))
        return out

    def find(self, pred) -> _Node | None:
        found = self.find_all(pred)
        return found[0] if found else None

    def html(self) -> str:
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child.replace("&", "&amp;").replace("<", "&lt;"))
            else:
                parts.append(f"<{child.tag}>{child.html()}</{child.tag}>")
        return "".join(parts)


_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})


class _TreeBuilder(HTMLParser):
    """A forgiving DOM: unclosed tags close when an ancestor closes, stray end tags are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in _VOID:
            self.cur = node

    def handle_endtag(self, tag):
        node = self.cur
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.cur = node.parent

    def handle_data(self, data):
        if self.cur.tag not in ("script", "style"):
            self.cur.children.append(data)


def _tree(html: bytes) -> _Node:
    builder = _TreeBuilder()
    builder.feed(_decode_html(html))
    builder.close()
    return builder.root


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
    root = _tree(html)
    base = root.find(lambda n: n.tag == "base" and n.attrs.get("href"))
    base_url = urljoin(base_url, base.attrs["href"]) if base else base_url
    found: list[str] = []
    for link in root.find_all(lambda n: n.tag == "link"):
        rels = link.attrs.get("rel", "").lower().split()
        ctype = link.attrs.get("type", "").lower().split(";")[0].strip()
        href = link.attrs.get("href", "").strip()
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
    ``ol.commentlist`` or ``ol.comment-list``; replies nest in ``ul.children``.
    """
    root = _tree(html)
    canonical = root.find(
        lambda n: n.tag == "link" and "canonical" in n.attrs.get("rel", "").lower().split()
    )
    thread = canonical_url(urljoin(page_url, canonical.attrs["href"]) if canonical else page_url)
    thread = urlsplit(thread)._replace(fragment="").geturl()
    lists = root.find_all(
        lambda n: n.tag in ("ol", "ul") and n.classes & {"commentlist", "comment-list"}
    )
    docs: list[Document] = []
    seen: set[str] = set()
    for lst in lists:
        for li in lst.find_all(
            lambda n: n.tag == "li" and _COMMENT_ID.match(n.attrs.get("id", ""))
        ):
            number = _COMMENT_ID.match(li.attrs["id"]).group(1)
            if number in seen:
                continue
            seen.add(number)
            docs.append(_page_comment(li, number, thread, source, collected_at))
    return docs


def _page_comment(li: _Node, number: str, thread: str, source: str, collected_at) -> Document:
    own = _own_part(li)
    url = canonical_url(f"{thread}#comment-{number}")
    parent_li = li.parent
    while parent_li is not None and not (
        parent_li.tag == "li" and _COMMENT_ID.match(parent_li.attrs.get("id", ""))
    ):
        parent_li = parent_li.parent
    parent_id = None
    if parent_li is not None:
        parent_number = _COMMENT_ID.match(parent_li.attrs["id"]).group(1)
        parent_id = _comment_key(thread, f"comment-{parent_number}")

    fn = _first(own, lambda n: "fn" in n.classes)
    author = normalise_author(html_to_text(fn.html())) if fn else None
    published, estimated = _page_date(own, collected_at)
    content = _first(own, lambda n: "comment-content" in n.classes)
    if content is not None:
        text = html_to_text(content.html())
    else:  # Twenty Ten-era markup: bare <p> in the comment body
        paragraphs = [n for n in own if n.tag == "p"]
        text = html_to_text("".join(f"<p>{p.html()}</p>" for p in paragraphs))
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


def _own_part(li: _Node) -> list[_Node]:
    """The nodes of a comment, without its replies (``ul.children``) or reply links."""
    out, stack = [], [c for c in reversed(li.children) if isinstance(c, _Node)]
    while stack:
        node = stack.pop()
        if node.classes & {"children", "reply", "comment-respond"}:
            continue
        out.append(node)
        stack.extend(c for c in reversed(node.children) if isinstance(c, _Node))
    return out


def _first(nodes: list[_Node], pred) -> _Node | None:
    return next((n for n in nodes if pred(n)), None)


def _page_date(nodes: list[_Node], collected_at: datetime) -> tuple[datetime, bool]:
    time_el = _first(nodes, lambda n: n.tag == "time" and n.attrs.get("datetime"))
    if time_el is not None:
        try:
            dt = datetime.fromisoformat(time_el.attrs["datetime"].strip())
            return (dt if dt.tzinfo else dt.replace(tzinfo=_PARIS)).astimezone(UTC), False
        except ValueError:
            pass
    meta = _first(
        nodes, lambda n: n.classes & {"comment-metadata", "commentmetadata", "comment-meta"}
    )
    if meta is not None and (m := _FR_DATE.search(html_to_text(meta.html()))):
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
