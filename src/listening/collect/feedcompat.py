"""feedparser's rules, reproduced for the lxml fast path (``listening.collect.fastfeed``).

How feedparser names an element and its attributes, finishes a text value (relative URIs,
charset repairs), follows ``xml:base``, reads dates and fills ``author_detail``. Its own code
is reused, not rewritten, where it carries its quirks: date formats (``_parse_date``),
relative URI joining (``_urljoin``) and the Windows-1252 repair table. The uv.lock pins the
feedparser they come from.
"""

from __future__ import annotations

import contextlib
import functools
import re

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri

_KNOWN_NS = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_CAN_BE_RELATIVE = _FeedParserMixin.can_be_relative_uri
_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)  # feedparser's _sync_author_detail, verbatim
_C1 = re.compile("[\x80-\x9f]")  # the code points feedparser maps as Windows-1252
_URIFIXER = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)")  # feedparser.urls._urifixer


class Unsupported(Exception):
    """The feed is outside the fast subset: feedparser reads it."""


_KEYS: dict[str, str] = {}  # tag -> key, for tags whose key does not depend on the document


def element_key(el) -> str:
    """feedparser's name for an element: its namespace's usual prefix, "_", its local name."""
    tag = el.tag
    if (key := _KEYS.get(tag)) is not None:
        return key
    if not isinstance(tag, str):
        raise Unsupported("comment or processing instruction")
    if tag[0] != "{":
        key = tag.lower()
        if len(_KEYS) < 4096:
            _KEYS[tag] = key
        return key
    uri, local = tag[1:].split("}", 1)
    local = local.lower()
    prefix = _KNOWN_NS.get(uri.lower())
    if prefix is not None and len(_KEYS) < 4096:
        _KEYS[tag] = key = f"{prefix}_{local}" if prefix else local
        return key
    if prefix is None:
        # feedparser (strict.startElementNS) names it after the first prefix declared for its
        # namespace, or not at all (WordPress.com's <site xmlns="com-wordpress:…">).
        named = [p for p, u in el.nsmap.items() if p and u == uri]
        if "backend.userland.com/rss" in uri.lower() or len(named) > 1:
            raise Unsupported(f"ambiguous namespace: {tag}")
        prefix = named[0].lower() if named else ""
    return f"{prefix}_{local}" if prefix else local


def attributes(el) -> dict[str, str]:
    """Attributes as feedparser's strict parser names them (rel and type lowercased)."""
    out = {}
    for name, value in el.items():
        if name[0] == "{":
            uri, local = name[1:].split("}", 1)
            prefix = _KNOWN_NS.get(uri.lower(), "")
            name = f"{prefix}:{local}" if prefix else local
        name = name.lower()
        out[name] = value.lower() if name in ("rel", "type") else value
    return out


@functools.lru_cache(maxsize=1 << 14)
def join_uri(base: str, uri: str) -> str:
    """feedparser.urls._urljoin, without its regex substitution on every call."""
    if (m := _URIFIXER.match(uri)) and m.group(2):
        uri = m.group(1) + uri[m.end() :]
    if not base:
        return uri
    return _urljoin(base, uri)


def finish(key: str, raw: str, base: str = "", *, resolve: bool = True) -> str:
    """feedparser's ``pop`` for an element that expects text (UTF-8 feed, no base URI)."""
    out = raw.strip()
    if resolve and key in _CAN_BE_RELATIVE and out:
        out = join_uri(base, out)
    if out.isascii():
        return out  # both repairs below leave ASCII alone
    # "UTF-8 read as Latin-1" repair, then Windows-1252 code points (mixin.pop); translate()
    # looks every character up in a dict, so only when there is a C1 character to map.
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        out = out.encode("iso-8859-1").decode("utf-8")
    return out.translate(_cp1252) if _C1.search(out) else out


def base_uris(root) -> dict:
    """The base URI feedparser holds when it ends each element (mixin.unknown_starttag and
    unknown_endtag, quirks included: a parent's empty base does not reset a child's)."""
    import lxml.etree

    base, stack, bases = "", [], {}
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            given = base
            # el.keys(): attribute names (iterating an lxml element gives its children)
            if any(name[-4:].lower() == "base" for name in el.keys()):  # noqa: SIM118
                attrs = attributes(el)
                given = attrs.get("xml:base", attrs.get("base")) or base
            base = _next_base(base, given)
            stack.append(base)
        else:
            bases[el] = base
            stack.pop()
            if stack and stack[-1]:
                base = stack[-1]
    return bases


# A struct_time is immutable; comment feeds repeat dates (published = updated).
parse_date = functools.lru_cache(maxsize=1 << 12)(_parse_date)


@functools.lru_cache(maxsize=1 << 12)
def _next_base(base: str, given: str) -> str:
    return (make_safe_absolute_uri(base, given) or base) if base else _urljoin(base, given)


def sync_author(context: dict) -> None:
    """feedparser's _sync_author_detail: ``author`` and ``author_detail`` agree."""
    detail = context.get("authors", [{}])[-1]
    if detail:
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            context["author"] = f"{name} ({email})"
        elif name:
            context["author"] = name
        elif email:
            context["author"] = email
        return
    author, email = context.get("author"), None
    if not author:
        return
    if m := _EMAIL.search(author):
        email = m.group(0)
        author = author.replace(email, "").replace("()", "").replace("<>", "")
        author = author.replace("&lt;&gt;", "").strip()
        if author and author[0] == "(":
            author = author[1:]
        if author and author[-1] == ")":
            author = author[:-1]
        author = author.strip()
    if author or email:
        context.setdefault("author_detail", detail)
    if author:
        detail["name"] = author
    if email:
        detail["email"] = email


def rss_version(attr: str) -> str:
    """feedparser's ``_start_rss``."""
    known = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}
    return known.get(attr) or ("rss20" if attr.startswith("2.") else "rss")
