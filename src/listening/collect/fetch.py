"""Fetching bytes over HTTP: the only module of the package that talks to the network.

``Fetcher.fetch`` returns a ``FetchResult`` for whatever the web does (timeouts, 404, 410, a body
too large, a refused address): those are data about a source, not exceptions. Parsing the bytes is
someone else's job (see ``STYLE.md``, "Data flow and I/O").

What it enforces, and why:

- every request and every redirect hop goes through the network guard (``listening.collect.guard``);
- connect and read timeouts per socket operation, plus a total deadline for the whole fetch, so a
  server dripping one byte at a time cannot hold a worker for longer than ``total_timeout``;
- a cap on the *decoded* body, enforced while streaming (urllib3 2.x inflates at most the bytes
  asked for), so a gzip bomb stops at the cap;
- conditional GET from the stored validators (RFC 9110 §13.1), redirects followed by hand so each
  hop is checked and permanent moves (301/308, RFC 9110 §15.4) can be reported.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urldefrag, urljoin, urlsplit

import requests
import urllib3.exceptions

from listening import __version__
from listening.collect.guard import AddressRule, GuardedAdapter, check_url, response_deadline
from listening.errors import SourceBlocked

# No "+URL" contact: the project has no public home page, and a made-up one would send site
# operators to someone else's address (tests/test_links.py).
USER_AGENT = f"listening/{__version__} (self-hosted social listening)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})  # RFC 9110 §15.4.2 and §15.4.9
CHUNK = 64 * 1024
DRAIN_MAX = 64 * 1024  # read and drop an unwanted body up to this size to keep the connection
# Only encodings whose urllib3 decoders honour max_length, so the decoded cap holds for bombs
# (brotli/zstd support depends on which optional library versions are installed).
ACCEPT_ENCODING = "gzip, deflate"


@dataclass
class FetchPolicy:
    """Limits for fetching; every field comes from the configuration's ``settings``."""

    allow_private_networks: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    max_per_host: int = 2
    max_total: int = 8
    # CIDRs allowed even when private networks are refused (e.g. ("192.168.1.20/32",)).
    allowed_networks: tuple[str, ...] = ()


