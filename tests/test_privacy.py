"""Personal data, end to end with the real CLI on real DuckDB files: erasure of a person
(`listening forget`), retention (`settings.retention_days`) and pseudonymised authors.

Each test serves a blog and its comment thread over loopback, runs `listening run` in a
subprocess, then checks the bytes of every file in the data folder (store, snapshot, staging,
failure notes) for the person's name: DuckDB keeps deleted rows' bytes in free blocks, so
"deleted" is not enough; the name must be nowhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from listening import store
from listening.store.privacy import ENV_PSEUDONYM_KEY, pseudonym

PERSON = "Zoé Vasseur-Quintin"
OTHER = "Marc Ollivier"
OFFICIAL = "Service client Telzio"
KEY = "k" * 32


def run_cli(*args, env=None, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "listening.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def blog_feed(base: str, published: datetime) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Le blog de Greg</title><link>{base}/greg/</link>
<item><title>Ma box Telzio redémarre sans arrêt</title>
  <link>{base}/greg/box/</link><guid isPermaLink="false">{base}/greg/?p=1</guid>
  <dc:creator>Greg</dc:creator><pubDate>{published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>
  <description>Depuis la mise à jour, ma box Telzio redémarre toutes les heures.</description>
  <wfw:commentRss>{base}/greg/box/feed/</wfw:commentRss></item>
</channel></rss>""".encode()


