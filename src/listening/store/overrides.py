"""Analysts' sentiment corrections, recorded without opening the live store.

DuckDB lets one process write the store, and the pipeline may be writing it when an analyst
corrects a label in the dashboards. So a correction is first a small JSON file in
``<store folder>/overrides/`` (written to a temporary name, then renamed: a reader sees a whole
file or none). The next writer stage calls :func:`ingest_overrides`, which upserts the pending
files into ``raw.sentiment_overrides`` and deletes them once the upsert is committed. A file
that is not a valid correction (not JSON, a ``mention_id`` that is not a string, a
``created_at`` that is not a timestamp…) is moved to ``overrides/rejected/`` with a
``.reason.txt`` beside it, and the other corrections go in; anything that is not a regular file
(a FIFO, a symlink) is left alone and never read.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from listening import store
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


# A correction is a few hundred bytes; anything much larger is not one of ours.
MAX_FILE_BYTES = 64 * 1024
_TEXT_FIELDS = ("note", "created_by")


def rejected_dir(db: Path) -> Path:
    return overrides_dir(db) / "rejected"


def _read_record(path: Path) -> dict:
    """The correction in ``path``; ``ValueError`` saying what is wrong with it.

    Opened without blocking and checked to be a regular file *after* opening, so a FIFO or a
    device dropped in the folder can never hang a stage.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _NotAFile
        raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 1024} KiB: not a correction")
    try:
        record = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    return _checked(record)


def _checked(record) -> dict:
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    mention_id = record.get("mention_id")
    if not isinstance(mention_id, str) or not mention_id.strip():
        raise ValueError(f"mention_id must be a non-empty string, got {_short(mention_id)}")
    if record.get("sentiment_label") not in LABELS:
        raise ValueError(
            f"sentiment_label must be one of {', '.join(LABELS)}, "
            f"got {_short(record.get('sentiment_label'))}"
        )
    for key in _TEXT_FIELDS:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ValueError(f"{key} must be a string or null, got {_short(record[key])}")
    created_at = record.get("created_at")
    if created_at is not None:
        try:
            if not isinstance(created_at, str):
                raise TypeError
            parsed = datetime.fromisoformat(created_at)
        except (TypeError, ValueError):
            raise ValueError(
                f"created_at must be an ISO 8601 timestamp or null, got {_short(created_at)}"
            ) from None
        record["created_at"] = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()
    return record


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else f"{text[:57]}..."


class _NotAFile(Exception):
    """A FIFO, socket, device or symlink in the folder: never read, never moved."""


def _pending_files(db: Path, rejects: list[tuple[Path, str]] | None = None) -> list:
    """Whole, valid pending files in time order, as (path, record).

    Anything that is not a regular file is skipped. A file that is not a valid correction is
    skipped too, and listed in ``rejects`` with the reason when the caller will move it aside.
    """
    folder = overrides_dir(db)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            out.append((path, _read_record(path)))
        except (_NotAFile, OSError):
            continue
        except ValueError as exc:
            if rejects is not None:
                rejects.append((path, str(exc)))
    return out


def pending_overrides(db: Path) -> dict[str, str]:
    """Corrections not yet in the store: mention_id → label (the latest correction wins)."""
    return {r["mention_id"]: r["sentiment_label"] for _, r in _pending_files(db)}


def _reject(db: Path, path: Path, reason: str, now: datetime) -> None:
    """Move a bad file to ``overrides/rejected/`` with ``<name>.reason.txt`` beside it."""
    folder = rejected_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{uuid.uuid4().hex[:8]}{path.suffix}"
    (folder / f"{target.name}.reason.txt").write_text(
        f"{now.astimezone(UTC).isoformat()} {path.name}: {reason}\n"
        "Not ingested. Fix the file and move it back to overrides/, or delete it.\n",
        "utf-8",
    )
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, target)


def ingest_overrides(con: duckdb.DuckDBPyConnection, db: Path, now: datetime) -> int:
    """Upsert the pending corrections into ``raw.sentiment_overrides``; return how many.

    Call it from a writer stage (it holds the store lock), outside any open transaction: it
    commits its own, and deletes the files only after the commit, so a crash in between
    re-ingests the same rows next time (the upsert makes that harmless).
    """
    rejects: list[tuple[Path, str]] = []
    pending = _pending_files(db, rejects)
    for path, reason in rejects:
        _reject(db, path, reason, now)
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
    with store.transaction(con):
        con.executemany(
            "insert into raw.sentiment_overrides "
            "(mention_id, sentiment_label, note, created_by, created_at) "
            "values (?, ?, ?, ?, ?::timestamptz) "
            "on conflict (mention_id) do update set "
            "sentiment_label = excluded.sentiment_label, note = excluded.note, "
            "created_by = excluded.created_by, created_at = excluded.created_at",
            rows,
        )
    for path, _ in pending:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return len(rows)
