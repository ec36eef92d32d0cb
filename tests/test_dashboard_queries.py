"""The dashboards' named queries on a built snapshot (no browser): the Mentions page's search
and filters read the mention_search mart and answer as the mentions view did; the CSV export
streams in batches and writes what ``DataFrame.to_csv`` wrote."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from listening import store
from listening.config import Settings
from tests.test_marts import NOW, World

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path, monkeypatch):
    """dashboards/data.py on the snapshot of a small built store."""
    w = World()
    texts = [
        ("Livraison RATÉE, colis abîmé", "Acme", "negative", "Déçu"),
        ("La livraison était rapide", "Acme", "positive", None),
        ('Prix "correct", service, bof', "Globex", "neutral", None),
        ("Nothing to say\nsecond line", "Acme", None, None),
        ("Ligne\rsans saut", "Globex", "negative", 'Titre, "cité"'),
    ]
    for i, (text, brand, label, title) in enumerate(texts * 3):
        doc = w.doc(NOW - timedelta(days=i), f"Auteur {i % 4}", title=title)
        w.con.execute("update raw.documents set text = ? where document_id = ?", [text, doc])
        w.mention(doc, brand, label, aspects={"livraison": -0.4} if i % 2 == 0 else None)
    # and enough rows for an export in several batches (2,048 rows a DuckDB vector)
    w.con.execute(
        "insert into raw.documents (document_id, kind, url, thread_url, source, author, "
        "published_at, collected_at, text, run_id) "
        "select 'bulk' || i, 'comment', 'https://forum.fr/t#' || i, 'https://forum.fr/t', "
        "'Forum', 'Voix ' || i % 50, ?::timestamptz - to_minutes(i), ?, 'Rien à signaler', "
        "'run' from range(5000) as r(i)",
        [NOW - timedelta(days=30), NOW],
    )
    w.con.execute(
        "insert into raw.mentions (mention_id, document_id, brand, matched_terms, sentiment, "
        "sentiment_label, analyzed_at) select 'mb' || i, 'bulk' || i, 'Globex', ['globex'], "
        "0.0, 'neutral', ? from range(5000) as r(i)",
        [NOW],
    )
    w.build()
    yield _published(w, tmp_path, monkeypatch)
    sys.modules.pop("dashboard_data", None)


def _published(w: World, folder: Path, monkeypatch):
    """dashboards/data.py on the published snapshot of ``w``'s store."""
    db = folder / "listening.duckdb"
    w.con.execute(f"attach '{db}' as f")
    w.con.execute("copy from database memory to f")
    w.con.execute("detach f")
    store.publish(db)
    monkeypatch.setenv("LISTENING_DB", str(db))
    return _data_module()


def _data_module():
    """dashboards/data.py, loaded as the dashboards load it (the caller pops it)."""
    spec = importlib.util.spec_from_file_location("dashboard_data", ROOT / "dashboards/data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["dashboard_data"] = module
    spec.loader.exec_module(module)
    return module


FILTERS = {
    "brand": None,
    "start": date(2000, 1, 1),
    "end": date(2100, 1, 1),
    "sources": [],
    "channels": [],
    "sentiment": None,
    "aspect": None,
    "author": None,
    "lang": None,
    "q": None,
}

# The Mentions page's filters before issue 12, on the mentions view, text folded at query time.
BEFORE = """
select mention_id from mentions
where ($brand::varchar is null or brand = $brand)
    and published_at::date between $start and $end
    and ($sentiment::varchar is null
        or coalesce(sentiment_label, 'unscored') = $sentiment)
    and ($aspect::varchar is null or list_contains(aspects, $aspect))
    and ($q::varchar is null
        or contains(strip_accents(lower(text)), strip_accents(lower($q)))
        or contains(strip_accents(lower(coalesce(title, ''))), strip_accents(lower($q))))
order by published_at desc, mention_id
"""


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"q": "LIVRAISON"},
        {"q": "ratee", "brand": "Acme"},
        {"q": "déçu"},  # in the title only
        {"q": "livraison", "sentiment": "positive"},
        {"sentiment": "unscored"},
        {"aspect": "livraison", "brand": "Acme"},
        {"q": "nothing"},
    ],
)
def test_mentions_filters_answer_as_the_view_did(data, change):
    params = {**FILTERS, **change}
    got = data.query("mentions_search", **params, limit=100, offset=0)
    con = data._open(data.current())
    try:
        args = {k: v for k, v in params.items() if f"${k}" in BEFORE}
        before = [r[0] for r in con.execute(BEFORE, args).fetchall()]
    finally:
        con.close()
    assert before  # every case finds something
    assert list(got["mention_id"]) == before[:100]
    count = data.query("mentions_count", **params)["n_mentions"].iloc[0]
    assert count == len(before)


