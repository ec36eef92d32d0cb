"""`listening demo --scale` (`make scale-demo`): the DAGs on Airflow's CeleryExecutor, one host.

What "growing past one machine" runs, on loopback: PostgreSQL (Airflow's metadata DB), Redis
(the Celery broker), ``airflow api-server``, ``scheduler``, ``dag-processor`` and two Celery
workers. The ``fetch`` worker serves queue ``default`` as another Unix user (``listening-fetch``)
that can write the staging folder but cannot even reach the store; the store worker serves
queue ``listening_store`` (``plan``, ``load``, ``analyze``, ``build``) with one slot. Everything
runs from one temporary folder on free ports and is stopped by PID at the end, on Ctrl-C, or on
failure. Nothing here imports Airflow: the processes are started as commands, the run is
driven through the REST API, the metadata DB read with psycopg2.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from listening.configfile import load_config
from listening.errors import ListeningError

FETCH_USER = "listening-fetch"
STORE_QUEUE = "listening_store"
FETCH_QUEUE = "default"
DAGS = ("listening_collect", "listening_analyze", "listening_reputation")
# The chain a manual collect starts: the documents asset triggers analyze, mentions reputation.
CHAIN = (
    ("listening_collect", "manual"),
    ("listening_analyze", "asset_triggered"),
    ("listening_reputation", "asset_triggered"),
)
ROOT = Path(__file__).resolve().parents[3]
# As `make airflow-init` creates them.
POOLS = {
    "listening_http": {"slots": 8, "description": "concurrent fetch tasks (HTTP)"},
    "listening_store": {"slots": 1, "description": "the single DuckDB writer"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server binaries (initdb, postgres, pg_isready)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise ListeningError(
            "PostgreSQL is not installed: `make scale-demo` installs it as root, or run "
            "`apt-get install postgresql`"
        )
    return Path(found[-1]).parent


def _need(program: str, package: str) -> str:
    path = shutil.which(program)
    if not path:
        raise ListeningError(
            f"{program} is not installed: `make scale-demo` installs it as root, or run "
            f"`apt-get install {package}`"
        )
    return path


def _check_extra() -> None:
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("apache-airflow-providers-celery", "apache-airflow-providers-postgres"):
        try:
            version(dist)
        except PackageNotFoundError:
            raise ListeningError(
                f"{dist} is missing: install the scale extra (`make scale-demo` does: "
                "`uv sync --extra scale`; or `pip install 'listening[scale]'`)"
            ) from None


def ensure_fetch_user(name: str = FETCH_USER) -> pwd.struct_passwd:
    """The fetch worker's Unix user (and its group of the same name), created when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(name)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class RunReport:
    startup_s: float = 0.0  # from the first process started to the DAGs parsed
    run_s: float = 0.0  # from the trigger to the chain's last success
    peak_pss_mib: float = 0.0  # all the processes started, sampled while waiting
    peak_by_process: dict[str, float] = field(default_factory=dict)  # each one's own peak
    dag_runs: list[dict] = field(default_factory=list)


