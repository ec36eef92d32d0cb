"""`listening collect` end to end over loopback: feeds, comment threads, failures, re-polls.

Every source here is served by a real HTTP server on 127.0.0.1 (tests/feedserver.py).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from listening import pipeline, store
from listening.configfile import load_config
from tests.feedserver import Blackhole, FeedServer

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def blog_feed(base: str, n_comments: int = 2) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
     xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Le blog de Greg</title><link>{base}/greg/</link>
<item><title>Ma box Telzio redémarre sans arrêt</title>
  <link>{base}/greg/2026/11/box/</link><guid isPermaLink="false">{base}/greg/?p=1</guid>
  <dc:creator>Greg</dc:creator><pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate>
  <description>Depuis la mise à jour, ma box Telzio redémarre toutes les heures.</description>
  <wfw:commentRss>{base}/greg/2026/11/box/feed/</wfw:commentRss>
  <slash:comments>{n_comments}</slash:comments></item>
<item><title>Recette de la fougasse</title>
  <link>{base}/greg/2026/11/fougasse/</link><guid isPermaLink="false">{base}/greg/?p=2</guid>
  <dc:creator>Greg</dc:creator><pubDate>Tue, 24 Nov 2026 09:00:00 +0000</pubDate>
  <description>Farine, eau, sel et olives : rien de plus.</description></item>
</channel></rss>""".encode()


