"""A fast reader for well-formed RSS 2.0 and Atom 1.0, giving what feedparser would give.

feedparser walks a feed with one Python callback per tag, per text chunk and per attribute,
and that is most of the CPU time of a collect. libxml2 (through lxml) builds the whole tree in
C; we then read the few elements ``feeds.py`` and ``entries.py`` use into feedparser-shaped
dicts (same keys, same values: ``link``, ``links``, ``id``, ``title``/``title_detail``,
``content``, ``summary``, ``*_parsed`` dates, ``author``/``author_detail``, ``comments``,
``wfw_commentrss``, ``slash_comments``, ``thr_total``, ``thr_in-reply-to``).

Only the plain shape is accepted: UTF-8, no DOCTYPE, no ``xml:base``, text elements without
child elements, no element we do not reproduce exactly (``media:*``, ``itunes:*``, ``source``,
XHTML content…). For anything else ``parse`` returns None and feedparser reads the feed, so
broken, hostile and unusual feeds keep feedparser's behaviour. ``tests/test_fastfeed.py``
checks that both give the same documents over every fixture feed.

feedparser's own rules are reused, not rewritten, where they carry its quirks: this module
decides which elements it can read and what they fill (the "looks like HTML" guess for RSS
titles comes from feedparser); ``listening.collect.feedcompat`` names elements and finishes
values as feedparser does (dates, relative URIs, xml:base, charset repairs, authors).
"""

from __future__ import annotations

import re

from feedparser.api import StrictFeedParser
from feedparser.mixin import _FeedParserMixin
from feedparser.util import FeedParserDict

from listening.collect.feedcompat import (
    Unsupported,
    attributes,
    base_uris,
    element_key,
    finish,
    join_uri,
    parse_date,
    rss_version,
    sync_author,
)

_ATOM = "http://www.w3.org/2005/Atom"
_HANDLED = frozenset(
    name[len(p) :]
    for name in dir(StrictFeedParser)
    for p in ("_start_", "_end_")
    if name.startswith(p)
)
# Names feedparser's dict maps or computes, and the keys the fast path fills itself: an element
# without a handler but with one of these names would not land where it seems to.
_RESERVED = frozenset(FeedParserDict.keymap) | {
    "category", "enclosures", "license", "updated", "updated_parsed", "links", "content",
    "authors", "author_detail", "title_detail", "summary_detail", "published_parsed",
    "created_parsed", "href", "tags", "guidislink",
}  # fmt: skip
_HTML_TYPES = _FeedParserMixin.html_types
_looks_like_html = _FeedParserMixin.looks_like_html
_map_content_type = _FeedParserMixin.map_content_type

# Element keys (feedparser's "prefix_name") and what they fill.
_DATES = {
    "pubdate": "published", "published": "published", "issued": "published",
    "dcterms_issued": "published", "updated": "updated", "modified": "updated",
    "lastbuilddate": "updated", "dc_date": "updated", "dcterms_modified": "updated",
    "created": "created", "dcterms_created": "created",
}  # fmt: skip
_AUTHORS = frozenset({"author", "dc_creator", "dc_author", "managingeditor"})
_TAGS = frozenset({"category", "dc_subject", "keywords"})
# Entry elements whose handlers only fill keys the feed reader never reads (when they have no
# children): tags, and WordPress.com's media:content / media:thumbnail.
_ENTRY_HARMLESS = frozenset({*_TAGS, "media_content", "media_thumbnail"})
# Attributes that change nothing we read here (the base is followed by base_uris).
_NEUTRAL_ATTRS = ("xml:lang", "xml:base", "base", "lang")
# Feed-level elements whose handlers never touch the feed's title, author or entries.
_FEED_HARMLESS = frozenset(
    {"link", "description", "subtitle", "tagline", "language", "dc_language", "generator",
     "copyright", "rights", "dc_rights", "cloud", "id", "icon", "logo", "webmaster",
     "dc_publisher", *_DATES, *_TAGS}
)  # fmt: skip
_IMAGE_CHILDREN = frozenset({"url", "title", "link", "width", "height", "description"})
_XML_MIME = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/xml", "application/rdf+xml"}
)
_XML_DECL_ENC = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([\w.:-]+)["']""", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z]")
_AFTER_BASE = re.compile(rb"\s*=")
_BEFORE_BASE = frozenset(b" \t\n\r\f\v:")  # what re's \s matches in bytes, and ":"
_ENTITY_LEFT = re.compile("&([A-Za-z0-9_]+);")


class FastFeed(dict):
    """The part of feedparser's result ``feeds.py`` reads: version, feed, entries, no bozo."""

    def __init__(self, version: str, feed: dict, entries: list[dict]) -> None:
        super().__init__(version=version, bozo=False, feed=feed, entries=entries)
        self.feed = feed
        self.entries = entries


