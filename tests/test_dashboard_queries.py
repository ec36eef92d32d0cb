"""The dashboards' named queries on a built snapshot (no browser): the Mentions page's search
and filters read the mention_search mart and answer as the mentions view did; the CSV export
streams in batches and writes what ``DataFrame.to_csv`` wrote."""

from __future__ import annotations

import importlib.util
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


def test_export_streams_batches_and_writes_what_to_csv_wrote(data, monkeypatch):
    batches = []
    monkeypatch.setattr(
        data, "_open", lambda snap, _open=data._open: _Counting(_open(snap), batches)
    )
    params = {**FILTERS, "limit": 100_000}
    whole = data.query("mentions_export", **params).to_csv(index=False).encode()
    monkeypatch.setattr(data, "EXPORT_BATCH_VECTORS", 1)  # 5,012 rows: three batches
    assert data.csv_export("mentions_export", **params) == whole
    assert batches == [2048, 2048, 916, 0]  # streamed, never one frame of 5,012 rows
    empty = data.csv_export("mentions_export", **{**params, "q": "introuvable"})
    assert (
        empty
        == data.query("mentions_export", **{**params, "q": "introuvable"})
        .to_csv(index=False)
        .encode()
    )
    assert empty.startswith(b"mention_id,published_at,brand")


class _Counting:
    """A connection that counts the batches fetched."""

    def __init__(self, con, batches: list):
        self.con, self.batches = con, batches

    def fetch_df_chunk(self, *args):
        df = self.con.fetch_df_chunk(*args)
        self.batches.append(len(df))
        return df

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