# The queries as they were before they read mention_search by day and picked rows before
# reading them whole (issue 12): the period on published_at::date, every column read first;
# and on the mart as it was before it left out the texts (their title and text stored in it,
# taken from the mentions view, and their folds, taken from raw.folded_texts).
WITH_TEXTS = """(
    select s.*, m.title, m.text, f.text_folded, f.title_folded,
    from mention_search as s
    inner join mentions as m using (mention_id)
    inner join raw.folded_texts as f on f.mention_id = s.mention_id
) as mention_search"""
OLD = {
    "aspect_samples": f"""
        with ranked as (
            select mention_id, published_at, source, author, sentiment_label, sentiment,
                text, url,
                row_number() over (
                    partition by sentiment_label order by published_at desc, mention_id
                ) as rn,
            from {WITH_TEXTS}
            where brand = $brand and list_contains(aspects, $aspect)
                and published_at::date between $start and $end and not is_duplicate
        )
        select * exclude (rn) from ranked where rn <= $per_label
        order by sentiment_label, published_at desc, mention_id
    """,
    "mentions_export": f"""
        select mention_id, published_at, brand, source, channel, kind, author,
            sentiment_label, is_overridden, sentiment,
            array_to_string(aspects, ';') as aspects, lang, title, text, url, thread_url,
        from {WITH_TEXTS}
        where ($brand::varchar is null or brand = $brand)
            and published_at::date between $start and $end
            and ($sentiment::varchar is null
                or coalesce(sentiment_label, 'unscored') = $sentiment)
            and ($q::varchar is null or contains(text_folded, fold_text($q)))
        order by published_at desc, mention_id
        limit $limit
    """,
    "mentions_search": f"""
        select mention_id, published_at, brand, source, channel, author, sentiment_label,
            is_overridden, round(sentiment, 3) as sentiment, aspects, lang, title,
            left(text, 280) as excerpt, url, scored_by,
        from {WITH_TEXTS}
        where ($brand::varchar is null or brand = $brand)
            and published_at::date between $start and $end
            and ($q::varchar is null or contains(text_folded, fold_text($q)))
        order by published_at desc, mention_id
        limit $limit offset $offset
    """,
    "author_mentions": f"""
        select mention_id, published_at, brand, source, sentiment_label, sentiment, title,
            text, url,
        from {WITH_TEXTS}
        where author_key = author_key($author) and site = $site and not is_duplicate
        order by published_at, mention_id
        limit 1000
    """,
    "mention_facets": """
        select * from (
            select 'source' as facet, name as value, n_documents as n from source_health
            union all
            select 'channel', channel, sum(n_documents) from source_health group by channel
            union all
            select 'lang', lang, count(*) from documents where lang is not null group by lang
        )
        order by facet, n desc, value
    """,
}


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("aspect_samples", {"brand": "Acme", "aspect": "livraison", "per_label": 2}),
        ("aspect_samples", {"brand": "Acme", "aspect": "livraison", "per_label": 5}),
        ("aspect_samples", {"brand": "Globex", "aspect": "livraison", "per_label": 3}),
        ("aspect_samples", {"brand": "Acme", "aspect": "prix", "per_label": 3}),  # none
        ("mentions_export", {"limit": 100_000}),
        ("mentions_export", {"limit": 3000, "brand": "Globex"}),
        ("mentions_export", {"limit": 7, "q": "livraison"}),
        ("mentions_export", {"limit": 50, "sentiment": "unscored"}),
        ("mentions_search", {"limit": 20, "offset": 0}),
        ("mentions_search", {"limit": 300, "offset": 2, "q": "livraison"}),
        ("mentions_search", {"limit": 500, "offset": 0, "brand": "Globex"}),
        ("author_mentions", {"author": "Voix 7", "site": "forum.fr"}),  # 100 mentions
        ("author_mentions", {"author": "auteur 1", "site": "blog.fr"}),
        ("mention_facets", {}),
    ],
)
def test_queries_answer_as_before(data, name, change):
    params = {**FILTERS, "start": NOW.date() - timedelta(days=40), "end": NOW.date(), **change}
    con = data._open(data.current())
    try:
        args = {k: v for k, v in params.items() if f"${k}" in OLD[name]}
        before = con.execute(OLD[name], args).df()
    finally:
        con.close()
    got = data.query(name, **params)
    assert list(got.columns) == list(before.columns)
    assert got.equals(before)
    assert name == "mention_facets" or "prix" in change.values() or len(got)
    assert "text" not in got or got["text"].notna().all()


