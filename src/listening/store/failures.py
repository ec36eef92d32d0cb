"""Task failures reported by the scheduler (Airflow's failure callback), turned into alerts.

A failure callback may run while a writer holds the store, and DuckDB lets no other process
open it then. So recording a failure never opens the store: it writes one JSON file under
``<store folder>/failures/`` (write aside, then rename: readers see whole files only) and
posts to the webhook. The next writer stage calls ``ingest_failures`` inside its connection,
which turns the pending files into ``alerts`` rows and moves them to ``failures/ingested/``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from listening import store
from listening.models import stable_id

if TYPE_CHECKING:
    import duckdb

    from listening.config import Config

ENV_WEBHOOK = "LISTENING_WEBHOOK_URL"
# (connect, read) seconds: a callback must not hold a worker slot for a slow chat server.
WEBHOOK_TIMEOUT = (3.0, 5.0)
MAX_ERROR_CHARS = 4000

log = logging.getLogger(__name__)


def failures_dir(db: Path) -> Path:
    return db.parent / "failures"


def record_task_failure(
    config: Config | None,
    db: Path | None,
    dag_id: str,
    task_id: str,
    run_id: str,
    error: str,
    now: datetime,
    *,
    webhook_url: str | None = None,
) -> Path | None:
    """Write a pending failure file for the next writer stage and notify the webhook.

    Never raises: this runs in a failure callback, where an exception would hide the original
    error. ``config`` or ``db`` may be None when the failure was that they could not be read;
    then only the webhook (and the log) hear of it. Returns the pending file, if written.
    """
    now = now.astimezone(UTC)
    record = {
        "failure_id": stable_id("task_failure", dag_id, task_id, run_id),
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "error": (error or "")[:MAX_ERROR_CHARS],
        "failed_at": now.isoformat(),
        "config": str(config.path) if config is not None else None,
    }
    url = webhook_url or os.environ.get(ENV_WEBHOOK)
    if url:
        private = config.settings.allow_private_networks if config is not None else False
        delivery_error = notify(record, url, allow_private_networks=private)
        record["delivery"] = "failed" if delivery_error else "sent"
        record["delivery_error"] = delivery_error
    else:
        record["delivery"] = "stored"  # as the build does for alerts without a webhook
    if db is None:
        return None
    try:
        return _write_pending(failures_dir(db), record, now)
    except OSError as exc:
        log.error(
            "cannot record the failure of %s.%s under %s: %s",
            dag_id,
            task_id,
            failures_dir(db),
            exc,
        )
        return None


def _write_pending(folder: Path, record: dict[str, Any], now: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{now:%Y%m%dT%H%M%S%f}Z-{record['failure_id']}-{secrets.token_hex(3)}.json"
    target = folder / name
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), "utf-8")
    os.replace(tmp, target)
    return target


def notify(record: dict[str, Any], url: str, *, allow_private_networks: bool = False) -> str | None:
    """POST the failure to ``url`` (a Slack/Mattermost-style ``text``, plus the fields), through
    the network guard like every alert (``listening.notify.post_json``: no redirects, no
    environment proxies). Returns None when the server accepted it, else the error in one
    line; never raises.
    """
    try:
        from listening.notify import post_json

        payload = {"text": f"🔴 {summary(record)}", **record}
        delivery = post_json(
            url,
            payload,
            tries=1,
            timeout=WEBHOOK_TIMEOUT,
            allow_private_networks=allow_private_networks,
        )
        if not delivery.ok:
            log.warning("cannot notify the webhook %s: %s", url, delivery.error)
            return delivery.error or "not delivered"
        return None
    except Exception as exc:  # any failure to notify is logged, never raised (see docstring)
        log.warning("cannot notify the webhook %s: %s", url, exc)
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


# -- ingestion, by a writer stage -----------------------------------------------------------------

RULE = "task_failure"
# raw.alerts.brand is NOT NULL; a pipeline failure concerns every brand.
ALL_BRANDS = "*"


def pending_failures(db: Path) -> list[Path]:
    folder = failures_dir(db)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _has_alerts_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' "
            "and table_name = 'alerts'"
        ).fetchone()[0]
    )


def summary(record: dict[str, Any]) -> str:
    """One French sentence for the analyst, like the other alerts."""
    lines = (record.get("error") or "").strip().splitlines()
    return (
        f"La tâche {record['dag_id']}.{record['task_id']} a échoué "
        f"(run {record['run_id']}) : {lines[0] if lines else 'erreur inconnue'}"
    )


def ingest_failures(con: duckdb.DuckDBPyConnection, db: Path, now: datetime) -> int:
    """Turn pending failure files into ``raw.alerts`` rows (rule ``task_failure``); return how many.

    Call it inside a writer's connection (``store.open_writer``), outside another transaction.
    The upsert on ``alert_id`` (dag, task, run) makes ingesting a file twice harmless; files move
    to ``failures/ingested/`` only after the commit. The delivery state says what the callback
    did: ``sent``, ``failed`` (so ``alerts.delivery.deliver_pending`` retries it at the next
    build) or ``stored`` (no webhook). Without an alerts table (an old store) the files stay
    pending.
    """
    files = pending_failures(db)
    if not files:
        return 0
    if not _has_alerts_table(con):
        log.warning(
            "%d task failure(s) pending in %s: this store has no alerts table yet",
            len(files),
            failures_dir(db),
        )
        return 0
    records, read = [], []
    for path in files:
        try:
            records.append(json.loads(path.read_text("utf-8")))
            read.append(path)
        except (OSError, ValueError) as exc:
            log.warning("leaving the unreadable failure file %s pending: %s", path, exc)
    with store.transaction(con):
        for r in records:
            failed_at = datetime.fromisoformat(r["failed_at"])
            delivery = r.get("delivery") or "stored"
            con.execute("delete from raw.alerts where alert_id = ?", [r["failure_id"]])
            con.execute(
                "insert into raw.alerts (alert_id, rule, brand, subject, opened_at, closed_at, "
                "severity, summary, evidence, delivery_status, delivered_at, attempts, "
                "last_error, created_at, updated_at) "
                "values (?, ?, ?, ?, ?, null, 'critical', ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    r["failure_id"],
                    RULE,
                    ALL_BRANDS,
                    f"{r['dag_id']}.{r['task_id']}",
                    failed_at,
                    summary(r),
                    [r["run_id"]],
                    delivery,
                    failed_at if delivery == "sent" else None,
                    1 if delivery in ("sent", "failed") else 0,
                    r.get("delivery_error"),
                    now,
                    now,
                ],
            )
    done = failures_dir(db) / "ingested"
    done.mkdir(exist_ok=True)
    for path in read:
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, done / path.name)
    return len(records)
