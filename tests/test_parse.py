"""Parsing feeds, comment feeds and pages: one test over the fixture corpus, then specific cases.

Each file in tests/fixtures/feeds has a sibling ``<stem>.expected.json`` describing what must
come out (feedparser's tests/wellformed style). Keys present in an expected document are
checked, absent keys are not.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listening.collect.discover import discover_feeds
from listening.collect.feeds import parse_feed
from listening.collect.pages import extract_page_comments
from listening.collect.robots import robots_allows
from listening.collect.text import canonical_url
from listening.models import stable_id

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
COLLECTED_AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "comment-feeds"

INPUTS = sorted(p for p in FIXTURES.iterdir() if not p.name.endswith(".expected.json"))


def _parse(path: Path, expected: dict):
    body = path.read_bytes()
    if expected.get("mode") == "page_comments":
        return extract_page_comments(
            body, expected["page_url"], source="fixture", collected_at=COLLECTED_AT
        )
    if expected.get("mode") == "discover":
        return discover_feeds(body, expected["base_url"])
    thread_url = expected.get("thread_url")
    return parse_feed(
        body,
        expected.get("headers", {}),
        source="fixture",
        feed_url=expected.get("feed_url", f"https://fixtures.example.fr/{path.name}"),
        collected_at=COLLECTED_AT,
        thread_url=thread_url,
        post_id=stable_id(canonical_url(thread_url)) if thread_url else None,
    )


def _check_documents(docs, expected_docs: list[dict]) -> None:
    assert len(docs) == len(expected_docs), [d.url for d in docs]
    ids_by_url = {d.url: d.document_id for d in docs if d.url}
    assert len({d.document_id for d in docs}) == len(docs), "document ids must be unique"
    for doc, exp in zip(docs, expected_docs, strict=True):
        for key, value in exp.items():
            if key == "parent_url":
                want = None if value is None else ids_by_url[value]
                assert doc.parent_id == want, (doc.url, "parent")
            elif key == "published_at":
                assert doc.published_at.isoformat() == value, doc.url
            elif key == "is_id_from_content":
                assert doc.extra.get("is_id_from_content", False) is value
            else:
                assert getattr(doc, key) == value, (doc.url, key)
        assert doc.published_at.tzinfo is not None
        assert doc.collected_at == COLLECTED_AT
        assert doc.content_hash and len(doc.content_hash) == 16
        assert doc.thread_url


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_fixture(path: Path) -> None:
    expected_path = path.with_name(path.name.split(".")[0] + ".expected.json")
    assert expected_path.exists(), f"write {expected_path.name} next to {path.name}"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    result = _parse(path, expected)

    if expected.get("mode") == "discover":
        assert result == expected["feeds"]
        return
    if expected.get("mode") == "page_comments":
        _check_documents(result, expected["documents"])
        return

    assert result.is_feed is expected.get("is_feed", True), result.error
    if "error_contains" in expected:
        assert expected["error_contains"] in (result.error or "")
    elif result.is_feed:
        assert result.error is None
    assert result.is_bozo is expected.get("is_bozo", False), result.bozo_message
    if "bozo_contains" in expected:
        assert expected["bozo_contains"] in result.bozo_message
    if "title" in expected:
        assert result.title == expected["title"]
    if "n_dates_estimated" in expected:
        assert result.n_dates_estimated == expected["n_dates_estimated"]
    if "max_text_len" in expected:
        for doc in result.documents:
            assert len(doc.text) + len(doc.title or "") <= expected["max_text_len"]
    _check_documents(result.documents, expected["documents"])

    post_ids = {d.thread_url: d.document_id for d in result.documents}
    got = [
        {"url": c.url, "thread_url": c.thread_url, "n_comments": c.n_comments, "format": c.format}
        for c in result.comment_feeds
    ]
    assert got == expected["comment_feeds"]
    for cf in result.comment_feeds:
        assert cf.post_id == post_ids[cf.thread_url]


# --- identity across sources -------------------------------------------------------------------


def _feed(name: str, **kwargs):
    return parse_feed(
        (FIXTURES / name).read_bytes(),
        {},
        source=kwargs.pop("source", "fixture"),
        feed_url=f"https://fixtures.example.fr/{name}",
        collected_at=COLLECTED_AT,
        **kwargs,
    )


def test_same_article_through_two_feeds_has_one_id() -> None:
    # The blog's own RSS (with utm/fbclid) and a Google Alert (redirect link) name one article.
    blog = _feed("rss20.xml").documents[0]
    alert = _feed("google-alerts.xml", source="alerte").documents[0]
    assert blog.url == alert.url == "https://cosmetique.example.fr/avis-hydra"
    assert blog.document_id == alert.document_id


def test_comment_ids_agree_across_rss_atom_and_page() -> None:
    thread = "https://mamantesteuse.example.fr/poussette-baladeo/"
    post_id = stable_id(thread)
    rss = _feed("wordpress-comments-rss.xml", thread_url=thread, post_id=post_id).documents
    atom = _feed("wordpress-comments-atom.xml", thread_url=thread, post_id=post_id).documents
    page = extract_page_comments(
        (FIXTURES / "wordpress-post.html").read_bytes(),
        thread,
        source="fixture",
        collected_at=COLLECTED_AT,
    )
    assert rss[0].document_id == atom[0].document_id == page[0].document_id
    # Marc's comment is on comment-page-2 in the feed and answers Sophie by guid only (ref);
    # both resolve to the same ids as on the page.
    sophie_atom, marc_atom = atom[1], atom[2]
    sophie_page, marc_page = page[1], page[2]
    assert marc_atom.document_id == marc_page.document_id
    assert marc_atom.parent_id == sophie_atom.document_id == sophie_page.document_id
    assert marc_page.parent_id == sophie_page.document_id


def test_comment_feed_discovered_from_post_points_back_to_post() -> None:
    posts = _feed("wordpress-posts.xml")
    cf = posts.comment_feeds[0]
    comments = _feed("wordpress-comments-atom.xml", thread_url=cf.thread_url, post_id=cf.post_id)
    assert all(d.thread_url == posts.documents[0].url for d in comments.documents)
    assert comments.documents[0].parent_id is None  # answers the post (RFC 4685 ref = post)
    assert comments.comment_feeds == []


def test_comment_without_any_link_or_guid_still_gets_an_id() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>c</title>'
        b"<item><description>Super article, merci beaucoup !</description></item>"
        b"</channel></rss>"
    )
    result = parse_feed(
        body,
        {},
        source="s",
        feed_url="https://ex.fr/a/feed/",
        collected_at=COLLECTED_AT,
        thread_url="https://ex.fr/a/",
    )
    doc = result.documents[0]
    assert doc.kind == "comment" and doc.thread_url == "https://ex.fr/a/"
    assert doc.extra == {"is_id_from_content": True}
    assert doc.is_date_estimated and doc.published_at == COLLECTED_AT


def test_comment_whose_link_is_the_post_does_not_take_the_post_id() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>c</title>'
        b"<item><link>https://ex.fr/a/</link><guid>avis-77</guid>"
        b"<description>Pareil pour moi, produit cass\xc3\xa9 en une semaine.</description></item>"
        b"</channel></rss>"
    )
    thread = "https://ex.fr/a/"
    doc = parse_feed(
        body,
        {},
        source="s",
        feed_url="https://ex.fr/a/feed/",
        collected_at=COLLECTED_AT,
        thread_url=thread,
        post_id=stable_id(thread),
    ).documents[0]
    assert doc.document_id == stable_id("avis-77") != stable_id(thread)


def test_page_comment_with_impossible_french_date_is_estimated() -> None:
    html = (
        "<ol class='commentlist'><li id='li-comment-5'><div class='comment-author'>"
        "<cite class='fn'>Zoé</cite></div><div class='commentmetadata'>31 février 2026 à 10 h 00"
        "</div><p>Bonjour à tous</p></li></ol>"
    ).encode()
    (doc,) = extract_page_comments(html, "https://ex.fr/a/", source="s", collected_at=COLLECTED_AT)
    assert doc.is_date_estimated and doc.author == "Zoé" and doc.text == "Bonjour à tous"


# --- hostile or broken input -------------------------------------------------------------------


def test_body_is_never_read_as_a_path_or_url(tmp_path: Path) -> None:
    # feedparser.parse(bytes) calls open() on the bytes first; we must pass a stream.
    secret = tmp_path / "secret.xml"
    secret.write_text(
        '<rss version="2.0"><channel><item><title>secret</title></item></channel></rss>'
    )
    result = parse_feed(
        str(secret).encode(), {}, source="s", feed_url="https://ex.fr/", collected_at=COLLECTED_AT
    )
    assert result.documents == []
    assert not result.is_feed


def test_quadratic_blowup_entity_is_not_expanded() -> None:
    # feedparser keeps "safe" text entities and its loose parser expands them: 50 kB x 2000
    # references would be a 100 MB title. The internal subset is dropped before parsing.
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "'
        + b"A" * 50_000
        + b'">\n]>\n<rss version="2.0"><channel><title>x</title><item><title>'
        + b"&a;" * 2000
        + b"</title><link>https://ex.fr/c</link></item></channel></rss>"
    )
    start = time.perf_counter()
    result = parse_feed(body, {}, source="s", feed_url="https://ex.fr/", collected_at=COLLECTED_AT)
    assert time.perf_counter() - start < 1
    assert result.is_bozo and len(result.documents[0].title) <= len(body)


def test_entity_declared_on_the_doctype_line_is_dropped_too() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
        b']><rss version="2.0"><channel><item><title>&b;&b;</title>'
        b"<link>https://ex.fr/b</link></item></channel></rss>"
    )
    result = parse_feed(body, {}, source="s", feed_url="https://ex.fr/", collected_at=COLLECTED_AT)
    assert "aaaa" not in (result.documents[0].title or "")


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("mot-de-passe-secret")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><item><title>&xxe;</title>'
        "<link>https://ex.fr/x</link></item></channel></rss>"
    ).encode()
    result = parse_feed(body, {}, source="s", feed_url="https://ex.fr/", collected_at=COLLECTED_AT)
    assert all("secret" not in (d.title or "") + d.text for d in result.documents)


def test_feed_without_entries_is_a_feed_without_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Vide</title></channel></rss>'
    result = parse_feed(body, {}, source="s", feed_url="https://ex.fr/", collected_at=COLLECTED_AT)
    assert result.is_feed and result.error is None and result.documents == []


def test_relative_links_resolve_against_content_location() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Un article</title><link>/a/b</link></item></channel></rss>"
    )
    result = parse_feed(
        body,
        {"Content-Location": "https://site.example.fr/flux/rss"},
        source="s",
        feed_url="https://other.example.fr/",
        collected_at=COLLECTED_AT,
    )
    assert result.documents[0].url == "https://site.example.fr/a/b"


# --- pages and robots --------------------------------------------------------------------------


def test_discover_feeds_on_a_page_without_feeds() -> None:
    assert discover_feeds(b"<html><head><title>x</title></head></html>", "https://ex.fr/") == []


def test_page_comments_on_a_page_without_comments() -> None:
    html = b"<html><body><ol class='comment-list'></ol><p>Rien</p></body></html>"
    assert (
        extract_page_comments(html, "https://ex.fr/", source="s", collected_at=COLLECTED_AT) == []
    )


ROBOTS = b"""User-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php

