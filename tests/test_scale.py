"""Scale-out: staging on its own path, store tasks on their own queue, and the whole pipeline
on Airflow's CeleryExecutor (PostgreSQL, Redis, two workers, the fetch one as another user).

The end-to-end test (slow) runs what `make scale-demo` runs on a small demo world, then checks
the metadata DB (queue and Unix user of every task instance), the fetch worker's file system
calls (traced with strace: it never touched the store's folder), and the store against the one
`listening demo` (the library path) builds from the same served world. It needs root (to run
the fetch worker as another user), Debian's postgresql, redis-server and strace, and the scale
extra; `make test` and `.ci/run` install them. Skipped with ``LISTENING_SKIP_E2E=1``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listening import pipeline, store
from listening.configfile import load_config
from listening.errors import ListeningError
from tests.test_collect import NOW, write_config

pytest_plugins = ["tests.airflow_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
STORE_TASKS = {
    ("listening_collect", "plan"),
    ("listening_collect", "load"),
    ("listening_analyze", "analyze"),
    ("listening_reputation", "build"),
    # the weekly report reads the snapshot and writes reports/ beside the store
    ("listening_report", "reputation_ready"),
    ("listening_report", "render"),
    ("listening_report", "deliver"),
}
# Three small sites of the demo world: three mapped fetch tasks, about 200 files.
SMALL_WORLD = ("gourmandises-du-nord", "la-penderie", "cuisine-de-mamie")
DEADLINE_S = 600  # from the trigger to the last DAG run's success (CI machines are shared)


class _Lines:
    def __init__(self):
        self.lines: list[str] = []

    def progress(self, message: str) -> None:
        pass

    def say(self, message: str) -> None:
        self.lines.append(message)
        print(message, flush=True)

    result = say


# -- staging_dir ------------------------------------------------------------------------------


def test_staging_dir_moves_staging_files_away_from_the_store(tmp_path, blog):
    write_config(
        tmp_path / "listening.toml",
        {"Blog de Greg": blog.url("/greg/feed/")},
        staging_dir="shared/staging",
    )
    config = load_config(tmp_path / "listening.toml")
    assert config.staging_path == tmp_path / "shared" / "staging"
    db = config.store_path
    plan = pipeline.plan_collect(config, db, NOW)
    assert plan.parent.parent == tmp_path / "shared" / "staging"
    results = pipeline.fetch_planned(config, plan, NOW)
    assert sum(r.n_documents for r in results) > 0
    assert list(plan.parent.glob("*.jsonl*")), "fetch wrote no staging file"
    stats = pipeline.load(config, db, NOW)
    assert stats.n_documents_new > 0
    assert not (db.parent / "staging").exists(), "nothing may be staged beside the store"
    con = store.open_reader(db)
    try:
        n = con.execute("select count(*) from documents").fetchone()[0]
    finally:
        con.close()
    assert n == stats.n_documents_new


def test_staging_dir_defaults_beside_the_store(tmp_path):
    write_config(tmp_path / "listening.toml", {"Blog": "http://127.0.0.1:9/feed/"})
    config = load_config(tmp_path / "listening.toml")
    assert config.staging_path is None
    assert store.staging_dir(config.store_path) == config.store_path.parent / "staging"


def test_scale_run_refuses_staging_inside_the_store_folder(tmp_path):
    from listening.demo.scale import Cluster

    write_config(
        tmp_path / "listening.toml",
        {"Blog": "http://127.0.0.1:9/feed/"},
        staging_dir="data/staging",  # beside data/listening.duckdb: fetch would reach the store
    )
    with pytest.raises(ListeningError, match="inside the store's folder"):
        Cluster(tmp_path / "listening.toml", out=None)


def test_an_interrupted_start_stops_what_it_started_and_removes_its_folder(tmp_path):
    """Ctrl-C (or any failure) after PostgreSQL and Redis started: both stopped, folder gone."""
    from listening.demo.scale import Cluster

    write_config(
        tmp_path / "listening.toml",
        {"Blog": "http://127.0.0.1:9/feed/"},
        staging_dir="staging",
    )
    cluster = Cluster(tmp_path / "listening.toml", _Lines())
    folders = []

    def interrupted():
        folders.append(cluster.folder)
        raise KeyboardInterrupt

    cluster._airflow_env = interrupted
    with pytest.raises(KeyboardInterrupt), cluster:
        pass
    assert sorted(name for name, _ in cluster.started) == ["postgres", "redis"]
    for _name, pid in cluster.started:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # neither the process nor anything in its group is left
    assert folders and folders[0] is not None and not folders[0].exists()


# -- queues in the DAGs -----------------------------------------------------------------------


def test_store_tasks_run_on_the_store_queue_and_fetch_on_the_default_one():
    from airflow.dag_processing.dagbag import DagBag

    from listening.demo.scale import FETCH_QUEUE, STORE_QUEUE

    dagbag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not dagbag.import_errors
    queues = {
        (dag_id, task.task_id): task.queue
        for dag_id, dag in dagbag.dags.items()
        for task in dag.tasks
    }
    assert {k for k, q in queues.items() if q == STORE_QUEUE} == STORE_TASKS
    assert queues[("listening_collect", "fetch")] == FETCH_QUEUE


# -- the whole thing on Celery ----------------------------------------------------------------


def _counts(db: Path) -> dict[str, object]:
    marts = store.mart_names()
    con = store.open_reader(db)
    try:
        out: dict[str, object] = {
            "document_ids": {
                r[0] for r in con.execute("select document_id from documents").fetchall()
            },
            "mention_ids": {
                r[0] for r in con.execute("select mention_id from mentions").fetchall()
            },
        }
        for mart in marts:
            out[mart] = con.execute(f"select count(*) from {mart}").fetchone()[0]
    finally:
        con.close()
    return out


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("LISTENING_SKIP_E2E") == "1", reason="LISTENING_SKIP_E2E=1")
@pytest.mark.skipif(os.geteuid() != 0, reason="runs the fetch worker as another user: needs root")
def test_celery_cluster_builds_the_library_store_with_fetch_kept_off_it(tmp_path):
    from listening.demo.run import _record_campaigns, _run_stages
    from listening.demo.scale import FETCH_QUEUE, STORE_QUEUE, Cluster, write_scale_config
    from listening.demo.server import serve_world
    from listening.demo.services import FETCH_USER

    out = _Lines()
    # Not under pytest's tmp_path: that one is private to root, the fetch user must traverse.
    scale_dir = Path(tempfile.mkdtemp(prefix="listening-scale-test-"))
    scale_dir.chmod(0o755)
    try:
        with serve_world() as (_server, world):
            world.sources = [s for s in world.sources if s["name"] in SMALL_WORLD]
            assert len(world.sources) == len(SMALL_WORLD)

            # The scale run: the store in a private folder, staging apart.
            config = load_config(write_scale_config(world, scale_dir))
            db = config.store_path
            pipeline.init(config, db)
            _record_campaigns(config, db, world.campaigns())
            with Cluster(config.path, out, trace_fetch=True) as cluster:
                report = cluster.run_chain(timeout=DEADLINE_S)
                tis = cluster.task_instances()
                fetch_uid = cluster.worker_uids["worker-fetch"]
                # As the fetch user, the store cannot even be opened.
                denied = subprocess.run(
                    [cluster.fetch_python, "-c", "import sys; open(sys.argv[1], 'rb')", str(db)],
                    user=fetch_uid,
                    capture_output=True,
                    text=True,
                )
                store_uid = cluster.worker_uids["worker-store"]
            trace = cluster.fetch_trace_text
            (tmp_path / "worker-fetch.strace").write_text(trace, "utf-8")  # kept for a look
            scale_counts = _counts(db)
            store_mode = stat.S_IMODE(db.parent.stat().st_mode)

            # The library run of `listening demo`, on the same served world (same URLs).
            lib_file = tmp_path / "library" / "listening.toml"
            lib_file.parent.mkdir()
            lib_file.write_text(world.config_toml(store="listening.duckdb"), "utf-8")
            lib = load_config(lib_file)
            pipeline.init(lib, lib.store_path)
            _record_campaigns(lib, lib.store_path, world.campaigns())
            # built now, as the cluster's asset-triggered reputation run builds (today so far)
            _run_stages(lib, lib.store_path, out, datetime.now(UTC))
    finally:
        shutil.rmtree(scale_dir, ignore_errors=True)

    # Every DAG run succeeded, and the chain ran: collect (manual), analyze, reputation.
    runs = {(r["dag_id"], r["run_type"], r["state"]) for r in report.dag_runs}
    assert {state for *_, state in runs} == {"success"}, runs
    assert {
        ("listening_collect", "manual", "success"),
        ("listening_analyze", "asset_triggered", "success"),
        ("listening_reputation", "asset_triggered", "success"),
    } <= runs

    # Each task instance ran on its queue, by the worker serving it (told apart by Unix user).
    assert tis, "no task instance in the metadata DB"
    fetch_name = FETCH_USER
    store_name = pwd.getpwuid(store_uid).pw_name
    assert fetch_uid != store_uid
    for ti in tis:
        where = f"{ti['dag_id']}.{ti['task_id']}[{ti['map_index']}]"
        assert ti["state"] in ("success", "skipped"), f"{where}: {ti['state']}"
        if ti["state"] == "skipped":
            continue
        if (ti["dag_id"], ti["task_id"]) in STORE_TASKS:
            assert (ti["queue"], ti["unixname"]) == (STORE_QUEUE, store_name), where
        else:
            assert (ti["dag_id"], ti["task_id"]) == ("listening_collect", "fetch"), where
            assert (ti["queue"], ti["unixname"]) == (FETCH_QUEUE, fetch_name), where
    fetched = [ti for ti in tis if ti["task_id"] == "fetch" and ti["state"] == "success"]
    assert len(fetched) == len(SMALL_WORLD)

    # The fetch worker (and every task process it forked) never touched the store's folder:
    # not an open, not a stat. The trace did record its work in the staging folder.
    assert str(config.staging_path) in trace, (
        f"the trace saw no staging write: is it tracing? {len(trace.splitlines())} lines in "
        f"{tmp_path / 'worker-fetch.strace'}"
    )
    store_dir = str(db.parent)
    touched = [line for line in trace.splitlines() if store_dir in line]
    assert touched == [], "\n".join(touched[:10])
    assert denied.returncode != 0 and "PermissionError" in denied.stderr, denied.stderr
    assert store_mode == 0o700

    # The same store as the library builds: same ids, same mart row counts.
    lib_counts = _counts(lib.store_path)
    assert scale_counts["document_ids"] and scale_counts["mention_ids"]
    assert scale_counts == lib_counts
    print(
        f"scale: ready in {report.startup_s:.0f} s, runs {report.run_s:.0f} s, "
        f"peak {report.peak_pss_mib:.0f} MiB"
    )
