"""Hostile or junk input fails only its own source: pages, overrides, queries, URLs, text.

Sources are served over loopback (tests/feedserver.py) and collected into a real DuckDB store.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from listening import pipeline
from tests.test_collect import NOW, blog_feed, health, snapshot

DEEP = 1000  # the hostile page of issue 11: about 1,000 nested, never closed tags


def write_config(tmp_path, sources: dict[str, tuple[str, str]], **settings) -> None:
    """``sources``: name -> (url, kind). One brand, Telzio."""
    lines = [
        "[settings]",
        'store = "data/listening.duckdb"',
        "allow_private_networks = true",
        "connect_timeout = 1.0",
        "read_timeout = 1.0",
        "total_timeout = 2.0",
        "fetch_processes = 1",
        *(f"{k} = {v!r}".replace("'", '"') for k, v in settings.items()),
        "",
        "[[brands]]",
        'name = "Telzio"',
        'query = "Telzio"',
    ]
    for name, (url, kind) in sources.items():
        lines += ["", "[[sources]]", f'name = "{name}"', f'url = "{url}"', f'kind = "{kind}"']
    (tmp_path / "listening.toml").write_text("\n".join(lines) + "\n", "utf-8")


def collect(tmp_path, now=NOW):
    from listening.configfile import load_config

    config = load_config(tmp_path / "listening.toml")
    return config, pipeline.collect(config, config.store_path, now=now)


def post_page(comment_html: str = "", *, article: str | None = None) -> bytes:
    """A WordPress post page: navigation, the article, a sidebar and its comment thread."""
    article = article or (
        "<p>Nous avons testé la nouvelle offre fibre pendant un mois.</p>"
        "<p>Le débit est stable et l'installation a pris une heure.</p>"
    )
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Test de l'offre fibre | Le blog de Léa</title>
<meta property="og:title" content="Test de l'offre fibre">
<meta property="article:published_time" content="2026-11-20T08:30:00+01:00">
</head><body>
<header class="site-header"><nav><a href="/">Accueil</a> <a href="/telzio">Promo Telzio</a></nav>
</header>
<main id="main"><article class="post">
<h1 class="entry-title">Test de l'offre fibre</h1>
<div class="entry-content">{article}</div>
<div class="sharedaddy">Partager sur Facebook</div>
</article>
<div id="comments" class="comments-area"><ol class="comment-list">
<li id="comment-1" class="comment"><article class="comment-body">
<footer class="comment-meta"><b class="fn">Julie</b>
<time datetime="2026-11-21T10:00:00+01:00">21 novembre 2026</time></footer>
<div class="comment-content"><p>Chez moi Telzio coupe tous les soirs.</p></div>
</article>{comment_html}</li>
</ol><div id="respond" class="comment-respond"><form>Laisser un commentaire</form></div>
</div></main>
<aside class="widget-area"><section class="widget">Articles récents : Telzio, Free</section>
</aside><footer class="site-footer">© Le blog de Léa</footer></body></html>""".encode()


