"""Analysts' sentiment corrections, recorded without opening the live store.

DuckDB lets one process write the store, and the pipeline may be writing it when an analyst
corrects a label in the dashboards. So a correction is first a small JSON file in
``<store folder>/overrides/`` (written to a temporary name, then renamed: a reader sees a whole
file or none). The next writer stage calls :func:`ingest_overrides`, which upserts the pending
files into ``raw.sentiment_overrides`` and deletes them once the upsert is committed.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from listening.errors import ListeningError

LABELS = ("positive", "neutral", "negative")


class OverrideError(ListeningError):
    """A correction that cannot be recorded (unknown label, empty mention id)."""


def overrides_dir(db: Path) -> Path:
    return db.parent / "overrides"


def record_override(
    db: Path,
    mention_id: str,
    label: str,
    note: str | None,
    by: str | None,
    now: datetime,
) -> Path:
    """Write one pending correction next to the store; return the file written."""
    if label not in LABELS:
        raise OverrideError(f"label {label!r} is not one of {', '.join(LABELS)}")
    if not mention_id:
        raise OverrideError("a correction needs a mention_id")
    folder = overrides_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    created_at = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    record = {
        "mention_id": mention_id,
        "sentiment_label": label,
        "note": note or None,
        "created_by": by or None,
        "created_at": created_at.isoformat(),
    }
    # The name sorts by time, so later corrections of one mention win on ingestion.
    name = f"{created_at.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:12]}.json"
    target = folder / name
    tmp = folder / f".{name}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def _pending_files(db: Path) -> list[tuple[Path, dict]]:
    """Whole pending files in time order; unreadable ones are skipped (not ours to delete)."""
    folder = overrides_dir(db)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if (
            isinstance(record, dict)
            and record.get("mention_id")
            and record.get("sentiment_label") in LABELS
        ):
            out.append((path, record))
    return out


def pending_overrides(db: Path) -> dict[str, str]:
    """Corrections not yet in the store: mention_id → label (the latest correction wins)."""
    return {r["mention_id"]: r["sentiment_label"] for _, r in _pending_files(db)}


def ingest_overrides(con: duckdb.DuckDBPyConnection, db: Path, now: datetime) -> int:
    """Upsert the pending corrections into ``raw.sentiment_overrides``; return how many.

    Call it from a writer stage (it holds the store lock), outside any open transaction: it
    commits its own, and deletes the files only after the commit, so a crash in between
    re-ingests the same rows next time (the upsert makes that harmless).
    """
    pending = _pending_files(db)
    if not pending:
        return 0
    latest: dict[str, dict] = {}
    for _, record in pending:
        latest[record["mention_id"]] = record
    rows = [
        (
            r["mention_id"],
            r["sentiment_label"],
            r.get("note"),
            r.get("created_by"),
            r.get("created_at") or now.isoformat(),
        )
        for r in latest.values()
    ]
    con.execute("begin transaction")
    try:
        con.executemany(
            "insert into raw.sentiment_overrides "
            "(mention_id, sentiment_label, note, created_by, created_at) "
            "values (?, ?, ?, ?, ?::timestamptz) "
            "on conflict (mention_id) do update set "
            "sentiment_label = excluded.sentiment_label, note = excluded.note, "
            "created_by = excluded.created_by, created_at = excluded.created_at",
            rows,
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    for path, _ in pending:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return len(rows)