class Cluster:
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
        self.out = out
        self.is_root = os.geteuid() == 0
        self.fetch_user = fetch_user if self.is_root else None
        self.store_user = getpass.getuser()
        self.procs: list[Proc] = []
        self.started: list[tuple[str, int]] = []  # every (name, PID) ever started, kept
        self.folder: Path | None = None
        self.base_url = ""
        self.pg_dsn = ""
        self.worker_uids: dict[str, int] = {}
        # With trace_fetch, the fetch worker runs under `strace -f -e trace=%file`: every path
        # it or its task processes open, stat or create lands in self.fetch_trace.
        self.trace_fetch = trace_fetch
        self.fetch_trace: Path | None = None
        self.fetch_trace_text = ""  # its content, kept when the cluster stops
        self.fetch_python = sys.executable
        self.report = RunReport()
        self._session = None

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
        _check_extra()
        pg_bin = _postgres_bin()
        redis = _need("redis-server", "redis-server")
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
        self._start_postgres(pg_bin)
        self._start_redis(redis)
        env = self._airflow_env()
        self._airflow(["db", "migrate"], env, "airflow db migrate")
        for name in ("api-server", "scheduler", "dag-processor"):
            self._spawn(name, [self._airflow_bin(), name], env)
        # While they start (nothing is triggered before the API answers and the DAGs are
        # parsed): the pools, in one CLI start for both (each start costs seconds).
        pools = self.folder / "pools.json"
        pools.write_text(json.dumps(POOLS), "utf-8")
        self._airflow(["pools", "import", str(pools)], env, "airflow pools import")
        celery = [self._airflow_bin(), "celery", "worker", "--skip-serve-logs"]
        self._spawn(
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
            python = self.fetch_python = self._fetch_python(fetch_env, user_kw)
            fetch_airflow = str(Path(python).with_name("airflow"))
            fetch_env["PATH"] = f"{Path(python).parent}{os.pathsep}{fetch_env['PATH']}"
            self._check_fetch_user_reach(python, fetch_env, user_kw)
        fetch_cmd = [fetch_airflow, *celery[1:], "-q", FETCH_QUEUE, "-c", "2", "-H", "fetch@%h"]
        worker_kw = user_kw
        if self.trace_fetch:
            self.fetch_trace = self.folder / "logs" / "worker-fetch.strace"
            strace = _need("strace", "strace")
            # -s 4096: whole paths (strace cuts strings at 32 characters by default). strace
            # itself runs as the store user and starts the worker as the fetch user (-u):
            # Airflow makes task processes non-dumpable, and only a privileged tracer may
            # read the paths they pass to the kernel.
            trace = [strace, "-f", "-qq", "-s", "4096", "--seccomp-bpf", "-e", "trace=%file"]
            if self.fetch_user:
                trace += ["-u", self.fetch_user]
                worker_kw = {}
            fetch_cmd = [*trace, "-o", str(self.fetch_trace), "--", *fetch_cmd]
        fetch = self._spawn("worker-fetch", fetch_cmd, fetch_env, umask=0o002, **worker_kw)
        store_worker = next(p for p in self.procs if p.name == "worker-store")
        self.worker_uids["worker-store"] = _uid_of(store_worker.popen.pid)
        worker_pid = fetch.popen.pid
        if self.trace_fetch:

            def traced_worker() -> int | None:
                child = _child_of(fetch.popen.pid)
                if child is None or (self.fetch_user and _uid_of(child) == os.geteuid()):
                    return None  # not started yet, or not yet switched to the fetch user
                return child

            worker_pid = self._wait("the traced fetch worker", traced_worker, 30)
        self.worker_uids["worker-fetch"] = _uid_of(worker_pid)
        self._connect_api()
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
            services = {"postgres", "redis"}
            _stop_groups([p.popen for p in self.procs if p.name not in services], signal.SIGTERM)
            _stop_groups([p.popen for p in self.procs if p.name == "redis"], signal.SIGTERM)
            # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
            _stop_groups([p.popen for p in self.procs if p.name == "postgres"], signal.SIGINT)
            self.procs.clear()
            if self.fetch_trace is not None and self.fetch_trace.exists():
                # read once strace has exited (and flushed), before the folder goes
                self.fetch_trace_text = self.fetch_trace.read_text("utf-8", errors="replace")
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def _fetch_python(self, env: dict[str, str], user_kw: dict) -> str:
        """This venv's Python when the fetch user can run it; else a venv of its own (as a
        fetch host would have), from the same uv.lock and a system Python it can run."""
        assert self.folder is not None

        def runs(cmd: list[str]) -> bool:
            try:
                return subprocess.run(cmd, env=env, capture_output=True, **user_kw).returncode == 0
            except OSError:  # not even executable by that user
                return False

        if runs([sys.executable, "-c", "import listening"]):
            return sys.executable
        new_enough = "import sys; sys.exit(sys.version_info < (3, 11))"
        for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", "/usr/bin/python3.11"):
            if Path(candidate).exists() and runs([candidate, "-c", new_enough]):
                break
        else:
            raise ListeningError(
                f"scale: {self.fetch_user} can run neither {sys.executable} nor a system "
                "Python >= 3.11: install Debian's python3, or keep the checkout and its "
                "interpreter readable by other users"
            )
        venv = self.folder / "venv-fetch"
        uv = os.environ.get("UV") or shutil.which("uv")
        uv_cmd = [uv] if uv else [shutil.which("python3") or "python3", "-m", "uv"]
        uv_env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
        self._run([*uv_cmd, "venv", "-q", "--python", candidate, str(venv)], "fetch venv", uv_env)
        # --no-editable: the package itself goes into the venv, the checkout need not be readable
        sync = ["sync", "-q", "--frozen", "--extra", "scale", "--no-dev", "--no-editable"]
        sync += ["--python", candidate]
        self._run(
            [*uv_cmd, *sync, "--project", str(ROOT)],
            f"fetch venv: uv sync (the fetch user cannot run {sys.executable})",
            uv_env,
        )
        return str(venv / "bin" / "python")

    def _check_fetch_user_reach(self, python: str, env: dict[str, str], user_kw: dict) -> None:
        """The fetch user must read the code and the config, and must not reach the store."""
        probe = (
            "import sys, listening, importlib.metadata as m\n"
            "m.version('apache-airflow-providers-celery')\n"
            "open(sys.argv[1]).close()\n"
            "try:\n    open(sys.argv[2], 'rb')\nexcept PermissionError:\n    sys.exit(0)\n"
            "sys.exit('the store is readable')\n"
        )
        cmd = [python, "-c", probe, str(self.config_file), str(self.db)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, **user_kw)
        if proc.returncode != 0:
            raise ListeningError(
                f"scale: as {self.fetch_user}, the fetch worker cannot run: "
                f"{proc.stderr.strip().splitlines()[-1:] or proc.returncode}. It must read the "
                f"checkout ({ROOT}), its .venv and {self.config_file} (clone into a folder "
                "other users can read, e.g. /srv or /opt), and must not read the store."
            )

    # -- pieces ------------------------------------------------------------------------------

    def _prepare_folders(self) -> int:
        """Store folder private to the store user; staging and Airflow logs shared with the
        fetch group (setgid, group-writable). Returns the fetch group's id."""
        assert self.folder is not None
        gid = os.getgid()
        if self.fetch_user:
            gid = ensure_fetch_user(self.fetch_user).pw_gid
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.db.parent.chmod(0o700)
        for shared in (self.staging, self.folder / "airflow" / "logs"):
            shared.mkdir(parents=True, exist_ok=True)
            os.chown(shared, -1, gid)
            shared.chmod(0o2775)
        (self.folder / "logs").mkdir()
        return gid

    def _start_postgres(self, pg_bin: Path) -> None:
        assert self.folder is not None
        data, sockets = self.folder / "pg", self.folder / "pg-run"
        data.mkdir()
        sockets.mkdir()
        kw: dict = {}
        if self.is_root:  # initdb and postgres refuse to run as root
            entry = pwd.getpwnam("postgres")
            for p in (data, sockets):
                os.chown(p, entry.pw_uid, entry.pw_gid)
            kw = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        self._run(
            [str(pg_bin / "initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "--no-sync"],
            "initdb",
            **kw,
        )
        port = _free_port()
        self._spawn(
            "postgres",
            [
                str(pg_bin / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",  # a throwaway metadata DB
            ],
            None,
            **kw,
        )
        ready = [str(pg_bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
        self._wait("postgres", lambda: subprocess.run(ready).returncode == 0, 30)
        self._run(
            [
                str(pg_bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "airflow",
                "airflow",
            ],
            "createdb",
        )
        self.pg_dsn = f"postgresql://airflow@127.0.0.1:{port}/airflow"
        self.out.say(f"scale: PostgreSQL on 127.0.0.1:{port}")

    def _start_redis(self, redis: str) -> None:
        assert self.folder is not None
        port = _free_port()
        (self.folder / "redis").mkdir()
        args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        self._spawn("redis", [redis, *args, "--dir", str(self.folder / "redis")], None)
        self._wait("redis", lambda: _redis_ping(port), 30)
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        self.out.say(f"scale: Redis on 127.0.0.1:{port}")

    def _airflow_env(self) -> dict[str, str]:
        assert self.folder is not None
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        dags = self.dags
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(self.folder / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.pg_dsn.replace(
                "postgresql://", "postgresql+psycopg2://"
            ),
            "AIRFLOW__CELERY__BROKER_URL": self.redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.pg_dsn,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            # Every component signs or checks the task JWTs with it: one secret for all.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(dags), os.environ.get("PYTHONPATH")])),
            "LISTENING_CONFIG": str(self.config_file),
            "LISTENING_COLLECT_SCHEDULE": "none",  # only the run we trigger
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def _airflow_bin(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    def _airflow(self, args: list[str], env: dict[str, str], label: str) -> None:
        self._run([self._airflow_bin(), *args], label, env=env)

    def _run(self, cmd: list[str], label: str, env=None, **kw) -> None:
        t = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, **kw)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise ListeningError(f"scale: {label} failed (exit {proc.returncode}):\n{tail}")
        self.out.say(f"scale: {label} ({time.monotonic() - t:.0f} s)")

    def _spawn(self, name: str, cmd: list[str], env, **kw) -> Proc:
        assert self.folder is not None
        log = self.folder / "logs" / f"{name}.log"
        with open(log, "wb") as fh:
            popen = subprocess.Popen(
                cmd,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: stopped as a whole, spared our Ctrl-C
                **kw,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        self.started.append((name, popen.pid))
        self.out.progress(f"scale: started {name} (pid {popen.pid})")
        return proc

    def _wait(self, what: str, check, timeout: float, interval: float = 0.5):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                last = check()
            except ListeningError:
                raise  # a verdict (a DAG run failed), not a service still starting
            except Exception as exc:  # a service still starting: refused, 503, not parsed
                last = exc
            if last and not isinstance(last, Exception):
                return last
            self._sample_memory()
            time.sleep(interval)
        raise ListeningError(f"scale: timed out waiting for {what} (last: {last!r})")

    def _check_alive(self) -> None:
        for proc in self.procs:
            code = proc.popen.poll()
            if code is not None:
                tail = proc.log.read_text("utf-8", errors="replace").strip().splitlines()[-20:]
                raise ListeningError(
                    f"scale: {proc.name} exited (code {code}); its log {proc.log} ends:\n"
                    + "\n".join(tail)
                )

    def _sample_memory(self) -> None:
        by_session = _pss_of_sessions({p.popen.pid for p in self.procs})
        self.report.peak_pss_mib = max(self.report.peak_pss_mib, sum(by_session.values()) / 1024)
        for p in self.procs:
            mib = by_session.get(p.popen.pid, 0) / 1024
            self.report.peak_by_process[p.name] = max(
                self.report.peak_by_process.get(p.name, 0), mib
            )

    # -- the REST API ------------------------------------------------------------------------

    def _connect_api(self) -> None:
        import requests

        def token():
            r = requests.get(f"{self.base_url}/auth/token", timeout=5)
            return r.status_code in (200, 201) and r.json()["access_token"]

        jwt = self._wait("the API server", token, 180, interval=1)
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {jwt}"

        def parsed():
            r = self._get("/dags", params={"tags": "listening"})
            return sorted(d["dag_id"] for d in r["dags"]) == sorted(DAGS)

        self._wait("the DAG processor to parse the three DAGs", parsed, 180, interval=1)

    def _get(self, path: str, **kw) -> dict:
        r = self._session.get(f"{self.base_url}/api/v2{path}", timeout=10, **kw)
        r.raise_for_status()
        return r.json()

    def run_chain(self, timeout: float = 600) -> RunReport:
        """Trigger ``listening_collect`` through the REST API; wait until it and the runs its
        assets trigger (analyze, then reputation) succeed and nothing else is running."""
        api = f"{self.base_url}/api/v2"
        r = self._session.post(
            f"{api}/dags/listening_collect/dagRuns", json={"logical_date": None}, timeout=10
        )
        if r.status_code != 200:
            raise ListeningError(f"scale: triggering listening_collect failed: {r.text}")
        triggered = time.monotonic()
        self.out.say("scale: listening_collect triggered through the REST API")
        seen: set[str] = set()

        def done():
            runs = [
                run
                for dag_id in DAGS
                for run in self._get(f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
            ]
            for run in runs:
                key = f"{run['dag_id']} {run['run_type']} {run['state']}"
                if key not in seen and run["state"] in ("running", "success", "failed"):
                    seen.add(key)
                    elapsed = time.monotonic() - triggered
                    self.out.say(f"scale: {key} ({elapsed:.0f} s)")
            failed = [run for run in runs if run["state"] == "failed"]
            if failed:
                raise ListeningError(
                    "scale: DAG run(s) failed: "
                    + ", ".join(f"{x['dag_id']} {x['dag_run_id']}" for x in failed)
                    + f"; task logs under {self.folder}/airflow/logs"
                )
            chain = all(
                any(
                    x["dag_id"] == d and x["run_type"] == t and x["state"] == "success"
                    for x in runs
                )
                for d, t in CHAIN
            )
            idle = all(x["state"] in ("success", "failed", "skipped") for x in runs)
            return runs if chain and idle else None

        runs = self._wait("the DAG runs", done, timeout, interval=2)
        self.report.run_s = time.monotonic() - triggered
        self.report.dag_runs = runs
        return self.report

    # -- the metadata DB ---------------------------------------------------------------------

    def task_instances(self) -> list[dict]:
        """Every task instance of the run, with the queue and the Unix user it ran under."""
        import psycopg2

        con = psycopg2.connect(self.pg_dsn)
        try:
            with con.cursor() as cur:
                cur.execute(
                    "select dag_id, run_id, task_id, map_index, state, queue, unixname, "
                    "hostname from task_instance order by dag_id, run_id, task_id, map_index"
                )
                cols = [c.name for c in cur.description]
                return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise ListeningError(f"no Uid line in /proc/{pid}/status")


def _child_of(pid: int) -> int | None:
    """The first child of ``pid`` once it has one (the worker strace started)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else None


def _pss_of_sessions(sessions: set[int]) -> dict[int, int]:
    """Proportional set size (KiB, shared pages split) of each session's processes."""
    total: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            sid = int(stat.rsplit(")", 1)[1].split()[3])
            if sid not in sessions:
                continue
            for line in Path(entry.path, "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total[sid] = total.get(sid, 0) + int(line.split()[1])
                    break
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to read
    return total


def _stop_groups(popens: list[subprocess.Popen], first: signal.Signals) -> None:
    """Signal each process group (its leader's PID), wait up to 30 s, then SIGKILL."""

    def kill(popen: subprocess.Popen, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, sig)  # start_new_session: the group id is the leader's PID

    for popen in popens:
        kill(popen, first)
    deadline = time.monotonic() + 30
    for popen in popens:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(max(0.1, deadline - time.monotonic()))
    for popen in popens:
        kill(popen, signal.SIGKILL)  # a leader that would not stop, or a child outliving it
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(10)


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