User-agent: listening
Disallow: /prive/
"""


@pytest.mark.parametrize(
    ("agent", "url", "allowed"),
    [
        ("listening", "https://ex.fr/blog/article/", True),
        ("listening", "https://ex.fr/prive/page", False),
        ("autre-robot", "https://ex.fr/wp-admin/options.php", False),
        ("autre-robot", "https://ex.fr/prive/page", True),
    ],
)
def test_robots_allows(agent: str, url: str, allowed: bool) -> None:
    assert robots_allows(ROBOTS, agent, url) is allowed


def test_robots_empty_file_allows_everything() -> None:
    assert robots_allows(b"", "listening", "https://ex.fr/x")


# --- real captured feeds (not ours; skipped when ../shared is absent) --------------------------

WITH_COMMENTS = {
    "netnewswire-rsparser/natasha.xml": "feed",
    "netnewswire-rsparser/manton.rss": "feed",
    "netnewswire-rsparser/dcrainmaker.xml": "feed",
    "netnewswire-rsparser/4fsodonline.atom": "feed",
    "netnewswire-rsparser/expertopinionent.atom": "html",
    "feed-rs/rss_2.0_docuverse_comments.xml": "feed",
    "feed-rs/atom_comments_1.xml": "feed",
}
WITHOUT_COMMENTS = ["netnewswire-rsparser/OneFootTsunami.atom", "netnewswire-rsparser/allthis.atom"]


def _shared(name: str):
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return parse_feed(
        path.read_bytes(),
        {},
        source="corpus",
        feed_url="https://corpus.example/feed",
        collected_at=COLLECTED_AT,
    )


@pytest.mark.parametrize(("name", "fmt"), sorted(WITH_COMMENTS.items()))
def test_real_feeds_discover_comment_feeds(name: str, fmt: str) -> None:
    result = _shared(name)
    assert result.is_feed and not result.is_bozo and result.documents
    assert len(result.comment_feeds) == len(result.documents)
    by_id = {d.document_id: d for d in result.documents}
    for cf in result.comment_feeds:
        assert cf.format == fmt
        assert cf.url.startswith("http")
        assert by_id[cf.post_id].thread_url == cf.thread_url


def test_real_feed_counts() -> None:
    natasha = _shared("netnewswire-rsparser/natasha.xml").comment_feeds[0]
    assert natasha.url == "https://www.natashatherobot.com/url-apple-wallet-passkit-pass/feed/"
    assert natasha.n_comments == 6
    docuverse = _shared("feed-rs/rss_2.0_docuverse_comments.xml").comment_feeds[0]
    assert docuverse.n_comments == 1
    blogger = _shared("netnewswire-rsparser/4fsodonline.atom").comment_feeds[0]
    assert blogger.url.endswith("/comments/default") and blogger.n_comments == 0


@pytest.mark.parametrize("name", WITHOUT_COMMENTS)
def test_real_feeds_without_comments(name: str) -> None:
    result = _shared(name)
    assert result.is_feed and result.documents
    assert result.comment_feeds == []


# --- site-wide comment feeds -------------------------------------------------------------------

SITE_COMMENTS = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">
  <title>Commentaires pour Maman Testeuse</title>
  <entry>
    <title>Commentaire sur Poussette Baladeo par Marc</title>
    <link rel="alternate" href="https://mamantesteuse.example.fr/poussette-baladeo/comment-page-2/#comment-1030"/>
    <author><name>Marc</name></author>
    <id>https://mamantesteuse.example.fr/?p=412#comment-1030</id>
    <published>2026-11-26T06:00:00Z</published>
    <thr:in-reply-to ref="https://mamantesteuse.example.fr/?p=412#comment-1024"
      href="https://mamantesteuse.example.fr/poussette-baladeo/comment-page-2/#comment-1024"/>
    <content type="html">Je confirme pour les roues, pas terrible du tout.</content>
  </entry>
  <entry>
    <title>Commentaire sur Les biberons en verre par Inès</title>
    <link rel="alternate" href="https://mamantesteuse.example.fr/2026/11/biberons-verre.html#comment-2001"/>
    <author><name>Inès</name></author>
    <id>https://mamantesteuse.example.fr/?p=398#comment-2001</id>
    <published>2026-11-25T12:00:00Z</published>
    <thr:in-reply-to ref="https://mamantesteuse.example.fr/?p=398"
      href="https://mamantesteuse.example.fr/2026/11/biberons-verre.html"/>
    <content type="html">Nous on a pris ceux en verre, aucun regret.</content>
  </entry>
</feed>
""".encode()