def test_the_text_search_reads_the_folds_of_its_brand_and_period_only(data):
    """The folds' scan filters on the brand and the publication time itself (the filters DuckDB
    evaluates first, by zone maps, then row by row, before reading the texts): not every text
    of the store for a join to sort out."""
    start = NOW.date() - timedelta(days=10)  # the folds span 30 days: the filter keeps some
    params = {**FILTERS, "brand": "Acme", "start": start, "q": "livraison"}
    sql, args = data._prepare("mentions_count", params)
    con = data._open(data.current())
    try:
        plan = json.loads(con.execute("explain (format json) " + sql, args).fetchall()[0][1])
    finally:
        con.close()

    def folds_scans(node):
        if "folded_texts" in str(node.get("extra_info", {}).get("Table", "")):
            yield node
        for child in node["children"]:
            yield from folds_scans(child)

    scans = [scan for root in plan for scan in folds_scans(root)]
    assert scans
    for scan in scans:
        filters = json.dumps(scan["extra_info"].get("Filters")).replace(" ", "")
        assert "brand='Acme'" in filters and "published_at>=" in filters


def test_the_pages_show_each_mentions_own_title_and_text(data):
    """mention_search keeps no text, not even the folds (the full build writes no text): the
    detail of a mention, a page, an export show the title and text of its document."""
    con = data._open(data.current())
    try:
        columns = {r[0] for r in con.execute("describe mention_search").fetchall()}
        expected = con.execute(
            "select mention_id, title, text from mentions order by mention_id"
        ).fetchall()
    finally:
        con.close()
    assert not {"text_folded", "title_folded", "text", "title"} & columns
    shown = [
        data.query("mention_detail", mention_id=m)[["mention_id", "title", "text"]]
        for m, _, _ in expected[:20] + expected[-5:]
    ]
    assert [tuple(r) for df in shown for r in df.itertuples(index=False)] == (
        expected[:20] + expected[-5:]
    )
    exported = data.query("mentions_export", **FILTERS, limit=100_000)
    exported = exported[["mention_id", "title", "text"]].sort_values("mention_id")
    assert [(m, t if isinstance(t, str) else None, x) for m, t, x in exported.values] == expected


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mentions_search", {**FILTERS, "limit": 200, "offset": 0}),
        ("author_mentions", {"author": "Voix 7", "site": "forum.fr"}),  # 100 mentions
    ],
)
def test_the_texts_shown_are_looked_up_by_document_id(data, name, params):
    """A page's texts are read through raw.documents' primary-key index, not by a scan of
    every document (up to 1,000 rows: DuckDB's default hands a join's keys to the scan up
    to 50)."""
    con = data._open(data.current())
    try:
        sql, args = data._prepare(name, params)
        plan = "".join(r[1] for r in con.execute("explain analyze " + sql, args).fetchall())
        assert len(con.execute(sql, args).fetchall()) in (100, 200)
    finally:
        con.close()
    assert "Index Scan" in plan