def comment_feed(base: str, n: int = 2) -> bytes:
    items = [
        ("Julie", "Pareil chez moi, le service client Telzio ne répond jamais 😡", None),
        ("Service client Telzio", "Bonjour Julie, nous corrigeons le problème.", 1),
        ("Marc", "Merci, ça remarche enfin !", 2),
    ][:n]
    entries = []
    for i, (author, text, parent) in enumerate(items, start=1):
        reply = (
            f'<thr:in-reply-to ref="{base}/greg/?p=1#comment-{parent}" '
            f'href="{base}/greg/2026/11/box/#comment-{parent}"/>'
            if parent
            else f'<thr:in-reply-to ref="{base}/greg/?p=1" href="{base}/greg/2026/11/box/"/>'
        )
        entries.append(f"""<entry><title>Par : {author}</title>
  <link rel="alternate" href="{base}/greg/2026/11/box/#comment-{i}"/>
  <author><name>{author}</name></author><id>{base}/greg/?p=1#comment-{i}</id>
  <published>2026-11-2{3 + i}T10:00:00Z</published><updated>2026-11-2{3 + i}T10:00:00Z</updated>
  {reply}<content type="html">&lt;p&gt;{text}&lt;/p&gt;</content></entry>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">
<title>Commentaires sur : Ma box</title><id>{base}/greg/2026/11/box/feed/</id>
<updated>2026-11-25T10:00:00Z</updated>{"".join(entries)}</feed>""".encode()


def write_config(path, sources: dict[str, str], *, private: bool = True, **settings) -> None:
    settings = {"connect_timeout": 1.0, "read_timeout": 1.0, "total_timeout": 2.0, **settings}
    lines = [
        "[settings]",
        'store = "data/listening.duckdb"',
        f"allow_private_networks = {'true' if private else 'false'}",
        "max_body_mib = 1",
    ]
    lines += [f"{k} = {v!r}" for k, v in settings.items()]
    lines += [
        "",
        "[[brands]]",
        'name = "Telzio"',
        'query = "Telzio"',
        'official_authors = ["Service client Telzio"]',
    ]
    for name, url in sources.items():
        lines += ["", "[[sources]]", f'name = "{name}"', f'url = "{url}"', 'channel = "blog"']
    path.write_text("\n".join(lines) + "\n", "utf-8")


def collect(tmp_path, now=NOW):
    config = load_config(tmp_path / "listening.toml")
    return config, pipeline.collect(config, config.store_path, now=now)


def snapshot(config):
    return store.open_reader(config.store_path)


def health(config) -> dict[str, dict]:
    con = snapshot(config)
    cur = con.execute("select * from source_health")
    cols = [d[0] for d in cur.description]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def test_feed_and_comment_thread_become_documents(tmp_path, blog):
    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    config, stats = collect(tmp_path)
    assert stats.errors == []
    con = snapshot(config)
    rows = con.execute(
        "select kind, author, url, thread_url, parent_id, source from documents "
        "order by kind desc, published_at"
    ).fetchall()
    posts = [r for r in rows if r[0] == "post"]
    comments = [r for r in rows if r[0] == "comment"]
    assert len(posts) == 2 and len(comments) == 2
    box = blog.url("/greg/2026/11/box/")
    assert all(c[3] == box for c in comments)
    julie, answer = comments
    assert julie[1] == "Julie" and julie[4] is None  # answers the post itself
    julie_id = con.execute("select document_id from documents where author = 'Julie'").fetchone()[0]
    assert answer[1] == "Service client Telzio" and answer[4] == julie_id
    assert {r[5] for r in rows} == {"Blog de Greg"}


def test_repoll_sends_conditional_requests_and_stores_nothing_new(tmp_path, blog):
    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    config, _ = collect(tmp_path)
    n_docs = snapshot(config).execute("select count(*) from documents").fetchone()[0]
    # A day later everything is due again (threads slow down as they age, the feed is
    # polled every 30 minutes); the server answers 304 to every request.
    config, second = collect(tmp_path, NOW + timedelta(days=1))
    assert second.n_fetches == second.n_not_modified == 2
    last = blog.requests_to("/greg/feed/")[-1]
    assert last.headers["if-none-match"] == '"f1"'
    assert blog.requests_to("/greg/2026/11/box/feed/")[-1].headers["if-none-match"] == '"c1"'
    assert second.load.n_documents_new == 0
    assert snapshot(config).execute("select count(*) from documents").fetchone()[0] == n_docs


def test_parser_processes_start_only_when_a_body_comes(tmp_path, blog):
    """A new store starts them at once; a re-poll where every answer is a 304 starts none;
    a changed feed starts them on its body; a source never fetched, right after the plan."""
    greg = {"Blog de Greg": blog.url("/greg/feed/")}
    write_config(tmp_path / "listening.toml", greg, fetch_processes=2)
    _, first = collect(tmp_path)
    assert first.n_parser_processes == 2 and first.load.n_documents_new == 4
    _, same = collect(tmp_path, NOW + timedelta(days=1))
    assert same.n_fetches == same.n_not_modified == 2
    assert same.n_parser_processes == 0
    blog.static("/greg/feed/", blog_feed(blog.base_url, n_comments=3), etag='"f2"')
    _, changed = collect(tmp_path, NOW + timedelta(days=2))
    assert changed.n_not_modified == 1 and changed.n_parser_processes == 2
    blog.static("/other/feed/", blog_feed(f"{blog.base_url}/other", n_comments=0), etag='"o1"')
    sources = {**greg, "Autre": blog.url("/other/feed/")}
    write_config(tmp_path / "listening.toml", sources, fetch_processes=2)
    _, added = collect(tmp_path, NOW + timedelta(days=3))
    assert added.n_parser_processes == 2 and added.errors == []
    assert added.load.n_documents_new == 2


def test_new_comment_count_wakes_the_thread_immediately(tmp_path, blog):
    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    collect(tmp_path)
    base = blog.base_url
    blog.static("/greg/feed/", blog_feed(base, n_comments=3), etag='"f2"')
    blog.static(
        "/greg/2026/11/box/feed/",
        comment_feed(base, 3),
        content_type="application/atom+xml",
        etag='"c2"',
    )
    # Five minutes later the feed is not due by its interval; force it by a fresh plan time
    # past the main interval but not the thread's: the announced count must trigger it.
    config, stats = collect(tmp_path, NOW + timedelta(minutes=31))
    assert stats.load.n_documents_new == 1
    marc = snapshot(config).execute("select author from documents where author = 'Marc'").fetchall()
    assert marc == [("Marc",)]


def test_crash_between_fetch_and_load_loses_nothing(tmp_path, blog):
    """A run killed after staging: the next run loads the staged files and fetches nothing."""
    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    config = load_config(tmp_path / "listening.toml")
    db = config.store_path
    plan = pipeline.plan_collect(config, db, NOW)
    pipeline.fetch_planned(config, plan, NOW)  # ... and the process dies here
    hits = len(blog.requests)
    _, stats = collect(tmp_path, NOW + timedelta(minutes=1))
    assert len(blog.requests) == hits, "the staged run was fetched again"
    assert stats.n_units == 0
    interrupted = _dump(db)

    other = tmp_path / "clean"
    other.mkdir()
    write_config(other / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    collect(other)
    assert interrupted == _dump(other / "data" / "listening.duckdb")
    # Loading again never duplicates.
    stats = pipeline.load(config, db, NOW)
    assert stats.n_units == 0 and _dump(db) == interrupted


def _dump(db):
    con = duckdb.connect(str(store.snapshot_path(db)), read_only=True)
    try:
        return con.execute(
            "select document_id, kind, url, thread_url, parent_id, author, published_at, "
            "title, text, lang from raw.documents order by document_id"
        ).fetchall()
    finally:
        con.close()


BAD_RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>"


@pytest.fixture(scope="module")
def hostile_server():
    with FeedServer() as server:
        hole = Blackhole()
        server.blackhole = hole.url
        yield server
        hole.close()


@pytest.fixture(scope="module")
def hostile(hostile_server):
    """One good source and one source per failure mode, all collected in one run."""
    s = hostile_server
    base = s.base_url
    good = blog_feed(base)
    s.static("/greg/2026/11/box/feed/", comment_feed(base), content_type="application/atom+xml")
    entity_bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<rss version='2.0'><channel><title>&c;</title><item><title>&c;</title>"
        b"<link>http://x.fr/1</link></item></channel></rss>"
    )
    no_ids = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        b"<item><description>Un texte sans lien ni date ni guid sur Telzio.</description>"
        b"</item></channel></rss>"
    )

    def feed(name):  # the same blog under another path: distinct documents per source
        return blog_feed(f"{base}/{name}")

    sources = {
        "good": s.static("/greg/feed/", good),
        "malformed": s.static("/malformed", feed("m").replace(b"</channel>", b"<oops></channel>")),
        "wrong-charset": s.static(
            "/charset",
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            "<title>Café</title><item><title>Crème brûlée</title><link>http://c.fr/1</link>"
            "</item></channel></rss>".encode("latin-1"),
        ),
        "html": s.static(
            "/html", b"<!doctype html><html><body>Hello</body></html>", content_type="text/html"
        ),
        "empty": s.static("/empty", b""),
        "redirect-301": s.redirect("/r301", "/r301b", 301),
        "redirect-308": s.redirect("/r308", "/r308b", 308),
        "loop": s.redirect("/loop", "/loop2", 302),
        "404": s.status("/404", 404),
        "410": s.status("/410", 410),
        "429": s.status("/429", 429, headers={"Retry-After": "7200"}),
        "500": s.status("/500", 500),
        "connect-timeout": s.blackhole,
        "slow-body": s.drip("/slow", feed("slow"), delay=0.05),
        "too-big": s.huge("/huge", 3 * 1024 * 1024),
        "gzip-bomb": s.gzip_bomb("/bomb", 1 << 30),
        "entity-bomb": s.static("/entities", entity_bomb),
        "no-ids": s.static("/noids", no_ids),
    }
    s.redirect("/r301b", "/r301c", 301)
    s.static("/r301c", feed("r301"))
    s.static("/r308b", feed("r308"))
    s.redirect("/loop2", "/loop", 302)
    return sources


