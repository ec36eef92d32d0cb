"""A small loopback HTTP server for tests: register routes, point the code under test at it.

    def test_something(feed_server):
        url = feed_server.static("/feed.xml", b"<rss/>", etag='"v1"')
        ...
        assert feed_server.hits("/feed.xml") == 1

Every route builder returns the route's full URL. The server records each request (method, path,
lower-cased headers), counts TCP connections, and tracks how many requests are in flight at once,
overall and per Host header, so concurrency limits can be asserted on the server side.

Fixtures (use them with ``pytest_plugins = ["tests.feedserver"]``):

- ``feed_server``: a running server on 127.0.0.1, port 0;
- ``make_feed_server``: more servers, on other loopback addresses (127.0.0.2, ::1) or with TLS;
- ``blackhole_url``: a loopback address whose TCP connect never completes;
- ``connect_log``: every ``socket.connect`` address seen by this process during the test, to
  prove that nothing was contacted.
"""

from __future__ import annotations

import socket
import ssl
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlsplit

import pytest

Handler = Callable[["_RequestHandler"], None]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Route:
    handler: Handler
    hits: int = 0
    stats: Counter = field(default_factory=Counter)  # e.g. stats["bytes_generated"] for streams


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies
    disable_nagle_algorithm = True  # TCP_NODELAY, as real servers: no delayed-ACK stalls
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.feed.record_connection()

    def log_message(self, format: str, *args) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self.server.feed.dispatch(self)

    do_HEAD = do_GET
    do_POST = do_GET

    # -- helpers for handlers ----------------------------------------------------------------

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        self.send_response(status)
        if status not in (204, 304) and not any(k.lower() == "content-length" for k in headers):
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body and self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def reply_chunked(self, status: int, chunks: Iterable[bytes], headers: dict[str, str]) -> None:
        """Stream chunks with Transfer-Encoding: chunked; stop quietly if the client hangs up."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    feed: FeedServer


class FeedServer:
    """A threaded HTTP/1.1 server on a loopback address with routes registered by tests."""

    def __init__(self, host: str = "127.0.0.1", *, tls: bool = False):
        self.host = host
        self.scheme = "https" if tls else "http"
        self.ca_path: str | None = None  # with tls: the certificate to trust (session.verify)
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.in_flight_by_host: Counter[str] = Counter()
        self.max_in_flight_by_host: Counter[str] = Counter()
        self._lock = threading.Lock()
        server_class = _Server
        if ":" in host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._server = server_class((host, 0), _RequestHandler)
        self._server.feed = self
        if tls:
            self._tmp = tempfile.TemporaryDirectory(prefix="feedserver-")
            cert, key = _self_signed_certificate(self._tmp.name)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.ca_path = cert
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.ca_path:
            self._tmp.cleanup()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- what happened -----------------------------------------------------------------------

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def hits(self, path: str) -> int:
        return len(self.requests_to(path))

    def record_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def dispatch(self, request: _RequestHandler) -> None:
        host = request.headers.get("Host", "")
        path = request.path
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    request.command,
                    path,
                    {k.lower(): v for k, v in request.headers.items()},
                    time.monotonic(),
                )
            )
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.in_flight_by_host[host] += 1
            self.max_in_flight_by_host[host] = max(
                self.max_in_flight_by_host[host], self.in_flight_by_host[host]
            )
            route = self.routes.get(path) or self.routes.get(urlsplit(path).path)
            if route is not None:
                route.hits += 1
        try:
            if route is None:
                request.reply(404, b"no such route", {"Content-Type": "text/plain"})
            else:
                route.handler(request)
        except (BrokenPipeError, ConnectionResetError):
            request.close_connection = True
        finally:
            with self._lock:
                self.in_flight -= 1
                self.in_flight_by_host[host] -= 1

    # -- route builders (each returns the route's URL) ---------------------------------------

    def route(self, path: str, handler: Handler) -> str:
        """Register any handler; it gets the request handler (see ``reply``/``reply_chunked``)."""
        self.routes[path] = Route(handler)
        return self.url(path)

    def static(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
        delay: float = 0.0,
    ) -> str:
        """Fixed bytes. With ``etag``/``last_modified``, answer conditional GETs with 304.

        ``delay`` waits before answering (to hold requests in flight for concurrency tests).
        """
        base = {"Content-Type": content_type, **(headers or {})}
        if etag:
            base["ETag"] = etag
        if last_modified:
            base["Last-Modified"] = last_modified

        def handler(request: _RequestHandler) -> None:
            if delay:
                time.sleep(delay)
            inm = request.headers.get("If-None-Match")
            ims = request.headers.get("If-Modified-Since")
            # RFC 9110 §13.1.3: If-Modified-Since only counts without If-None-Match.
            if (etag and inm is not None and etag in [t.strip() for t in inm.split(",")]) or (
                last_modified and inm is None and ims == last_modified
            ):
                request.reply(304, b"", {k: v for k, v in base.items() if k != "Content-Type"})
                return
            request.reply(status, body, base)

        return self.route(path, handler)

    def status(
        self, path: str, code: int, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> str:
        """A bare status, e.g. ``status("/x", 429, headers={"Retry-After": "120"})``."""
        return self.route(path, lambda request: request.reply(code, body, headers))

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        """Redirect to ``to``: a path on this server or an absolute URL (sent as given)."""
        location = self.url(to) if to.startswith("/") and not to.startswith("//") else to
        return self.status(path, status, headers={"Location": location})

    def gzip(self, path: str, body: bytes, *, headers: dict[str, str] | None = None) -> str:
        """``body`` sent gzip-encoded (Content-Encoding: gzip)."""
        compressor = zlib.compressobj(wbits=31)  # 31: gzip container
        data = compressor.compress(body) + compressor.flush()
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding", **(headers or {})}
        return self.static(path, data, headers=headers)

    def gzip_bomb(self, path: str, size: int = 1 << 30) -> str:
        """``size`` zero bytes, gzip-compressed on the fly and streamed (about 1 KiB per MiB).

        Nothing is precomputed: ``route.stats["bytes_generated"]`` tells how much the server
        actually had to compress before the client hung up.
        """
        route_path = path

        def chunks() -> Iterator[bytes]:
            compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
            block = bytes(1 << 20)
            stats = self.routes[route_path].stats
            sent = 0
            while sent < size:
                piece = block[: min(len(block), size - sent)]
                sent += len(piece)
                stats["bytes_generated"] += len(piece)
                yield compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)
            yield compressor.flush()

        return self.route(
            path,
            lambda request: request.reply_chunked(
                200, chunks(), {"Content-Type": "application/xml", "Content-Encoding": "gzip"}
            ),
        )

    def huge(self, path: str, size: int, *, declare_length: bool = True) -> str:
        """``size`` bytes of b"x", streamed; with or without a Content-Length header."""
        route_path = path

        def chunks() -> Iterator[bytes]:
            block = b"x" * (1 << 16)
            sent = 0
            while sent < size:
                piece = block[: min(len(block), size - sent)]
                sent += len(piece)
                self.routes[route_path].stats["bytes_generated"] += len(piece)
                yield piece

        def handler(request: _RequestHandler) -> None:
            headers = {"Content-Type": "application/xml"}
            if not declare_length:
                request.reply_chunked(200, chunks(), headers)
                return
            request.send_response(200)
            request.send_header("Content-Type", "application/xml")
            request.send_header("Content-Length", str(size))
            request.end_headers()
            for piece in chunks():
                request.wfile.write(piece)

        return self.route(path, handler)

    def drip(self, path: str, body: bytes, *, delay: float, whole_response: bool = False) -> str:
        """Send ``body`` one byte every ``delay`` seconds (declared with Content-Length).

        With ``whole_response``, the status line and headers drip too (a slowloris server).
        """

        def handler(request: _RequestHandler) -> None:
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            if whole_response:
                payload = head + body
            else:
                request.wfile.write(head)
                payload = body
            for i in range(len(payload)):
                request.wfile.write(payload[i : i + 1])
                time.sleep(delay)

        return self.route(path, handler)


def http_date(epoch: float | None = None) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7) for ``epoch`` (default: now)."""
    return formatdate(epoch if epoch is not None else time.time(), usegmt=True)


