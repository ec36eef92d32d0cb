"""`listening demo --scale` (`make scale-demo`): the DAGs on Airflow's CeleryExecutor, one host.

What "growing past one machine" runs, on loopback: PostgreSQL (Airflow's metadata DB), Redis
(the Celery broker), ``airflow api-server``, ``scheduler``, ``dag-processor`` and two Celery
workers. The ``fetch`` worker serves queue ``default`` as another Unix user (``listening-fetch``)
that can write the staging folder but cannot even reach the store; the store worker serves
queue ``listening_store`` (``plan``, ``load``, ``analyze``, ``build``) with one slot. Everything
runs from one temporary folder on free ports and is stopped by PID at the end, on Ctrl-C, or on
failure. Nothing here imports Airflow: the processes are started as commands, the run is
driven through the REST API, the metadata DB read with psycopg2.

``Cluster`` puts together ``listening.demo.procs`` (processes started, watched and stopped by
PID), ``listening.demo.services`` (PostgreSQL, Redis, the Airflow environment, the fetch user)
and ``listening.demo.rest`` (the REST API and the metadata DB).
"""

from __future__ import annotations

import getpass
import json
import os
import pwd
import shutil
import signal
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from listening.configfile import load_config
from listening.demo import rest, services
from listening.demo.procs import Processes, RunReport, child_of, need, uid_of
from listening.demo.services import FETCH_USER, ROOT
from listening.errors import ListeningError

STORE_QUEUE = "listening_store"
FETCH_QUEUE = "default"
# As `make airflow-init` creates them.
POOLS = {
    "listening_http": {"slots": 8, "description": "concurrent fetch tasks (HTTP)"},
    "listening_store": {"slots": 1, "description": "the single DuckDB writer"},
}


