"""The demo world: deterministic, well-formed, and telling the story the dashboards must show.

Story assertions use the generator's own labels (``World.documents``), not a sentiment scorer.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from datetime import date
from xml.etree import ElementTree

import feedparser
import pytest

from listening.demo import build_world, serve
from listening.demo.render import file_name, url_path
from listening.demo.server import load_folder

BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def world():
    return build_world(BASE)


def digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b"\0" + files[path] + b"\0")
    return h.hexdigest()


def month(d) -> str:
    return d.strftime("%Y-%m")


# -- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_identical_files(world):
    again = build_world(BASE)
    assert again.files == world.files


def test_same_seed_in_another_process_with_another_hash_seed(world):
    code = (
        "import hashlib; from listening.demo import build_world\n"
        f"w = build_world({BASE!r})\n"
        "h = hashlib.sha256()\n"
        "for p in sorted(w.files): h.update(p.encode() + b'\\0' + w.files[p] + b'\\0')\n"
        "print(h.hexdigest())\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == digest(world.files)


def test_another_seed_and_end_date(world):
    other = build_world(BASE, seed=7, end=date(2025, 12, 31))
    assert digest(other.files) != digest(world.files)
    # The 18 months and the story move with the end date.
    published = [d["published_at"].date() for d in other.documents]
    assert date(2024, 7, 1) <= min(published) and max(published) <= date(2025, 12, 31)
    assert other.campaigns()[0]["start"] == date(2025, 5, 2)


def test_scale(world):
    kinds = Counter(d["kind"] for d in world.documents)
    assert 1500 <= kinds["post"] <= 2500
    assert 8000 <= kinds["comment"] <= 15000
    assert len(world.brands) == 6
    assert 20 <= len(world.sources) <= 26


# -- feeds and pages ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parsed_feeds(world):
    """The main feeds and every 16th comment feed, parsed by feedparser.

    feedparser needs ~3 ms a feed, too slow for all ~1,700 within this module's time budget;
    ``test_every_feed_is_well_formed`` checks all of them with a strict XML parser instead.
    """
    feeds = sorted(p for p, b in world.files.items() if b.startswith(b"<?xml"))
    main = [p for p in feeds if p.count("/") < 6]
    sample = main + [p for p in feeds if p.count("/") >= 6][::16]
    return {p: feedparser.parse(world.files[p]) for p in sample}


def test_every_feed_is_well_formed(world):
    feeds = {p: b for p, b in world.files.items() if b.startswith(b"<?xml")}
    assert len(feeds) > 1000
    for path, body in feeds.items():
        root = ElementTree.fromstring(body)  # raises on any well-formedness or namespace error
        assert root.tag in ("rss", "{http://www.w3.org/2005/Atom}feed"), path


def test_feeds_parse_without_bozo(parsed_feeds):
    assert len(parsed_feeds) > 100
    for path, parsed in parsed_feeds.items():
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version in ("rss20", "atom10"), path


def test_main_feeds_hold_the_archive_and_point_to_comment_feeds(world, parsed_feeds):
    posts = Counter(d["source"] for d in world.documents if d["kind"] == "post")
    for source in world.sources:
        if source["kind"] != "feed":
            continue
        path = source["url"].removeprefix(BASE)
        assert len(parsed_feeds[path].entries) == posts[source["name"]], source["name"]
        body = world.files[path]
        if source["name"] == "cuisine-de-mamie":
            # Comments live in the post pages only, announced by RSS <comments>.
            assert b"wfw:commentRss" not in body and b"slash:comments" not in body
            assert b"#comments</comments>" in body
        elif b"<rss" in body[:300]:
            assert b"<wfw:commentRss>" in body and b"<slash:comments>" in body
        else:
            assert b'rel="replies" type="application/atom+xml"' in body
            assert b"<thr:total>" in body


def comment_feed(world, thread_url: str) -> bytes:
    path = thread_url.removeprefix(BASE)
    return world.files.get(path + "feed/atom/") or world.files[path + "feed/"]


def test_comment_feeds_carry_in_reply_to(world, parsed_feeds):
    comment_feeds = [p for p in parsed_feeds if p.count("/") >= 6]
    assert len(comment_feeds) > 80
    n_entries = 0
    for path in comment_feeds:
        for entry in parsed_feeds[path].entries:
            assert entry.title.startswith("Par : ")
            assert "#comment-" in entry.link
            assert "thr_in-reply-to" in entry
            n_entries += 1
    assert n_entries > 400
    # A top-level comment points to the post, a reply to its parent comment.
    comments = [d for d in world.documents if d["kind"] == "comment"]
    top = next(d for d in comments if not d["parent_url"] and d["source"] != "cuisine-de-mamie")
    reply = next(d for d in comments if d["parent_url"] and d["source"] != "cuisine-de-mamie")
    assert f'ref="{top["thread_url"]}"'.encode() in comment_feed(world, top["thread_url"])
    feed = comment_feed(world, reply["thread_url"])
    assert f'ref="{reply["parent_url"]}" href="{reply["parent_url"]}"'.encode() in feed


def test_embedded_comments_and_autodiscovery(world):
    site = [s for s in world.sources if s["kind"] == "site"]
    assert len(site) == 1
    home = world.files[site[0]["url"].removeprefix(BASE)]
    assert b'<link rel="alternate" type="application/rss+xml"' in home
    docs = [d for d in world.documents if d["source"] == "cuisine-de-mamie" and d["parent_url"]]
    page = world.files[docs[0]["thread_url"].removeprefix(BASE)].decode()
    number = docs[0]["url"].rsplit("-", 1)[1]
    assert '<ol class="comment-list">' in page and '<ol class="children">' in page
    assert f'<li id="comment-{number}" class="comment' in page
    assert '<b class="fn">' in page and "<time datetime=" in page
    assert '<div class="comment-content"><p>' in page
    assert b"Disallow:" in world.files["/robots.txt"]


def test_write_and_read_back(world, tmp_path):
    small = {p: world.files[p] for p in list(world.files)[:50]}
    small["/robots.txt"] = world.files["/robots.txt"]
    for path, body in small.items():
        assert url_path(file_name(path, body)) == path
    world_files, world.files = world.files, small
    try:
        world.write(tmp_path)
    finally:
        world.files = world_files
    assert load_folder(tmp_path) == small


# -- the story ------------------------------------------------------------------------------


def volumes(world, brand: str) -> Counter:
    return Counter(month(d["published_at"]) for d in world.documents if d["brand"] == brand)


def test_campaign_makes_a_buzz_spike(world):
    (campaign,) = world.campaigns()
    assert campaign["channel"] == "TV"
    assert 14 <= (campaign["end"] - campaign["start"]).days <= 28
    v = volumes(world, campaign["brand"])
    m = month(campaign["start"])
    before = [v[k] for k in sorted(v) if k < m][-3:]
    assert v[m] >= 3 * max(before), (v[m], before)
    # Talk during the campaign is about the ad, mostly neutral or positive…
    during = [
        d
        for d in world.documents
        if d["brand"] == campaign["brand"]
        and campaign["start"] <= d["published_at"].date() <= campaign["end"]
        and d["kind"] == "comment"
        and d["sentiment"]
    ]
    about_ad = [d for d in during if d["aspect"] == "publicité"]
    assert len(about_ad) > len(during) / 2
    assert sum(d["sentiment"] == "negative" for d in about_ad) < 0.15 * len(about_ad)


def negative_share(docs) -> float:
    return sum(d["sentiment"] == "negative" for d in docs) / len(docs)


def test_campaign_leaves_reputation_flat(world):
    (campaign,) = world.campaigns()

    def product_docs(months):
        return [
            d
            for d in world.documents
            if d["brand"] == campaign["brand"]
            and d["aspect"] in ("produit", "service")
            and month(d["published_at"]) in months
            and d["sentiment"]
        ]

    during = negative_share(product_docs({month(campaign["start"])}))
    before = negative_share(product_docs({"2026-01", "2026-02"}))
    assert abs(during - before) < 0.1


def test_defect_erodes_reputation_gradually(world):
    defect = next(e for e in world.story() if e["kind"] == "defect")
    docs = [
        d
        for d in world.documents
        if d["brand"] == defect["brand"]
        and d["kind"] == "comment"
        and d["aspect"] == "produit"
        and d["sentiment"]
    ]
    by_quarter: dict[int, list] = {}
    for d in docs:
        at = d["published_at"].date()
        if at >= defect["start"]:
            by_quarter.setdefault((at - defect["start"]).days // 91, []).append(d)
    shares = [negative_share(by_quarter[q]) for q in sorted(by_quarter)]
    assert len(shares) >= 4
    assert shares[0] < 0.35 and shares[-1] > 0.5
    assert all(b > a - 0.05 for a, b in itertools.pairwise(shares)), shares
    # Gradual, not a spike: no month holds more than twice the brand's average volume.
    v = volumes(world, defect["brand"])
    assert max(v.values()) < 2 * (sum(v.values()) / len(v))


def test_customer_service_fix_recovers(world):
    fix = next(e for e in world.story() if e["kind"] == "care_fix")
    care = [
        d
        for d in world.documents
        if d["brand"] == fix["brand"]
        and d["aspect"] == "service client"
        and d["kind"] == "comment"
        and not d["is_official"]
        and d["sentiment"]
    ]
    before = [d for d in care if d["published_at"].date() < fix["start"]]
    after = [d for d in care if d["published_at"].date() > fix["end"]]
    assert negative_share(before) > 0.55
    assert negative_share(after) < 0.25
    assert sum(d["sentiment"] == "positive" for d in after) > 0.5 * len(after)


def test_people_and_officials(world):
    comments = [d for d in world.documents if d["kind"] == "comment"]
    per_author = Counter(d["author"] for d in comments if not d["is_spam"])
    assert sum(1 for n in per_author.values() if n == 1) > 1000  # many one-off voices
    regulars = {a for a, n in per_author.items() if n >= 20}
    assert len(regulars) >= 50
    months = {
        a: {month(d["published_at"]) for d in comments if d["author"] == a}
        for a in list(sorted(regulars))[:10]
    }
    assert all(len(m) >= 6 for m in months.values())
    officials = {a for b in world.brands for a in b["official_authors"]}
    replies = [d for d in comments if d["is_official"]]
    assert replies and {d["author"] for d in replies} <= officials
    assert all(d["parent_url"] for d in replies)
    # Some voices turn from promoters to detractors of the defect brand.
    defect = next(e for e in world.story() if e["kind"] == "defect")
    by_author: dict[str, list] = {}
    for d in comments:
        if d["brand"] == defect["brand"] and d["sentiment"] in ("positive", "negative"):
            by_author.setdefault(d["author"], []).append(d)
    switchers = [
        a
        for a, ds in by_author.items()
        if len(ds) >= 6
        and ds[0]["sentiment"] == "positive"
        and ds[-1]["sentiment"] == "negative"
        and all(x["sentiment"] == "positive" for x in ds[:3])
        and all(x["sentiment"] == "negative" for x in ds[-3:])
    ]
    assert len(switchers) >= 3


def test_text_variety(world):
    comments = [d for d in world.documents if d["kind"] == "comment"]
    texts = " ".join(d["text"] for d in comments)
    for word in ("ne recommande pas", "très", "vraiment", "😡", "👍", " mais ", "nickel", "bof"):
        assert word in texts.lower() or word in texts, word
    assert any(d["lang"] == "en" for d in comments)
    assert any(d["is_spam"] for d in comments)
    assert any(len(d["brands_named"]) == 2 for d in world.documents if d["kind"] == "post")
    assert any(d["brand"] is None for d in world.documents if d["kind"] == "post")
    assert len({d["text"] for d in comments}) > 0.6 * len(comments)


# -- config ---------------------------------------------------------------------------------


def test_config_toml_contract(world):
    config = tomllib.loads(world.config_toml("demo.duckdb"))
    assert config["settings"] == {"store": "demo.duckdb", "allow_private_networks": True}
    assert [b["name"] for b in config["brands"]] == [b["name"] for b in world.brands]
    for b in config["brands"]:
        assert set(b) == {"name", "query", "competitors", "official_authors"}
        assert b["competitors"] and b["official_authors"]
    queries = " ".join(b["query"] for b in config["brands"])
    for syntax in (" OR ", " NOT ", "NEAR/", "*", '"', "("):
        assert syntax in queries
    for s in config["sources"]:
        assert set(s) == {"name", "url", "kind", "channel"}
        assert s["url"].startswith(BASE)
        assert s["kind"] in ("feed", "site", "page")
        assert s["channel"] in ("blog", "news", "forum", "review", "other")
        assert s["url"].removeprefix(BASE) in world.files
    assert {"forum", "review", "blog", "news"} <= {s["channel"] for s in config["sources"]}


# -- server ---------------------------------------------------------------------------------


def get(url: str, headers: dict | None = None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_server_answers_200_then_304():
    files = {"/a/feed/": b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>'}
    with serve(files=files) as srv:
        status, headers, body = get(srv.base_url + "/a/feed/")
        assert status == 200 and body == files["/a/feed/"]
        assert headers["Content-Type"] == "application/rss+xml; charset=utf-8"
        etag = headers["ETag"]
        assert etag.startswith('"')  # strong
        assert get(srv.base_url + "/a/feed/", {"If-None-Match": etag})[0] == 304
        ims = {"If-Modified-Since": headers["Last-Modified"]}
        assert get(srv.base_url + "/a/feed/", ims)[0] == 304
        assert get(srv.base_url + "/a/feed/", {"If-None-Match": '"other"'})[0] == 200
        assert get(srv.base_url + "/missing")[0] == 404
        assert srv.request_count == 5


def test_server_serves_the_world_built_for_its_port():
    with serve() as srv:
        w = build_world(srv.base_url)
        srv.files = w.files  # files can be set after binding, once the port is known
        types = {}
        for path in ("/robots.txt", "/le-fil-local/", "/blog-pain/feed/", "/fil-et-lin/feed/atom/"):
            status, headers, body = get(srv.base_url + path)
            assert status == 200 and body == w.files[path]
            types[path] = headers["Content-Type"]
        assert types["/robots.txt"].startswith("text/plain")
        assert types["/le-fil-local/"].startswith("text/html")
        assert types["/fil-et-lin/feed/atom/"].startswith("application/atom+xml")
        source = next(s for s in w.sources if s["name"] == "blog-pain")
        assert feedparser.parse(get(source["url"])[2]).entries[0].link.startswith(srv.base_url)