def test_site_wide_comment_feed_threads_each_comment_to_its_post() -> None:
    # WordPress's /comments/feed/ mixes every post's comments; collect passes the feed URL as
    # thread_url. Each comment's own link names its post, so ids match the per-post feeds.
    result = parse_feed(
        SITE_COMMENTS,
        {},
        source="s",
        feed_url="https://mamantesteuse.example.fr/comments/feed/atom/",
        collected_at=COLLECTED_AT,
        thread_url="https://mamantesteuse.example.fr/comments/feed/atom/",
    )
    marc, ines = result.documents
    assert marc.thread_url == "https://mamantesteuse.example.fr/poussette-baladeo/"
    assert ines.thread_url == "https://mamantesteuse.example.fr/2026/11/biberons-verre.html"
    thread = "https://mamantesteuse.example.fr/poussette-baladeo/"
    per_post = _feed("wordpress-comments-atom.xml", thread_url=thread, post_id=stable_id(thread))
    assert marc.document_id == per_post.documents[2].document_id
    assert marc.parent_id == per_post.documents[1].document_id
    assert ines.kind == "comment" and ines.parent_id is None


def test_blogger_comment_link_keeps_the_given_thread() -> None:
    thread = "https://carnets-margaux.blogspot.com/2026/11/mon-rituel-beaute-du-soir.html"
    doc = _feed("blogger-comments.xml", thread_url=thread, post_id=stable_id(thread)).documents[0]
    assert doc.thread_url == thread
    assert doc.document_id == stable_id(canonical_url(thread + "#c5550001"))


