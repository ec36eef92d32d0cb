"""listening_collect: plan, fetch (one mapped task per due source) and load."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from listening_assets import DOCUMENTS
from listening_runtime import (
    DEFAULT_ARGS,
    POOL_HTTP,
    POOL_STORE,
    QUEUE_STORE,
    TAGS,
    failure_callback,
)

# A cron expression or preset ("@hourly"); "none" for manual runs only. Read from the
# environment of the DAG processor, without I/O, so parsing this file stays cheap.
_SCHEDULE = os.environ.get("LISTENING_COLLECT_SCHEDULE", "*/30 * * * *").strip()
SCHEDULE = None if _SCHEDULE.lower() in ("", "none", "manual") else _SCHEDULE

DOC = """
# listening_collect

Fetches every **due** source of `listening.toml` and loads the new documents into the store.
Schedule: `LISTENING_COLLECT_SCHEDULE` (default every 30 minutes, UTC; `none` = manual only).

1. **plan** (pool `listening_store`): loads what an interrupted run left in `staging/`, writes
   the plan of due sources to `staging/<run>/plan.json`. XCom: the plan path and source names.
2. **fetch** (pool `listening_http`, one mapped task per source, named after it): fetches the
   source and its comment threads into staging files. No store access; may run on any worker
   that shares the staging folder. A web problem (timeout, 404, 410, malformed feed) is *not* a
   task failure: it becomes the source's status (`listening sources`), with backoff.
3. **load** (pool `listening_store`, one slot): the single DuckDB writer moves complete staged
   units into the store in one transaction, publishes the read-only snapshot and updates the
   asset `listening_documents` (which triggers `listening_analyze`). Skipped when nothing new.

## When a task fails
Each failure (after 2 retries with exponential backoff) is written to `failures/` beside the
store, becomes an alert at the next writer stage, and is posted to `LISTENING_WEBHOOK_URL`.

- **plan** fails: the config is invalid (the log names the file, key and fix: correct it), or
  `LISTENING_CONFIG` is not set, or the store cannot be opened (disk full, permissions,
  a store written by a newer `listening`: upgrade). A lock wait is not a failure: it waits.
- **fetch** fails: a bug or the staging folder is not writable (disk full, permissions,
  shared storage unmounted). Nothing is lost: the next run fetches again.
- **load** fails: disk full, or a corrupt staging file (the log names it: move it aside).
  Staged files stay and are loaded by the next `plan` or `load`.

To pause a source: `enabled = false` in the config. To re-enable one the pipeline disabled
after repeated failures or a 410: `listening sources --enable NAME`.
"""


@dag(
    dag_id="listening_collect",
    schedule=SCHEDULE,
    start_date=datetime(2025, 1, 1),
    catchup=False,  # fetching the past is impossible: feeds only show their present
    max_active_runs=1,
    tags=TAGS,
    default_args=DEFAULT_ARGS,
    doc_md=DOC,
    on_failure_callback=failure_callback,
)
def listening_collect():
    @task(pool=POOL_STORE, queue=QUEUE_STORE)
    def plan() -> list[str]:
        """Write the plan of due sources. XCom: their names, and the plan's path (key plan_path)."""
        from listening import pipeline
        from listening.collect.staging import read_plan
        from listening_runtime import log, resolve_config_and_store, run_time

        context = get_current_context()
        config, db = resolve_config_and_store()
        path = pipeline.plan_collect(config, db, run_time(context), say=log)
        names = [u.name for u in read_plan(path)]
        log(f"{len(names)} source(s) due: {', '.join(names) or 'none'}")
        # Only the return value can be mapped over; the path travels under its own key.
        context["ti"].xcom_push(key="plan_path", value=str(path))
        return names

    @task(pool=POOL_HTTP, map_index_template="{{ source_name }}")
    def fetch(name: str, plan_path: str) -> dict:
        """Fetch one due source (and its comment threads) into the run's staging folder."""
        from pathlib import Path

        from listening import pipeline
        from listening_runtime import log, resolve_config_and_store, run_time

        context = get_current_context()
        context["source_name"] = name  # shown as the map index in the UI
        config, _db = resolve_config_and_store()
        results = pipeline.fetch_planned(
            config, Path(plan_path), run_time(context), only=[name], on_progress=log
        )
        counts = {"source": name, "n_documents": 0, "n_fetches": 0, "n_not_modified": 0}
        for r in results:
            counts["n_documents"] += r.n_documents
            counts["n_fetches"] += r.n_fetches
            counts["n_not_modified"] += r.n_not_modified
            for error in r.errors:
                log(f"{r.name}: {error}")  # a web problem: recorded as the source's status
        counts["n_errors"] = sum(len(r.errors) for r in results)
        return counts

    # none_failed: load also runs when no source was due (fetch is then skipped), to load
    # what an interrupted run staged.
    @task(pool=POOL_STORE, queue=QUEUE_STORE, outlets=[DOCUMENTS], trigger_rule="none_failed")
    def load() -> dict:
        """The single writer: move complete staged units into the store, publish the snapshot."""
        from airflow.sdk.exceptions import AirflowSkipException

        from listening import pipeline
        from listening_runtime import log, resolve_config_and_store, run_time

        config, db = resolve_config_and_store()
        stats = pipeline.load(config, db, run_time(get_current_context()), say=log)
        counts = {
            "n_units": stats.n_units,
            "n_documents_new": stats.n_documents_new,
            "n_documents_updated": stats.n_documents_updated,
        }
        log(f"loaded: {counts}")
        if stats.n_units == 0:
            # No asset event, so analyze and reputation do not run for nothing.
            raise AirflowSkipException("nothing staged to load")
        return counts

    planned = plan()
    fetched = fetch.partial(plan_path=planned["plan_path"]).expand(name=planned)
    fetched >> load()


listening_collect()
