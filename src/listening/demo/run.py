"""`listening demo`: serve the demo world on 127.0.0.1 and run the pipeline on it.

The demo store is rebuilt from scratch each time: the world's URLs carry the server's port,
which changes from run to run, and a demo should give the same story every time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

from listening import pipeline, store
from listening.configfile import load_config
from listening.demo.server import serve
from listening.demo.truth import write_ground_truth
from listening.demo.world import DEFAULT_END, DEFAULT_SEED, build_world
from listening.errors import ListeningError
from listening.marts.summary import summarize


def run_demo(
    folder: Path,
    *,
    seed: int | None = None,
    until: date | None = None,
    port: int = 0,
    airflow: bool = False,
    out,
) -> Path:
    """Generate, serve, collect, analyze, build; print a per-brand summary. Returns the store.

    With ``airflow``, the three stages run as the project's Airflow DAGs (``airflow dags
    test``, a private AIRFLOW_HOME under ``folder``) instead of the library calls.
    """
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "listening.duckdb"
    _reset(db)
    started = time.monotonic()
    with serve(port=port) as server:
        world = build_world(server.base_url, seed=seed or DEFAULT_SEED, end=until or DEFAULT_END)
        server.files = world.files
        config_file = folder / "listening.toml"
        config_file.write_text(world.config_toml(store=db.name), "utf-8")
        config = load_config(config_file)
        out.say(
            f"demo world: {len(world.sources)} sources, {len(world.files)} files served on "
            f"{server.base_url} (seed {seed or DEFAULT_SEED})"
        )
        truth = write_ground_truth(world, folder / "ground_truth.json")
        out.say(f"what the world planted (for the alerts' precision and recall): {truth}")
        pipeline.init(config, db)
        _record_campaigns(config, db, world.campaigns())
        # built the morning after the world's last day (a run by hand, as `airflow dags test`
        # is): the store and its alerts are the same whatever the date
        built_at = datetime.combine(world.end + timedelta(days=1), DAILY_AT, PARIS)
        if airflow:
            _run_dags(folder, config_file, db, out, built_at)
        else:
            _run_stages(config, db, out, built_at)
        _analysts_correct(config, db, world, out, built_at)
    _print_summary(db, out)
    _write_reports(config, db, until or DEFAULT_END, out)
    out.result(
        f"\ndone in {time.monotonic() - started:.0f} s. Next:\n"
        f"  make dashboard                       # the dashboards on http://127.0.0.1:8501\n"
        f'  .venv/bin/listening sql --db {db} "select * from mentions limit 5"'
    )
    return db


def _run_stages(config, db: Path, out, built_at: datetime) -> None:
    stats = pipeline.collect(
        config,
        db,
        on_progress=lambda name, done, total: out.progress(f"collect {done}/{total}: {name}"),
    )
    out.result(
        f"collect: {stats.load.n_documents_new} documents from "
        f"{stats.n_fetches} fetches over {stats.n_units} sources"
    )
    for e in stats.errors:
        out.say(f"  warning: {e}")
    a = pipeline.analyze_stage(
        config,
        db,
        on_progress=lambda done, total: out.progress(f"analyze {done}/{total} documents"),
    )
    out.result(f"analyze: {a.n_mentions} mentions ({a.n_unscored} not French, not scored)")
    b = pipeline.build_stage(
        config, db, now=built_at, on_progress=lambda n: out.progress(f"build {n}")
    )
    out.result(f"build: {len(b.relations)} relations; snapshot published")


def _analysts_correct(config, db: Path, world, out, built_at: datetime) -> None:
    """The demo's analysts correct labels (demo/corrections.py); the adapter learns from them
    and a re-score applies it, as `listening sentiment train` then `analyze --rescore` would.
    All at ``built_at``, like the rest of the demo, so the store is the same whatever the date."""
    from listening.analyze.adapter import describe
    from listening.demo.corrections import record_demo_corrections

    n = record_demo_corrections(world, db, built_at)
    report = pipeline.train_stage(config, db, now=built_at)
    out.result(f"analysts: {n} label corrections")
    out.result(describe(report))
    if report.adopted:
        a = pipeline.analyze_stage(config, db, rescore=True, now=built_at)
        pipeline.build_stage(config, db, now=built_at)
        out.result(f"analyze --rescore: {a.n_mentions} mentions, now scored with the adapter")


DAGS = ("listening_collect", "listening_analyze", "listening_reputation")
DAILY_AT, PARIS = clock(6), ZoneInfo("Europe/Paris")  # listening_reputation's daily run


def _run_dags(folder: Path, config_file: Path, db: Path, out, built_at: datetime) -> None:
    """The real orchestration: Airflow runs each DAG once, in order, on the demo store."""
    dags = Path(__file__).resolve().parents[3] / "dags"
    if not dags.is_dir():
        raise ListeningError(f"no dags/ folder at {dags}: run the Airflow demo from a checkout")
    airflow = Path(sys.executable).with_name("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str((folder / "airflow").resolve()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # The DAG files import their sibling modules; `dags test` does not add the folder.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(dags), os.environ.get("PYTHONPATH")])),
        "LISTENING_CONFIG": str(config_file.resolve()),
        "LISTENING_DB": str(db.resolve()),
    }
    steps = [
        ("airflow: metadata DB", ["db", "migrate"]),
        ("airflow: pool listening_http", ["pools", "set", "listening_http", "8", "fetch tasks"]),
        ("airflow: pool listening_store", ["pools", "set", "listening_store", "1", "the writer"]),
        *((f"airflow dags test {d}", ["dags", "test", d]) for d in DAGS[:-1]),
        # as of the morning after the world's last day, like the CLI path
        (f"airflow dags test {DAGS[-1]}", ["dags", "test", DAGS[-1], built_at.isoformat()]),
    ]
    for label, args in steps:
        out.progress(label)
        started = time.monotonic()
        proc = subprocess.run(
            [str(airflow), *args], env=env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise ListeningError(f"{label} failed (exit {proc.returncode}):\n{tail}")
        if args[0] == "dags":
            out.result(f"{label}: success ({time.monotonic() - started:.0f} s)")
    con = store.open_reader(db)
    try:
        n_docs, n_mentions = con.execute(
            "select (select count(*) from documents), (select count(*) from mentions)"
        ).fetchone()
    finally:
        con.close()
    out.result(f"store: {n_docs} documents, {n_mentions} mentions")


def _write_reports(config, db: Path, end: date, out) -> None:
    """Each brand's report of the world's last complete week, as the Monday DAG writes it."""
    from listening.report import write_report
    from listening.report.weeks import last_week_through

    week = last_week_through(end)
    out.result("")
    for brand in config.brands:
        out.progress(f"report {brand.name} {week}")
        out.result(f"rapport {week} : {write_report(config, db, brand.name, week).path}")


def _record_campaigns(config, db: Path, campaigns: list[dict]) -> None:
    """The world's TV campaign, as an analyst would record it (`listening campaigns add`)."""
    from listening.marts.campaigns import add_campaign, make_campaign

    brands = [b.name for b in config.brands]
    with store.open_writer(db, publish_after=False) as con:
        for c in campaigns:
            add_campaign(
                con,
                make_campaign(c["name"], c["brand"], c["channel"], c["start"], c["end"], brands),
            )


def _reset(db: Path) -> None:
    snapshot = store.snapshot_path(db)
    for p in (db, snapshot, store.spare_path(snapshot), db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(store.staging_dir(db), ignore_errors=True)


def _print_summary(db: Path, out) -> None:
    con = store.open_reader(db)
    try:
        rows = summarize(con)
    finally:
        con.close()
    out.result("")
    out.result(
        f"{'marque':<18} {'mentions':>8} {'voix':>6} {'sentiment net':>13}  réputation sur 90 jours"
    )
    for r in rows:
        net = "—" if r.net_sentiment is None else f"{r.net_sentiment:+.2f}"
        out.result(f"{r.brand:<18} {r.n_mentions:>8} {r.n_voices:>6} {net:>13}  {r.trend}")