class Cluster(Processes):
    """PostgreSQL, Redis and Airflow with two Celery workers, in a temporary folder.

    ``config_file`` must set ``settings.staging_dir`` outside the store's folder: the cluster
    makes it group-writable for the fetch user, and the store's folder private to the store
    user (the one running this). As root the fetch worker runs as ``fetch_user`` (created
    when missing) and PostgreSQL as ``postgres``; otherwise all run as the current user and
    the separation is not enforced (``self.fetch_user`` is None).
    """

    def __init__(
        self,
        config_file: Path,
        out,
        *,
        fetch_user: str | None = FETCH_USER,
        trace_fetch: bool = False,
    ):
        self.config_file = config_file.resolve()
        self.config = load_config(self.config_file)
        if self.config.staging_path is None:
            raise ListeningError(f"{config_file}: set settings.staging_dir for the scale run")
        self.db = self.config.store_path
        self.staging = self.config.staging_path
        if self.staging.resolve().is_relative_to(self.db.parent.resolve()):
            raise ListeningError(
                f"settings.staging_dir ({self.staging}) is inside the store's folder: fetch "
                "workers must reach the staging folder without reaching the store"
            )
        super().__init__(out)
        self.is_root = os.geteuid() == 0
        self.fetch_user = fetch_user if self.is_root else None
        self.store_user = getpass.getuser()
        self.base_url = ""
        self.pg_dsn = ""
        self.redis_url = ""
        self.worker_uids: dict[str, int] = {}
        # With trace_fetch, the fetch worker runs under `strace -f -e trace=%file`: every path
        # it or its task processes open, stat or create lands in self.fetch_trace.
        self.trace_fetch = trace_fetch
        self.fetch_trace: Path | None = None
        self.fetch_trace_text = ""  # its content, kept when the cluster stops
        self.fetch_python = sys.executable
        self.api: rest.AirflowRest | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        services.check_extra()
        pg_bin = services.postgres_bin()
        redis = need("redis-server", "redis-server")
        started = time.monotonic()
        self.folder = Path(tempfile.mkdtemp(prefix="listening-scale-"))
        self.folder.chmod(0o755)  # the fetch user must traverse it (not read the store)
        self.out.say(f"scale: everything under {self.folder}")
        fetch_gid = self._prepare_folders()
        self.dags = ROOT / "dags"
        if self.fetch_user:
            # Every host needs the same DAG files at the same path; a copy in the shared folder
            # also serves a checkout the fetch user cannot read (a clone under /root).
            self.dags = self.folder / "dags"
            # The pipeline's DAGs only: the weekly report's cron run would start on unpause and
            # be cut off when the demo stops (`make demo` writes the reports itself).
            shutil.copytree(
                ROOT / "dags",
                self.dags,
                ignore=shutil.ignore_patterns("__pycache__", "listening_report.py"),
            )
        self.pg_dsn = services.start_postgres(self, pg_bin, self.is_root)
        self.redis_url = services.start_redis(self, redis)
        env = self._airflow_env()
        self._airflow(["db", "migrate"], env, "airflow db migrate")
        for name in ("api-server", "scheduler", "dag-processor"):
            self.spawn(name, [self._airflow_bin(), name], env)
        # While they start (nothing is triggered before the API answers and the DAGs are
        # parsed): the pools, in one CLI start for both (each start costs seconds).
        pools = self.folder / "pools.json"
        pools.write_text(json.dumps(POOLS), "utf-8")
        self._airflow(["pools", "import", str(pools)], env, "airflow pools import")
        celery = [self._airflow_bin(), "celery", "worker", "--skip-serve-logs"]
        self.spawn(
            "worker-store",
            [*celery, "-q", STORE_QUEUE, "-c", "1", "-H", "store@%h"],
            env,
            umask=0o002,  # run folders it creates in staging/ stay writable by the fetch group
        )
        fetch_env = dict(env)
        fetch_airflow = self._airflow_bin()
        user_kw: dict = {}
        if self.fetch_user:
            entry = pwd.getpwnam(self.fetch_user)
            home = self.folder / "home-fetch"
            home.mkdir()
            os.chown(home, entry.pw_uid, fetch_gid)
            fetch_env.update(HOME=str(home), USER=entry.pw_name, LOGNAME=entry.pw_name)
            user_kw = {"user": entry.pw_uid, "group": fetch_gid, "extra_groups": []}
            python = self.fetch_python = services.fetch_python(
                self, self.fetch_user, fetch_env, user_kw
            )
            fetch_airflow = str(Path(python).with_name("airflow"))
            fetch_env["PATH"] = f"{Path(python).parent}{os.pathsep}{fetch_env['PATH']}"
            services.check_fetch_user_reach(
                python, fetch_env, user_kw, self.fetch_user, self.config_file, self.db
            )
        fetch_cmd = [fetch_airflow, *celery[1:], "-q", FETCH_QUEUE, "-c", "2", "-H", "fetch@%h"]
        worker_kw = user_kw
        if self.trace_fetch:
            self.fetch_trace = self.folder / "logs" / "worker-fetch.strace"
            strace = need("strace", "strace")
            # -s 4096: whole paths (strace cuts strings at 32 characters by default). strace
            # itself runs as the store user and starts the worker as the fetch user (-u):
            # Airflow makes task processes non-dumpable, and only a privileged tracer may
            # read the paths they pass to the kernel.
            trace = [strace, "-f", "-qq", "-s", "4096", "--seccomp-bpf", "-e", "trace=%file"]
            if self.fetch_user:
                trace += ["-u", self.fetch_user]
                worker_kw = {}
            fetch_cmd = [*trace, "-o", str(self.fetch_trace), "--", *fetch_cmd]
        fetch = self.spawn("worker-fetch", fetch_cmd, fetch_env, umask=0o002, **worker_kw)
        store_worker = next(p for p in self.procs if p.name == "worker-store")
        self.worker_uids["worker-store"] = uid_of(store_worker.popen.pid)
        worker_pid = fetch.popen.pid
        if self.trace_fetch:

            def traced_worker() -> int | None:
                child = child_of(fetch.popen.pid)
                if child is None or (self.fetch_user and uid_of(child) == os.geteuid()):
                    return None  # not started yet, or not yet switched to the fetch user
                return child

            worker_pid = self.wait("the traced fetch worker", traced_worker, 30)
        self.worker_uids["worker-fetch"] = uid_of(worker_pid)
        self.api = rest.AirflowRest(self, self.base_url)
        self.api.connect()
        self.report.startup_s = time.monotonic() - started
        self.out.result(f"scale: ready in {self.report.startup_s:.0f} s")

    def stop(self) -> None:
        """Stop every process started, by PID: each one's whole process group (it leads
        its own session), Airflow first, then Redis and PostgreSQL. A second Ctrl-C does not
        cut this short."""
        try:
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread: signals go elsewhere anyway
            previous = None
        try:
            self.stop_processes()
            if self.fetch_trace is not None and self.fetch_trace.exists():
                # read once strace has exited (and flushed), before the folder goes
                self.fetch_trace_text = self.fetch_trace.read_text("utf-8", errors="replace")
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    # -- pieces ------------------------------------------------------------------------------

    def _prepare_folders(self) -> int:
        """Store folder private to the store user; staging and Airflow logs shared with the
        fetch group (setgid, group-writable). Returns the fetch group's id."""
        assert self.folder is not None
        gid = os.getgid()
        if self.fetch_user:
            gid = services.ensure_fetch_user(self.fetch_user).pw_gid
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.db.parent.chmod(0o700)
        for shared in (self.staging, self.folder / "airflow" / "logs"):
            shared.mkdir(parents=True, exist_ok=True)
            os.chown(shared, -1, gid)
            shared.chmod(0o2775)
        (self.folder / "logs").mkdir()
        return gid

    def _airflow_env(self) -> dict[str, str]:
        assert self.folder is not None
        env, self.base_url = services.airflow_env(
            self.folder, self.dags, self.pg_dsn, self.redis_url, self.config_file
        )
        return env

    def _airflow_bin(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    def _airflow(self, args: list[str], env: dict[str, str], label: str) -> None:
        self.run([self._airflow_bin(), *args], label, env=env)

    # -- the run -----------------------------------------------------------------------------

    def run_chain(self, timeout: float = 600) -> RunReport:
        """Trigger ``listening_collect``; wait for it and the runs its assets trigger."""
        return self.api.run_chain(timeout)

    def task_instances(self) -> list[dict]:
        """Every task instance of the run, with the queue and the Unix user it ran under."""
        return rest.task_instances(self.pg_dsn)


# -- the demo ---------------------------------------------------------------------------------


def write_scale_config(world, folder: Path) -> Path:
    """The demo config for a scale run: the store in a private ``store/``, staging apart."""
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "listening.toml"
    config_file.write_text(
        world.config_toml(store="store/listening.duckdb", staging_dir="staging"), "utf-8"
    )
    return config_file


def run_scale_demo(
    folder: Path, *, seed: int | None = None, until: date | None = None, out
) -> Path:
    """Serve the demo world, run the three DAGs on the Celery cluster, print the summary."""
    from listening import pipeline
    from listening.demo.run import _print_summary, _record_campaigns, _reset
    from listening.demo.server import serve_world

    started = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with serve_world(seed=seed, end=until) as (server, world):
            config_file = write_scale_config(world, folder)
            config = load_config(config_file)
            db = config.store_path
            _reset(db)
            shutil.rmtree(config.staging_path, ignore_errors=True)  # a previous run's units
            out.say(f"demo world: {len(world.sources)} sources served on {server.base_url}")
            pipeline.init(config, db)
            _record_campaigns(config, db, world.campaigns())
            with Cluster(config_file, out) as cluster:
                if cluster.fetch_user is None:
                    out.say("scale: not root, so the fetch worker runs as you (no separation)")
                report = cluster.run_chain()
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_summary(db, out)
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in report.peak_by_process.items())
    out.result(f"\npeak memory per process (PSS, MiB): {peaks}")
    out.result(
        f"startup {report.startup_s:.0f} s, DAG runs {report.run_s:.0f} s, "
        f"peak memory {report.peak_pss_mib:.0f} MiB (PSS of every process started), "
        f"total {time.monotonic() - started:.0f} s. Store: {db}"
    )
    return db


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