def comment_feed(base: str, comments: list[tuple[int, str, str, int | None, datetime]]) -> bytes:
    """comments: (number, author, text, number answered or None, published)."""
    entries = []
    for i, author, text, parent, at in comments:
        ref = f"{base}/greg/?p=1#comment-{parent}" if parent else f"{base}/greg/?p=1"
        href = f"{base}/greg/box/#comment-{parent}" if parent else f"{base}/greg/box/"
        entries.append(f"""<entry><title>Par : {author}</title>
  <link rel="alternate" href="{base}/greg/box/#comment-{i}"/>
  <author><name>{author}</name></author><id>{base}/greg/?p=1#comment-{i}</id>
  <published>{at:%Y-%m-%dT%H:%M:%SZ}</published>
  <thr:in-reply-to ref="{ref}" href="{href}"/>
  <content type="html">&lt;p&gt;{text}&lt;/p&gt;</content></entry>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">
<title>Commentaires sur : Ma box</title><id>{base}/greg/box/feed/</id>
<updated>{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}</updated>{"".join(entries)}</feed>""".encode()


def serve_blog(server, comments, post_at: datetime) -> None:
    base = server.base_url
    server.static("/greg/feed/", blog_feed(base, post_at))
    server.static(
        "/greg/box/feed/", comment_feed(base, comments), content_type="application/atom+xml"
    )


def toml_value(v) -> str:
    return str(v).lower() if isinstance(v, bool) else repr(v)


def write_config(folder: Path, feed_url: str, **settings) -> Path:
    lines = [
        "# our listening config: comments must survive",
        "[settings]",
        'store = "data/listening.duckdb"',
        "allow_private_networks = true",
        "total_timeout = 5.0",
    ]
    lines += [f"{k} = {toml_value(v)}" for k, v in settings.items()]
    lines += [
        "",
        "[[brands]]",
        'name = "Telzio"',
        'query = "Telzio"',
        f'official_authors = ["{OFFICIAL}"]',
        "",
        "[[sources]]",
        'name = "Blog de Greg"',
        f'url = "{feed_url}"',
        'channel = "blog"',
    ]
    path = folder / "listening.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def files_naming(folder: Path, *needles: str) -> list[str]:
    """Every file under ``folder`` whose bytes contain a needle (UTF-8, any case, or as a JSON
    \\u escape), as 'file: needle'."""
    forms = set()
    for n in needles:
        for v in (n, n.lower(), n.upper()):
            forms.add(v.encode("utf-8"))
            forms.add(v.encode("ascii", "backslashreplace").replace(b"\\x", b"\\u00"))
    hits = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits += [f"{path.relative_to(folder)}: {f!r}" for f in forms if f in data]
    return hits


def snapshot(db: Path) -> duckdb.DuckDBPyConnection:
    return store.open_reader(db)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def thread(feed_server):
    """A post and four comments: the person writes #1 and #3; #2 (by another) answers #1,
    quoting the person's name; #4 (the brand) answers #3, which answers #2."""
    t = now() - timedelta(days=3)
    comments = [
        (1, PERSON, "Le service client Telzio ne répond jamais, c'est honteux.", None, t),
        (2, OTHER, f"Je suis d'accord avec {PERSON} : Telzio déçoit.", 1, t + timedelta(hours=1)),
        (3, PERSON, "Merci Marc, Telzio devrait avoir honte.", 2, t + timedelta(hours=2)),
        (4, OFFICIAL, "Bonjour, Telzio corrige le problème.", 3, t + timedelta(hours=3)),
    ]
    serve_blog(feed_server, comments, t - timedelta(hours=2))
    return feed_server, comments


def test_forget_erases_a_person_everywhere_and_for_good(tmp_path, thread):
    from listening.store.failures import record_task_failure
    from listening.store.overrides import record_override

    server, comments = thread
    config = write_config(tmp_path, server.url("/greg/feed/"))
    data = tmp_path / "data"
    db = data / "listening.duckdb"
    run_cli("run", "--config", str(config))
    con = snapshot(db)
    mine = con.execute(
        "select mention_id from mentions where author = ? order by published_at", [PERSON]
    ).fetchall()
    assert len(mine) == 2
    con.close()
    # What a person leaves beside the store: an analyst's pending correction of their mention,
    # a task failure whose message quotes them, and a staged (fetched, not yet loaded) comment.
    record_override(db, mine[0][0], "neutral", f"avis de {PERSON}", "analyste", now())
    record_task_failure(None, db, "listening_collect", "load", "r1", f"bad row {PERSON}", now())
    t = now() - timedelta(hours=5)
    later = [*comments, (5, PERSON, "Toujours en panne chez Telzio.", None, t)]
    serve_blog(server, later, now() - timedelta(days=3, hours=2))
    from listening import pipeline
    from listening.configfile import load_config

    cfg = load_config(config)
    tomorrow = now() + timedelta(days=1)  # when the feeds are due again
    pipeline.fetch_planned(cfg, pipeline.plan_collect(cfg, db, tomorrow), tomorrow)
    assert list(data.glob("staging/*/*.documents.jsonl"))
    # A weekly report written before the request quotes them (listening.report's path rule).
    report = data / "reports" / "telzio" / "2026-W01.pdf"
    report.parent.mkdir(parents=True)
    report.write_bytes(f"%PDF-1.7 « Toujours en panne » {PERSON}".encode())
    # The check can see a name in DuckDB's bytes: without this the test below proves nothing.
    assert any(h.startswith("listening.duckdb:") for h in files_naming(data, PERSON))
    assert any(h.startswith("listening.snapshot.duckdb:") for h in files_naming(data, PERSON))

    dry = run_cli("forget", "--config", str(config), "--author", PERSON.upper(), "--dry-run")
    assert "would remove: 2 documents" in dry.stdout
    assert files_naming(data, PERSON)  # a dry run changes nothing

    out = run_cli("forget", "--config", str(config), "--author", f"  {PERSON.lower()} ")
    assert "removed: 2 documents, 2 mentions, 1 label corrections" in out.stdout
    assert "2 replies by others re-attached" in out.stdout
    assert "name redacted in 1 other texts" in out.stdout
    assert "store rewritten" in out.stdout and "suppressed" in out.stdout
    assert "weekly reports deleted: 1" in out.stdout and not report.exists()
    assert PERSON not in out.stderr
    assert files_naming(data, PERSON) == []

    con = snapshot(db)
    docs = dict(
        con.execute("select author, parent_id from documents where kind = 'comment'").fetchall()
    )
    assert set(docs) == {OTHER, OFFICIAL}
    # Replies keep their place in the thread: #2 answered the erased #1 (a reply to the post),
    # the brand's #4 answered the erased #3, which answered #2.
    other_id = con.execute("select document_id from documents where author = ?", [OTHER])
    other_id = other_id.fetchone()[0]
    assert docs[OTHER] is None and docs[OFFICIAL] == other_id
    text = con.execute("select text from documents where author = ?", [OTHER]).fetchone()[0]
    assert text == "Je suis d'accord avec [personne effacée] : Telzio déçoit."
    # Every mart was rebuilt without them.
    assert con.execute("select count(*) from authors where author = ?", [PERSON]).fetchone() == (0,)
    assert con.execute("select sum(n_comments) from threads").fetchone()[0] == 2
    audit = con.execute("select * from erasures").fetchall()
    assert len(audit) == 1 and audit[0][1:5] == ("forget", 2, 2, 1)
    assert PERSON.lower() not in str(audit).lower()
    suppressions = con.execute("select suppression_hash from raw.suppressions").fetchall()
    assert len(suppressions) == 1 and len(suppressions[0][0]) == 64
    con.close()

    # Not collected again: the staged comment and the feed's copies are dropped at load.
    stats = pipeline.collect(cfg, db, now=tomorrow + timedelta(days=1))
    assert stats.n_fetches >= 2  # the post feed and its thread, both serving the person
    run_cli("build", "--config", str(config))
    assert files_naming(data, PERSON) == []
    con = snapshot(db)
    assert con.execute("select count(*) from documents where kind = 'comment'").fetchone() == (2,)


def test_a_text_quoting_the_erasure_marker_is_updated_when_nobody_was_forgotten(
    tmp_path, feed_server
):
    """The marker an erasure leaves keeps a redacted text from being collected again; with
    nobody ever forgotten, a comment that merely quotes it is edited like any other."""
    from listening import pipeline
    from listening.configfile import load_config

    t = now() - timedelta(days=2)
    quoting = "Il a écrit « [personne effacée] » sous mon avis Telzio, drôle de forum."
    serve_blog(feed_server, [(1, OTHER, quoting, None, t)], t - timedelta(hours=1))
    config = write_config(tmp_path, feed_server.url("/greg/feed/"))
    db = tmp_path / "data" / "listening.duckdb"
    cfg = load_config(config)
    pipeline.collect(cfg, db, now=now())
    edited = quoting + " Édité : Telzio a répondu depuis."
    serve_blog(feed_server, [(1, OTHER, edited, None, t)], t - timedelta(hours=1))
    pipeline.collect(cfg, db, now=now() + timedelta(days=1))
    con = duckdb.connect(str(db), read_only=True)
    texts = con.execute("select text from raw.documents where author = ?", [OTHER]).fetchall()
    con.close()
    assert texts == [(edited,)]


def test_forget_on_one_site_keeps_the_same_name_elsewhere(tmp_path, thread, make_feed_server):
    server, comments = thread
    elsewhere = make_feed_server(host="127.0.0.2")
    serve_blog(elsewhere, comments[:1], now() - timedelta(days=4))
    config = write_config(tmp_path, server.url("/greg/feed/"))
    with open(config, "a", encoding="utf-8") as fh:
        fh.write(f'\n[[sources]]\nname = "Autre blog"\nurl = "{elsewhere.url("/greg/feed/")}"\n')
    db = tmp_path / "data" / "listening.duckdb"
    run_cli("run", "--config", str(config))
    out = run_cli("forget", "--config", str(config), "--author", PERSON, "--site", "127.0.0.1")
    assert "removed: 2 documents" in out.stdout
    con = snapshot(db)
    left = con.execute("select url from documents where author = ?", [PERSON]).fetchall()
    assert [u.split("/")[2].split(":")[0] for (u,) in left] == ["127.0.0.2"]


def test_forget_needs_the_suppression_key_to_load_again(tmp_path, thread):
    server, _ = thread
    config = write_config(tmp_path, server.url("/greg/feed/"))
    data = tmp_path / "data"
    run_cli("run", "--config", str(config))
    run_cli("forget", "--config", str(config), "--author", PERSON)
    key = data / "listening.suppression.key"
    assert key.stat().st_mode & 0o077 == 0  # readable by the owner only
    key.unlink()
    from listening import pipeline
    from listening.configfile import load_config
    from listening.store.privacy import PrivacyError

    with pytest.raises(
        PrivacyError, match=r"listening\.suppression\.key is missing.*collected again"
    ):
        pipeline.collect(load_config(config), data / "listening.duckdb", now=now() + timedelta(1))


def test_retention_drops_old_documents_at_each_build(tmp_path, feed_server):
    old_person = "Gaëlle Old-Timer"
    t = now()
    comments = [
        (1, old_person, "Telzio était très bien avant.", None, t - timedelta(days=40)),
        (2, OTHER, "Telzio est en panne aujourd'hui.", 1, t - timedelta(days=2)),
    ]
    serve_blog(feed_server, comments, t - timedelta(days=41))
    config = write_config(tmp_path, feed_server.url("/greg/feed/"))
    data = tmp_path / "data"
    db = data / "listening.duckdb"
    run_cli("run", "--config", str(config))

    # Weekly reports beside the store: the one of the old comment's week quotes it.
    def week(day):
        year, number, _ = day.isocalendar()
        return f"{year}-W{number:02d}"

    old_report = data / "reports" / "telzio" / f"{week(t - timedelta(days=40))}.html"
    new_report = data / "reports" / "telzio" / f"{week(t)}.pdf"
    old_report.parent.mkdir(parents=True)
    old_report.write_text(f"<p>« Telzio était très bien avant. » ({old_person})</p>", "utf-8")
    new_report.write_bytes(b"%PDF- this week")
    assert files_naming(data, old_person)

    text = config.read_text("utf-8").replace("[settings]\n", "[settings]\nretention_days = 30\n")
    config.write_text(text, "utf-8")
    out = run_cli("build", "--config", str(config))
    assert "retention: 2 documents older than 30 days deleted" in out.stdout  # post + comment
    assert files_naming(data, old_person) == []
    assert not old_report.exists() and new_report.exists()  # this week's report stays
    con = snapshot(db)
    rows = con.execute("select author, parent_id from documents").fetchall()
    assert rows == [(OTHER, None)]  # the reply stays, now a reply to the (gone) post
    assert (
        con.execute("select min(day) from reputation_daily where n_mentions > 0").fetchone()[0]
        >= (t - timedelta(days=30)).date()
    )
    assert con.execute("select reason, n_documents from erasures").fetchall() == [("retention", 2)]
    con.close()
    # The feed still carries the old comment: it is not loaded again.
    from listening import pipeline
    from listening.configfile import load_config

    stats = pipeline.collect(load_config(config), db, now=now() + timedelta(days=1))
    assert stats.n_fetches >= 2 and stats.errors == []
    assert files_naming(data, old_person) == []


def test_pseudonymized_authors_never_reach_the_store(tmp_path, thread, monkeypatch):
    server, comments = thread
    config = write_config(tmp_path, server.url("/greg/feed/"), pseudonymize_authors=True)
    data = tmp_path / "data"
    db = data / "listening.duckdb"
    no_key = {ENV_PSEUDONYM_KEY: ""}
    proc = run_cli("run", "--config", str(config), env=no_key, check=False)
    assert proc.returncode == 1
    assert f"{ENV_PSEUDONYM_KEY} is not set" in proc.stderr and "export" in proc.stderr

    env = {ENV_PSEUDONYM_KEY: KEY}
    run_cli("run", "--config", str(config), env=env)
    store_files = [db, store.snapshot_path(db)]
    assert [
        h
        for h in files_naming(data, PERSON, OTHER)
        if h.split(":")[0] in ("listening.duckdb", "listening.snapshot.duckdb")
    ] == []
    assert all(p.exists() for p in store_files)
    alias = pseudonym(PERSON.lower(), KEY.encode())
    con = snapshot(db)
    authors = dict(con.execute("select author, n_mentions from authors").fetchall())
    assert authors[alias] == 2 and authors[pseudonym(OTHER.lower(), KEY.encode())] == 1
    # The brand's own account is no person: it stays readable, and answers are still seen.
    assert con.execute("select count(*) from documents where author = ?", [OFFICIAL]).fetchone()
    assert con.execute("select bool_or(is_answered) from threads").fetchone() == (True,)
    titles = [
        r[0] for r in con.execute("select title from documents where kind = 'comment'").fetchall()
    ]
    assert f"Par : {alias}" in titles
    con.close()

    # The thread served again without the person's comments: the text quoting them keeps its
    # pseudonym though they are not among this load's authors.
    from listening import pipeline
    from listening.configfile import load_config

    serve_blog(server, [c for c in comments if c[1] != PERSON], now() - timedelta(days=3))
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, KEY)
    stats = pipeline.collect(load_config(config), db, now=now() + timedelta(days=1))
    assert stats.n_fetches >= 2
    assert not [h for h in files_naming(data, PERSON) if "staging" not in h]
    # Stable: another run keeps the same pseudonyms; forget works with the real name.
    run_cli("run", "--config", str(config), env=env)
    out = run_cli("forget", "--config", str(config), "--author", PERSON, env=env)
    assert "removed: 2 documents" in out.stdout
    con = snapshot(db)
    assert con.execute("select count(*) from authors where author = ?", [alias]).fetchone() == (0,)


