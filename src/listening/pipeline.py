"""The stages as callers see them (CLI and Airflow tasks): each opens the store as it must.

collect = plan (writer, brief) → fetch (no store) → load (writer); analyze and build are
writers. Every stage publishes the read-only snapshot when it is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from listening import store
from listening.collect.crawl import fetch_units, parser_pool
from listening.collect.plan import due_units, sync_sources
from listening.collect.staging import Unit, new_run_id, read_plan, write_plan
from listening.collect.work import UnitResult
from listening.config import Config
from listening.store.load import LoadStats, load_staged

if TYPE_CHECKING:  # imported by the stages that use them: a collect loads neither
    from listening.analyze.run import AnalyzeStats
    from listening.marts.build import BuildStats

Say = Callable[[str], None]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CollectStats:
    run_id: str
    n_units: int = 0
    n_fetches: int = 0
    n_not_modified: int = 0
    n_parser_processes: int = 0  # started by this collect
    results: list[UnitResult] = field(default_factory=list)
    load: LoadStats | None = None

    @property
    def errors(self) -> list[str]:
        return [f"{r.name}: {e}" for r in self.results for e in r.errors]


def init(config: Config, db: Path, say: Say | None = None) -> list[str]:
    """Create or migrate the store and register the sources; return the migrations applied."""
    snapshot_missing = not store.snapshot_path(db).exists()
    with store.writer_lock(db, say):
        con = store.connect(db, read_only=False)
        try:
            applied = store.migrate(con)
            before = con.execute("select count(*) from raw.sources").fetchone()[0]
            sync_sources(con, config, _now())
            after = con.execute("select count(*) from raw.sources").fetchone()[0]
            con.execute("checkpoint")
        finally:
            con.close()
        if applied or snapshot_missing or before != after:
            store.publish(db, locked=True)
    return [f"{m.version:03d}_{m.name}" for m in applied]


def plan_collect(config: Config, db: Path, now: datetime, say: Say | None = None) -> Path:
    """Load what an interrupted run left, then write the plan of due units; return its path."""
    run_id = new_run_id(now)
    staging = store.staging_dir(db, config.staging_path)
    run_dir = staging / run_id
    with store.open_writer(db, on_wait=say, publish_after=False) as con:
        sync_sources(con, config, now)
        load_staged(con, staging, now, config)
        units = due_units(con, config, now)
    return write_plan(units, run_dir)


def fetch_planned(
    config: Config,
    plan_path: Path,
    now: datetime,
    *,
    only: list[str] | None = None,
    on_progress: Callable[[str], None] | None = None,
    parsers=None,
) -> list[UnitResult]:
    """Fetch the planned units (all, or those named in ``only``) into the run's folder;
    ``parsers``: a started ``parser_pool`` to parse with (the caller closes it)."""
    units = read_plan(plan_path)
    if only is not None:
        units = [u for u in units if u.name in only]
    return fetch_units(
        units, config, plan_path.parent, now, on_progress=on_progress, parsers=parsers
    )


def load(
    config: Config,
    db: Path,
    now: datetime | None = None,
    say: Say | None = None,
) -> LoadStats:
    with store.open_writer(db, on_wait=say) as con:
        _ingest_pending(con, db, now or _now())
        sync_sources(con, config, now or _now())
        return load_staged(con, store.staging_dir(db, config.staging_path), now or _now(), config)


def collect(
    config: Config,
    db: Path,
    *,
    now: datetime | None = None,
    say: Say | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> CollectStats:
    now = now or _now()
    # The parser processes start as soon as a body is sure to come: on a new store before the
    # plan (their interpreters start while the plan creates the store: on 2 cores, about
    # 0.15 s each otherwise spent before the first parse), else once the plan has a due
    # source that was never fetched. Otherwise on the first body: a re-poll where every
    # answer is a 304 starts none. They stop before the load, which so never carries them.
    with parser_pool(config) as parsers:
        if not db.exists():
            parsers.start()
        plan_path = plan_collect(config, db, now, say)
        units = read_plan(plan_path)
        if any(_sure_to_send_a_body(u) for u in units):
            parsers.start()
        stats = CollectStats(run_id=plan_path.parent.name, n_units=len(units))
        done = 0

        def progress(name: str) -> None:
            nonlocal done
            done += 1
            if on_progress:
                on_progress(name, done, len(units))

        # The units read once: ``fetch_planned`` would read the plan again.
        stats.results = fetch_units(
            units, config, plan_path.parent, now, on_progress=progress, parsers=parsers
        )
    stats.n_parser_processes = parsers.n_started
    stats.n_fetches = sum(r.n_fetches for r in stats.results)
    stats.n_not_modified = sum(r.n_not_modified for r in stats.results)
    stats.load = load(config, db, now, say)
    return stats


def _sure_to_send_a_body(unit: Unit) -> bool:
    """A due source never fetched (no validators): its answer cannot be a 304."""
    main = unit.main
    return main.is_due and not (main.etag or main.last_modified)


def analyze_stage(
    config: Config,
    db: Path,
    *,
    rescore: bool = False,
    now: datetime | None = None,
    say: Say | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> AnalyzeStats:
    from listening.analyze.adapter import describe, needs_training, train
    from listening.analyze.run import analyze

    with store.open_writer(db, on_wait=say) as con:
        _ingest_pending(con, db, now or _now())
        if needs_training(con):  # enough corrections, and a new one since the last training
            report = train(con, now or _now(), say)
            if say:
                say(describe(report))
        return analyze(con, config, now or _now(), rescore=rescore, on_progress=on_progress)


def train_stage(config: Config, db: Path, *, now: datetime | None = None, say: Say | None = None):
    """``listening sentiment train``: fit the store's adapter on the analysts' corrections."""
    from listening.analyze.adapter import train

    with store.open_writer(db, on_wait=say) as con:
        _ingest_pending(con, db, now or _now())
        return train(con, now or _now(), say)


def build_stage(
    config: Config,
    db: Path,
    *,
    now: datetime | None = None,
    as_of: date | None = None,
    say: Say | None = None,
    on_progress: Callable[[str], None] | None = None,
    full: bool = False,
) -> BuildStats:
    """Build as of ``as_of`` (default: today in settings.timezone, as of ``now``); only what
    changed since the last build unless ``full``."""
    from listening.marts.build import build

    with store.open_writer(db, on_wait=say) as con:
        _ingest_pending(con, db, now or _now())
        stats = build(con, config, now or _now(), as_of=as_of, on_progress=on_progress, full=full)
        started = time.perf_counter()
    stats.step_seconds["checkpoint and publish"] = time.perf_counter() - started
    return stats


def _ingest_pending(con, db: Path, now: datetime) -> None:
    """What others left for the writer, who alone may open the store: analysts' label
    corrections from the dashboards, and Airflow task failures (recorded as alerts)."""
    from listening.store.failures import ingest_failures
    from listening.store.overrides import ingest_overrides

    ingest_overrides(con, db, now)
    ingest_failures(con, db, now)


def enable_source(config: Config, db: Path, name: str, say: Say | None = None) -> None:
    """Re-enable a source (and its threads) disabled after failures or a 410."""
    from listening.errors import ListeningError

    if name not in {s.name for s in config.sources}:
        known = ", ".join(sorted(s.name for s in config.sources)) or "none"
        raise ListeningError(f"no source named {name!r} in {config.path} (sources: {known})")
    if not db.exists():
        raise ListeningError(f"no store at {db}: run `listening init` first")
    with store.open_writer(db, on_wait=say) as con:
        sync_sources(con, config, _now())
        con.execute(
            "update raw.sources set state = 'active', disabled_reason = null, "
            "consecutive_failures = 0, next_fetch_at = null, last_error = null, updated_at = ? "
            "where name = ?",
            [_now(), name],
        )


@dataclass
class ForgetResult:
    stats: object  # listening.store.erasure.ErasureStats
    size_before: int
    size_after: int
    n_reports: int = 0  # weekly reports deleted: they may quote the person


def forget(
    config: Config,
    db: Path,
    author: str,
    site: str | None = None,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    say: Say | None = None,
) -> ForgetResult:
    """Erase a person (``listening.store.erasure.forget``), rebuild the marts without them, rewrite
    the store file and publish the snapshot, all under the writer lock."""
    from listening.errors import ListeningError
    from listening.marts.build import build
    from listening.store import erasure

    if not db.exists():
        raise ListeningError(f"no store at {db}: nothing to forget (check --db or settings.store)")
    now = now or _now()
    before = db.stat().st_size
    with store.open_writer(db, on_wait=say) as con:
        _ingest_pending(con, db, now)
        who = erasure.person(con, config, author, site)
        stats = erasure.forget(
            con, db, who, now, staging=store.staging_dir(db, config.staging_path), dry_run=dry_run
        )
        if not dry_run:
            build(con, config, now)
    n_reports = 0 if dry_run else _delete_reports(db)
    return ForgetResult(stats, before, db.stat().st_size, n_reports)


def _delete_reports(db: Path) -> int:
    """Delete the weekly reports beside the store (``reports/``): they quote mentions and
    name voices, and a PDF cannot be edited safely. ``listening report --week`` writes any
    of them again from the store, now without the person."""
    n = 0
    folder = store.reports_dir(db)
    for path in sorted(folder.glob("*/*")) if folder.is_dir() else []:
        if path.is_file() and path.suffix in (".pdf", ".html"):
            path.unlink()
            n += 1
    return n
