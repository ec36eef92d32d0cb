"""End to end: the real Airflow (``airflow standalone``) runs the asset chain.

A private AIRFLOW_HOME on a free loopback port; ``listening_collect`` is triggered through the
REST API (``POST /api/v2/dags/{dag_id}/dagRuns``) with a JWT from ``GET /auth/token``, which the
SimpleAuthManager hands out without credentials when ``simple_auth_manager_all_admins`` is on.
The documents asset then triggers ``listening_analyze``, and the mentions asset
``listening_reputation``; the published snapshot must hold the new data.

Skipped with ``LISTENING_SKIP_E2E=1``. Takes about a minute or two (bounded at 4).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from listening import store

pytest_plugins = ["tests.airflow_fixtures"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("LISTENING_SKIP_E2E") == "1", reason="LISTENING_SKIP_E2E=1"),
]

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_S = 240  # from the trigger to listening_reputation's success


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the whole process group (scheduler, DAG processor, API server, triggerer)."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; make sure no child of the group survives it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        return


def _wait_for(what: str, check, timeout: float, log: Path, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except requests.RequestException as exc:
            last = exc
        time.sleep(interval)
    tail = log.read_text("utf-8", errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"timed out waiting for {what} (last: {last!r})\n--- airflow log tail ---\n{tail}")


def _answered(what: str, call, log: Path) -> requests.Response:
    """The API's answer to ``call``, asked again while it is a server error.

    With its SQLite metadata DB, Airflow answers 500 "Database error" when the scheduler or the
    DAG processor holds the write lock past SQLite's busy timeout: a transient refusal, not an
    answer. Any other status is returned for the caller to check.
    """

    def check():
        r = call()
        if r.status_code >= 500:
            raise requests.RequestException(f"{r.status_code}: {r.text[:300]}")
        return r

    return _wait_for(what, check, 60, log, interval=2)


@pytest.fixture
def airflow(tmp_path, project):
    """``airflow standalone`` in a private home, its pools created; yields (base_url, log)."""
    from tests.airflow_fixtures import airflow_env

    home = tmp_path / "airflow"
    home.mkdir()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **airflow_env(home),
        **project.env,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "LISTENING_COLLECT_SCHEDULE": "none",  # only the run the test triggers
    }
    # Prepare as `make airflow-init` does, through the same environment script.
    prep = subprocess.run(
        [
            "bash",
            "-c",
            "source dags/airflow-env.sh && airflow db migrate >/dev/null "
            "&& airflow pools set listening_http 8 'concurrent fetch tasks' >/dev/null "
            "&& airflow pools set listening_store 1 'the single DuckDB writer' >/dev/null",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert prep.returncode == 0, prep.stdout + prep.stderr
    log = tmp_path / "airflow-standalone.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", "source dags/airflow-env.sh && exec airflow standalone"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield base, log
    finally:
        _stop(proc)


def test_triggered_collect_runs_the_asset_chain(airflow, project):
    base, log = airflow
    started = time.monotonic()

    def token():
        r = requests.get(f"{base}/auth/token", timeout=5)
        return r.status_code in (200, 201) and r.json()["access_token"]

    jwt = _wait_for("the API server and a token", token, 180, log, interval=2)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {jwt}"
    api = f"{base}/api/v2"

    def parsed():
        ids = [
            d["dag_id"]
            for d in session.get(f"{api}/dags", params={"tags": "listening"}, timeout=5)
            .json()
            .get("dags", [])
        ]
        return sorted(ids) == [
            "listening_analyze",
            "listening_collect",
            "listening_report",
            "listening_reputation",
        ]

    _wait_for("the four DAGs to be parsed", parsed, 120, log, interval=2)
    for dag_id in ("listening_collect", "listening_analyze", "listening_reputation"):
        r = _answered(
            f"unpausing {dag_id}",
            lambda dag_id=dag_id: session.patch(
                f"{api}/dags/{dag_id}", json={"is_paused": False}, timeout=10
            ),
            log,
        )
        assert r.status_code == 200, r.text

    r = _answered(
        "triggering listening_collect",
        lambda: session.post(
            f"{api}/dags/listening_collect/dagRuns", json={"logical_date": None}, timeout=10
        ),
        log,
    )
    assert r.status_code == 200, r.text
    triggered = time.monotonic()

    def succeeded(dag_id: str, run_type: str):
        def check():
            runs = session.get(f"{api}/dags/{dag_id}/dagRuns", timeout=5).json()["dag_runs"]
            runs = [run for run in runs if run["run_type"] == run_type]
            states = [run["state"] for run in runs]
            assert "failed" not in states, f"{dag_id} failed: {runs}"
            return "success" in states

        return check

    # (Unpaused, listening_reputation may also make its scheduled run for this morning's 06:00:
    # catchup=False still runs the latest interval. The chain is the asset-triggered runs.)
    for dag_id, run_type in (
        ("listening_collect", "manual"),
        ("listening_analyze", "asset_triggered"),
        ("listening_reputation", "asset_triggered"),
    ):
        remaining = DEADLINE_S - (time.monotonic() - triggered)
        what = f"a successful {run_type} {dag_id} run"
        _wait_for(what, succeeded(dag_id, run_type), remaining, log, interval=2)

    # The mapped fetch tasks are named after their sources.
    run_id = r.json()["dag_run_id"]
    mapped = session.get(
        f"{api}/dags/listening_collect/dagRuns/{run_id}/taskInstances/fetch/listMapped",
        timeout=10,
    ).json()["task_instances"]
    assert sorted(ti["rendered_map_index"] for ti in mapped) == sorted(project.sources)

    con = store.open_reader(project.db)
    try:
        n_docs = con.execute("select count(*) from documents").fetchone()[0]
        n_mentions = con.execute("select count(*) from mentions").fetchone()[0]
    finally:
        con.close()
    assert n_docs == 5
    assert n_mentions >= 3
    print(
        f"e2e: ready in {triggered - started:.0f}s, chain done in "
        f"{time.monotonic() - triggered:.0f}s"
    )
