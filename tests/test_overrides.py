"""Sentiment corrections: pending files next to the store, ingested by the next writer."""

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from listening import store
from listening.store.overrides import (
    OverrideError,
    ingest_overrides,
    overrides_dir,
    pending_overrides,
    record_override,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _store_with_mention(db):
    con = duckdb.connect(str(db))
    store.migrate(con)
    con.execute(
        "insert into raw.documents (document_id, kind, url, thread_url, source, published_at, "
        "collected_at, text, run_id) values ('d1', 'post', 'https://x.fr/1', 'https://x.fr/1', "
        "'Blog', ?, ?, 'Acme est nul', 'r1')",
        [NOW, NOW],
    )
    con.execute(
        "insert into raw.mentions (mention_id, document_id, brand, matched_terms, sentiment, "
        "sentiment_label, analyzed_at) values ('m1', 'd1', 'Acme', ['acme'], -0.6, "
        "'negative', ?)",
        [NOW],
    )
    return con


def test_record_writes_one_whole_file_per_correction(tmp_path):
    db = tmp_path / "listening.duckdb"
    p1 = record_override(db, "m1", "positive", "ironie", "alice", NOW)
    p2 = record_override(db, "m1", "neutral", None, None, NOW + timedelta(seconds=1))
    assert p1 != p2 and p1.parent == overrides_dir(db) == tmp_path / "overrides"
    assert json.loads(p1.read_text("utf-8"))["sentiment_label"] == "positive"
    assert sorted(p.name for p in overrides_dir(db).iterdir()) == sorted([p1.name, p2.name])
    assert pending_overrides(db) == {"m1": "neutral"}


def test_unknown_label_is_refused(tmp_path):
    with pytest.raises(OverrideError, match="not one of"):
        record_override(tmp_path / "s.duckdb", "m1", "great", None, None, NOW)
    assert pending_overrides(tmp_path / "s.duckdb") == {}


def test_partial_and_foreign_files_are_ignored(tmp_path):
    db = tmp_path / "s.duckdb"
    folder = overrides_dir(db)
    folder.mkdir()
    (folder / ".20260101-x.json.tmp").write_text('{"mention_id": "m1"')
    (folder / "broken.json").write_text("{not json")
    assert pending_overrides(db) == {}


def test_ingest_upserts_then_deletes(tmp_path):
    db = tmp_path / "listening.duckdb"
    con = _store_with_mention(db)
    record_override(db, "m1", "positive", "ironie", "alice", NOW)
    assert ingest_overrides(con, db, NOW) == 1
    assert pending_overrides(db) == {}
    assert list(overrides_dir(db).glob("*.json")) == []
    row = con.execute(
        "select sentiment_label, is_overridden from mentions where mention_id = 'm1'"
    ).fetchone()
    assert row == ("positive", True)
    # A second correction of the same mention replaces the first.
    record_override(db, "m1", "neutral", None, "bob", NOW + timedelta(hours=1))
    assert ingest_overrides(con, db, NOW) == 1
    assert con.execute(
        "select sentiment_label, created_by from raw.sentiment_overrides"
    ).fetchall() == [("neutral", "bob")]
    assert ingest_overrides(con, db, NOW) == 0


def test_failed_ingest_keeps_the_files(tmp_path):
    db = tmp_path / "listening.duckdb"
    con = duckdb.connect(str(db))  # no migrations: raw.sentiment_overrides does not exist
    record_override(db, "m1", "positive", None, None, NOW)
    with pytest.raises(duckdb.Error):
        ingest_overrides(con, db, NOW)
    assert pending_overrides(db) == {"m1": "positive"}