def test_mention_search_is_stored_by_day_then_brand(data):
    """The rows' order on disk lets DuckDB skip the row groups outside a period and brand."""
    con = data._open(data.current())
    try:
        stored = con.execute("select day, brand from mention_search order by rowid").fetchall()
    finally:
        con.close()
    assert len({day for day, _ in stored}) > 10
    assert stored == sorted(stored)


@pytest.mark.parametrize("name", ["thread_documents", "thread_conversation"])
def test_a_thread_is_read_through_the_thread_url_index(data, name):
    """Migration 013: one thread's documents are looked up, not scanned for."""
    con = data._open(data.current())
    try:
        (thread,) = con.execute("select url from documents where document_id = 'd1'").fetchone()
        sql, args = data._prepare(name, {"thread_url": thread})
        plan = "".join(r[1] for r in con.execute("explain analyze " + sql, args).fetchall())
        assert len(con.execute(sql, args).fetchall()) == 1
    finally:
        con.close()
    assert "Index Scan" in plan


def test_export_streams_batches_and_writes_what_to_csv_wrote(data, monkeypatch):
    batches = []
    monkeypatch.setattr(
        data, "_open", lambda snap, _open=data._open: _Counting(_open(snap), batches)
    )
    params = {**FILTERS, "limit": 100_000}
    whole = data.query("mentions_export", **params).to_csv(index=False).encode()
    monkeypatch.setattr(data, "EXPORT_BATCH_ROWS", 2048)  # 5,015 rows: three batches
    assert data.csv_export("mentions_export", **params) == whole
    assert batches == [2048, 2048, 919, 0]  # streamed, never the 5,015 lines at once
    assert b"\r" in whole and b'"Prix ""correct"", service, bof"' in whole
    empty = data.csv_export("mentions_export", **{**params, "q": "introuvable"})
    assert (
        empty
        == data.query("mentions_export", **{**params, "q": "introuvable"})
        .to_csv(index=False)
        .encode()
    )
    assert empty.startswith(b"mention_id,published_at,brand")


def test_the_export_reads_the_texts_of_its_period_and_those_dated_again(data, tmp_path):
    """The export reads only the documents published in its rows' period (the store grows in
    collection order: the older row groups are skipped), and still finds the text of a document
    a later collect dated again (the snapshot's documents can be newer than its marts)."""
    params = {**FILTERS, "limit": 100}
    con = data._open(data.current())
    try:
        sql, args = data._prepare("mentions_export", params)
        plan = "".join(r[1] for r in con.execute("explain analyze " + sql, args).fetchall())
    finally:
        con.close()
    assert "published_at>=" in plan.replace(" ", "")
    before = data.query("mentions_export", **params)
    moved = before["mention_id"].iloc[0]
    db = tmp_path / "listening.duckdb"
    writer = duckdb.connect(str(db))
    writer.execute(
        "update raw.documents set published_at = timestamptz '1990-01-01 00:00:00+00' "
        "where document_id = (select document_id from raw.mentions where mention_id = ?)",
        [moved],
    )
    writer.close()
    store.publish(db)
    after = data.query("mentions_export", **params)
    assert after.equals(before) and after["text"].notna().all()


