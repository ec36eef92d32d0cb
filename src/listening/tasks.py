"""The bodies of the Airflow tasks: one function per task of ``dags/``, run by ``run``.

``run`` resolves the config and the store, then calls the body with a ``TaskRun`` (the config,
the store, the instant the run stands for, a log). A body calls the stage it stands for, logs
what it did and returns the task's XCom value; when there was nothing to do it raises
``NothingToDo``, which ``dags/listening_runtime.run_task`` turns into a skipped task (no
asset event: the next DAG does not run for nothing). Never imports Airflow: what only Airflow
knows (the run's time, a scheduled run or not, XCom under another key, the SMTP connection)
comes in through ``run``'s arguments. Heavy imports stay inside the bodies: a fetch task does
not load the report's PDF stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from listening.config import Config

Log = Callable[[str], None]


class NothingToDo(Exception):
    """The task had nothing to do; the message says why (the runner marks the task skipped)."""


def _no_push(key: str, value: Any) -> None:
    """XCom beyond the return value goes nowhere (a task run outside Airflow)."""


@dataclass(frozen=True)
class TaskRun:
    config: Config
    db: Path
    now: datetime  # the instant the run stands for (its data interval's end), not the clock
    log: Log
    is_daily: bool = False  # a scheduled (or backfilled) run: it stands for the day that ended
    push: Callable[[str, Any], None] = _no_push  # XCom under its own key


def resolve(location: str | Path) -> tuple[Config, Path]:
    """Load and validate the config; the store is ``LISTENING_DB``, else ``settings.store``."""
    from listening.configfile import load_config
    from listening.store import store_path

    config = load_config(Path(location).expanduser())
    return config, store_path(None, config.store_path)


def run(
    name: str,
    location: str | Path,
    now: datetime,
    log: Log,
    /,
    *,
    is_daily: bool = False,
    push: Callable[[str, Any], None] | None = None,
    **kwargs: Any,
) -> Any:
    """Run the body of task ``name`` with the config at ``location``; return its XCom value.
    ``kwargs`` go to the body (positional-only parameters: a body may take a ``name``)."""
    config, db = resolve(location)
    task = TaskRun(config, db, now, log, is_daily, push or _no_push)
    return BODIES[name](task, **kwargs)


def _done(task: TaskRun, what: str, counts: dict, nothing: str | None = None) -> dict:
    """Log the counts; raise ``NothingToDo(nothing)`` when given (the stage found no work)."""
    task.log(f"{what}: {counts}")
    if nothing:
        raise NothingToDo(nothing)
    return counts


# -- listening_collect --------------------------------------------------------------------------


def plan(task: TaskRun) -> list[str]:
    """Write the plan of due sources. XCom: their names, and the plan's path (key plan_path)."""
    from listening import pipeline
    from listening.collect.staging import read_plan

    path = pipeline.plan_collect(task.config, task.db, task.now, say=task.log)
    names = [u.name for u in read_plan(path)]
    task.log(f"{len(names)} source(s) due: {', '.join(names) or 'none'}")
    # Only the return value can be mapped over; the path travels under its own key.
    task.push("plan_path", str(path))
    return names


def fetch(task: TaskRun, name: str, plan_path: str) -> dict:
    """Fetch one due source (and its comment threads) into the run's staging folder."""
    from listening import pipeline

    results = pipeline.fetch_planned(
        task.config, Path(plan_path), task.now, only=[name], on_progress=task.log
    )
    counts = {"source": name, "n_documents": 0, "n_fetches": 0, "n_not_modified": 0}
    for r in results:
        counts["n_documents"] += r.n_documents
        counts["n_fetches"] += r.n_fetches
        counts["n_not_modified"] += r.n_not_modified
        for error in r.errors:
            task.log(f"{r.name}: {error}")  # a web problem: recorded as the source's status
    counts["n_errors"] = sum(len(r.errors) for r in results)
    return counts


def load(task: TaskRun) -> dict:
    """The single writer: move complete staged units into the store, publish the snapshot."""
    from listening import pipeline

    stats = pipeline.load(task.config, task.db, task.now, say=task.log)
    counts = {
        "n_units": stats.n_units,
        "n_documents_new": stats.n_documents_new,
        "n_documents_updated": stats.n_documents_updated,
    }
    # Skipped: no asset event, so analyze and reputation do not run for nothing.
    return _done(task, "loaded", counts, "nothing staged to load" if stats.n_units == 0 else None)


