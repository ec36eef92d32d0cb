"""listening_reputation: rebuild the marts and evaluate alerts, daily and after new mentions."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from listening_assets import MENTIONS, REPUTATION
from listening_runtime import (
    DEFAULT_ARGS,
    POOL_STORE,
    QUEUE_STORE,
    TAGS,
    failure_callback,
    run_task,
)

DOC = """
# listening_reputation

Rebuilds the marts (`sql/staging`, then `sql/marts`: reputation_daily, share of voice,
authors, threads…), evaluates the alerts and publishes the read-only snapshot.

Runs every day at 06:00 Europe/Paris **and** whenever `listening_analyze` produced new
mentions (asset `listening_mentions`). Days are local (`settings.timezone`). The daily run
(and a backfill of it) builds the day that just ended: the 06:00 run of 2 January builds up to
1 January, never a partial 2 January. A run on new mentions, or by hand, builds up to today so
far. Each run reads the time from its data interval, not the clock, so a backfill over past
dates rebuilds exactly what the daily runs built:
`airflow backfill create --dag-id listening_reputation --from-date 2026-01-02 --to-date 2026-02-02`
rebuilds 1 to 31 January (one run per 06:00, each building the day before; `--to-date` is
read as midnight UTC, so it names the day after the last run).
Pool `listening_store` (the single DuckDB writer).

## When it fails
Retried twice with exponential backoff; then recorded as an alert (`failures/` beside the
store) and posted to `LISTENING_WEBHOOK_URL`.

- A DuckDB error (Binder, Catalog, Conversion…): a file of `sql/staging` or `sql/marts` is
  wrong; the last relation the log names before the error is the file. The build is one
  transaction, so the marts keep their previous state; fix the file (or upgrade), clear the task.
- `StoreError`: disk full, permissions, or a store with a newer schema (upgrade listening).
- `ConfigError`: `listening.toml` is invalid; the log names the key and the fix.
"""

# 06:00 in Paris whatever the season (the timetable follows DST). A trigger timetable: the
# run's logical date, and the end of its data interval, is that 06:00, so a backfilled date
# reads as the day it rebuilds.
DAILY = CronTriggerTimetable("0 6 * * *", timezone="Europe/Paris")


@dag(
    dag_id="listening_reputation",
    schedule=AssetOrTimeSchedule(timetable=DAILY, assets=[MENTIONS]),
    start_date=datetime(2025, 1, 1),
    catchup=False,  # past days are rebuilt on purpose, with `airflow backfill create`
    max_active_runs=1,
    tags=TAGS,
    default_args=DEFAULT_ARGS,
    doc_md=DOC,
    on_failure_callback=failure_callback,
)
def listening_reputation():
    @task(pool=POOL_STORE, queue=QUEUE_STORE, outlets=[REPUTATION])
    def build() -> dict:
        """Rebuild staging and marts up to the day the run stands for; evaluate alerts."""
        return run_task("build")

    build()


listening_reputation()
