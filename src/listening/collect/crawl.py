"""Fetch a run's planned units: the event loop between fetching threads and parser processes.

One fetching side (threads, per-host and total caps on connections) hands bodies to parser
processes; each unit's bookkeeping is a ``listening.collect.work.UnitWork``, and each unit is
written to the staging folder (``listening.collect.staging``) as soon as its last parse is done,
except the units that brought no documents: their states are written together at the end.
Fetching never touches the store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import urllib.parse
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import datetime
from pathlib import Path
from typing import Any

from listening.collect.parsetask import Parsed, parse_body
from listening.collect.staging import Unit, write_states
from listening.collect.work import UnitResult, UnitWork
from listening.config import Config

ROBOTS_AGENT = "listening"


def fetch_units(
    units: list[Unit],
    config: Config,
    run_dir: Path,
    now: datetime,
    *,
    on_progress: Callable[[str], None] | None = None,
    parsers=None,
) -> list[UnitResult]:
    """Fetch every due feed of ``units`` and stage each unit as soon as it is parsed (those with
    no documents together, at the end: ``staging.write_states``); never raises for web
    problems.

    One fetching side (threads, per-host and total caps on connections) hands bodies to
    ``settings.fetch_processes`` parser processes (0: one per CPU core; 1: parse here), so
    parsing uses every core whatever the host layout. A unit's main feed comes first, then the
    comment threads it announces or that are due; the unit is staged when its last parse is
    done. Fetches wait while parsers lag behind, so memory holds a bounded number of bodies.
    ``parsers``: a pool from ``parser_pool`` to use (the caller closes it); else one is made.
    """
    from listening.collect.fetch import Fetcher
    from listening.collect.fetchqueue import FetchQueue

    run_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{run_dir.name}")
    works = [UnitWork(u, config, now, rng) for u in units]
    n_bodies = sum(w.unit.is_due for w in works)
    with (
        Fetcher(fetch_policy(config), origins=len(_origins(works))) as fetcher,
        FetchQueue(fetcher) as queue,
        contextlib.nullcontext(parsers)
        if parsers is not None
        else parser_pool(config, n_bodies) as parsers,
    ):
        run = _Run(queue, parsers, run_dir, on_progress)
        try:
            run.collect(works)
        finally:  # what was done is staged, even if the loop broke
            write_states(run_dir, run.together)
    return [w.result for w in works]


def parser_pool(config: Config, n_bodies: int | None = None):
    """``settings.fetch_processes`` parser processes (0: one per CPU core), no more than
    ``n_bodies``; parsing in the calling process if that makes one. A context manager; its
    ``start()`` starts the processes before the first body."""
    from listening.collect.parsepool import ParsePool

    n = config.settings.fetch_processes or os.cpu_count() or 1
    if n_bodies is not None:
        n = min(n, n_bodies)
    return ParsePool(n) if n > 1 else _Inline()


class _Inline:
    """Parsing in the calling process (``fetch_processes = 1``, or nothing to parse)."""

    n_started = 0  # parser processes

    def submit(self, function: Callable, *args: Any) -> Future:
        future: Future = Future()
        future.set_result(function(*args))
        return future

    def start(self) -> None:
        pass

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc) -> None:
        pass


class _Run:
    """The event loop of one fetch run: fetch completions become parse tasks, parse results
    become follow-up fetches or staged units."""

    def __init__(self, queue, parsers, run_dir: Path, on_progress):
        self.queue = queue
        self.parsers = parsers
        self.run_dir = run_dir
        self.on_progress = on_progress
        self.parsing: dict[Future, tuple[UnitWork, Any, Any, str]] = {}
        self.robots: dict[str, bytes | None] = {}  # origin -> robots.txt (None: disallow all)
        self.robots_waiting: dict[str, list[tuple[UnitWork, Any]]] = {}
        # The state records of the units that brought no documents: staged together at the end.
        self.together: list[bytes] = []
        # Bodies in memory at once: those being fetched or parsed, plus a few waiting parsers.
        self.max_bodies = queue.limit_total + 2 * getattr(parsers, "n_workers", 1)

    def collect(self, works: list[UnitWork]) -> None:
        for work in works:
            if work.unit.main.is_due:
                self._fetch(work, work.main_job(), "main")
            else:
                self._children(work)
            self._maybe_stage(work)
        while self.queue or self.parsing:
            self._start_fetches()
            done, _ = wait([*self.queue.running, *self.parsing], return_when=FIRST_COMPLETED)
            for future in done:
                if future in self.parsing:
                    self._parsed(future)
                else:
                    self._fetched(future)

    def _start_fetches(self) -> None:
        """Start what the caps and the bound on bodies in memory allow."""
        self.queue.start(max(0, self.max_bodies - len(self.parsing) - len(self.queue.running)))

    def _fetch(self, work: UnitWork, job, role: str) -> None:
        work.pending += 1
        self.queue.add(job, (work, role))

    def _fetched(self, future) -> None:
        job, tag, result = self.queue.finish(future)
        if tag[0] == "robots":
            self._robots_arrived(tag[1], result)
            return
        work, role = tag
        work.pending -= 1
        if result.ok and not result.not_modified:
            task = work.parse_task(job, result, role)
            work.pending += 1
            self.parsing[self.parsers.submit(parse_body, task)] = (
                work,
                job,
                _bodiless(result),
                role,
            )
        elif role == "main":
            work.on_main(job, result, None)
            self._children(work)
        else:
            work.on_child(job, result, None)
        self._maybe_stage(work)

    def _parsed(self, future) -> None:
        work, job, result, role = self.parsing.pop(future)
        work.pending -= 1
        try:
            parsed = future.result()
        except Exception as exc:  # the parser process died on this body: that source's problem
            parsed = Parsed(is_feed=False, error=f"unreadable ({exc}); tell the site's owner")
        if role == "main":
            follow = work.on_main(job, result, parsed)
            if follow is not None:
                self._fetch(work, follow, "main")
            else:
                self._children(work)
        else:
            work.on_child(job, result, parsed)
        self._maybe_stage(work)

    def _children(self, work: UnitWork) -> None:
        """Comment threads (comment feeds, or post pages after the host's robots.txt)."""
        from listening.collect.fetchjobs import FetchJob

        for job in work.threads.jobs():
            if work.threads[job.key].kind != "page":
                self._fetch(work, job, "child")
                continue
            origin = _origin(job.url)
            if origin in self.robots:
                self._page_job(work, job, self.robots[origin])
                continue
            work.pending += 1
            if origin not in self.robots_waiting:
                self.queue.add(FetchJob(origin, origin + "/robots.txt"), ("robots", origin))
            self.robots_waiting.setdefault(origin, []).append((work, job))

    def _robots_arrived(self, origin: str, result) -> None:
        # RFC 9309 §2.3.1.3: an unavailable robots.txt (4xx) allows everything; an
        # unreachable one (5xx, network) disallows everything.
        if result.status and 400 <= result.status < 500:
            self.robots[origin] = b""
        elif result.ok:
            self.robots[origin] = result.body
        else:
            self.robots[origin] = None
        for work, job in self.robots_waiting.pop(origin, []):
            work.pending -= 1
            self._page_job(work, job, self.robots[origin])
            self._maybe_stage(work)

    def _page_job(self, work: UnitWork, job, robots: bytes | None) -> None:
        from listening.collect.robots import robots_allows

        if robots is not None and robots_allows(robots, ROBOTS_AGENT, job.url):
            self._fetch(work, job, "child")
        else:
            child = work.threads[job.key]
            work.threads.skip(child, "robots.txt disallows this page for listening; not fetched")

    def _maybe_stage(self, work: UnitWork) -> None:
        if work.pending or work.is_staged:
            return
        # The next fetches start before this unit's files are written: writing waits for the
        # GIL behind the fetching threads (about 1 ms a file), and the fetches need not wait.
        self._start_fetches()
        work.stage(self.run_dir, self.together)
        if self.on_progress:
            self.on_progress(work.unit.name)


def _bodiless(result):
    """The result without its body: what is kept while the body is being parsed."""
    return dataclasses.replace(result, body=b"")


def fetch_policy(config: Config):
    from listening.collect.fetchjobs import FetchPolicy

    s = config.settings
    return FetchPolicy(
        allow_private_networks=s.allow_private_networks,
        connect_timeout=s.connect_timeout,
        read_timeout=s.read_timeout,
        total_timeout=s.total_timeout,
        max_bytes=s.max_body_mib * 1024 * 1024,
        max_per_host=s.max_per_host,
        max_total=s.max_concurrency,
    )


def _origins(works: list[UnitWork]) -> set[str]:
    """Where the units' known feeds are (scheme, host and port: one connection pool each)."""
    return {_origin(s.feed_url or s.url) for w in works for s in (w.unit.main, *w.unit.children)}


def _origin(url: str) -> str:
    p = urllib.parse.urlsplit(url)
    return f"{p.scheme}://{p.netloc}"
