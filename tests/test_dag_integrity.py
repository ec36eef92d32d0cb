"""The DAG files import cleanly and follow the house rules (docs/STYLE: Airflow is a shell)."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

pytest_plugins = ["tests.airflow_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
DAG_IDS = ["listening_analyze", "listening_collect", "listening_report", "listening_reputation"]
# Which pool each task must use: the store has a single writer, fetching is bounded.
POOLS = {
    ("listening_collect", "plan"): "listening_store",
    ("listening_collect", "fetch"): "listening_http",
    ("listening_collect", "load"): "listening_store",
    ("listening_analyze", "analyze"): "listening_store",
    ("listening_reputation", "build"): "listening_store",
    # The report reads the snapshot only: no store slot.
    ("listening_report", "reputation_ready"): "default_pool",
    ("listening_report", "render"): "default_pool",
    ("listening_report", "deliver"): "default_pool",
}
HEAVY = {"listening", "duckdb", "feedparser", "requests", "pandas", "vaderSentiment_fr"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dagbag_imports_without_errors(dagbag):
    assert not dagbag.import_errors, f"DAG import errors: {dagbag.import_errors}"
    assert sorted(dagbag.dag_ids) == DAG_IDS


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_house_rules(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert "listening" in dag.tags, f"{dag_id}: tag it 'listening'"
    assert dag.doc_md and "fail" in dag.doc_md.lower(), (
        f"{dag_id}: doc_md must say what the DAG does and what each failure means"
    )
    assert dag.max_active_runs == 1, f"{dag_id}: max_active_runs must be 1 (single writer)"
    assert dag.catchup is False, f"{dag_id}: choose catchup explicitly (False: backfill instead)"
    assert dag.on_failure_callback, f"{dag_id}: needs an on_failure_callback"
    for task in dag.tasks:
        where = f"{dag_id}.{task.task_id}"
        assert task.owner == "listening", f"{where}: owner should be 'listening'"
        assert task.retries >= 2, f"{where}: retries must be >= 2"
        assert task.retry_exponential_backoff, f"{where}: use retry_exponential_backoff"
        assert task.on_failure_callback, f"{where}: needs the failure callback (alerts)"
        expected = POOLS.get((dag_id, task.task_id))
        assert expected, f"{where}: unexpected task; add its pool to POOLS in this test"
        assert task.pool == expected, f"{where}: pool {task.pool!r}, expected {expected!r}"


def test_catchup_is_explicit_in_every_dag_file():
    for path in sorted(DAGS.glob("listening_*.py")):
        src = path.read_text("utf-8")
        if "@dag(" in src:
            assert "catchup=" in src, f"{path.name}: set catchup explicitly"


def test_assets_chain_the_dags(dagbag):
    from listening_assets import DOCUMENTS, MENTIONS

    load = dagbag.dags["listening_collect"].get_task("load")
    analyze = dagbag.dags["listening_analyze"].get_task("analyze")
    assert DOCUMENTS in load.outlets, "listening_collect.load must update the documents asset"
    assert MENTIONS in analyze.outlets, "listening_analyze.analyze must update the mentions asset"
    assert "listening_documents" in repr(dagbag.dags["listening_analyze"].timetable)
    reputation = repr(dagbag.dags["listening_reputation"].timetable)
    assert "AssetOrTimeSchedule" in reputation and "listening_mentions" in reputation
    assert "Europe/Paris" in reputation and "0 6 * * *" in reputation


def test_the_report_runs_monday_morning_after_the_reputation_build(dagbag):
    from listening_assets import REPUTATION

    build = dagbag.dags["listening_reputation"].get_task("build")
    assert REPUTATION in build.outlets
    report = dagbag.dags["listening_report"]
    timetable = repr(report.timetable)
    assert "Europe/Paris" in timetable and "0 7 * * 1" in timetable
    assert REPUTATION in report.get_task("reputation_ready").inlets


def test_fetch_is_mapped_by_source_name(dagbag):
    fetch = dagbag.dags["listening_collect"].get_task("fetch")
    assert fetch.map_index_template and "source_name" in fetch.map_index_template
    assert fetch.max_retry_delay <= timedelta(hours=1)


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_import_only_airflow_sdk_and_nothing_heavy_at_top_level(path):
    tree = ast.parse(path.read_text("utf-8"))
    for node in tree.body:  # top level only: task bodies may import anything
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            )
            for name in names:
                root = (name or "").split(".")[0]
                assert root not in HEAVY, f"{path.name}: import {name} inside the task body"
                if root == "airflow":
                    assert name.startswith("airflow.sdk"), (
                        f"{path.name}: import Airflow from airflow.sdk only, not {name}"
                    )


def test_the_collect_schedule_comes_from_the_environment():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import listening_collect as m; "
        "print(m.SCHEDULE)"
    )
    env_run = [sys.executable, "-c", code, str(DAGS)]
    import os

    out = subprocess.run(
        env_run,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LISTENING_COLLECT_SCHEDULE": "*/5 * * * *"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "*/5 * * * *"


def test_ruff_air_rules_are_clean():
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run(
        [str(ruff), "check", "--select", "AIR", str(DAGS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
