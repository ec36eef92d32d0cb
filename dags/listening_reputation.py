"""listening_reputation: rebuild the marts and evaluate alerts, daily and after new mentions."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

from listening_assets import MENTIONS, REPUTATION
from listening_runtime import DEFAULT_ARGS, POOL_STORE, TAGS, failure_callback

DOC = """
# listening_reputation

Rebuilds the marts (`sql/staging`, then `sql/marts`: reputation_daily, share of voice,
authors, threads…), evaluates the alerts and publishes the read-only snapshot.

Runs every day at 06:00 Europe/Paris (for the day that just ended) **and** whenever
`listening_analyze` produced new mentions (asset `listening_mentions`). Each run builds
"as of" the end of its data interval, so a backfill over past dates rebuilds exactly what the
daily runs built:
`airflow backfill create --dag-id listening_reputation --from-date 2026-01-01 --to-date 2026-02-01`
(one run per 06:00; `--to-date` is read as midnight UTC, so name the day after the last one).
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
    @task(pool=POOL_STORE, outlets=[REPUTATION])
    def build() -> dict:
        """Rebuild staging and marts as of the end of the data interval; evaluate alerts."""
        from listening import pipeline
        from listening_runtime import log, resolve_config_and_store, run_time

        config, db = resolve_config_and_store()
        now = run_time(get_current_context())
        log(f"building as of {now.isoformat()}")
        stats = pipeline.build_stage(
            config, db, now=now, say=log, on_progress=lambda name: log(f"building {name}")
        )
        return {"as_of": now.isoformat(), "n_relations": len(stats.relations)}

    build()


listening_reputation()