# --- HTML to text: the regex pass for simple markup gives what html.parser gives -------------

_HTML_PIECES = [
    "<p>",
    "</p>",
    "<P>",
    "</P >",
    "<br>",
    "<br/>",
    "<br />",
    "<li>",
    "</li>",
    "<ul>",
    "</ul>",
    "<h2>",
    "</h2>",
    '<div class="a b">',
    "</div>",
    "<em>",
    "</em>",
    '<a href="https://x.fr/a?b=1&amp;c=2">',
    "<a href='https://x.fr/'>",
    "<a href=https://x.fr/>",
    "<a href=x>",
    "</a>",
    '<img src="a.png" alt="<">',
    '<img src="a.png" alt="x > y"/>',
    "<span data-x=1 hidden>",
    "</span>",
    "<td>",
    "<tr>",
    "<script>var a = '<p>';</script>",
    "<style>p { }</style>",
    "<title>T &amp; t</title>",
    "<textarea><p></textarea>",
    "<!-- commentaire -->",
    "<!DOCTYPE html>",
    "<?php ?>",
    "<![CDATA[x]]>",
    "<my-element>",
    "</my-element>",
    "<svg><text>s</text></svg>",
    "<iframe>",
    "< p>",
    "</ p>",
    "<p<p>",
    '<a href="x"title="y">',
    "<a =x>",
    "<",
    ">",
    "</",
    "<>",
    "&",
    "&amp;",
    "&eacute;",
    "&#233;",
    "&#xE9;",
    "&#13;",
    "&#10;",
    "&bogus;",
    "&eacute",
    "&#0;",
    "&nbsp;",
    "Bonjour",
    "ça marche",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "é",
    "😡",
    "a\u00a0b",
    "\x00",
    "\x85",
]


