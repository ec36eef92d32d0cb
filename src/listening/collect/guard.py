"""The network guard: which URLs and addresses the fetcher may connect to.

Feeds are user-supplied URLs and redirects are server-supplied, so without a guard a source (or a
hostile redirect) could make the pipeline read from the host's own services or the cloud metadata
endpoint at 169.254.169.254 (server-side request forgery, see the OWASP SSRF cheat sheet).

Two checks, both refusing with ``SourceBlocked`` before any byte is sent:

1. ``check_url`` before each request and each redirect hop: scheme, host, and every address the
   host resolves to. This gives a clear, early message.
2. ``GuardedAdapter`` at connect time: the connection resolves the host once, checks every
   address, connects to those checked addresses only, then checks the connected peer again.
   Because the address we connect to is the address we checked, a DNS answer that changes between
   check 1 and the connection (DNS rebinding) is caught here; it is also what protects pooled
   keep-alive connections and any caller that sends through the session directly.

The guarded connections also enforce a caller's deadline while waiting for the response head
(``response_deadline``): the connection is the one place where a server that drips its headers
one byte at a time, each within the read timeout, can be interrupted.

Environment proxies are not used (the fetcher's session has ``trust_env = False``): through a
proxy the checked peer would be the proxy, not the source.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from listening.errors import SourceBlocked

ALLOWED_SCHEMES = ("http", "https")
FIX = "set settings.allow_private_networks = true only for local/demo sources"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 well-known prefix (RFC 6052 §2.1): the last 32 bits are an IPv4 address that a NAT64
# gateway will connect to, so 64:ff9b::a00:1 reaches 10.0.0.1.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address ('loopback', 'private'…), or None if it is public.

    IPv6 forms that embed an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64) are
    judged by the embedded address, since that is where the packets end up.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]  # (server, client): the client is the real destination
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"{inner} (IPv4 {embedded} embedded in IPv6)" if inner else None
    # Order matters: the most specific name first (127.0.0.1 is also "private" to ipaddress).
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("private", ip.is_private),
        # is_global is False for the remaining special-purpose ranges (e.g. 100.64.0.0/10,
        # RFC 6598 shared address space) that is_private does not cover.
        ("non-global", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


@dataclass(frozen=True)
class AddressRule:
    """What the guard lets through.

    ``allowed_networks`` are CIDRs let through even when private networks are refused: a narrower
    opt-in than ``allow_private_networks`` (one intranet feed, or a test server on 127.0.0.1).
    """

    allow_private_networks: bool = False
    allowed_networks: tuple[str, ...] = ()

    @cached_property
    def _networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(net, strict=False) for net in self.allowed_networks)

    def __post_init__(self) -> None:
        self._networks  # noqa: B018 - parse now: a bad CIDR is a configuration error, found early

    def check(self, address: str, url: str) -> IPAddress:
        """Return the parsed address, or raise ``SourceBlocked`` naming the URL, address and fix."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
        if self.allow_private_networks:
            return ip
        if any(ip in network for network in self._networks):
            return ip
        reason = blocked_reason(ip)
        if reason is not None:
            raise SourceBlocked(
                f"refused {url}: it resolves to {ip}, a {reason} address, which the network guard "
                f"blocks to protect this host and its network; {FIX}"
            )
        return ip


def resolve(host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
    """All (family, address) pairs for host, in resolver order, without duplicates."""
    seen: list[tuple[socket.AddressFamily, str]] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr[0]) not in seen:
            seen.append((family, sockaddr[0]))
    return seen