EXPECTED = {
    # name: (state, text expected in last_error, or None for no error)
    "malformed": ("active", "malformed"),
    "wrong-charset": ("active", "declared as utf-8"),
    "html": ("backoff", "not a feed"),
    "empty": ("backoff", "empty"),
    "redirect-301": ("active", None),
    "redirect-308": ("active", None),
    "loop": ("backoff", "loop"),
    "404": ("backoff", "404"),
    "410": ("disabled", "410"),
    "429": ("backoff", "429"),
    "500": ("backoff", "500"),
    "connect-timeout": ("backoff", "could not connect"),
    "slow-body": ("backoff", "time"),
    "too-big": ("backoff", "MiB"),
    "gzip-bomb": ("backoff", "MiB"),
    "entity-bomb": ("active", "never expanded"),
    "no-ids": ("active", None),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, hostile):
    tmp_path = tmp_path_factory.mktemp("hostile")
    write_config(tmp_path / "listening.toml", hostile)
    config, stats = collect(tmp_path)
    return config, stats, health(config)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_failure_mode_ends_with_a_clear_last_error(hostile_run, name):
    _, _, rows = hostile_run
    state, error = EXPECTED[name]
    row = rows[name]
    assert row["state"] == state, row
    if error is None:
        assert row["last_error"] is None, row
        assert row["n_documents"] > 0, row
    else:
        assert error.lower() in (row["last_error"] or "").lower(), row
        assert "\n" not in row["last_error"]
    # Whatever the others do, the good source is collected whole.
    assert rows["good"]["n_documents"] == 4 and rows["good"]["last_error"] is None


