"""Each DAG run in-process with ``dag.test()`` on fixture feeds served on 127.0.0.1.

The three DAGs in their asset order (collect → analyze → reputation) fill the store; running
the same runs again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from listening import store

pytest_plugins = ["tests.airflow_fixtures"]

DAG_IDS = ["listening_collect", "listening_analyze", "listening_reputation"]


@pytest.fixture(scope="module")
def dags(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    from tests.airflow_fixtures import DAGS

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag.dags


def _run(dag, when: datetime) -> str:
    dag_run = dag.test(logical_date=when, run_after=when)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "success", f"{dag.dag_id}: {dag_run.state} {states}"
    return str(dag_run.state)


def _tables(db) -> dict[str, list[tuple]]:
    """Every table and view of the snapshot, rows sorted (what a reader can see)."""
    con = store.open_reader(db)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('main', 'raw') and table_name != 'schema_migrations' "
            "order by all"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'select * from "{s}"."{t}" order by all').fetchall()
            for s, t in names
        }
    finally:
        con.close()


def _count(db, sql: str) -> int:
    con = store.open_reader(db)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_the_dag_chain_fills_the_store_and_a_rerun_changes_nothing(dags, project):
    # The run stands for "now" (the fixture posts are from November 2026) on a whole minute.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for dag_id in DAG_IDS:
        _run(dags[dag_id], now)

    assert _count(project.db, "select count(*) from documents where kind = 'post'") == 3
    assert _count(project.db, "select count(*) from documents where kind = 'comment'") == 2
    assert _count(project.db, "select count(*) from mentions") >= 3
    first = _tables(project.db)
    marts = [
        n for n in first if n.startswith("main.") and n not in ("main.documents", "main.mentions")
    ]
    from listening.marts.build import sql_files

    if sql_files():
        assert marts, "sql/marts has files but no mart appeared in the snapshot"

    # The same runs again (same logical date): nothing is due, nothing new, same marts.
    for dag_id in DAG_IDS:
        _run(dags[dag_id], now)
    second = _tables(project.db)
    # the build log records every build: the re-run's is an incremental one that changed nothing
    log = ("main.builds", "raw.builds")
    changed = [name for name in first if name not in log and first[name] != second.get(name)]
    assert not changed, f"a re-run changed {changed}"
    assert set(first) == set(second)
    added = [r for r in second["raw.builds"] if r not in first["raw.builds"]]
    assert [
        (is_full, n_docs, n_mentions) for _, _, is_full, _, n_docs, n_mentions, *_ in added
    ] == [(False, 0, 0)]


def test_a_backfilled_day_builds_as_of_its_own_date(dags, project):
    """listening_reputation builds as of the end of its data interval, not the wall clock."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for dag_id in DAG_IDS[:2]:
        _run(dags[dag_id], now)
    # 23:30 UTC is already the next day in Paris (the project's settings.timezone)
    past = (now - timedelta(days=3)).replace(hour=23, minute=30)
    dag_run = dags["listening_reputation"].test(logical_date=past, run_after=past)
    assert str(dag_run.state) == "success"
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "build")
    assert ti.state == "success"
    # a run by hand builds up to its own local day (settings.timezone), not the UTC date
    local_day = past.astimezone(ZoneInfo("Europe/Paris")).date()
    assert _count(project.db, "select max(day) from reputation_daily") == local_day


@pytest.mark.parametrize(
    ("run_type", "daily"),
    [("scheduled", True), ("backfill", True), ("asset_triggered", False), ("manual", False)],
)
def test_the_daily_run_stands_for_the_day_that_just_ended(run_type, daily):
    """The 06:00 run (and its backfills) builds yesterday; runs on new mentions build today."""
    from types import SimpleNamespace

    from airflow.utils.types import DagRunType

    from listening_runtime import is_daily_run

    context = {"dag_run": SimpleNamespace(run_type=DagRunType(run_type))}
    assert is_daily_run(context) is daily


# -- failures --------------------------------------------------------------------------------


@pytest.fixture
def webhook():
    """A loopback webhook that records the JSON bodies posted to it."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _alerts(db) -> list[tuple]:
    con = store.open_reader(db)
    try:
        return con.execute(
            "select rule, brand, subject, severity, summary, delivery_status from alerts "
            "where rule = 'task_failure' order by all"
        ).fetchall()
    finally:
        con.close()


def test_a_failed_task_becomes_an_alert_and_a_webhook_post(dags, project, webhook, monkeypatch):
    from listening import pipeline
    from listening.configfile import load_config
    from listening.store.failures import failures_dir, ingest_failures

    url, received = webhook
    monkeypatch.setenv("LISTENING_WEBHOOK_URL", url)
    config = load_config(project.config)
    pipeline.init(config, project.db)
    # The store path is a folder: opening it fails, as a broken disk or mount would.
    broken = project.root / "broken" / "listening.duckdb"
    broken.mkdir(parents=True)
    monkeypatch.setenv("LISTENING_DB", str(broken))
    dag = dags["listening_analyze"]
    for task in dag.tasks:
        monkeypatch.setattr(task, "retries", 0)  # no retry delay in a test
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dag_run = dag.test(logical_date=now, run_after=now)
    assert str(dag_run.state) == "failed"

    assert len(received) == 1, received
    assert "listening_analyze.analyze" in received[0]["text"]
    pending = sorted(failures_dir(broken).glob("*.json"))
    assert len(pending) == 1, "the callback must leave one pending failure file"

    # The next writer stage ingests it (here by hand, in the real store's folder).
    target = failures_dir(project.db)
    target.mkdir(parents=True, exist_ok=True)
    pending[0].rename(target / pending[0].name)
    with store.open_writer(project.db) as con:
        assert ingest_failures(con, project.db, now) == 1
    with store.open_writer(project.db) as con:
        assert ingest_failures(con, project.db, now) == 0, "a file is ingested once"
    ((rule, brand, subject, severity, summary, delivery),) = _alerts(project.db)
    assert (rule, brand, subject, severity, delivery) == (
        "task_failure",
        "*",
        "listening_analyze.analyze",
        "critical",
        "sent",
    )
    assert "StoreError" in summary or "store" in summary.lower()


def test_recording_a_failure_never_raises(tmp_path):
    from listening.store.failures import record_task_failure

    # An unwritable folder and an unreachable webhook: logged, not raised.
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        path = record_task_failure(
            None,
            ro / "sub" / "x.duckdb",
            "d",
            "t",
            "r",
            "boom",
            datetime.now(UTC),
            webhook_url="http://127.0.0.1:9/nothing-listens-here",
        )
    finally:
        ro.chmod(0o700)
    assert path is None or path.exists()  # root may write anyway


# -- readers never wait for the writer ------------------------------------------------------


def test_listening_sql_answers_while_a_writer_holds_the_lock(project):
    import os
    import subprocess
    import sys
    import threading
    import time

    from listening import pipeline
    from listening.configfile import load_config

    pipeline.init(load_config(project.config), project.db)
    held, release = threading.Event(), threading.Event()

    def writer():
        with store.writer_lock(project.db):
            con = store.connect(project.db, read_only=False)  # a load's open store
            held.set()
            release.wait(60)
            con.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "listening.cli",
                "sql",
                "select count(*) as n from source_health",
                "--csv",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "LISTENING_CONFIG": str(project.config)},
        )
        elapsed = time.monotonic() - started
    finally:
        release.set()
        thread.join()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["n", "2"]
    assert elapsed < 15, f"listening sql took {elapsed:.1f}s while the writer held the store"
