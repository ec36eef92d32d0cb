"""listening_collect: plan, fetch (one mapped task per due source) and load."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import dag, task

from listening_assets import DOCUMENTS
from listening_runtime import (
    DEFAULT_ARGS,
    POOL_HTTP,
    POOL_STORE,
    QUEUE_STORE,
    TAGS,
    failure_callback,
    run_task,
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
        return run_task("plan")

    @task(pool=POOL_HTTP, map_index_template="{{ source_name }}")
    def fetch(name: str, plan_path: str) -> dict:
        """Fetch one due source (and its comment threads) into the run's staging folder."""
        # source_name: shown as the map index in the UI
        return run_task("fetch", labels={"source_name": name}, name=name, plan_path=plan_path)

    # none_failed: load also runs when no source was due (fetch is then skipped), to load
    # what an interrupted run staged.
    @task(pool=POOL_STORE, queue=QUEUE_STORE, outlets=[DOCUMENTS], trigger_rule="none_failed")
    def load() -> dict:
        """The single writer: move complete staged units into the store, publish the snapshot."""
        return run_task("load")

    planned = plan()
    fetched = fetch.partial(plan_path=planned["plan_path"]).expand(name=planned)
    fetched >> load()


listening_collect()
