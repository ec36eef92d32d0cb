"""The fast feed path (lxml) gives exactly what the feedparser path gives, or steps aside.

Every feed is parsed twice, ``fast=True`` and ``fast=False``, and the two ``ParsedFeed`` must
be equal field by field (documents, comment feeds, bozo notes, title). The fixture corpus, a
set of small feeds written for feedparser's quirks below, and the demo world's feeds run
everywhere; the real captured feeds of ``../shared`` when present.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listening.collect import fastfeed
from listening.collect.feeds import parse_feed
from listening.collect.text import canonical_url
from listening.models import stable_id

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "comment-feeds"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def both(body: bytes, headers=None, feed_url="https://blog.exemple.fr/feed/", thread=None):
    kwargs = dict(
        source="s",
        feed_url=feed_url,
        collected_at=NOW,
        thread_url=thread,
        post_id=stable_id(canonical_url(thread)) if thread else None,
    )
    fast = parse_feed(body, dict(headers or {}), fast=True, **kwargs)
    slow = parse_feed(body, dict(headers or {}), fast=False, **kwargs)
    return fast, slow


def taken(body: bytes, headers=None) -> bool:
    """Whether the fast path reads this body (rather than handing it to feedparser)."""
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    hdrs.setdefault("content-type", "application/xml")
    return fastfeed.parse(body, hdrs) is not None


def assert_same(fast, slow) -> None:
    assert len(fast.documents) == len(slow.documents)
    for a, b in zip(fast.documents, slow.documents, strict=True):
        assert a == b, (
            a.url,
            {k: (v, getattr(b, k)) for k, v in vars(a).items() if v != getattr(b, k)},
        )
    assert fast == slow


# --- the fixture corpus ------------------------------------------------------------------------

FEEDS = sorted(
    p
    for p in FIXTURES.iterdir()
    if not p.name.endswith(".expected.json")
    and not json.loads(p.with_name(p.name.split(".")[0] + ".expected.json").read_text()).get("mode")
)
# Plain RSS 2.0 / Atom 1.0: the fast path must read these itself (else the test above proves
# nothing); the others are broken, hostile or unusual on purpose and go to feedparser.
FAST = {
    "blogger-comments.xml", "blogger.xml", "forum.xml", "google-alerts.xml", "mastodon.xml",
    "no-ids.xml", "reddit.xml", "rss092.xml", "rss20.xml", "typepad.xml",
    "wordpress-comments-atom.xml", "wordpress-comments-rss.xml", "wordpress-posts.xml",
}  # fmt: skip
SLOW = {
    "atom03.xml", "atom10.xml", "empty.xml", "entity-bomb.xml", "latin1-declared-utf8.xml",
    "malformed.xml", "not-a-feed.html", "rss091.xml", "rss10.rdf", "utf8-declared-latin1.xml",
}  # fmt: skip


@pytest.mark.parametrize("path", FEEDS, ids=[p.name for p in FEEDS])
def test_fixture_feed_same_documents_both_ways(path: Path) -> None:
    expected = json.loads(path.with_name(path.name.split(".")[0] + ".expected.json").read_text())
    headers = expected.get("headers", {})
    fast, slow = both(
        path.read_bytes(),
        headers,
        expected.get("feed_url", f"https://fixtures.example.fr/{path.name}"),
        expected.get("thread_url"),
    )
    assert_same(fast, slow)
    assert taken(path.read_bytes(), headers) is (path.name in FAST), path.name


def test_every_fixture_feed_is_classified() -> None:
    assert {p.name for p in FEEDS} == FAST | SLOW


# --- feedparser's quirks, one small feed each --------------------------------------------------

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Le blog &amp; co</title><link>https://blog.exemple.fr/</link>
<atom:link href="https://blog.exemple.fr/feed/" rel="self" type="application/rss+xml"/>
<site xmlns="com-wordpress:feed-additions:1">4212</site>
{items}
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0"
  {feed_attrs}>
<title type="text">Commentaires</title><id>tag:blog.exemple.fr,2026:feed</id>
<author><name>Équipe du blog</name><email>contact@exemple.fr</email></author>
{entries}
</feed>"""