def deep_page() -> bytes:
    """A comment whose markup opens about 1,000 tags and closes none."""
    return post_page(
        '<ul class="children"><li id="comment-2" class="comment">'
        '<div class="comment-content"><p>Telzio, vraiment '
        + "<div><b><span>" * (DEEP // 3)
        + "nul</li></ul>"
    )


def deep_page_beside_a_blog(tmp_path, blog) -> None:
    blog.static("/deep/", deep_page(), content_type="text/html")
    write_config(
        tmp_path,
        {
            "Page profonde": (blog.url("/deep/"), "page"),
            "Blog de Greg": (blog.url("/greg/feed/"), "feed"),
        },
    )


# -- point 2: a page source stores the article, comments stay comments -------------------------


def test_page_source_stores_the_article_and_comments_apart(tmp_path, feed_server):
    feed_server.static("/lea/fibre/", post_page(), content_type="text/html; charset=utf-8")
    write_config(tmp_path, {"Blog de Léa": (feed_server.url("/lea/fibre/"), "page")})
    config, stats = collect(tmp_path)
    assert stats.errors == []
    pipeline.analyze_stage(config, config.store_path, now=NOW)
    pipeline.build_stage(config, config.store_path, now=NOW)
    con = snapshot(config)
    post = con.execute(
        "select title, text, published_at, is_date_estimated from documents where kind = 'post'"
    ).fetchone()
    title, text, published_at, estimated = post
    assert title == "Test de l'offre fibre"
    assert text == (
        "Nous avons testé la nouvelle offre fibre pendant un mois.\n\n"
        "Le débit est stable et l'installation a pris une heure."
    )
    assert not estimated and published_at.isoformat().startswith("2026-11-20T07:30:00")
    # Telzio is named in the navigation, the sidebar and one comment: one mention, the comment's.
    mentions = con.execute("select kind, author from mentions where brand = 'Telzio'").fetchall()
    assert mentions == [("comment", "Julie")]


# -- point 9: a page of ~1,000 unclosed tags ----------------------------------------------------


def test_deeply_nested_comment_page_is_read_and_other_sources_collected(tmp_path, blog):
    deep_page_beside_a_blog(tmp_path, blog)
    config, _ = collect(tmp_path)
    rows = health(config)
    assert rows["Blog de Greg"]["n_documents"] == 4
    assert rows["Page profonde"]["state"] == "active", rows["Page profonde"]
    texts = [r[0] for r in snapshot(config).execute("select text from documents").fetchall()]
    assert any(t.startswith("Telzio, vraiment") for t in texts)


def test_deeply_nested_page_behind_an_rss_comments_link(tmp_path, feed_server):
    base = feed_server.base_url
    feed_server.static(
        "/news/feed/",
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Actu</title>
<item><title>La fibre Telzio arrive</title><link>{base}/news/fibre/</link>
<comments>{base}/news/fibre/</comments>
<pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate>
<description>Telzio annonce la fibre.</description></item></channel></rss>""".encode(),
        content_type="application/rss+xml",
    )
    feed_server.static("/news/fibre/", deep_page(), content_type="text/html")
    feed_server.static("/greg/feed/", blog_feed(base), content_type="application/rss+xml")
    write_config(
        tmp_path,
        {
            "Actu": (feed_server.url("/news/feed/"), "feed"),
            "Blog de Greg": (feed_server.url("/greg/feed/"), "feed"),
        },
    )
    config, _ = collect(tmp_path)
    assert feed_server.hits("/news/fibre/") == 1
    con = snapshot(config)
    n = dict(con.execute("select source, count(*) from documents group by 1").fetchall())
    assert n["Actu"] == 3  # the post and the page's two comments
    assert n["Blog de Greg"] >= 2


def test_a_parser_crash_is_that_sources_last_error(tmp_path, blog, monkeypatch):
    """Whatever a page does to the parser, it stops that source only."""
    from listening.collect import pages

    def crash(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pages, "parse_page", crash)
    deep_page_beside_a_blog(tmp_path, blog)
    config, stats = collect(tmp_path)
    rows = health(config)
    assert rows["Blog de Greg"]["n_documents"] == 4 and rows["Blog de Greg"]["last_error"] is None
    assert "RecursionError" in rows["Page profonde"]["last_error"]
    assert rows["Page profonde"]["state"] == "backoff"
    assert any("RecursionError" in e for e in stats.errors)


# -- point 11: brand queries that would blow the parser's stack --------------------------------


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("(" * 200 + "Telzio" + ")" * 200, "nested too deeply"),
        ("Telzio AND " + "NOT " * 1000 + "Free", "nested too deeply"),
        ("Telzio NEAR/1000000 panne", "from 1 to 50"),
        ("Telzio NEAR/51 panne", "from 1 to 50"),
    ],
    ids=["200-parentheses", "1000-NOT", "NEAR-million", "NEAR-51"],
)
def test_hostile_brand_query_is_a_one_line_config_error(tmp_path, query, reason):
    from listening.configfile import load_config
    from listening.errors import ConfigError

    path = tmp_path / "listening.toml"
    path.write_text(f"[[brands]]\nname = \"Telzio\"\nquery = '''{query}'''\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert "\n" not in problem and len(problem) < 300, problem
    assert problem.startswith("line 3: brands[0] (Telzio).query: ") and reason in problem


def test_near_at_the_cap_still_matches_both_ways():
    from listening.analyze.query import MAX_NEAR, parse_query

    gap = " ".join(["mot"] * (MAX_NEAR - 1))
    query = parse_query(f"Telzio NEAR/{MAX_NEAR} panne")
    assert query.match(f"Telzio {gap} panne").matched
    assert query.match(f"panne {gap} Telzio").matched
    assert not query.match(f"Telzio {gap} mot panne").matched


# -- point 12: listening sql stops a runaway query ----------------------------------------------

CROSS_JOIN = "select count(*) from range(1000000) a, range(1000000) b"  # 10^12 rows


def test_sql_timeout_stops_a_runaway_query_with_one_line(tmp_path, monkeypatch):
    from tests.test_cli import ROOT, run_cli

    (tmp_path / "listening.toml").write_text(
        (ROOT / "listening.example.toml").read_text("utf-8"), "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    assert run_cli("init").returncode == 0
    proc = run_cli("sql", CROSS_JOIN, "--timeout", "0.5")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [
        "listening: error: SQL error: the query ran longer than 0.5 s and was stopped; "
        "narrow it (a where clause, a limit) or raise --timeout"
    ]
    # The documented escape hatch: a temporary table lives in memory, never in the snapshot.
    proc = run_cli("sql", "create temp table t as select 1 as x; select x from t", "--csv")
    assert proc.returncode == 0 and proc.stdout == "x\n1\n", proc.stderr
    proc = run_cli("sql", "select 1", "--timeout", "0")
    assert proc.returncode == 1 and "--timeout" in proc.stderr


def test_sql_default_timeout_is_30_seconds():
    from listening.cli.parser import build_parser

    assert build_parser().parse_args(["sql", "select 1"]).timeout == 30.0


# -- point 10: malformed corrections in overrides/ ----------------------------------------------

BAD_OVERRIDES = {
    "list-id.json": '{"mention_id": ["m1"], "sentiment_label": "positive"}',
    "dict-id.json": '{"mention_id": {"a": 1}, "sentiment_label": "positive"}',
    "not-a-date.json": '{"mention_id": "m1", "sentiment_label": "neutral", '
    '"created_at": "not a date"}',
    "number-date.json": '{"mention_id": "m1", "sentiment_label": "neutral", "created_at": 12345}',
    "deep.json": "[" * 100_000,  # the file of issue 11: refused by size before parsing
    "deeper-than-the-stack.json": "[" * 10_000,  # small enough to parse: too deep
}


def test_malformed_overrides_are_set_aside_and_stages_go_on(tmp_path, monkeypatch):
    import os

    from listening.store.overrides import overrides_dir, record_override
    from tests.test_cli import run_cli

    write_config(tmp_path, {})
    monkeypatch.chdir(tmp_path)
    assert run_cli("init").returncode == 0
    db = tmp_path / "data" / "listening.duckdb"
    folder = overrides_dir(db)
    folder.mkdir()
    for name, body in BAD_OVERRIDES.items():
        (folder / name).write_text(body, "utf-8")
    os.mkfifo(folder / "fifo.json")  # nobody ever writes to it: reading it would block forever
    good = record_override(db, "m-good", "negative", "ironie", "alice", NOW)
    for stage in ("collect", "analyze", "build"):
        proc = run_cli(stage)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (stage, proc.stderr)
    rejected = folder / "rejected"
    assert sorted(p.name for p in rejected.glob("*.json")) == sorted(BAD_OVERRIDES)
    reasons = {name: (rejected / f"{name}.reason.txt").read_text("utf-8") for name in BAD_OVERRIDES}
    assert "mention_id must be a non-empty string" in reasons["list-id.json"]
    assert "mention_id must be a non-empty string" in reasons["dict-id.json"]
    assert "created_at must be an ISO 8601 timestamp" in reasons["not-a-date.json"]
    assert "created_at must be an ISO 8601 timestamp" in reasons["number-date.json"]
    assert "larger than 64 KiB" in reasons["deep.json"]
    assert "not JSON: nested too deeply" in reasons["deeper-than-the-stack.json"]
    assert not good.exists() and (folder / "fifo.json").exists()
    proc = run_cli(
        "sql", "select mention_id, sentiment_label from raw.sentiment_overrides", "--csv"
    )
    assert proc.stdout == "mention_id,sentiment_label\nm-good,negative\n", proc.stderr


# -- point 13: web junk is cleaned before storage and matching ----------------------------------


def junk_feed(base: str) -> bytes:
    long_title = "Telzio " + "vraiment " * 200 + "fin"
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Junk</title>
<item><title>Lien piégé</title><link>javascript:alert(document.cookie)</link>
<guid isPermaLink="false">junk-1</guid><pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate>
<description>Un lien &#x6A;avascript vers Telzio.</description></item>
<item><title>Lien data</title><link>data:text/html;base64,PHNjcmlwdD4=</link>
<guid>data:text/html,x</guid><pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate>
<description>Un autre.</description></item>
<item><title>Caché</title><link>{base}/junk/cache/</link>
<pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate>
<description>La box Ac\u200bme\u202e de \u00adTel\u200dzio est\x01 en\x1b panne.
</description></item>
<item><title>{long_title}</title><link>{base}/junk/long/</link>
<pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate><description>Court.</description></item>
</channel></rss>""".encode()


def test_web_junk_is_cleaned_before_storage_and_matching(tmp_path, feed_server):
    from listening.collect.text import MAX_TITLE_CHARS

    feed_server.static("/junk/feed/", junk_feed(feed_server.base_url), content_type="text/xml")
    write_config(tmp_path, {"Junk": (feed_server.url("/junk/feed/"), "feed")})
    config, _ = collect(tmp_path)
    pipeline.analyze_stage(config, config.store_path, now=NOW)
    pipeline.build_stage(config, config.store_path, now=NOW)
    con = snapshot(config)
    docs = {
        r[0]: r[1:]
        for r in con.execute("select title, url, thread_url, text from documents").fetchall()
    }
    # javascript: and data: links never become a document's URL (nor a guid standing in).
    assert docs["Lien piégé"][0] == docs["Lien data"][0] == ""
    urls = [u for url, thread, _ in docs.values() for u in (url, thread)]
    assert not [u for u in urls if u.startswith(("javascript", "data"))], urls
    assert "not http(s)" in health(config)["Junk"]["last_error"]
    # Control characters are gone from what is stored; invisible ones do not hide a brand.
    hidden = docs["Caché"][2]
    assert "\x01" not in hidden and "\x1b" not in hidden and "est en panne" in hidden
    mentions = con.execute("select title, matched_terms from mentions").fetchall()
    assert ("Caché", ["Telzio"]) in mentions
    # A 1,800-character title is capped; its whole wording stays in the text.
    (long_title,) = [t for t in docs if t.startswith("Telzio vraiment")]
    assert len(long_title) == MAX_TITLE_CHARS and long_title.endswith("…")
    assert docs[long_title][2].startswith("Telzio vraiment") and docs[long_title][2].endswith(
        "fin\n\nCourt."
    )


def test_invisible_characters_do_not_hide_a_brand_and_spans_stay_true():
    from listening.analyze.query import parse_query

    text = "J'aime Ac\u200bme, pas \u202eAcme\u202c Anvil"
    match = parse_query('Acme NOT "Acme Anvil"').match("La box Ac\u200bme")
    assert match.matched and match.spans == [(7, 12)]
    assert parse_query("Acme").match(text).matched
    assert not parse_query('Acme NOT "Acme Anvil"').match(text).matched


# -- point 14: config checks, guard refusals, removed sources -----------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:70000/feed", "ports go from 1 to 65535"),
        ("https://blog.example.fr/mon flux/", "contains spaces"),
        ("https://blog.example.fr/\tflux/", "contains spaces"),
    ],
    ids=["port-70000", "space", "tab"],
)
def test_unfetchable_source_url_is_a_config_error(tmp_path, url, reason):
    from listening.configfile import load_config
    from listening.errors import ConfigError

    write_config(tmp_path, {"Blog": (url, "feed")})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "listening.toml")
    (problem,) = caught.value.problems
    assert "sources[0] (Blog).url" in problem and reason in problem, problem