# Values the CSV writer must write as pandas does: quotes, separators, line breaks, a lone
# carriage return, spaces, accents, NULLs, NaN, signed zeros, long and tiny doubles,
# microseconds, and offsets with seconds (local mean time, before 1911 in Paris); then
# enough rows for three of pandas' blocks of 20,000 rows (100,000 cells): the fractions of
# a second are written to the precision of the block (6 digits, 3, none).
EDGES = """
select * from (values
    ('a', 'x,y', true, 0.807, timestamptz '2026-03-29 00:59:59+00'),
    ('b', 'dit "non"', false, '-0.0'::double, timestamptz '2026-03-29 01:00:00.5+00'),
    ('c', e'deux\\nlignes', null, 1e-05, timestamptz '2026-10-25 00:30:00.000001+00'),
    ('d', e'retour\\rseul', true, null, null),
    ('e', '', false, 'nan'::double, timestamptz '1900-06-01 12:00:00+00'),
    ('f', null, false, 1.2345678901234568e+18, timestamptz '1969-12-31 23:59:59.25+00'),
    ('g', e' tab\\t; espace ', true, 0.30000000000000004, timestamptz '2000-01-01 00:00:00+00'),
    ('h', 'Élodie ; «ça»', false, -1e16, timestamptz '2026-07-14 12:00:00+00')
) as t(id, "texte, libre", is_ok, score, seen_at)
union all
select 'z' || lpad(i::varchar, 6, '0'), 'n', i % 3 = 0, i / 7,
    timestamptz '2026-01-01 00:00:00+00' + to_seconds(i)
        + to_milliseconds(case when i = 25000 then 250 else 0 end),
from range(45000) as r(i)
order by id
"""


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Sao_Paulo", "Asia/Kolkata"])
def test_csv_lines_write_what_to_csv_writes(zone):
    try:
        data = _data_module()
    finally:
        sys.modules.pop("dashboard_data", None)
    con = duckdb.connect()
    con.execute("set TimeZone = ?", [zone])
    rel = con.sql(EDGES)
    columns = list(zip(rel.columns, map(str, rel.types), strict=True))
    lines = b"".join(r[0] for r in con.execute(data.csv_lines(EDGES, columns)).fetchall())
    assert lines == con.execute(EDGES).df().to_csv(index=False, header=False).encode()
    with pytest.raises(TypeError, match="INTEGER"):
        data.csv_lines("select 1 as n, 'a' as s", [("n", "INTEGER"), ("s", "VARCHAR")])


class _Counting:
    """A connection that counts the rows of each batch fetched."""

    def __init__(self, con, batches: list):
        self.con, self.batches = con, batches

    def execute(self, *args):
        self.con.execute(*args)
        return self

    def fetchmany(self, *args):
        rows = self.con.fetchmany(*args)
        self.batches.append(len(rows))
        return rows

    def __getattr__(self, name):
        return getattr(self.con, name)


def _zone_seen(data) -> tuple[str, datetime]:
    """The dashboards' connection: its TimeZone, and an alert's opened_at as pandas gets it."""
    con = data._open(data.current())
    try:
        (zone,) = con.execute("select current_setting('TimeZone')").fetchone()
        opened = (
            con.execute("select opened_at from alerts where alert_id = 'a-tz'")
            .df()["opened_at"]
            .iloc[0]
        )
        with pytest.raises(duckdb.Error):  # and the configuration stays locked
            con.execute("set TimeZone = 'UTC'")
    finally:
        con.close()
    return zone, opened