def test_simple_markup_reads_as_html_parser_does() -> None:
    """Random sequences of tags, references, text and broken markup: where the regex pass
    takes the markup, its parts are html.parser's; the rest falls back to html.parser."""
    import random

    from listening.collect.text import _parser_parts, _simple_markup_parts, html_to_text

    rng = random.Random(12)
    taken = 0
    for _ in range(20000):
        html = "".join(rng.choices(_HTML_PIECES, k=rng.randint(1, 14)))
        parts = _simple_markup_parts(html)
        if parts is not None:
            taken += 1
            assert parts == _parser_parts(html), html
        html_to_text(html)
    assert taken > 2000  # the regex pass is exercised, not only the fallback


def test_fixture_feeds_html_reads_as_html_parser_does() -> None:
    """Every title, summary and content of the fixture feeds (the hostile ones included)."""
    import feedparser

    from listening.collect.text import _parser_parts, _simple_markup_parts

    n = 0
    for path in sorted((Path(__file__).parent / "fixtures" / "feeds").iterdir()):
        if path.suffix == ".json":
            continue
        for entry in feedparser.parse(path.read_bytes()).entries:
            values = [entry.get("title", ""), entry.get("summary", "")]
            values += [c.get("value", "") for c in entry.get("content", [])]
            for html in values:
                parts = _simple_markup_parts(html)
                if parts is not None:
                    n += 1
                    assert parts == _parser_parts(html), (path.name, html)
    assert n > 20


def test_folding_whitespace_by_split_is_folding_by_regex() -> None:
    import random
    import re
    import sys

    from listening.collect.text import _fold, strip_controls

    spaces_re = re.compile(r"[^\S\n]+")
    blanks_re = re.compile(r"\n{3,}")

    def _fold_by_regex(text: str) -> str:  # _fold as it was first written
        text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
        lines = [spaces_re.sub(" ", line).strip() for line in text.split("\n")]
        return blanks_re.sub("\n\n", "\n".join(lines)).strip()

    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    pieces = [*spaces, "\r\n", "\n\n\n", "a", "mot", "é", "\x00", "\x1f", "\x85", "\x9f", " \n "]
    pieces += [" "] * 40 + ["\xad", "\u200d", "😂"]  # printable lines, with and without "  "
    pieces += ["\n"] * 40  # runs of newlines of every length
    rng = random.Random(7)
    for _ in range(30000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 16)))
        assert _fold(text) == _fold_by_regex(text), repr(text)
    # str.strip(" ") is enough for a printable line: every whitespace but " " is unprintable.
    assert [c for c in spaces if c.isprintable()] == [" "]


def test_reddit_footer_skipped_without_its_words_is_the_pattern_everywhere():
    """``_strip_reddit_footer`` runs the pattern only on texts holding "submitted by": the
    same text as running it on every text, over random texts near and far from a footer."""
    import random

    from listening.collect.entries import _REDDIT_FOOTER, _strip_reddit_footer

    rng = random.Random(7)
    parts = ["submitted by", "submitted  by", "Submitted by", " /u/x", "/u/", " [link]", " ",
             "[comments]", "\n", "\u00a0", "mot", "submitted", " by ", "é", "\t"]  # fmt: skip
    texts = ["".join(rng.choices(parts, k=rng.randint(0, 12))) for _ in range(20000)]
    texts.append("Texte.  submitted by /u/Baguette_Enjoyer [link] [comments]")
    stripped = 0
    for text in texts:
        assert _strip_reddit_footer(text) == _REDDIT_FOOTER.sub("", text), repr(text)
        stripped += _strip_reddit_footer(text) != text
    assert stripped > 100  # the footer was there to strip, often