def parse(body: bytes, headers: dict[str, str]) -> FastFeed | None:
    """The feed read the way feedparser reads it, or None when it is not plain enough."""
    if not _plain_bytes(body, headers):
        return None
    import lxml.etree  # heavy import kept out of module import (DAG parsing stays cheap)

    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = lxml.etree.fromstring(body, parser)
        # feedparser resolves links and ids against xml:base (or any "base" attribute):
        # WordPress's Atom feeds set it on the feed and on every <content>.
        has_base = b"xml:base" in body or _has_base_attribute(body)
        return _Reader(base_uris(root) if has_base else None).read(root)
    except Exception:  # Unsupported, XMLSyntaxError, or anything else: feedparser decides
        return None


def _has_base_attribute(body: bytes) -> bool:
    """Whether ``body`` matches ``[\\s:]base\\s*=`` (any case): a "base" attribute. Found from
    each "base" that ``bytes.find`` finds, where the pattern, starting with a class, was
    tried at every byte (0.4 ms on a 55 KB feed, as long as lxml's whole parse of it);
    ``tests/test_fastfeed.py`` checks both agree."""
    low = body.lower()  # ASCII only, as re.IGNORECASE on bytes
    at = low.find(b"base", 1)
    while at != -1:
        if low[at - 1] in _BEFORE_BASE and _AFTER_BASE.match(low, at + 4):
            return True
        at = low.find(b"base", at + 1)
    return False


