"""What the listening DAGs share: default arguments, where a task finds its config, the failure
callback, and ``run_task``: every task body is one call of it (the body itself is a function of
``listening.tasks``). Imports only ``airflow.sdk`` and the standard library at the top: the
``listening`` package (and duckdb, feedparser) is imported inside the functions, when a task
runs, so parsing a DAG file stays cheap and never touches the store or the network.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Variable, get_current_context

OWNER = "listening"
TAGS = ["listening"]
# Pool names: `make airflow-init` creates them (listening_http 8 slots, listening_store 1).
POOL_HTTP = "listening_http"
POOL_STORE = "listening_store"  # one slot: DuckDB allows a single writer process
# The Celery queue of the tasks that open the store (plan, load, analyze, build): only the
# worker on the store's host serves it (`make scale-demo`); the weekly report's tasks too (they
# read the snapshot beside the store). fetch stays on the default queue.
# Executors without queues (LocalExecutor of `airflow standalone`, `dags test`) ignore it.
QUEUE_STORE = "listening_store"


def failure_callback(context: dict[str, Any]) -> None:
    """Record the failure as a pending alert and notify ``LISTENING_WEBHOOK_URL``.

    Set on every task (after its last retry: the exception is known) and on every DAG (a run
    that fails for another reason than a task, e.g. a deadlock). It never opens the store (a
    writer may hold it): the failure is written under ``<store folder>/failures/`` and the next
    writer stage ingests it into the alerts.
    """
    from listening.store.failures import record_task_failure
    from listening.tasks import resolve

    reason = context.get("reason")  # only in DAG-level callbacks
    if reason == "task_failure":
        return  # the failed task's own callback has recorded it, with its exception
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    dag_id = dag_id or getattr(dag_run, "dag_id", "?")
    task_id = getattr(ti, "task_id", None) if reason is None else None
    map_index = getattr(ti, "map_index", -1)
    if task_id and map_index is not None and map_index >= 0:
        task_id = f"{task_id}[{map_index}]"
    run_id = getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None) or "?"
    exc = context.get("exception")
    if exc is not None:
        error = f"{type(exc).__name__}: {exc}"
    else:
        error = f"the run failed: {reason or 'no exception given'}"
    config, db = None, None
    try:
        config, db = resolve(config_location())
    except Exception as resolve_error:  # the callback must still record and notify
        error += f" (and the config could not be read: {resolve_error})"
    record_task_failure(config, db, dag_id, task_id or "(run)", run_id, error, datetime.now(UTC))


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    # Airflow 3: a multiplier (2.0 doubles the delay at each retry), capped by max_retry_delay.
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": failure_callback,
}


def config_location() -> str:
    """The Airflow Variable ``LISTENING_CONFIG`` if set, else the environment variable."""
    value = Variable.get("LISTENING_CONFIG", default=None) or os.environ.get("LISTENING_CONFIG")
    if not value:
        raise RuntimeError(
            "no listening config: set the environment variable LISTENING_CONFIG for the "
            "Airflow processes (dags/airflow-env.sh does) or the Airflow Variable "
            "LISTENING_CONFIG to the path of listening.toml"
        )
    return value


def run_time(context: dict[str, Any]) -> datetime:
    """The instant a run stands for: the end of its data interval, else when it was due.

    Using the run's own time (not the clock) makes a re-run, or a backfill over past dates,
    compute exactly what the original run did.
    """
    dag_run = context.get("dag_run")
    for value in (
        context.get("data_interval_end"),
        context.get("logical_date"),
        getattr(dag_run, "run_after", None),
    ):
        if value is not None:
            return datetime.fromtimestamp(value.timestamp(), tz=UTC)
    return datetime.now(UTC)


def is_daily_run(context: dict[str, Any]) -> bool:
    """A run of the schedule itself (or a backfill of it), as opposed to one triggered by new
    mentions or by hand: it stands for the day that just ended."""
    dag_run = context.get("dag_run")
    return str(getattr(dag_run, "run_type", "")) in ("scheduled", "backfill")


def log(message: str) -> None:
    """Print to the task log (Airflow captures stdout)."""
    print(message, flush=True)


def run_task(name: str, /, *, labels: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Run ``listening.tasks.<name>`` for the current task instance; return its XCom value.

    The package resolves the config (``config_location``) and the store, calls the stage and
    logs; this adds what only Airflow knows: the run's time, whether it is a daily run, XCom
    under another key. ``labels`` go into the context first (for ``map_index_template``);
    ``listening.tasks.NothingToDo`` marks the task skipped (no asset event).
    """
    from airflow.sdk.exceptions import AirflowSkipException

    from listening import tasks

    context = get_current_context()
    for key, value in (labels or {}).items():
        context[key] = value
    ti = context["ti"]
    try:
        return tasks.run(
            name,
            config_location(),
            run_time(context),
            log,
            is_daily=is_daily_run(context),
            push=lambda key, value: ti.xcom_push(key=key, value=value),
            **kwargs,
        )
    except tasks.NothingToDo as exc:
        raise AirflowSkipException(str(exc)) from None
