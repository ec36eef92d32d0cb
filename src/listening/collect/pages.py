"""A post page read as documents: its article (``parse_page``) and its comment thread
(``extract_page_comments``), from WordPress-style markup.

No network here: the crawler hands us the body. Comments get the same ids as when they come
through a comment feed (``listening.collect.ids``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from listening.analyze.lang import detect_language
from listening.collect.htmltree import classes, element_text, elements, page_tree
from listening.collect.ids import comment_key
from listening.collect.text import (
    canonical_url,
    cap_title,
    content_fingerprint,
    html_to_text,
    normalise_author,
)
from listening.models import Document, stable_id

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
    return _page_comments(page_tree(html), page_url, source, collected_at)


def parse_page(
    html: bytes, page_url: str, *, source: str, collected_at: datetime
) -> list[Document]:
    """A post page read as a source (``kind = "page"``): the article, then its comments.

    The post's text is the article body only (see ``_article``): navigation, sidebars, share
    buttons and the comment thread stay out of it, so a brand named in one comment is one
    mention (the comment's) and the post's sentiment is its author's alone. Raises
    ``PageError`` when the page cannot be read at all.
    """
    root = page_tree(html)
    comments = _page_comments(root, page_url, source, collected_at)
    thread = _thread_url(root, page_url)
    article = _article(root)
    title, text = cap_title(_page_title(root, article), element_text(article))
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
            for n in elements(root, ("link",))
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
    for lst in elements(root, ("ol", "ul")):
        if not classes(lst) & {"commentlist", "comment-list"}:
            continue
        for li in elements(lst, ("li",)):
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
    names = classes(el) | {el.get("id") or ""}
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
    doomed = [n for n in elements(el) if n is not el and _furniture(n)]
    for node in doomed:
        if node.getparent() is not None:  # an ancestor may have gone already
            node.drop_tree()


def _page_title(root, article) -> str | None:
    for meta in elements(root, ("meta",)):
        is_title = (meta.get("property") or meta.get("name") or "").lower() == "og:title"
        if is_title and (title := html_to_text(meta.get("content") or "")):
            return title
    if article is not None:
        h1 = next(elements(article, ("h1",)), None) if article.tag != "body" else None
        if h1 is not None and (title := element_text(h1)):
            return title
    title_el = next(elements(root, ("title",)), None)
    return element_text(title_el) or None


def _article_date(root, article, collected_at: datetime) -> tuple[datetime, bool]:
    for meta in elements(root, ("meta",)):
        is_date = (meta.get("property") or "").lower() == "article:published_time"
        if is_date and (parsed := _iso_date(meta.get("content"))):
            return parsed, False
    if article is not None:
        for el in elements(article, ("time",)):
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
        parent_id = comment_key(thread, f"comment-{parent_number}")

    fn = _first(own, lambda n: "fn" in classes(n))
    author = normalise_author(element_text(fn)) if fn is not None else None
    published, estimated = _page_date(own, collected_at)
    content = _first(own, lambda n: "comment-content" in classes(n))
    if content is not None:
        text = element_text(content)
    else:  # Twenty Ten-era markup: bare <p> in the comment body
        text = "\n\n".join(t for t in (element_text(p) for p in own if p.tag == "p") if t)
    return Document(
        document_id=comment_key(thread, f"comment-{number}"),
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
        if classes(node) & {"children", "reply", "comment-respond"}:
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
        nodes, lambda n: classes(n) & {"comment-metadata", "commentmetadata", "comment-meta"}
    )
    if meta is not None and (m := _FR_DATE.search(element_text(meta))):
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
