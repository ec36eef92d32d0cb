"""A pool of parsing processes fed over pipes, so that parsing uses every core.

Parsing feeds is CPU-bound Python: the fetching process (threads, I/O bound) hands each body to
whichever parser process is free and gets the parsed result back as a ``Future``, so one event
loop can wait on fetches and parses together.

Plain ``subprocess`` workers rather than ``multiprocessing``: a spawned ``multiprocessing``
worker imports its parent's ``__main__`` again (the Airflow task runner, a bench script), and
forking is unsafe once the fetch threads run. Each worker here is a fresh interpreter that
imports only ``listening.collect.parsetask`` (17 MiB resident; 31 MiB once it has parsed a feed
with lxml and feedparser, with bytecode installed), whatever process started it.

Messages are length-prefixed pickles of ``(function, args)`` and ``(ok, value)``; functions
are module-level, so pickle sends their names. Only the pool's own children read them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, BinaryIO

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!Q")
# what the parse tasks need, imported while the first fetches run
PRELOAD = "listening.collect.parsetask"


class ParserDied(RuntimeError):
    """A parser process ended in the middle of a task (killed, out of memory, crashed)."""


def _send(fh: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_HEADER.pack(len(data)))
    fh.write(data)
    fh.flush()


def _recv(fh: BinaryIO) -> Any:
    head = fh.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(head)
    data = fh.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # only ever written by our own parent or child process


class _Worker:
    def __init__(self, pool: ParsePool):
        self.pool = pool
        self.process = subprocess.Popen(
            [sys.executable, "-m", "listening.collect.parsepool", PRELOAD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.current: Future | None = None
        self.task: tuple = ()
        self.started = False  # said it is ready: the interpreter and the imports work
        self.reader = threading.Thread(target=self._read, name="listening-parse", daemon=True)
        self.reader.start()

    def give(self, future: Future, task: tuple) -> None:
        self.current, self.task = future, task
        # A dead worker: its reader sees the end of the process and fails the task.
        with contextlib.suppress(OSError):
            _send(self.process.stdin, task)

    def _read(self) -> None:
        while True:
            try:
                ok, value = _recv(self.process.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                self.pool._died(self)
                return
            if not self.started:  # the first message says the worker is ready
                self.started = True
                continue
            future, self.current = self.current, None
            if future is not None:
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(RuntimeError(value))
            self.pool._idle(self)


class ParsePool:
    """``submit(function, *args)`` runs in one of ``n`` parser processes; a ``Future`` back.

    The processes start together on the first ``submit`` (or on ``start``, to overlap their
    start-up with other work) and stop on ``close``.
    A parser process that dies fails its task with ``ParserDied`` and is replaced. If parser
    processes cannot even start (``MAX_FAILED_STARTS`` die before saying they are ready), tasks
    run in the calling process instead, with a warning: slower, never lost.
    """

    MAX_FAILED_STARTS = 3

    def __init__(self, n: int):
        self.n_workers = max(1, n)
        self._lock = threading.Lock()
        self._queue: deque[tuple[Future, tuple]] = deque()
        self._free: list[_Worker] = []
        self._workers: list[_Worker] = []  # started on the first task: a re-poll of unchanged
        self._closed = False  # feeds (all 304) never pays for starting interpreters
        self._failed_starts = 0
        self._broken = False
        self.n_started = 0  # processes started, replacements included

    def submit(self, function: Callable, *args: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            if self._closed:
                raise RuntimeError("the parse pool is closed")
            if self._broken:
                return _run_here(future, function, args)
            self._start_workers()
            if not self._free:
                self._queue.append((future, (function, args)))
                return future
            worker = self._free.pop()
        worker.give(future, (function, args))
        return future

    def start(self) -> None:
        """Start the processes now rather than on the first ``submit``."""
        with self._lock:
            if not self._closed and not self._broken:
                self._start_workers()

    def _start_workers(self) -> None:
        """Under the lock: the processes, unless they were started."""
        if not self._workers:
            self._workers = [_Worker(self) for _ in range(self.n_workers)]
            self._free = list(self._workers)
            self.n_started += self.n_workers

    def _idle(self, worker: _Worker) -> None:
        with self._lock:
            if not self._queue:
                self._free.append(worker)
                return
            future, task = self._queue.popleft()
        worker.give(future, task)

    def _died(self, worker: _Worker) -> None:
        future, worker.current = worker.current, None
        task = worker.task
        worker.process.wait()
        code = worker.process.returncode
        failed = None
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            if worker in self._free:
                self._free.remove(worker)
            if self._broken and future is not None:
                _run_here(future, *task)
                return
            if self._closed or self._broken:
                return
            if not worker.started:  # it never ran the task: not the task's fault
                self._failed_starts += 1
                if future is not None:
                    self._queue.appendleft((future, task))
                if self._failed_starts >= self.MAX_FAILED_STARTS:
                    self._give_up(code)
                    return
            elif future is not None:
                failed = future
            replacement = _Worker(self)
            self._workers.append(replacement)
            self.n_started += 1
        if failed is not None:
            failed.set_exception(ParserDied(f"the parser process ended (exit code {code})"))
        self._idle(replacement)

    def _give_up(self, code: int | None) -> None:
        """Under the lock: parse in the calling process from now on, queued tasks included."""
        log.warning(
            "parser processes die as they start (exit code %s, see above); "
            "parsing in the fetching process instead: check that "
            "`%s -m listening.collect.parsepool` "
            "starts",
            code,
            sys.executable,
        )
        self._broken = True
        queued, self._queue = list(self._queue), deque()
        for future, (function, args) in queued:
            _run_here(future, function, args)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            queued, self._queue = list(self._queue), deque()
        for future, _ in queued:
            future.set_exception(RuntimeError("the parse pool was closed before this task ran"))
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.process.stdin.close()  # end of input: the worker returns
        for worker in workers:
            worker.process.wait()
            worker.reader.join()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _run_here(future: Future, function: Callable, args: tuple) -> Future:
    try:
        future.set_result(function(*args))
    except Exception as exc:  # as a parser process reports it
        future.set_exception(RuntimeError(f"{type(exc).__name__}: {str(exc)[:300]}"))
    return future


def _serve(preload: list[str]) -> None:
    """The worker: answer each task read on stdin, on the original stdout; anything a library
    prints goes to stderr so it cannot corrupt the messages."""
    import importlib

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    for name in preload:
        importlib.import_module(name)
    _send(out, (True, "ready"))
    source = sys.stdin.buffer
    while True:
        try:
            function, args = _recv(source)
        except EOFError:
            break
        try:
            reply = (True, function(*args))
        except Exception as exc:  # reported to the caller's future, the worker goes on
            reply = (False, f"{type(exc).__name__}: {str(exc)[:300]}")
        _send(out, reply)
    # Every reply is flushed and nothing else is held: end now, without the interpreter's
    # teardown of lxml, feedparser and the rest (0.05-0.2 s the pool's close waits for).
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    _serve(sys.argv[1:])