def test_salvaged_feeds_keep_their_text(hostile_run):
    config, _, _ = hostile_run
    con = snapshot(config)
    titles = dict(
        con.execute(
            "select source, title from documents where source in ('wrong-charset', 'entity-bomb')"
        ).fetchall()
    )
    assert titles["wrong-charset"] == "Crème brûlée"
    assert len(titles["entity-bomb"] or "") < 1000  # the entities were never expanded


def test_failures_back_off_in_the_store(hostile_run):
    _, _, rows = hostile_run
    assert rows["429"]["next_fetch_at"] >= NOW + timedelta(seconds=7200)
    assert rows["500"]["consecutive_failures"] == 1
    assert rows["500"]["next_fetch_at"] > NOW
    assert rows["410"]["disabled_reason"]


def test_entries_without_ids_links_or_dates_are_kept_and_flagged(hostile_run):
    config, _, _ = hostile_run
    row = (
        snapshot(config)
        .execute("select is_date_estimated, published_at from documents where source = 'no-ids'")
        .fetchone()
    )
    assert row == (True, NOW)


def test_gzip_bomb_is_not_inflated(hostile_run, hostile_server):
    generated = hostile_server.routes["/bomb"].stats["bytes_generated"]
    assert generated < 64 * 1024 * 1024


def test_permanent_redirect_updates_url_once_it_repeats(tmp_path, feed_server):
    feed_server.redirect("/r308", "/r308b", 308)
    feed_server.static("/r308b", blog_feed(feed_server.base_url))
    write_config(tmp_path / "listening.toml", {"r": feed_server.url("/r308")})
    config, _ = collect(tmp_path)
    assert health(config)["r"]["url"].endswith("/r308")
    config, _ = collect(tmp_path, NOW + timedelta(hours=1))
    assert health(config)["r"]["url"].endswith("/r308b")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed",
        "http://127.0.0.1:9/feed",
    ],
)
def test_guard_refuses_internal_addresses_before_connecting(tmp_path, url, connect_log):
    write_config(tmp_path / "listening.toml", {"internal": url}, private=False)
    config, _ = collect(tmp_path)
    row = health(config)["internal"]
    assert "allow_private_networks" in row["last_error"], row
    host = url.split("//")[1].split("/")[0].strip("[]").rsplit(":", 1)[0]
    assert not [a for a in connect_log if a and str(a[0]).strip("[]") in (host, "::1")]