def test_source_refused_by_the_guard_is_disabled_with_the_reason(tmp_path, feed_server):
    feed_server.static("/greg/feed/", blog_feed(feed_server.base_url))
    write_config(tmp_path, {"Interne": (feed_server.url("/greg/feed/"), "feed")})
    text = (tmp_path / "listening.toml").read_text("utf-8")
    (tmp_path / "listening.toml").write_text(
        text.replace("allow_private_networks = true", "allow_private_networks = false"), "utf-8"
    )
    config, _ = collect(tmp_path)
    row = health(config)["Interne"]
    assert row["state"] == "disabled" and row["next_fetch_at"] is None, row
    assert "network guard" in row["disabled_reason"] and "loopback" in row["disabled_reason"]
    assert "allow_private_networks" in row["last_error"]
    # Not retried on later runs: a policy refusal waits for the user.
    _, later = collect(tmp_path, NOW + timedelta(days=2))
    assert later.n_fetches == 0 and feed_server.hits("/greg/feed/") == 0


def test_source_removed_from_the_config_is_shown_removed_with_its_history(tmp_path, blog):
    both = {
        "Blog de Greg": (blog.url("/greg/feed/"), "feed"),
        "Actu": (blog.url("/greg/2026/11/box/feed/"), "comments"),
    }
    write_config(tmp_path, both)
    config, _ = collect(tmp_path)
    n_greg = health(config)["Blog de Greg"]["n_documents"]
    assert n_greg == 4
    write_config(tmp_path, {"Actu": both["Actu"]})
    config, _ = collect(tmp_path, NOW + timedelta(days=1))
    rows = health(config)
    assert rows["Blog de Greg"]["state"] == "removed"
    assert "no longer in the config" in rows["Blog de Greg"]["disabled_reason"]
    assert rows["Blog de Greg"]["n_documents"] == n_greg
    assert rows["Actu"]["state"] == "active"
    n = snapshot(config).execute("select count(*) from documents where source = 'Blog de Greg'")
    assert n.fetchone()[0] == n_greg
    write_config(tmp_path, both)  # put back: active again
    config, _ = collect(tmp_path, NOW + timedelta(days=2))
    assert health(config)["Blog de Greg"]["state"] == "active"


def test_a_feed_parser_crash_is_that_sources_last_error(tmp_path, blog, monkeypatch):
    from listening.collect import feeds

    real = feeds.entry_document

    def crash_on_actu(entry, source, *args):
        if source == "Actu":
            raise RecursionError("maximum recursion depth exceeded")
        return real(entry, source, *args)

    monkeypatch.setattr(feeds, "entry_document", crash_on_actu)
    write_config(
        tmp_path,
        {
            "Actu": (blog.url("/greg/2026/11/box/feed/"), "comments"),
            "Blog de Greg": (blog.url("/greg/feed/"), "feed"),
        },
    )
    config, _ = collect(tmp_path)
    rows = health(config)
    assert rows["Blog de Greg"]["n_documents"] == 4
    assert "unreadable feed (RecursionError" in rows["Actu"]["last_error"]
