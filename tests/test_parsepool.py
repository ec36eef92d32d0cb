"""The parser processes: tasks run in other processes, in parallel, and a crash stays local."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listening.collect.parsepool import ParsePool, ParserDied
from listening.collect.parsetask import ParseTask, parse_body

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


def meet(folder: str, n: int) -> int:
    """Wait until ``n`` tasks are running at once (each leaves a file); this process's id."""
    Path(folder, str(os.getpid())).touch()
    deadline = time.monotonic() + 30
    while len(os.listdir(folder)) < n:
        if time.monotonic() > deadline:
            raise TimeoutError("the other tasks never ran at the same time")
        time.sleep(0.01)
    return os.getpid()


def die() -> None:
    os._exit(3)


def fail() -> None:
    raise ValueError("bad body")


def touch_at_exit(path: str) -> bool:
    import atexit

    atexit.register(Path(path).touch)
    return True


def test_parser_processes_end_without_the_interpreters_teardown(tmp_path):
    """At the end of input a parser process ends at once (``os._exit``), exit code 0: the pool's
    close, which the collect's load waits for, does not wait for lxml and the rest to unload.
    Atexit handlers are part of that teardown, so one a task registered never runs."""
    flag = tmp_path / "teardown-ran"
    with ParsePool(1) as pool:
        assert pool.submit(touch_at_exit, str(flag)).result(timeout=60)
        process = pool._workers[0].process
    assert process.returncode == 0
    assert not flag.exists()


def test_tasks_run_in_parallel_in_other_processes(tmp_path):
    with ParsePool(2) as pool:
        futures = [pool.submit(meet, str(tmp_path), 2) for _ in range(2)]
        pids = {f.result(timeout=60) for f in futures}
    assert len(pids) == 2 and os.getpid() not in pids


def test_a_parser_that_dies_fails_its_task_and_is_replaced():
    with ParsePool(1) as pool:
        with pytest.raises(ParserDied, match="exit code 3"):
            pool.submit(die).result(timeout=60)
        assert pool.submit(os.getpid).result(timeout=60) > 0


def test_an_exception_in_a_task_comes_back_as_one_line():
    with ParsePool(1) as pool:
        with pytest.raises(RuntimeError, match="ValueError: bad body"):
            pool.submit(fail).result(timeout=60)
        assert pool.submit(sum, [1, 2]).result(timeout=60) == 3


def test_parser_processes_give_the_same_documents_as_parsing_here():
    """Every feed fixture (the hostile ones included) parsed in a parser process gives the
    same staged lines, threads and errors as parsing in the calling process."""
    tasks = [
        ParseTask(
            "main",
            "feed",
            False,
            path.read_bytes(),
            {"content-type": "application/xml"},
            f"https://fixtures.example.fr/{path.name}",
            "Fixture",
            datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        )
        for path in sorted(FIXTURES.glob("*.xml"))
    ]
    assert len(tasks) >= 20
    with ParsePool(2) as pool:
        there = [f.result(timeout=120) for f in [pool.submit(parse_body, t) for t in tasks]]
    assert there == [parse_body(t) for t in tasks]
    assert sum(len(p.lines) for p in there) >= 30  # the fixtures hold 30 documents in all


def test_parser_processes_that_cannot_start_leave_the_work_to_the_caller(monkeypatch, caplog):
    """An interpreter that cannot import the package: the run is slower, nothing is lost."""
    from listening.collect import parsepool

    monkeypatch.setattr(parsepool, "PRELOAD", "listening.no_such_module")
    with ParsePool(2) as pool:
        futures = [pool.submit(os.getpid) for _ in range(3)]
        assert {f.result(timeout=60) for f in futures} == {os.getpid()}
        assert pool.submit(sum, [1, 2]).result(timeout=60) == 3
    assert "parsing in the fetching process instead" in caplog.text


def test_tasks_queued_behind_a_fatal_one_still_run():
    with ParsePool(1) as pool:
        futures = [pool.submit(die), pool.submit(sum, [1, 2]), pool.submit(sum, [3, 4])]
        with pytest.raises(ParserDied):
            futures[0].result(timeout=60)
        assert [f.result(timeout=60) for f in futures[1:]] == [3, 7]


def test_start_starts_the_processes_before_the_first_task():
    """``start`` (the collect calls it before its plan opens the store): the interpreters start
    and import the parse tasks with no task given; the first task then runs in one of them."""
    with ParsePool(2) as pool:
        pool.start()
        processes = [w.process for w in pool._workers]
        assert len(processes) == 2
        deadline = time.monotonic() + 60
        while not all(w.started for w in pool._workers):  # each said it is ready
            assert time.monotonic() < deadline, "the parser processes never said they are ready"
            time.sleep(0.01)
        pool.start()  # a second call starts nothing more
        assert [w.process for w in pool._workers] == processes
        assert pool.submit(os.getpid).result(timeout=60) in {p.pid for p in processes}