def test_gzip_encoded_feed_is_read(tmp_path, feed_server):
    feed_server.static(
        "/greg/2026/11/box/feed/",
        comment_feed(feed_server.base_url),
        content_type="application/atom+xml",
    )
    feed_server.route(
        "/gz",
        lambda r: r.reply(
            200,
            gzip.compress(blog_feed(feed_server.base_url)),
            {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        ),
    )
    write_config(tmp_path / "listening.toml", {"gz": feed_server.url("/gz")})
    config, _ = collect(tmp_path)
    assert health(config)["gz"]["n_documents"] == 4


def test_quiet_thread_stops_being_polled_until_its_count_changes(tmp_path, blog):
    write_config(
        tmp_path / "listening.toml",
        {"Blog de Greg": blog.url("/greg/feed/")},
        thread_quiet_days=2,
    )
    collect(tmp_path)
    thread = "/greg/2026/11/box/feed/"
    assert blog.hits(thread) == 1
    # A week later the thread's last comment is 8 days old: quiet, not polled any more.
    collect(tmp_path, NOW + timedelta(days=7))
    assert blog.hits(thread) == 1
    # The post announces a third comment: the thread wakes up at once.
    blog.static("/greg/feed/", blog_feed(blog.base_url, n_comments=3), etag='"f3"')
    collect(tmp_path, NOW + timedelta(days=8))
    assert blog.hits(thread) == 2


def test_syndicated_copy_is_linked_not_counted_twice(tmp_path, feed_server):
    article = (
        "La boulangerie Fournil Dupré de la rue des Lilas a rouvert ses portes ce lundi après "
        "trois semaines de travaux. Le nouveau four à bois permet de cuire le pain au levain "
        "dès cinq heures du matin, et la vitrine accueille désormais des viennoiseries au "
        "beurre AOP. Les clients rencontrés saluent la qualité de la baguette tradition, "
        "mais regrettent des prix en hausse de dix centimes depuis la réouverture."
    )

    def feed(base, path, date="Mon, 23 Nov 2026 09:00:00 +0000"):
        return (
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item>"
            f"<title>Réouverture</title><link>{base}{path}</link>"
            f"<pubDate>{date}</pubDate>"
            f"<description>{article}</description></item></channel></rss>"
        ).encode()

    base = feed_server.base_url
    original = feed_server.static("/a/feed/", feed(base, "/a/reouverture/"))
    copy = feed_server.static(
        "/b/feed/", feed(base, "/b/repris/", "Tue, 24 Nov 2026 09:00:00 +0000")
    )
    write_config(tmp_path / "listening.toml", {"original": original, "copy": copy})
    config, stats = collect(tmp_path)
    assert stats.load.n_duplicates_linked == 1
    rows = (
        snapshot(config)
        .execute("select source, duplicate_of is not null from documents order by source")
        .fetchall()
    )
    assert rows == [("copy", True), ("original", False)]


def test_a_known_document_linked_as_a_copy_takes_a_new_change_number(tmp_path, feed_server):
    """The copy is collected first; the original (published before it) comes a day later,
    with the copy collected again unchanged: the copy is linked to it (duplicate_of, which the
    marts read), so it takes a new change number (migration 014) for the next build."""
    text = " ".join(["Le four à bois du Fournil Dupré cuit le pain au levain dès l'aube."] * 6)

    def feed(base, path, day):
        return (
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item>"
            f"<title>Réouverture</title><link>{base}{path}</link>"
            f"<pubDate>{day} Nov 2026 09:00:00 +0000</pubDate>"
            f"<description>{text}</description></item></channel></rss>"
        ).encode()

    base = feed_server.base_url
    copy = feed_server.static("/b/feed/", feed(base, "/b/repris/", "Tue, 24"))
    write_config(tmp_path / "listening.toml", {"copy": copy})
    config, first = collect(tmp_path)
    assert first.load.n_duplicates_linked == 0
    number = "select change_seq from raw.documents where source = 'copy'"
    with store.open_writer(config.store_path) as con:
        before = con.execute(number).fetchone()[0]
    original = feed_server.static("/a/feed/", feed(base, "/a/reouverture/", "Mon, 23"))
    write_config(tmp_path / "listening.toml", {"copy": copy, "original": original})
    config, second = collect(tmp_path, NOW + timedelta(days=1))
    assert second.load.n_duplicates_linked == 1
    with store.open_writer(config.store_path) as con:
        assert con.execute(number).fetchone()[0] > before


@pytest.mark.parametrize("n_hosts", [1, 2])
def test_parser_processes_share_the_work_and_the_per_host_cap_holds(
    tmp_path, make_feed_server, n_hosts
):
    """Bodies go to parser processes whatever the host layout, while the one fetching side
    keeps at most ``max_per_host`` requests in flight to each host for the whole run."""
    servers = [make_feed_server(f"127.0.0.{k + 1}") for k in range(n_hosts)]
    sources = {}
    for i in range(6):
        server = servers[i % n_hosts]
        path = f"/blog{i}"
        server.static(f"{path}/feed/", blog_feed(f"{server.base_url}{path}"), delay=0.2)
        server.static(
            f"{path}/greg/2026/11/box/feed/",
            comment_feed(f"{server.base_url}{path}"),
            content_type="application/atom+xml",
            delay=0.2,
        )
        sources[f"s{i}"] = server.url(f"{path}/feed/")
    write_config(tmp_path / "listening.toml", sources, fetch_processes=2, max_per_host=2)
    config, stats = collect(tmp_path)
    assert stats.errors == []
    rows = health(config)
    assert sorted(rows) == sorted(sources)
    assert all(r["n_documents"] == 4 for r in rows.values()), rows
    for server in servers:
        assert max(server.max_in_flight_by_host.values()) == 2
    assert stats.load.n_units == 6


def test_a_run_keeps_one_connection_per_site_however_many_sites(tmp_path, make_feed_server):
    """Sites taken in turn reuse their kept-alive connection: the fetcher keeps a connection
    pool for every site of the run, not the 16 most recent ones (which made every fetch of
    a 30-site re-poll open and close a connection of its own)."""
    servers = [make_feed_server() for _ in range(20)]  # 20 sites (ports), more than 16
    sources = {}
    for round_ in ("a", "b"):  # each site twice, the sites in turn
        for k, server in enumerate(servers):
            path = f"/{round_}/feed/"
            server.static(path, blog_feed(f"{server.base_url}/{round_}", n_comments=0))
            sources[f"{round_}{k}"] = server.url(path)
    write_config(tmp_path / "listening.toml", sources, fetch_processes=1)
    _, stats = collect(tmp_path)
    assert stats.errors == [] and stats.n_fetches == 40
    assert [server.connections for server in servers] == [1] * 20


def test_each_unit_is_staged_as_soon_as_it_is_parsed(tmp_path, feed_server):
    """A slow source does not hold back the others: theirs are on disk, ready to load."""
    base = feed_server.base_url
    fast = feed_server.static("/fast/feed/", blog_feed(f"{base}/fast", n_comments=0))
    slow = feed_server.static("/slow/feed/", blog_feed(f"{base}/slow", n_comments=0), delay=4)
    sources = {"fast": fast, "slow": slow}
    write_config(
        tmp_path / "listening.toml", sources, fetch_processes=2, read_timeout=9.0, total_timeout=9.0
    )
    config = load_config(tmp_path / "listening.toml")
    plan = pipeline.plan_collect(config, config.store_path, NOW)
    staged_when_done: dict[str, list[str]] = {}

    def on_progress(name: str) -> None:
        staged_when_done[name] = sorted(p.name for p in plan.parent.glob("*.state.json"))

    pipeline.fetch_planned(config, plan, NOW, on_progress=on_progress)
    assert list(staged_when_done) == ["fast", "slow"]
    assert len(staged_when_done["fast"]) == 1  # fast's own state: slow was still in flight
    assert len(staged_when_done["slow"]) == 2


def test_staged_lines_are_the_parsed_documents(tmp_path, blog):
    """The staging file is the contract between fetch and load: one JSON document per line
    that reads back as the very documents the parser produced."""
    import json

    from listening.collect.feeds import parse_feed
    from listening.models import Document

    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    config = load_config(tmp_path / "listening.toml")
    plan = pipeline.plan_collect(config, config.store_path, NOW)
    pipeline.fetch_planned(config, plan, NOW)
    (staged,) = plan.parent.glob("*.documents.jsonl")
    lines = staged.read_bytes().splitlines()
    docs = {d.document_id: d for d in (Document.from_json(json.loads(x)) for x in lines)}
    expected = parse_feed(
        blog_feed(blog.base_url),
        {"content-type": "application/rss+xml"},
        source="Blog de Greg",
        feed_url=blog.url("/greg/feed/"),
        collected_at=NOW,
    ).documents
    assert [docs[d.document_id] for d in expected] == expected
    assert len(docs) == 4  # and the thread's two comments


def test_a_second_collect_never_removes_a_run_still_fetching(tmp_path, feed_server):
    """Fetching holds no lock: another collect may load a run's first units meanwhile."""
    base = feed_server.base_url
    sources = {}
    for name in ("a", "b"):
        sources[name] = feed_server.static(f"/{name}/feed/", blog_feed(f"{base}/{name}"))
    write_config(tmp_path / "listening.toml", sources)
    config = load_config(tmp_path / "listening.toml")
    db = config.store_path
    plan = pipeline.plan_collect(config, db, NOW)
    pipeline.fetch_planned(config, plan, NOW, only=["a"])
    # Another collect starts now: it loads unit "a", but "b" is still being fetched.
    pipeline.plan_collect(config, db, NOW + timedelta(seconds=1))
    assert plan.exists()
    pipeline.fetch_planned(config, plan, NOW, only=["b"])
    pipeline.load(config, db, NOW)
    rows = health(config)
    assert rows["a"]["n_documents"] == 2 and rows["b"]["n_documents"] == 2
    assert not plan.parent.exists()  # every planned unit loaded: the run folder is gone


def test_an_older_runs_late_state_never_overwrites_a_newer_one(tmp_path, blog):
    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    config = load_config(tmp_path / "listening.toml")
    db = config.store_path
    old_plan = pipeline.plan_collect(config, db, NOW)
    collect(tmp_path, NOW + timedelta(days=1))  # a newer run fetches and loads first
    newer = health(config)["Blog de Greg"]["last_fetch_at"]
    pipeline.fetch_planned(config, old_plan, NOW)  # the old run's fetch arrives late
    pipeline.load(config, db, NOW + timedelta(days=1, hours=1))
    assert health(config)["Blog de Greg"]["last_fetch_at"] == newer


def test_a_fetch_killed_mid_run_loses_no_staged_unit_and_loads_no_half(tmp_path, feed_server):
    """kill -9 while one source is still in flight: the units staged before are loaded whole,
    the unfinished one is neither loaded nor lost (the next collect fetches it)."""
    import signal
    import subprocess
    import sys
    import time

    base = feed_server.base_url
    sources = {
        name: feed_server.static(f"/{name}/feed/", blog_feed(f"{base}/{name}", n_comments=0))
        for name in ("a", "b")
    }
    slow = blog_feed(f"{base}/slow", n_comments=0)
    sources["slow"] = feed_server.static("/slow/feed/", slow, delay=5)
    write_config(tmp_path / "listening.toml", sources, read_timeout=20.0, total_timeout=20.0)
    config = load_config(tmp_path / "listening.toml")
    db = config.store_path
    plan = pipeline.plan_collect(config, db, NOW)
    code = (
        "import sys; from datetime import datetime; from pathlib import Path; "
        "from listening import pipeline; from listening.configfile import load_config; "
        "pipeline.fetch_planned(load_config(Path(sys.argv[1])), Path(sys.argv[2]), "
        "datetime.fromisoformat(sys.argv[3]))"
    )
    args = [str(tmp_path / "listening.toml"), str(plan), NOW.isoformat()]
    fetching = subprocess.Popen([sys.executable, "-c", code, *args])
    deadline = time.monotonic() + 60
    while len(list(plan.parent.glob("*.state.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    fetching.send_signal(signal.SIGKILL)
    fetching.wait()
    assert len(list(plan.parent.glob("*.state.json"))) == 2, "slow finished before the kill"

    stats = pipeline.load(config, db, NOW)
    assert stats.n_units == 2 and stats.n_documents_new == 4
    rows = health(config)
    assert rows["a"]["n_documents"] == rows["b"]["n_documents"] == 2
    assert rows["slow"]["n_documents"] == 0 and rows["slow"]["last_fetch_at"] is None
    _, stats = collect(tmp_path, NOW + timedelta(minutes=1))
    assert health(config)["slow"]["n_documents"] == 2


def test_units_without_documents_are_staged_together_and_load_as_files_of_their_own(tmp_path, blog):
    """A re-poll's units that bring no documents (every answer a 304, or an error) are staged
    in ONE .states.jsonl instead of a state file each; a unit with documents keeps its own
    files. Loaded, they store what files of their own would have stored."""
    import shutil

    from listening.collect import staging

    base = blog.base_url
    blog.static("/other/feed/", blog_feed(f"{base}/other", n_comments=0), etag='"o1"')
    sources = {
        "Blog de Greg": blog.url("/greg/feed/"),  # a feed and a thread: both 304
        "Autre": blog.url("/other/feed/"),  # changes: documents
        "Absent": blog.url("/absent/feed/"),  # 404: an error
    }
    first = tmp_path / "together"
    first.mkdir()
    write_config(first / "listening.toml", sources)
    collect(first)
    blog.static("/other/feed/", blog_feed(f"{base}/other", n_comments=1), etag='"o2"')
    later = NOW + timedelta(days=1)
    config = load_config(first / "listening.toml")
    plan = pipeline.plan_collect(config, config.store_path, later)
    results = pipeline.fetch_planned(config, plan, later)
    assert sorted(r.n_documents > 0 for r in results) == [False, False, True]
    (together,) = plan.parent.glob(f"*{staging.STATES}")
    assert len(together.read_bytes().splitlines()) == 2
    (own,) = plan.parent.glob(f"*{staging.STATE}")
    assert own.with_name(own.name.replace(staging.STATE, staging.DOCUMENTS)).exists()

    # The same run with a state file for each unit, as staging wrote it before.
    alone = tmp_path / "alone"
    shutil.copytree(first, alone)
    run_dir = alone / plan.parent.relative_to(first)
    for line in together.read_bytes().splitlines():
        sid = json.loads(line)["source_id"]
        staging.unit_path(run_dir, sid).write_bytes(line)
    (run_dir / together.name).unlink()

    loaded = []
    for folder in (first, alone):
        config = load_config(folder / "listening.toml")
        stats = pipeline.load(config, config.store_path, later)
        assert not plan.parent.exists() and stats.n_units == 3
        with store.open_writer(config.store_path) as con:
            loaded.append(
                [
                    con.execute(f"select * from {table} order by all").fetchall()
                    for table in ("raw.sources", "raw.staged_files", "raw.documents")
                ]
            )
    assert loaded[0] == loaded[1]
    assert len(loaded[0][1]) == 6  # raw.staged_files: 2 runs of 3 units


def test_a_unit_staged_alone_and_together_loads_once_from_its_own_file(tmp_path):
    """A fetch retried in the same run may stage a unit twice: in a state file of its own
    and in a .states.jsonl. It is one unit, read from its own file (which may come with
    documents)."""
    from listening.collect import staging
    from listening.collect.state import SourceState

    def unit(sid: str) -> staging.Unit:
        source = {"name": sid, "url": f"https://{sid}.example/feed/", "kind": "feed"}
        return staging.Unit(
            {**source, "channel": "blog"}, SourceState(url=source["url"], source_id=sid)
        )

    run_dir = tmp_path / "staging" / "20261126T080000Z-abcdef"
    run_dir.mkdir(parents=True)
    staging.write_unit(run_dir, unit("a"), [], [], NOW)
    staging.write_states(
        run_dir,
        [staging.unit_state(unit(sid), [], 0, NOW + timedelta(hours=1)) for sid in ("a", "b")],
    )
    paths = staging.complete_units(tmp_path / "staging")
    assert paths == [staging.unit_path(run_dir, "a"), staging.unit_path(run_dir, "b")]
    a, b = staging.read_units(paths)
    assert (a.source_id, a.fetched_at) == ("a", NOW.isoformat())
    assert (b.source_id, b.fetched_at) == ("b", (NOW + timedelta(hours=1)).isoformat())


def _edited_feed(base: str, version: int) -> bytes:
    """Version 1, then 2: post A is edited (new text, its date appears, its author goes),
    post B only changes its date, post C is new."""
    a_date = "" if version == 1 else "<pubDate>Wed, 25 Nov 2026 09:00:00 +0000</pubDate>"
    a_author = "<dc:creator>Greg</dc:creator>" if version == 1 else ""
    b_day = 23 if version == 1 else 24
    c = f"""<item><title>Troisième</title><link>{base}/c/</link>
  <pubDate>Wed, 25 Nov 2026 12:00:00 +0000</pubDate>
  <description>Un troisième billet sur Telzio.</description></item>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Carnet</title><link>{base}/</link>
<item><title>Ma box Telzio</title><link>{base}/a/</link>{a_author}{a_date}
  <description>Version {version} : la box Telzio redémarre.</description></item>
<item><title>Fougasse</title><link>{base}/b/</link><dc:creator>Julie</dc:creator>
  <pubDate>Mon, {b_day} Nov 2026 09:00:00 +0000</pubDate>
  <description>Farine, eau, sel et olives.</description></item>
{c if version == 2 else ""}
</channel></rss>""".encode()


def test_a_changed_entry_updates_its_document_in_place(tmp_path, feed_server):
    """Loading a document again updates its row: the new text, title and language (and its
    analysis is dropped, to be redone), an author or parent only when the new copy names
    one, the date only while it was estimated; its first collected_at is kept."""
    base = feed_server.base_url
    feed_server.static("/f/", _edited_feed(base, 1), etag='"v1"')
    write_config(tmp_path / "listening.toml", {"Carnet": feed_server.url("/f/")})
    config, first = collect(tmp_path)
    assert first.load.n_documents_new == 2
    with store.open_writer(config.store_path) as con:
        con.execute(
            "insert into raw.document_analysis select document_id, 'q', 'v', ? from raw.documents",
            [NOW],
        )
    numbers = "select url, change_seq from raw.documents order by url"
    with store.open_writer(config.store_path) as con:
        before = dict(con.execute(numbers).fetchall())
    feed_server.static("/f/", _edited_feed(base, 2), etag='"v2"')
    later = NOW + timedelta(days=1)
    config, second = collect(tmp_path, later)
    assert (second.load.n_documents_new, second.load.n_documents_updated) == (1, 1)
    con = snapshot(config)
    # a new change number (migration 014) for what the marts read that changed (A's date),
    # none for a copy that changed nothing they read (B); the next numbers for the new one
    after = dict(con.execute(numbers).fetchall())
    a_seq, b_seq, c_seq = after.values()
    assert a_seq > max(before.values()) and b_seq == before[f"{base}/b/"] and c_seq > b_seq
    rows = con.execute(
        "select url, text, author, published_at, is_date_estimated, collected_at, "
        "document_id in (select document_id from raw.document_analysis) "
        "from raw.documents order by url"
    ).fetchall()
    a, b, c = rows
    assert a == (
        f"{base}/a/",
        "Version 2 : la box Telzio redémarre.",
        "Greg",  # the new copy names no author: the known one stays
        datetime(2026, 11, 25, 9, 0, tzinfo=UTC),  # estimated before, real now
        False,
        NOW,
        False,  # new text: analysed again
    )
    assert b[2:] == ("Julie", datetime(2026, 11, 23, 9, 0, tzinfo=UTC), False, NOW, True)
    assert c[0] == f"{base}/c/" and c[5] == later and c[6] is False