def _plain_bytes(body: bytes, headers: dict[str, str]) -> bool:
    """UTF-8 by every declaration feedparser looks at, no DOCTYPE, no xml:base."""
    ctype = headers.get("content-type", "application/xml").lower()
    mime, _, params = ctype.partition(";")
    charset = re.search(r"charset=[\"']?([\w.:-]+)", params)
    charset = charset.group(1) if charset else None
    if charset not in (None, "utf-8", "utf8"):
        return False
    # RFC 3023: text/xml without a charset is US-ASCII for feedparser.
    if mime.strip() not in _XML_MIME and not (mime.strip() == "text/xml" and charset):
        return False
    if body.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"\x4c\x6f\xa7\x94")):
        return False
    declared = _XML_DECL_ENC.match(body.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return False
    first = _FIRST_ELEMENT.search(body)
    if first is None or b"<!doctype" in body[: first.start()].lower():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _neutral_dropped(el) -> dict[str, str]:
    attrs = attributes(el)
    for name in _NEUTRAL_ATTRS:
        attrs.pop(name, None)
    return attrs


def _text(el) -> str:
    if len(el):
        raise Unsupported(f"markup inside <{el.tag}>")
    return el.text or ""


class _Reader:
    def __init__(self, bases: dict | None) -> None:
        self.bases = bases  # None: no base anywhere, every link resolves against ""

    def _base(self, el) -> str:
        return self.bases[el] if self.bases is not None else ""

    def read(self, root) -> FastFeed:
        tag = root.tag
        if tag == f"{{{_ATOM}}}feed":
            if root.attrib.get("version"):
                raise Unsupported("Atom 0.3")
            version, container = "atom10", root
        elif tag == "rss":
            children = list(root)
            if len(children) != 1 or children[0].tag != "channel" or len(root.attrib) > 1:
                raise Unsupported("RSS with more than one <channel>")
            version, container = rss_version(root.attrib.get("version", "")), children[0]
        else:
            raise Unsupported("not RSS 2.0 or Atom 1.0")
        if {"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"} & {
            uri.lower() for uri in root.nsmap.values()
        }:
            raise Unsupported("RSS 1.0 namespace: feedparser would name the version after it")
        self.is_atom = version == "atom10"
        feed: dict = {}
        entries: list[dict] = []
        n_titles = 0
        for child in container:
            key = element_key(child)
            if key in ("item", "entry"):
                entries.append(self._entry(child))
            elif key == "title":
                n_titles += 1
                feed["title"] = self._title(child)[0]
            elif key in _AUTHORS:
                self._author(feed, child, key)
            elif key == "image":
                if any(element_key(c) not in _IMAGE_CHILDREN or len(c) for c in child):
                    raise Unsupported("unusual <image>")
            elif key in _FEED_HARMLESS or key not in _HANDLED:
                if len(child):
                    raise Unsupported(f"nested markup in feed-level <{key}>")
            else:
                raise Unsupported(f"feed-level <{key}>")
        if n_titles > 1:
            raise Unsupported("several feed titles")
        return FastFeed(version, feed, entries)

    def _title(self, el) -> tuple[str, str]:
        attrs = _neutral_dropped(el)
        if self.is_atom:
            ctype = _map_content_type(attrs.pop("type", "text/plain"))
            if ctype not in ("text/plain", "text/html"):
                raise Unsupported("XHTML or other title type")
        else:
            ctype = "text/plain"
            if attrs.pop("type", None) is not None:
                raise Unsupported("RSS title with a type")
        if attrs:
            raise Unsupported("title attributes")
        raw = _text(el)
        # feedparser guesses before its charset repairs (mixin.pop): same order here.
        if not self.is_atom and _looks_like_html(raw.strip()):
            ctype = "text/html"
        return finish("title", raw), ctype

    def _entry(self, item) -> dict:
        if _neutral_dropped(item):
            raise Unsupported("attributes on an entry")
        entry: dict = {}
        seen: set[str] = set()
        has_content = False
        for child in item:
            key = element_key(child)
            if key == "title":
                once(seen, "title")
                entry["title"], ctype = self._title(child)
                entry["title_detail"] = {"type": ctype}
            elif key == "link":
                self._link(entry, child, seen)
            elif key in ("guid", "id"):
                once(seen, "id")
                is_link = attributes(child).get("ispermalink", "true") == "true"
                entry["id"] = value = finish("id", _text(child), self._base(child), resolve=is_link)
                if is_link:
                    entry.setdefault("link", value)
            elif key in ("description", "summary"):
                once(seen, "summary")
                if "summary" in entry and not has_content:
                    raise Unsupported("summary read as content")
                entry["summary"] = finish("summary", _text(child))
                self._content_type(child, "text/html" if key == "description" else "text/plain")
            elif key in ("content_encoded", "content"):
                once(seen, "content")
                has_content = True
                default = "text/html" if key == "content_encoded" else "text/plain"
                ctype = self._content_type(child, default)
                value = finish("content", _text(child))
                entry["content"] = [{"type": ctype, "value": value}]
                if ctype in ("text/plain", "text/html"):
                    entry.setdefault("summary", value)
            elif key in _DATES:
                name = _DATES[key]
                once(seen, name)
                entry[name] = value = finish(name, _text(child))
                entry[f"{name}_parsed"] = parse_date(value)
            elif key in _AUTHORS:
                once(seen, "author")
                self._author(entry, child, key)
            elif key in _ENTRY_HARMLESS:
                _text(child)
            elif key == "enclosure":
                link = attributes(child)
                href = link.get("url", link.get("uri", link.get("href")))
                if href:
                    link.pop("url", None), link.pop("uri", None)
                    link["href"] = href
                link["rel"] = "enclosure"
                entry.setdefault("links", []).append(link)
            elif key in _HANDLED or key in _RESERVED:
                raise Unsupported(f"entry element <{key}>")
            else:  # no handler: feedparser stores the attributes, or else the text, by name
                attrs = attributes(child)
                if len(child):
                    raise Unsupported(f"nested markup in <{key}>")
                entry[key] = attrs or finish(key, child.text or "", self._base(child))
        return entry

    def _content_type(self, el, default: str) -> str:
        attrs = _neutral_dropped(el)
        ctype = _map_content_type(attrs.pop("type", default))
        if attrs or ctype not in ("text/plain", "text/html"):
            raise Unsupported("content with a source, an encoding or a non-text type")
        return ctype

    def _link(self, entry: dict, el, seen: set[str]) -> None:
        attrs = attributes(el)
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if href:
            attrs.pop("url", None), attrs.pop("uri", None)
            attrs["href"] = href
        links = entry.setdefault("links", [])
        links.append(attrs)
        if "href" in attrs:  # even empty: href="" is the base itself
            attrs["href"] = href = join_uri(self._base(el), attrs["href"])
            if attrs["rel"] == "alternate" and _map_content_type(attrs["type"]) in _HTML_TYPES:
                entry["link"] = href
            return
        once(seen, "link-text")
        value = finish("link", _text(el), self._base(el)).replace("&amp;", "&")
        value = _ENTITY_LEFT.sub(r"&\g<1>", value)
        entry["link"] = value
        if value:
            attrs["href"] = value

    def _author(self, context: dict, el, key: str) -> None:
        """feedparser's _start_author / _save_author / _end_author / _sync_author_detail."""
        if _neutral_dropped(el):
            raise Unsupported("attributes on an author")
        authors = context.setdefault("authors", [])
        authors.append({})
        for child in el:
            sub = element_key(child)
            if sub in ("name", "email"):
                self._save_author(context, sub, _text(child).strip())
            elif sub in ("uri", "url", "homepage"):
                value = finish("href", _text(child), self._base(child))
                self._save_author(context, "href", value)
            elif sub not in _HANDLED and sub not in _RESERVED and not len(child):
                pass  # Blogger's <gd:image>: stored by feedparser under its own name, unread
            else:
                raise Unsupported(f"<{sub}> in an author")
        raw = (el.text or "") + "".join(c.tail or "" for c in el)
        context["author"] = finish("author", raw)
        sync_author(context)

    def _save_author(self, context: dict, key: str, value: str) -> None:
        context.setdefault("author_detail", {})[key] = value
        sync_author(context)
        context["authors"][-1][key] = value


def once(seen: set[str], what: str) -> None:
    """feedparser's rules for a repeated element depend on depth and order: let it decide."""
    if what in seen:
        raise Unsupported(f"repeated <{what}>")
    seen.add(what)