def check_url(url: str, rule: AddressRule) -> list[str]:
    """Check the scheme and every resolved address of ``url``; return the addresses.

    Raises ``SourceBlocked`` for a refused scheme or address, ``ValueError`` for a URL without a
    host or with a bad port, ``socket.gaierror`` when the name does not resolve. Every address
    must pass: a name answering with one public and one private address is refused, since the
    connection could pick either.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise SourceBlocked(
            f"refused {url}: scheme {scheme or '(none)'!r} is not allowed, only http and https; "
            "use an http(s) URL for this source"
        )
    host = parts.hostname
    if not host:
        raise ValueError(f"{url} has no host name")
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = [address for _, address in resolve(host, port)]
    for address in addresses:
        rule.check(address, url)
    return addresses


_DEADLINE = threading.local()


@contextlib.contextmanager
def response_deadline(at: float | None) -> Iterator[None]:
    """In this thread, give up waiting for a response head at ``at`` (a ``time.monotonic()``)."""
    previous = getattr(_DEADLINE, "at", None)
    _DEADLINE.at = at
    try:
        yield
    finally:
        _DEADLINE.at = previous


def _wake(sock: socket.socket) -> None:
    # shutdown(), unlike close(), interrupts a recv() blocked in another thread.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _HeadWatch:
    """Wakes the socket of every response head still awaited at its deadline: one thread for
    all fetches, asleep until the earliest deadline it holds.

    A ``threading.Timer`` per fetch cost a thread start, which the fetching thread waits for
    (about a third of a 304's time in its thread). Here arming and disarming take a lock and
    wake nobody: a disarmed deadline stays in the heap until it passes (each new deadline is
    later than those held, for fetches of one total timeout), and the thread is woken only
    for a deadline earlier than the one it sleeps to. Disarming under the lock guarantees
    that no wake reaches a socket once its fetch has its response head (the connection may
    serve another request next).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._woken = threading.Condition(self._lock)
        self._heap: list[tuple[float, int]] = []  # (deadline, key), disarmed ones included
        self._armed: dict[int, tuple[float, socket.socket]] = {}
        self._keys = itertools.count()
        self._sleeps_to: float | None = None  # the thread's current wait ends then (None: idle)
        self._thread: threading.Thread | None = None

    def arm(self, at: float, sock: socket.socket) -> int:
        """Wake ``sock`` at ``at`` (a ``time.monotonic()``) unless disarmed first."""
        with self._lock:
            key = next(self._keys)
            self._armed[key] = (at, sock)
            heapq.heappush(self._heap, (at, key))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="listening-head-watchdog", daemon=True
                )
                self._thread.start()
            elif self._sleeps_to is None or at < self._sleeps_to:
                self._woken.notify()
            return key

    def disarm(self, key: int) -> None:
        with self._lock:
            self._armed.pop(key, None)
            if len(self._heap) > 1024 and len(self._heap) > 4 * len(self._armed):
                self._heap = [(at, k) for k, (at, _) in self._armed.items()]
                heapq.heapify(self._heap)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _, key = heapq.heappop(self._heap)
                    armed = self._armed.pop(key, None)
                    if armed is not None:
                        _wake(armed[1])
                self._sleeps_to = self._heap[0][0] if self._heap else None
                self._woken.wait(None if self._sleeps_to is None else self._sleeps_to - now)

    def _forget(self) -> None:
        """In a forked child: the parent's thread is not there."""
        self.__init__()


_HEAD_WATCH = _HeadWatch()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_HEAD_WATCH._forget)


class _GuardedConnectionMixin:
    """Resolve, check, then connect to the checked address: no second lookup to rebind."""

    guard_rule: AddressRule = AddressRule()

    def _new_conn(self):  # overrides urllib3.connection.HTTPConnection._new_conn
        host = self._dns_host.strip("[]")
        scheme = "https" if isinstance(self, HTTPSConnection) else "http"
        shown = f"[{host}]" if ":" in host else host
        url = f"{scheme}://{shown}:{self.port}/"
        try:
            addresses = resolve(host, self.port)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        for _, address in addresses:
            self.guard_rule.check(address, url)
        if not addresses:
            raise NewConnectionError(self, f"Failed to resolve {self.host}: no address")
        last_error: Exception | None = None
        for _, address in addresses:
            try:
                sock = create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as e:
                last_error = ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                )
                last_error.__cause__ = e
                continue
            except OSError as e:
                last_error = NewConnectionError(self, f"Failed to establish a new connection: {e}")
                last_error.__cause__ = e
                continue
            try:
                # Belt and braces: the peer we actually reached must pass too.
                self.guard_rule.check(sock.getpeername()[0], url)
            except SourceBlocked:
                sock.close()
                raise
            sys.audit("http.client.connect", self, self.host, self.port)  # as urllib3 does
            return sock
        assert last_error is not None
        raise last_error

    def getresponse(self):  # overrides urllib3.connection.HTTPConnection.getresponse
        at, sock = getattr(_DEADLINE, "at", None), self.sock
        if at is None or sock is None:
            return super().getresponse()
        key = _HEAD_WATCH.arm(at, sock)
        try:
            return super().getresponse()
        finally:
            _HEAD_WATCH.disarm(key)


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections only reach addresses ``rule`` allows."""

    def __init__(self, rule: AddressRule, **kwargs):
        self.rule = rule
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        extra = {"guard_rule": self.rule}
        http_conn = type("GuardedHTTPConnection", (_GuardedHTTPConnection,), extra)
        https_conn = type("GuardedHTTPSConnection", (_GuardedHTTPSConnection,), extra)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type(
                "GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
            ),
        }