def test_turning_pseudonymization_on_converts_the_names_already_stored(tmp_path, thread):
    server, _ = thread
    config = write_config(tmp_path, server.url("/greg/feed/"))
    data = tmp_path / "data"
    db = data / "listening.duckdb"
    run_cli("run", "--config", str(config))
    assert any(h.startswith("listening.duckdb:") for h in files_naming(data, PERSON))
    text = config.read_text("utf-8").replace(
        "[settings]\n", "[settings]\npseudonymize_authors = true\n"
    )
    config.write_text(text, "utf-8")
    run_cli("build", "--config", str(config), env={ENV_PSEUDONYM_KEY: KEY})
    assert [h for h in files_naming(data, PERSON) if "staging" not in h] == []
    con = snapshot(db)
    names = {r[0] for r in con.execute("select author from authors").fetchall()}
    assert names == {pseudonym(n.lower(), KEY.encode()) for n in (PERSON, OTHER, "Greg")}
    assert con.execute("select reason from erasures").fetchall() == [("pseudonymize",)]


def test_compaction_keeps_the_whole_catalog_and_drops_freed_bytes(tmp_path):
    """The rewrite (COPY FROM DATABASE into a fresh file) must keep what the migrations made:
    views and their comments, macros, keys, checks and indexes; and leave no deleted bytes
    behind."""
    from listening.store.privacy import request_compaction

    db = tmp_path / "listening.duckdb"
    row = "insert into raw.suppressions values (?, now())"
    with store.open_writer(db) as con:
        con.execute("create table raw.notes (id integer primary key, who varchar)")
        con.execute(
            "insert into raw.notes select i, case when i % 50 = 0 then ? else 'P' || i % 300 end "
            "from range(20000) as t(i)",
            [PERSON],
        )
    assert PERSON.encode() in db.read_bytes()
    con = duckdb.connect(str(db))
    con.execute("delete from raw.notes where who = ?", [PERSON])
    con.execute("checkpoint")
    con.close()
    assert PERSON.encode() in db.read_bytes()  # DuckDB kept the freed blocks
    with store.open_writer(db) as con:
        request_compaction(con)
    assert PERSON.encode() not in db.read_bytes()
    assert PERSON.encode() not in store.snapshot_path(db).read_bytes()
    con = duckdb.connect(str(db))
    assert con.execute("select comment from duckdb_views() where view_name = 'erasures'").fetchone()
    assert con.execute("select author_key('  Zoé  V ')").fetchone() == ("zoé v",)
    assert store.applied_versions(con) == [m.version for m in store.migrations()]
    assert con.execute(  # and the indexes (migration 013)
        "select count(*) from duckdb_indexes() where index_name = 'documents_thread_url'"
    ).fetchone() == (1,)
    assert con.execute("select count(*) from raw.notes").fetchone() == (19600,)
    con.execute(row, ["x"])
    with pytest.raises(duckdb.ConstraintException):
        con.execute(row, ["x"])
    with pytest.raises(duckdb.ConstraintException):
        con.execute("insert into raw.erasures values (now(), 'nope', 0, 0, 0, 0, 0, 0, 0)")