RSS_ITEMS = {
    "guid permalink is the link": "<item><title>Sans lien</title>"
    "<guid>https://blog.exemple.fr/?p=12</guid><description>Texte</description></item>",
    "guid not a permalink, relative link": "<item><title>A</title><link>/2026/11/a/</link>"
    '<guid isPermaLink="false">https://blog.exemple.fr/?p=13</guid>'
    "<description>Le débit est stable.</description></item>",
    "content then description": "<item><title>B</title><link>https://blog.exemple.fr/b/</link>"
    "<content:encoded><![CDATA[<p>Texte complet, très long.</p>]]></content:encoded>"
    "<description>Extrait</description></item>",
    "description then empty content": "<item><title>C</title><link>https://blog.exemple.fr/c/"
    "</link><description>Extrait seul</description><content:encoded></content:encoded></item>",
    "html title, entities, email author": "<item><title>Le &lt;b&gt;SAV&lt;/b&gt; &amp;eacute;"
    "</title><link>https://blog.exemple.fr/d/?a=1&amp;b=2&amp;utm_source=x</link>"
    "<author>lea@exemple.fr (Léa Martin)</author><pubDate>Tue, 24 Nov 2026 10:00:00 +0100"
    "</pubDate><description>Bof</description></item>",
    "dc creator, comments, wfw, slash": "<item><title>E</title>"
    "<link>https://blog.exemple.fr/e/</link><dc:creator><![CDATA[Karim]]></dc:creator>"
    "<comments>https://blog.exemple.fr/e/#comments</comments>"
    "<wfw:commentRss>https://blog.exemple.fr/e/feed/</wfw:commentRss>"
    "<slash:comments>4</slash:comments><category><![CDATA[Box]]></category>"
    '<media:content url="https://img.exemple.fr/e.jpg" medium="image"/>'
    "<description>Texte</description></item>",
    "javascript link": "<item><title>F</title><link>javascript:alert(1)</link>"
    "<description>Piège</description></item>",
    "UTF-8 read as Latin-1": "<item><title>Ã©tÃ© Ã  la plage</title>"
    "<link>https://blog.exemple.fr/g/</link><description>CafÃ© crÃ¨me</description></item>",
    "Windows-1252 code points": "<item><title>\u0080 \u0092 prix</title>"
    "<link>https://blog.exemple.fr/h/</link><description>\u0093ok\u0094 \u0085</description>"
    "</item>",
    "no date, no link, no guid": "<item><title>H</title><description>Rien</description></item>",
    "dc:date and enclosure": "<item><title>I</title><link>https://blog.exemple.fr/i/</link>"
    "<dc:date>2026-11-20T08:00:00+01:00</dc:date>"
    '<enclosure url="https://blog.exemple.fr/i.mp3" type="audio/mpeg" length="1"/>'
    "<description>Podcast</description></item>",
    "unparseable date, unknown element": "<item><title>J</title><link>https://blog.exemple.fr/j/"
    "</link><pubDate>mardi dernier</pubDate><foo>bar</foo><description>x</description></item>",
}

ATOM_ENTRIES = {
    "html title, inherited author, relative link": """<entry>
<title type="html">Le &lt;i&gt;test&lt;/i&gt;</title>
<link rel="alternate" type="text/html" href="/2026/11/test/#comment-3"/><id>urn:uuid:3</id>
<updated>2026-11-25T21:12:00Z</updated><content type="html">&lt;p&gt;Bien vu&lt;/p&gt;</content>
<thr:in-reply-to ref="https://blog.exemple.fr/?p=9" href="https://blog.exemple.fr/test/"/>
</entry>""",
    "empty alternate href, id as link": """<entry><title>Sans lien</title>
<link rel="alternate" type="text/html" href=""/><id>https://blog.exemple.fr/?p=14848</id>
<published>2026-11-24T10:00:00+01:00</published><summary>Résumé seul</summary>
<author><name>Zoé</name><uri>/auteurs/zoe</uri></author></entry>""",
    "reddit id, replies link, summary after content": """<entry><id>t3_1abcde</id>
<title>Avis Telzio</title><content type="html">&lt;p&gt;Long&lt;/p&gt;</content>
<summary>Court</summary>
<link rel="replies" type="application/atom+xml" href="https://blog.exemple.fr/c/feed/"
  thr:count="3"/>
<author><email>anon@exemple.fr</email></author></entry>""",
    "text content, xml:base on content, blogger image": """<entry>
<id>tag:blogger.com,1999:post-1</id>
<title type="text">Texte</title><link rel="alternate" href="https://blog.exemple.fr/t"/>
<content type="text" xml:base="https://autre.exemple.fr/dossier/">Ligne 1
Ligne 2</content><author><name>Hugo</name><gd:image xmlns:gd="http://schemas.google.com/g/2005"
 rel="http://schemas.google.com/g/2005#thumbnail" src="x.png"/></author></entry>""",
}


@pytest.mark.parametrize("name", list(RSS_ITEMS))
def test_rss_quirk_same_both_ways(name: str) -> None:
    body = RSS.format(items=RSS_ITEMS[name]).encode()
    assert taken(body)
    assert_same(*both(body))


@pytest.mark.parametrize("name", list(ATOM_ENTRIES))
@pytest.mark.parametrize(
    "feed_attrs", ["", 'xml:lang="fr" xml:base="https://blog.exemple.fr/wp-atom.php"']
)
def test_atom_quirk_same_both_ways(name: str, feed_attrs: str) -> None:
    body = ATOM.format(entries=ATOM_ENTRIES[name], feed_attrs=feed_attrs).encode()
    assert taken(body)
    assert_same(*both(body))
    # The same entries as a comment feed of one post.
    assert_same(*both(body, thread="https://blog.exemple.fr/2026/11/test/"))


