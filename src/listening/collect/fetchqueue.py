"""Many fetches at once: jobs wait in one queue per host and start within the caps.

A ``FetchQueue`` runs a ``listening.collect.fetch.Fetcher``'s fetches on threads, at most
``max_total`` at once and ``max_per_host`` per host name, so no thread sits waiting for a busy
host and one slow host cannot take every connection.
"""

from __future__ import annotations

from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from listening.collect.fetchjobs import CanFetch, FetchJob, FetchResult


def host_key(url: str) -> str:
    """The host name a URL's fetch counts against (the per-host cap)."""
    return (urlsplit(url).hostname or "").lower()


class FetchQueue:
    """Jobs waiting in one queue per host, started on the fetcher's threads within its caps.

    ``add`` jobs at any time, ``start`` what the caps allow, ``wait`` on ``running`` and
    ``finish`` each completed future. Starting a job costs O(1) whatever the backlog: only hosts
    with a free slot and a waiting job are visited, in turn, and each host's jobs keep their
    order (a host's URL is parsed once, when its job is added).
    """

    def __init__(self, fetcher: CanFetch):
        self.fetcher = fetcher
        self.limit_total = max(1, fetcher.policy.max_total)
        self.limit_host = max(1, fetcher.policy.max_per_host)
        self.running: dict[Future[FetchResult], tuple[FetchJob, object, str]] = {}
        self._waiting: dict[str, deque[tuple[FetchJob, object]]] = {}
        self._ready: deque[str] = deque()  # hosts with a waiting job and a free slot
        self._busy: Counter[str] = Counter()
        self._pool = ThreadPoolExecutor(self.limit_total, thread_name_prefix="listening-fetch")

    def __bool__(self) -> bool:
        return bool(self.running or self._waiting)

    @property
    def n_waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def add(self, job: FetchJob, tag: object = None) -> None:
        """Queue ``job``; ``tag`` comes back with its result from ``finish``."""
        host = host_key(job.url)
        queue = self._waiting.get(host)
        if queue is None:
            queue = self._waiting[host] = deque()
            if self._busy[host] < self.limit_host:
                self._ready.append(host)
        queue.append((job, tag))

    def start(self, room: int | None = None) -> int:
        """Start waiting jobs while the caps allow (and at most ``room`` of them)."""
        n = 0
        while self._ready and len(self.running) < self.limit_total and (room is None or n < room):
            host = self._ready.popleft()
            queue = self._waiting[host]
            job, tag = queue.popleft()
            self._busy[host] += 1
            future = self._pool.submit(self.fetcher.fetch, job.url, job.etag, job.last_modified)
            self.running[future] = (job, tag, host)
            if not queue:
                del self._waiting[host]
            elif self._busy[host] < self.limit_host:
                self._ready.append(host)  # at the back: hosts take turns
            n += 1
        return n

    def finish(self, future: Future[FetchResult]) -> tuple[FetchJob, object, FetchResult]:
        """Release the slot of a completed fetch; its job, tag and result."""
        job, tag, host = self.running.pop(future)
        self._busy[host] -= 1
        if host in self._waiting and self._busy[host] == self.limit_host - 1:
            self._ready.append(host)  # it was full: it has room again
        if not self._busy[host]:
            del self._busy[host]
        return job, tag, future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FetchQueue:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