def _self_signed_certificate(directory: str) -> tuple[str, str]:
    """A throwaway certificate for localhost only (not 127.0.0.1), to test name checks over TLS.

    Uses ``cryptography`` (installed with Airflow); tests needing TLS skip without it.
    """
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class Blackhole:
    """A loopback port whose TCP connect hangs: a listener that never accepts, queue full.

    Linux drops a SYN when the listener's accept queue is full, so the client keeps
    retransmitting until its connect timeout, like a firewalled host, without leaving loopback.
    """

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(4):  # backlog 0 still queues one or two; over-fill to be sure
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(filler)
        time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed.xml"

    def close(self) -> None:
        for s in [*self.fillers, self.listener]:
            s.close()


class _ConnectLog:
    """Records every ``socket.connect`` target via an audit hook (PEP 578) while active.

    Audit hooks cannot be removed, so one hook is installed per process and switched on and off.
    """

    _installed = False
    active: ClassVar[list[list[tuple]]] = []

    @classmethod
    def install(cls) -> None:
        if not cls._installed:
            sys.addaudithook(cls._hook)
            cls._installed = True

    @classmethod
    def _hook(cls, event: str, args: tuple) -> None:
        if event == "socket.connect" and cls.active:
            for log in cls.active:
                log.append(args[1])


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture
def make_feed_server() -> Iterator[Callable[..., FeedServer]]:
    """A factory for more servers, e.g. ``make_feed_server("::1")``; all stopped after the test.

    Skips the test when the address cannot be bound (no IPv6 loopback, say).
    """
    servers: list[FeedServer] = []

    def make(host: str = "127.0.0.1", *, tls: bool = False) -> FeedServer:
        try:
            server = FeedServer(host, tls=tls)
        except OSError as e:
            pytest.skip(f"cannot listen on {host}: {e}")
        servers.append(server.start())
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def blackhole_url() -> Iterator[str]:
    hole = Blackhole()
    try:
        yield hole.url
    finally:
        hole.close()


@pytest.fixture
def connect_log() -> Iterator[list[tuple]]:
    """Addresses (host, port, ...) passed to socket.connect in any thread during the test."""
    _ConnectLog.install()
    log: list[tuple] = []
    _ConnectLog.active.append(log)
    try:
        yield log
    finally:
        _ConnectLog.active.remove(log)
