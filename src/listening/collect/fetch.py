"""Fetching bytes over HTTP: with ``body`` and ``fetchqueue``, the only modules that talk to the
network.

``Fetcher.fetch`` returns a ``FetchResult`` for whatever the web does (timeouts, 404, 410, a body
too large, a refused address): those are data about a source, not exceptions. Parsing the bytes is
someone else's job (see ``STYLE.md``, "Data flow and I/O").

What it enforces, and why:

- every request and every redirect hop goes through the network guard (``listening.collect.guard``);
- connect and read timeouts per socket operation, plus a total deadline for the whole fetch, so a
  server dripping one byte at a time cannot hold a worker for longer than ``total_timeout``;
- a cap on the *decoded* body, enforced while streaming (``listening.collect.body``), so a gzip
  bomb stops at the cap;
- conditional GET from the stored validators (RFC 9110 §13.1), redirects followed by hand so each
  hop is checked and permanent moves (301/308, RFC 9110 §15.4) can be reported.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urldefrag, urljoin

import requests

from listening import __version__
from listening.collect.body import (
    FetchFailure,
    deadline_message,
    drain,
    read_body,
    read_timeout_message,
    root_cause,
)
from listening.collect.fetchjobs import FetchJob, FetchPolicy, FetchResult
from listening.collect.fetchqueue import FetchQueue
from listening.collect.guard import AddressRule, GuardedAdapter, check_url, response_deadline
from listening.errors import SourceBlocked

# No "+URL" contact: the project has no public home page, and a made-up one would send site
# operators to someone else's address (tests/test_links.py).
USER_AGENT = f"listening/{__version__} (self-hosted social listening)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})  # RFC 9110 §15.4.2 and §15.4.9
# Only encodings whose urllib3 decoders honour max_length, so the decoded cap holds for bombs
# (brotli/zstd support depends on which optional library versions are installed).
ACCEPT_ENCODING = "gzip, deflate"
# Origins whose connection pools a fetcher keeps at most: each keeps up to max_per_host idle
# connections, so this bounds the open sockets (2 x 128, well under the usual 1024 files).
MAX_KEPT_ORIGINS = 128


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

    def __init__(
        self, policy: FetchPolicy, session: requests.Session | None = None, *, origins: int = 0
    ):
        """``origins``: how many origins (scheme, host, port) this fetcher will visit, if
        known. A connection pool is kept for each (up to ``MAX_KEPT_ORIGINS``): with fewer
        pools than origins taken in turn, each evicts the next one's pool, and every fetch
        opens (and closes) a connection of its own."""
        self.policy = policy
        self.rule = AddressRule(policy.allow_private_networks, tuple(policy.allowed_networks))
        self.session = session if session is not None else requests.Session()
        self.session.trust_env = False
        # Fetches are stateless: a cookie set by one site must not change what we fetch later.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = GuardedAdapter(
            self.rule,
            # origins whose pools (and keep-alive connections) are kept
            pool_connections=max(16, policy.max_total, min(origins, MAX_KEPT_ORIGINS)),
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
        except FetchFailure as e:
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
                        raise FetchFailure(
                            "redirect_loop",
                            f"{result.url} redirects in a loop ({current} -> {target}); "
                            "fix the source's URL or tell the site owner",
                        )
                    if hops > policy.max_redirects:
                        raise FetchFailure(
                            "too_many_redirects",
                            f"{result.url} redirects more than {policy.max_redirects} times; "
                            "use the final URL in the configuration",
                        )
                    visited.add(target)
                    current = target
                    drain(response, self.policy, deadline)
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
            raise FetchFailure("timeout", deadline_message(url, self.policy))
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
            raise FetchFailure(
                "timeout",
                f"could not connect to {url} within {policy.connect_timeout:g}s; the server is "
                "down or unreachable (raise settings.connect_timeout only if it is merely slow)",
            ) from e
        except requests.exceptions.ReadTimeout as e:
            raise FetchFailure("timeout", read_timeout_message(url, self.policy, deadline)) from e
        except requests.exceptions.SSLError as e:
            raise FetchFailure(
                "tls", f"TLS error with {url}: {root_cause(e)}; check the URL"
            ) from e
        except requests.exceptions.ConnectionError as e:
            if time.monotonic() >= deadline - 0.05:  # our watchdog cut a dripping response head
                raise FetchFailure("timeout", deadline_message(url, self.policy)) from e
            root = root_cause(e)
            if isinstance(root, socket.gaierror) or "resolve" in str(root).lower():
                raise FetchFailure("dns", f"{url}: the host name does not resolve ({root})") from e
            raise FetchFailure("network", f"could not connect to {url}: {root}") from e
        except socket.gaierror as e:
            raise FetchFailure("dns", f"{url}: the host name does not resolve ({e})") from e
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as e:
            raise FetchFailure("invalid_url", f"{url} is not a valid URL ({e}); fix it") from e
        except (requests.exceptions.RequestException, OSError) as e:
            raise FetchFailure("network", f"request to {url} failed: {root_cause(e)}") from e
        except ValueError as e:  # from check_url: no host, bad port, bad IDNA
            raise FetchFailure("invalid_url", f"{url} is not a valid URL ({e}); fix it") from e

    def _read_response(self, result, response, etag, last_modified, deadline) -> None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        result.status = response.status_code
        result.headers = headers
        result.final_url = response.url
        result.etag = headers.get("etag")
        result.last_modified = headers.get("last-modified")
        if response.status_code != 200:
            drain(response, self.policy, deadline)
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
            raise FetchFailure(kind, message)
        result.body = read_body(response, self.policy, deadline)

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