@pytest.mark.parametrize("built", ["never", "before 011", "UTC then Asia/Tokyo"])
def test_connection_shows_timestamps_in_the_latest_builds_zone(tmp_path, monkeypatch, built):
    """The dashboards never read the config file: the zone is the one the latest build kept in
    raw.builds (settings.timezone), UTC for a store never built or built before migration 011."""
    w = World(timezone="UTC")
    w.mention(w.doc(NOW - timedelta(days=1)), "Acme", "negative")
    if built == "before 011":
        w.build()
        w.con.execute("alter table raw.builds drop column timezone")  # as before 011
        w.con.execute("create or replace view builds as select * from raw.builds")
    elif built != "never":
        w.build()
        w.config = replace(w.config, settings=Settings(timezone="Asia/Tokyo"))
        w.build(NOW + timedelta(hours=1))
        assert w.con.execute("select list(timezone order by built_at) from builds").fetchone()[
            0
        ] == ["UTC", "Asia/Tokyo"]
    w.con.execute(
        "insert into raw.alerts (alert_id, rule, brand, opened_at, severity, summary, "
        "delivery_status, created_at, updated_at) values ('a-tz', 'reputation_drift', 'Acme', "
        "?, 'warning', 'Dérive', 'stored', ?, ?)",
        [datetime(2026, 6, 1, 22, 0, tzinfo=UTC), NOW, NOW],
    )
    data = _published(w, tmp_path, monkeypatch)
    try:
        zone, opened = _zone_seen(data)
    finally:
        sys.modules.pop("dashboard_data", None)
    expected = "Asia/Tokyo" if built.endswith("Tokyo") else "UTC"
    assert zone == expected
    assert str(opened.tz) == expected
    assert opened == datetime(2026, 6, 1, 22, 0, tzinfo=UTC)  # the same instant
    assert f"{opened:%d/%m/%Y %H:%M}" == (
        "02/06/2026 07:00" if expected == "Asia/Tokyo" else "01/06/2026 22:00"
    )


def test_a_page_still_reading_a_snapshot_keeps_it_through_two_publishes(data):
    # Each batch of a page opens and closes its own connection to the snapshot; closing one
    # drops every classic lock this process holds on the file, DuckDB's included. The pin of
    # the connection still open keeps publish from updating that file in place.
    db = data.db_path()
    snap = data.current()
    reading = data._open(snap)
    expected = reading.execute("select count(*), sum(hash(mention_id)) from mention_search")
    expected = expected.fetchone()
    data._open(snap).close()
    for n in (1, 2):
        with store.open_writer(db) as con:
            con.execute(f"create table extra_{n} as select range as i from range(50000)")
    assert data.current().inode != snap.inode
    got = reading.execute("select count(*), sum(hash(mention_id)) from mention_search")
    assert got.fetchone() == expected
    reading.close()


def test_a_searched_excerpt_shows_the_words_around_the_match(tmp_path, monkeypatch):
    w = World()
    long = "Commande passée en ligne, tout allait bien au début. " * 8
    texts = [
        (long + "Mais la LIVRAISON a pris trois semaines, colis abîmé.", "negative"),
        ("Livraison rapide, rien à redire.", "positive"),  # the match is in sight already
    ]
    for i, (text, label) in enumerate(texts):
        doc = w.doc(NOW - timedelta(days=i), f"Auteur {i}")
        w.con.execute("update raw.documents set text = ? where document_id = ?", [text, doc])
        w.mention(doc, "Acme", label)
    w.build()
    data = _published(w, tmp_path, monkeypatch)
    try:
        got = data.query("mentions_search", **{**FILTERS, "q": "livraison"}, limit=10, offset=0)
        excerpts = dict(zip(got["sentiment_label"], got["excerpt"], strict=True))
        assert excerpts["negative"].startswith("…")
        body = excerpts["negative"][1:]
        assert texts[0][0][texts[0][0].index(body) - 1] == " "  # it starts with a whole word
        assert "LIVRAISON a pris trois semaines" in excerpts["negative"][:80]
        assert excerpts["positive"] == "Livraison rapide, rien à redire."
        plain = data.query("mentions_search", **FILTERS, limit=10, offset=0)
        assert set(plain["excerpt"]) == {long[:280], "Livraison rapide, rien à redire."}
    finally:
        sys.modules.pop("dashboard_data", None)


def test_a_snapshot_gone_before_a_page_opens_it_is_the_pages_empty_state(data, tmp_path):
    gone = replace(data.current(), path=tmp_path / "gone.snapshot.duckdb")
    with pytest.raises(data.NoSnapshot, match="pas encore d'instantané publié"):
        data._open(gone)
