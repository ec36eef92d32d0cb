"""listening_analyze: match brands and score sentiment for new documents."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from listening_assets import DOCUMENTS, MENTIONS
from listening_runtime import (
    DEFAULT_ARGS,
    POOL_STORE,
    QUEUE_STORE,
    TAGS,
    failure_callback,
    run_task,
)

DOC = """
# listening_analyze

Runs when `listening_collect` loaded new documents (asset `listening_documents`). For the
documents not analysed yet (or whose text or the brand queries changed), it matches the brand
queries, scores French sentiment and tags aspects, then publishes the read-only snapshot and
updates the asset `listening_mentions` (which triggers `listening_reputation`). Skipped when
there was nothing to analyse. Pool `listening_store` (the single DuckDB writer).

## When it fails
Retried twice with exponential backoff; then recorded as an alert (`failures/` beside the
store, ingested by the next writer stage) and posted to `LISTENING_WEBHOOK_URL`.

- `ConfigError`: `listening.toml` is invalid; the log names the key and the fix. A brand query
  that does not parse can be tried with `listening match 'QUERY' 'text'`.
- `StoreError`: the store cannot be opened (disk full, permissions, newer schema: upgrade).
- Anything else is a bug: re-run with `listening analyze` from the CLI to reproduce it.
Re-running is safe: already analysed documents are skipped.
"""


@dag(
    dag_id="listening_analyze",
    schedule=[DOCUMENTS],
    start_date=datetime(2025, 1, 1),
    catchup=False,  # asset-triggered: there is no past interval to catch up
    max_active_runs=1,
    tags=TAGS,
    default_args=DEFAULT_ARGS,
    doc_md=DOC,
    on_failure_callback=failure_callback,
)
def listening_analyze():
    @task(pool=POOL_STORE, queue=QUEUE_STORE, outlets=[MENTIONS])
    def analyze() -> dict:
        """Analyse the documents not analysed yet; publish the snapshot."""
        return run_task("analyze")

    analyze()


listening_analyze()