def test_all_quirks_in_one_feed_same_both_ways() -> None:
    body = RSS.format(items="\n".join(RSS_ITEMS.values())).encode()
    assert_same(*both(body, thread="https://blog.exemple.fr/b/"))


@pytest.mark.parametrize(
    ("headers", "is_taken"),
    [
        ({}, True),
        ({"Content-Type": "application/rss+xml; charset=UTF-8"}, True),
        ({"Content-Type": "text/xml; charset=utf-8"}, True),
        ({"Content-Type": "text/xml"}, False),  # RFC 3023: US-ASCII for feedparser
        ({"Content-Type": "text/html; charset=utf-8"}, False),
        ({"Content-Type": "application/xml; charset=iso-8859-1"}, False),
        ({"Content-Location": "https://ailleurs.exemple.fr/flux/"}, True),
    ],
)
def test_headers_same_both_ways(headers: dict, is_taken: bool) -> None:
    body = RSS.format(items="\n".join(RSS_ITEMS.values())).encode()
    assert taken(body, headers) is is_taken
    assert_same(*both(body, headers))


@pytest.mark.parametrize(
    "body",
    [
        # Outside the fast subset: each goes to feedparser, and the result is still the same.
        RSS.format(items="<item><title>a</title><title>b</title></item>"),
        RSS.format(items="<item><title>a<b>gras</b></title></item>"),
        RSS.format(items="<item><source url='https://x.fr/'>X</source><title>a</title></item>"),
        RSS.format(items="<item><media:title>m</media:title><description>d</description></item>"),
        RSS.format(items="<item><!-- c --><title>a<!-- c --></title></item>"),
        RSS.format(items="<item><description>a</description><description>b</description></item>"),
        ATOM.format(
            entries='<entry><content type="xhtml"><div>x</div></content></entry>', feed_attrs=""
        ),
        ATOM.format(entries='<entry><content src="https://x.fr/a"/></entry>', feed_attrs=""),
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>\xe9</title>'
        "<item><title>caf\xe9</title></item></channel></rss>",
        '<?xml version="1.0"?><!DOCTYPE rss><rss version="2.0"><channel><item><title>a</title>'
        "</item></channel></rss>",
        '<rss version="2.0"><channel><item><title>a &eacute;</title></item></channel></rss>',
        '<rss version="2.0"><channel><item><x:y>undeclared</x:y></item></channel></rss>',
    ],
)
def test_outside_the_subset_goes_to_feedparser(body: str) -> None:
    raw = body.encode("latin-1") if "iso-8859-1" in body else body.encode()
    assert not taken(raw)
    assert_same(*both(raw))


# --- the demo world's feeds (WordPress RSS and Atom, posts and comment feeds) -------------------


def test_demo_world_feeds_same_both_ways() -> None:
    from listening.demo.cast import SITES
    from listening.demo.world import build_world

    base = "http://127.0.0.1:8000"
    world = build_world(base)
    feeds = {path: body for path, body in world.files.items() if body.startswith(b"<?xml")}
    threads = {}
    n_taken = 0
    for site in SITES:
        body = feeds[site.feed_path]
        result = parse_feed(body, {}, source="s", feed_url=base + site.feed_path, collected_at=NOW)
        threads.update({cf.url: cf.thread_url for cf in result.comment_feeds})
    # The sites' own feeds and every 60th comment feed (RSS and Atom).
    sample = sorted({s.feed_path for s in SITES} | set(sorted(feeds)[::60]))
    for path in sample:
        headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
        assert_same(*both(feeds[path], headers, base + path, threads.get(base + path)))
        n_taken += taken(feeds[path], headers)
    assert n_taken == len(sample) > 30


# --- real captured feeds (not ours; skipped when ../shared is absent) --------------------------

REAL = sorted(p for p in SHARED.rglob("*") if p.suffix in (".xml", ".atom", ".rss"))


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared corpora not present")
@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_feed_same_both_ways(path: Path) -> None:
    assert_same(*both(path.read_bytes(), {}, "https://example.org/feed/"))


def test_base_attribute_found_from_each_base_is_the_pattern_anywhere() -> None:
    """The "base" attribute check (whether links resolve against xml:base) answers as the
    pattern tried at every byte did: ASCII case, re's \\s for bytes (not \\x1c-\\x1f), ":"."""
    import random
    import re

    pattern = re.compile(rb"[\s:]base\s*=", re.IGNORECASE)  # the reference: tried everywhere
    pieces = [b"base", b"BaSe", b"bas", b"e", b" ", b"\t", b"\x0b", b"\x1c", b":", b"=", b"x"]
    pieces += [b"xml:", b"\xc3\xa9", b"\n", b"<a ", b'="u"', b"BASE", b"\xc4\xb0"]
    rng = random.Random(5)
    n_found = 0
    for _ in range(50000):
        body = b"".join(rng.choices(pieces, k=rng.randint(0, 10)))
        expected = pattern.search(body) is not None
        assert fastfeed._has_base_attribute(body) == expected, body
        n_found += expected
    assert n_found > 1000