@dataclass
class FetchResult:
    """What happened when fetching one URL. ``error`` is None on success."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    permanent_redirect: str | None = None
    retry_after: float | None = None
    error: str | None = None
    # 'blocked', 'invalid_url', 'dns', 'timeout', 'network', 'tls', 'too_large', 'http', 'gone',
    # 'rate_limited', 'redirect_loop', 'too_many_redirects'
    error_kind: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.not_modified or (self.status == 200 and self.error is None)


@dataclass
class FetchJob:
    key: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


class _Failure(Exception):
    """Internal: stop this fetch with an error kind and a one-line message."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def parse_retry_after(value: str | None, date_header: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3): delay-seconds or HTTP-date.

    An HTTP-date is measured against the response's own Date header when there is one, so a
    server whose clock is off still gets the delay it meant.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    when = _http_date(value)
    if when is None:
        return None
    reference = _http_date(date_header) if date_header else None
    now = reference.timestamp() if reference else time.time()
    return max(0.0, when.timestamp() - now)


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _host_key(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _status_message(status: int, url: str, retry_after: float | None) -> tuple[str, str]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unknown status"
    head = f"{url} answered HTTP {status} {phrase}"
    wait_hint = f" after {retry_after:.0f}s as asked (Retry-After)" if retry_after else " later"
    if status == 410:
        return "gone", f"{head}: the resource was removed; delete the source or re-enable it later"
    if status == 429:
        return "rate_limited", f"{head}: rate limited; will retry{wait_hint}"
    if status in (401, 403):
        return "http", f"{head}: access refused; check the site's terms or remove the source"
    if status == 404:
        return "http", f"{head}: check the source's URL in the configuration"
    if status >= 500:
        return "http", f"{head}: server error; will retry{wait_hint}"
    return "http", f"{head}: not a feed response; check the source's URL"


class Fetcher:
    """Fetch URLs under a ``FetchPolicy``, sharing one pooled, guarded ``requests.Session``.

    A session passed in is adapted in place: the guarded adapter is mounted for http and https,
    environment proxies and .netrc are ignored (``trust_env = False``) and cookies are refused.
    """

    def __init__(self, policy: FetchPolicy, session: requests.Session | None = None):
        self.policy = policy
        self.rule = AddressRule(policy.allow_private_networks, tuple(policy.allowed_networks))
        self.session = session if session is not None else requests.Session()
        self.session.trust_env = False
        # Fetches are stateless: a cookie set by one site must not change what we fetch later.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = GuardedAdapter(
            self.rule,
            pool_connections=max(16, policy.max_total),  # hosts whose pools are kept
            pool_maxsize=max(1, policy.max_per_host),  # keep-alive connections per host
            max_retries=0,  # retrying is the scheduler's decision (see listening.collect.state)
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one URL -----------------------------------------------------------------------------

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch ``url``; never raises for what the web does, see ``FetchResult.error``."""
        start = time.monotonic()
        result = FetchResult(url=url, final_url=url)
        try:
            self._fetch(result, etag, last_modified, start + self.policy.total_timeout)
        except _Failure as e:
            result.error_kind, result.error = e.kind, str(e)
        except SourceBlocked as e:
            result.error_kind, result.error = "blocked", str(e)
        result.elapsed = time.monotonic() - start
        if result.error is not None:
            result.body = b""
        return result

    def _fetch(self, result: FetchResult, etag, last_modified, deadline: float) -> None:
        policy = self.policy
        current, visited, permanent, hops = result.url, {urldefrag(result.url).url}, True, 0
        while True:
            result.final_url = current
            response = self._send(current, etag, last_modified, deadline)
            try:
                status = response.status_code
                location = response.headers.get("location")
                if status in REDIRECTS and location:
                    hops += 1
                    permanent = permanent and status in PERMANENT_REDIRECTS
                    target = urldefrag(urljoin(current, location.strip())).url
                    if target in visited:
                        raise _Failure(
                            "redirect_loop",
                            f"{result.url} redirects in a loop ({current} -> {target}); "
                            "fix the source's URL or tell the site owner",
                        )
                    if hops > policy.max_redirects:
                        raise _Failure(
                            "too_many_redirects",
                            f"{result.url} redirects more than {policy.max_redirects} times; "
                            "use the final URL in the configuration",
                        )
                    visited.add(target)
                    current = target
                    self._drain(response, deadline)
                    continue
                self._read_response(result, response, etag, last_modified, deadline)
                if hops and permanent:
                    result.permanent_redirect = result.final_url
                return
            finally:
                response.close()

    def _send(self, url: str, etag, last_modified, deadline: float) -> requests.Response:
        policy = self.policy
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Failure("timeout", self._deadline_message(url))
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
        # RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present, so send
        # the stronger validator alone.
        if etag:
            headers["If-None-Match"] = etag
        elif last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            check_url(url, self.rule)
            with response_deadline(deadline):
                return self.session.get(
                    url,
                    headers=headers,
                    allow_redirects=False,
                    stream=True,
                    timeout=(
                        min(policy.connect_timeout, remaining),
                        min(policy.read_timeout, remaining),
                    ),
                )
        except requests.exceptions.ConnectTimeout as e:
            raise _Failure(
                "timeout",
                f"could not connect to {url} within {policy.connect_timeout:g}s; the server is "
                "down or unreachable (raise settings.connect_timeout only if it is merely slow)",
            ) from e
        except requests.exceptions.ReadTimeout as e:
            raise _Failure("timeout", self._read_timeout_message(url, deadline)) from e
        except requests.exceptions.SSLError as e:
            raise _Failure("tls", f"TLS error with {url}: {_root(e)}; check the URL") from e
        except requests.exceptions.ConnectionError as e:
            if time.monotonic() >= deadline - 0.05:  # our watchdog cut a dripping response head
                raise _Failure("timeout", self._deadline_message(url)) from e
            root = _root(e)
            if isinstance(root, socket.gaierror) or "resolve" in str(root).lower():
                raise _Failure("dns", f"{url}: the host name does not resolve ({root})") from e
            raise _Failure("network", f"could not connect to {url}: {root}") from e
        except socket.gaierror as e:
            raise _Failure("dns", f"{url}: the host name does not resolve ({e})") from e
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as e:
            raise _Failure("invalid_url", f"{url} is not a valid URL ({e}); fix it") from e
        except (requests.exceptions.RequestException, OSError) as e:
            raise _Failure("network", f"request to {url} failed: {_root(e)}") from e
        except ValueError as e:  # from check_url: no host, bad port, bad IDNA
            raise _Failure("invalid_url", f"{url} is not a valid URL ({e}); fix it") from e

    def _read_response(self, result, response, etag, last_modified, deadline) -> None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        result.status = response.status_code
        result.headers = headers
        result.final_url = response.url
        result.etag = headers.get("etag")
        result.last_modified = headers.get("last-modified")
        if response.status_code != 200:
            self._drain(response, deadline)
        if response.status_code == 304:
            # A 304 may omit the validators; the stored ones still describe our copy.
            result.not_modified = True
            result.etag = result.etag or etag
            result.last_modified = result.last_modified or last_modified
            return
        if response.status_code != 200:
            if response.status_code in (429, 503):
                result.retry_after = parse_retry_after(
                    headers.get("retry-after"), headers.get("date")
                )
            kind, message = _status_message(
                response.status_code, result.final_url, result.retry_after
            )
            raise _Failure(kind, message)
        result.body = self._read_body(response, deadline)

    def _drain(self, response: requests.Response, deadline: float) -> None:
        """Read a small unwanted body (a redirect's, an error page) so that the connection goes
        back to the pool; a large or unknown-length body is not worth it: it gets closed."""
        length = response.headers.get("content-length", "")
        if response.status_code not in (204, 304) and not (
            length.isdigit() and int(length) <= DRAIN_MAX
        ):
            return
        sock = _socket_of(response)
        with contextlib.suppress(urllib3.exceptions.HTTPError, OSError):
            while (remaining := deadline - time.monotonic()) > 0:
                if sock is not None:
                    sock.settimeout(min(self.policy.read_timeout, remaining))
                if not response.raw.read1(CHUNK, decode_content=False):
                    break

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        policy, url = self.policy, response.url
        too_large = _Failure(
            "too_large",
            f"{url} is larger than {policy.max_bytes / 1048576:g} MiB once decoded; "
            "raise settings.max_body_mib if this source is legitimately that big",
        )
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding == "identity" and declared.isdigit() and int(declared) > policy.max_bytes:
            raise too_large  # no need to download what we will refuse anyway
        raw = response.raw
        sock = _socket_of(response)
        # The watchdog wakes a read blocked inside the decoder's own loop, where our per-read
        # deadline check cannot run; shutdown() (unlike close()) interrupts a blocked recv().
        fired = threading.Event()

        def expire() -> None:
            fired.set()
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed: nothing to wake
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
        watchdog.daemon = True
        watchdog.start()
        body = bytearray()
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or fired.is_set():
                    raise _Failure("timeout", self._deadline_message(url))
                if sock is not None:
                    sock.settimeout(min(policy.read_timeout, remaining))
                # Ask for at most one byte past the cap: urllib3 inflates no more than that.
                chunk = raw.read1(min(CHUNK, policy.max_bytes + 1 - len(body)), decode_content=True)
                if not chunk:
                    break
                body += chunk
                if len(body) > policy.max_bytes:
                    raise too_large
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as e:
            raise _Failure("timeout", self._read_timeout_message(url, deadline)) from e
        except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as e:
            if fired.is_set():
                raise _Failure("timeout", self._deadline_message(url)) from e
            kind = "decode" if isinstance(e, urllib3.exceptions.DecodeError) else "network"
            raise _Failure(kind, f"reading {url} failed: {_root(e)}") from e
        finally:
            watchdog.cancel()
        if fired.is_set():
            raise _Failure("timeout", self._deadline_message(url))
        return bytes(body)

    def _deadline_message(self, url: str) -> str:
        return (
            f"{url} took longer than settings.total_timeout ({self.policy.total_timeout:g}s) "
            "in total; the server is too slow, raise the setting only if the source is worth it"
        )

    def _read_timeout_message(self, url: str, deadline: float) -> str:
        if time.monotonic() >= deadline - 0.05:
            return self._deadline_message(url)
        return (
            f"{url} sent nothing for {self.policy.read_timeout:g}s (settings.read_timeout); "
            "the server is stalled, it will be retried later"
        )

    # -- many URLs ---------------------------------------------------------------------------

    def fetch_many(
        self,
        jobs: list[FetchJob],
        on_done: Callable[[FetchJob, FetchResult], None] | None = None,
    ) -> Iterator[tuple[FetchJob, FetchResult]]:
        """Fetch jobs on up to ``max_total`` threads, ``max_per_host`` per host name at once.

        Results are yielded (and ``on_done`` called) as fetches complete, in completion order.
        A job is only handed to a thread when its host has room, so no thread sits waiting.
        """
        with FetchQueue(self) as queue:
            for job in jobs:
                queue.add(job)
            while queue:
                queue.start()
                done, _ = wait(queue.running, return_when=FIRST_COMPLETED)
                for future in done:
                    job, _, result = queue.finish(future)
                    if on_done is not None:
                        on_done(job, result)
                    yield job, result


class FetchQueue:
    """Jobs waiting in one queue per host, started on the fetcher's threads within its caps.

    ``add`` jobs at any time, ``start`` what the caps allow, ``wait`` on ``running`` and
    ``finish`` each completed future. Starting a job costs O(1) whatever the backlog: only hosts
    with a free slot and a waiting job are visited, in turn, and each host's jobs keep their
    order (a host's URL is parsed once, when its job is added).
    """

    def __init__(self, fetcher: Fetcher):
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
        host = _host_key(job.url)
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


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response is read from, to bound each read by the deadline."""
    return getattr(getattr(response.raw, "connection", None), "sock", None)


def _root(error: BaseException) -> BaseException:
    """The innermost cause, whose message names the actual problem."""
    seen = set()
    while True:
        inner = error.__cause__ or error.__context__
        if isinstance(error, requests.exceptions.RequestException) and error.args:
            first = error.args[0]
            if isinstance(first, BaseException):
                inner = first
        if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
            inner = error.reason
        if inner is None or id(inner) in seen:
            return error
        seen.add(id(error))
        error = inner
