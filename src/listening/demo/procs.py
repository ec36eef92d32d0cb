"""The scale run's processes (``listening.demo.scale``): started in their own session, logged
to a file each, watched while waiting, measured (memory) and stopped by PID.

Nothing here knows what the processes are; ``listening.demo.services`` starts PostgreSQL and
Redis with it, ``listening.demo.scale`` Airflow.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from listening.errors import ListeningError


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


class Processes:
    """The processes started under ``folder`` (logs in ``folder/logs``), and what they did."""

    def __init__(self, out):
        self.out = out
        self.procs: list[Proc] = []
        self.started: list[tuple[str, int]] = []  # every (name, PID) ever started, kept
        self.folder: Path | None = None
        self.report = RunReport()

    def stop_processes(self) -> None:
        """Stop every process started, by PID: each one's whole process group (it leads its own
        session), the others first, then Redis and PostgreSQL."""
        services = {"postgres", "redis"}
        _stop_groups([p.popen for p in self.procs if p.name not in services], signal.SIGTERM)
        _stop_groups([p.popen for p in self.procs if p.name == "redis"], signal.SIGTERM)
        # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
        _stop_groups([p.popen for p in self.procs if p.name == "postgres"], signal.SIGINT)
        self.procs.clear()

    def run(self, cmd: list[str], label: str, env=None, **kw) -> None:
        t = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, **kw)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise ListeningError(f"scale: {label} failed (exit {proc.returncode}):\n{tail}")
        self.out.say(f"scale: {label} ({time.monotonic() - t:.0f} s)")

    def spawn(self, name: str, cmd: list[str], env, **kw) -> Proc:
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

    def wait(self, what: str, check, timeout: float, interval: float = 0.5):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                last = check()
            except ListeningError:
                raise  # a verdict (a DAG run failed), not a service still starting
            except Exception as exc:  # a service still starting: refused, 503, not parsed
                last = exc
            if last and not isinstance(last, Exception):
                return last
            self.sample_memory()
            time.sleep(interval)
        raise ListeningError(f"scale: timed out waiting for {what} (last: {last!r})")

    def check_alive(self) -> None:
        for proc in self.procs:
            code = proc.popen.poll()
            if code is not None:
                tail = proc.log.read_text("utf-8", errors="replace").strip().splitlines()[-20:]
                raise ListeningError(
                    f"scale: {proc.name} exited (code {code}); its log {proc.log} ends:\n"
                    + "\n".join(tail)
                )

    def sample_memory(self) -> None:
        by_session = _pss_of_sessions({p.popen.pid for p in self.procs})
        self.report.peak_pss_mib = max(self.report.peak_pss_mib, sum(by_session.values()) / 1024)
        for p in self.procs:
            mib = by_session.get(p.popen.pid, 0) / 1024
            self.report.peak_by_process[p.name] = max(
                self.report.peak_by_process.get(p.name, 0), mib
            )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(program: str, package: str) -> str:
    path = shutil.which(program)
    if not path:
        raise ListeningError(
            f"{program} is not installed: `make scale-demo` installs it as root, or run "
            f"`apt-get install {package}`"
        )
    return path


def uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise ListeningError(f"no Uid line in /proc/{pid}/status")


def child_of(pid: int) -> int | None:
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
