"""What the scale run starts besides Airflow: PostgreSQL (Airflow's metadata DB) and Redis (the
Celery broker) on free loopback ports, the environment every Airflow process gets, and the fetch
worker's Unix user with a Python it can run (``listening.demo.scale`` puts them together).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from listening.demo.procs import Processes, free_port
from listening.errors import ListeningError

FETCH_USER = "listening-fetch"
ROOT = Path(__file__).resolve().parents[3]


def postgres_bin() -> Path:
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


def check_extra() -> None:
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("apache-airflow-providers-celery", "apache-airflow-providers-postgres"):
        try:
            version(dist)
        except PackageNotFoundError:
            raise ListeningError(
                f"{dist} is missing: install the scale extra (`make scale-demo` does: "
                "`uv sync --extra scale`; or `pip install 'listening[scale]'`)"
            ) from None


def start_postgres(procs: Processes, pg_bin: Path, is_root: bool) -> str:
    """PostgreSQL (Airflow's metadata DB) on a free loopback port; return its DSN."""
    assert procs.folder is not None
    data, sockets = procs.folder / "pg", procs.folder / "pg-run"
    data.mkdir()
    sockets.mkdir()
    kw: dict = {}
    if is_root:  # initdb and postgres refuse to run as root
        entry = pwd.getpwnam("postgres")
        for p in (data, sockets):
            os.chown(p, entry.pw_uid, entry.pw_gid)
        kw = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    procs.run(
        [str(pg_bin / "initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "--no-sync"],
        "initdb",
        **kw,
    )
    port = free_port()
    procs.spawn(
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
    procs.wait("postgres", lambda: subprocess.run(ready).returncode == 0, 30)
    procs.run(
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
    procs.out.say(f"scale: PostgreSQL on 127.0.0.1:{port}")
    return f"postgresql://airflow@127.0.0.1:{port}/airflow"


def start_redis(procs: Processes, redis: str) -> str:
    """Redis (the Celery broker) on a free loopback port; return its URL."""
    assert procs.folder is not None
    port = free_port()
    (procs.folder / "redis").mkdir()
    args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    procs.spawn("redis", [redis, *args, "--dir", str(procs.folder / "redis")], None)
    procs.wait("redis", lambda: redis_ping(port), 30)
    procs.out.say(f"scale: Redis on 127.0.0.1:{port}")
    return f"redis://127.0.0.1:{port}/0"


def redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


def airflow_env(
    folder: Path, dags: Path, pg_dsn: str, redis_url: str, config_file: Path
) -> tuple[dict[str, str], str]:
    """The environment of every Airflow process, and the API server's base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(folder / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_dsn.replace(
            "postgresql://", "postgresql+psycopg2://"
        ),
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg_dsn,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        # Every component signs or checks the task JWTs with it: one secret for all.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(dags), os.environ.get("PYTHONPATH")])),
        "LISTENING_CONFIG": str(config_file),
        "LISTENING_COLLECT_SCHEDULE": "none",  # only the run we trigger
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env, base_url


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


def fetch_python(procs: Processes, fetch_user: str, env: dict[str, str], user_kw: dict) -> str:
    """This venv's Python when the fetch user can run it; else a venv of its own (as a
    fetch host would have), from the same uv.lock and a system Python it can run."""
    assert procs.folder is not None

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
            f"scale: {fetch_user} can run neither {sys.executable} nor a system "
            "Python >= 3.11: install Debian's python3, or keep the checkout and its "
            "interpreter readable by other users"
        )
    venv = procs.folder / "venv-fetch"
    uv = os.environ.get("UV") or shutil.which("uv")
    uv_cmd = [uv] if uv else [shutil.which("python3") or "python3", "-m", "uv"]
    uv_env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    # The fetch user cannot write this venv, so no .pyc would ever be cached: without
    # bytecode installed, every parser process would compile each module it imports.
    uv_env["UV_COMPILE_BYTECODE"] = "1"
    procs.run([*uv_cmd, "venv", "-q", "--python", candidate, str(venv)], "fetch venv", uv_env)
    # --no-editable: the package itself goes into the venv, the checkout need not be readable
    sync = ["sync", "-q", "--frozen", "--extra", "scale", "--no-dev", "--no-editable"]
    sync += ["--python", candidate]
    procs.run(
        [*uv_cmd, *sync, "--project", str(ROOT)],
        f"fetch venv: uv sync (the fetch user cannot run {sys.executable})",
        uv_env,
    )
    return str(venv / "bin" / "python")


def check_fetch_user_reach(
    python: str, env: dict[str, str], user_kw: dict, fetch_user: str, config_file: Path, db: Path
) -> None:
    """The fetch user must read the code and the config, and must not reach the store."""
    probe = (
        "import sys, listening, importlib.metadata as m\n"
        "m.version('apache-airflow-providers-celery')\n"
        "open(sys.argv[1]).close()\n"
        "try:\n    open(sys.argv[2], 'rb')\nexcept PermissionError:\n    sys.exit(0)\n"
        "sys.exit('the store is readable')\n"
    )
    cmd = [python, "-c", probe, str(config_file), str(db)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, **user_kw)
    if proc.returncode != 0:
        raise ListeningError(
            f"scale: as {fetch_user}, the fetch worker cannot run: "
            f"{proc.stderr.strip().splitlines()[-1:] or proc.returncode}. It must read the "
            f"checkout ({ROOT}), its .venv and {config_file} (clone into a folder "
            "other users can read, e.g. /srv or /opt), and must not read the store."
        )
