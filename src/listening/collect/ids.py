"""Document ids: how a post and a comment are named, whether read from a feed or a page.

A post is named by its canonical link (``text.canonical_url``: tracking parameters and
non-comment fragments dropped), else by its guid, else by (source, title, text) with
``extra["is_id_from_content"]`` (``entries.entry_document`` applies this order; a page read as
a source is named by its canonical URL, ``pages.parse_page``). Links first because the same
article reached through two feeds (the site's feed and a Google Alert) shares a link but not a
guid.

A comment is named by its thread plus its comment fragment (``comment_key``):
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

import re
from urllib.parse import urlsplit

from listening.collect.text import canonical_url, comment_fragment
from listening.models import stable_id


def comment_key(thread: str, fragment: str) -> str:
    # The one place the comment id rule lives: feeds and HTML pages both come through here.
    return stable_id(canonical_url(f"{thread}#{fragment}"))


def find_comment_id(thread: str, *identifiers: str | None) -> str | None:
    """The id of the comment named by the first identifier carrying a comment fragment."""
    for identifier in identifiers:
        if fragment := comment_fragment(identifier):
            return comment_key(thread, fragment)
    return None


def same_page(a: str, b: str) -> bool:
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


def comment_page(link: str | None) -> str | None:
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