# -- listening_analyze and listening_reputation -------------------------------------------------


def analyze(task: TaskRun) -> dict:
    """Analyse the documents not analysed yet; publish the snapshot."""
    from listening import pipeline
    from listening.analyze.run import failure_lines

    stats = pipeline.analyze_stage(task.config, task.db, now=task.now, say=task.log)
    for line in failure_lines(stats):
        task.log(line)
    counts = {
        "n_documents": stats.n_documents,
        "n_mentions": stats.n_mentions,
        "n_unscored": stats.n_unscored,
        "n_failed": len(stats.failed),
    }
    nothing = "no new document to analyse" if stats.n_documents == 0 else None
    return _done(task, "analysed", counts, nothing)


def build(task: TaskRun) -> dict:
    """Rebuild staging and marts up to the day the run stands for; evaluate alerts."""
    from listening import pipeline
    from listening.days import build_day
    from listening.marts.build import rewritten, slowest_steps

    tz = task.config.settings.timezone
    as_of = build_day(task.now, tz, complete_days_only=task.is_daily)
    task.log(f"building up to {as_of.isoformat()} ({tz}) at {task.now.isoformat()}")
    stats = pipeline.build_stage(
        task.config,
        task.db,
        now=task.now,
        as_of=as_of,
        say=task.log,
        on_progress=lambda name: task.log(f"building {name}"),
    )
    if stats.is_full:
        task.log(f"full build ({stats.full_reason}): {rewritten(stats)}")
    task.log(f"slowest steps: {slowest_steps(stats)}")
    return {"as_of": as_of.isoformat(), "n_relations": len(stats.relations)}


# -- listening_report ---------------------------------------------------------------------------


def reputation_ready(task: TaskRun) -> dict:
    """Whether the snapshot's reputation covers the reported week (``is_done``), and the week
    (``xcom_value``): the fields of the sensor's ``PokeReturnValue``."""
    from listening.report import reputation_built_through
    from listening.report.weeks import last_complete_week

    week = last_complete_week(task.now, task.config.settings.timezone)
    built = reputation_built_through(task.db)
    ready = built is not None and built >= week.sunday
    task.log(f"week {week} ({week.sunday}): reputation built through {built}; ready: {ready}")
    return {"is_done": ready, "xcom_value": str(week)}


def render(task: TaskRun, week: str) -> list[dict]:
    """Write every brand's PDF for the week; XCom: brand, week, path and reading."""
    from listening.report import write_report
    from listening.report.weeks import parse_week

    written = []
    for brand in task.config.brands:
        r = write_report(task.config, task.db, brand.name, parse_week(week), now=task.now)
        task.log(f"{brand.name}: {r.path} ({r.n_bytes} bytes)")
        written.append({"brand": brand.name, "path": str(r.path), "reading": r.reading})
    return written


def deliver(
    task: TaskRun, week: str, written: list[dict], smtp_server: Callable[[], Any] | None = None
) -> list[dict]:
    """E-mail each report to its brand's recipients; post its link to the webhook. The SMTP
    server: ``smtp_server()`` (the Airflow connection), else ``LISTENING_SMTP_URL``."""
    import os

    from listening.report import Report
    from listening.report.mail import ENV_SMTP, deliver, server_from_url
    from listening.report.weeks import parse_week

    server = (smtp_server() if smtp_server else None) or (
        server_from_url(os.environ[ENV_SMTP]) if os.environ.get(ENV_SMTP) else None
    )
    webhook = os.environ.get("LISTENING_WEBHOOK_URL")
    done = []
    for item in written:
        path = Path(item["path"])
        report = Report(item["brand"], parse_week(week), path, path.stat().st_size, item["reading"])
        done.append(deliver(task.config, report, server, webhook_url=webhook, say=task.log))
    return done


BODIES: dict[str, Callable[..., Any]] = {
    "plan": plan,
    "fetch": fetch,
    "load": load,
    "analyze": analyze,
    "build": build,
    "reputation_ready": reputation_ready,
    "render": render,
    "deliver": deliver,
}
