"""An HTML page as an lxml element tree, and the few ways the page readers walk it.

libxml2 (through lxml) builds the tree: it is forgiving like a browser (unclosed tags, stray
end tags), written in C, and never recurses in Python, so a page of 100,000 nested tags is
just a deep tree. Every walk below is iterative for the same reason.
"""

from __future__ import annotations

import re

from listening.collect.text import html_to_text


class PageError(ValueError):
    """An HTML page that cannot be read at all (empty, or not HTML)."""


def page_tree(html: bytes):
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


def elements(root, tags: tuple[str, ...] | None = None):
    """Elements under ``root`` (comments and processing instructions skipped)."""
    for el in root.iter(*(tags or ())):
        if isinstance(el.tag, str):
            yield el


def classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _markup(el) -> str:
    """The element's markup, for ``html_to_text`` (libxml2 serialises without recursion)."""
    import lxml.html

    return lxml.html.tostring(el, encoding="unicode", with_tail=False)


def element_text(el) -> str:
    return html_to_text(_markup(el)) if el is not None else ""


def _decode_html(html: bytes) -> str:
    head = html[:2048]
    m = re.search(rb"""<meta[^>]+charset=["']?([\w.:-]+)""", head, re.IGNORECASE)
    for enc in ([m.group(1).decode("ascii")] if m else []) + ["utf-8"]:
        try:
            return html.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return html.decode("windows-1252", "replace")
