"""A small loopback HTTP server for the demo world and for tests.

It answers like a well-behaved web server so the fetcher's conditional requests are exercised:
a strong ETag and Last-Modified on every file, 304 Not Modified on a matching If-None-Match or,
without one, on an If-Modified-Since not older than the file (RFC 9110 §13.1.1-13.1.3, §13.2.2).

Files can be given (or replaced) after the socket is bound, because the world's absolute URLs
need the port: ``with serve() as srv: srv.set_files(build_world(srv.base_url).files)``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from listening.demo.render import content_type, url_path
from listening.errors import ListeningError


class _File:
    __slots__ = ("body", "content_type", "etag", "last_modified")

    def __init__(self, path: str, body: bytes, last_modified: datetime):
        self.body = body
        self.content_type = content_type(path, body)
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self.last_modified = last_modified.replace(microsecond=0)


class DemoServer:
    """What ``serve`` yields: the base URL, the files, and a log of requests served."""

    def __init__(self, httpd: ThreadingHTTPServer):
        self._httpd = httpd
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        host, port = httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def files(self) -> dict[str, bytes]:
        with self._lock:
            return {path: f.body for path, f in self._files.items()}

    @files.setter
    def files(self, files: dict[str, bytes]) -> None:
        self.set_files(files)

    def set_files(self, files: dict[str, bytes]) -> None:
        """Serve ``files`` (URL path -> bytes) from now on; unchanged files keep their dates."""
        now = datetime.now(UTC)
        with self._lock:
            old = self._files
            new = {}
            for path, body in files.items():
                kept = old.get(path)
                new[path] = kept if kept and kept.body == body else _File(path, body, now)
            self._files = new

    def _lookup(self, path: str) -> _File | None:
        with self._lock:
            return self._files.get(path)

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))


def load_folder(root: Path) -> dict[str, bytes]:
    """Read a folder written by ``World.write`` back into URL path -> bytes."""
    root = Path(root)
    return {
        url_path(p.relative_to(root).as_posix()): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _not_modified(request_headers, f: _File) -> bool:
    inm = request_headers.get("If-None-Match")
    if inm is not None:
        # Weak comparison, as RFC 9110 §13.1.2 prescribes for If-None-Match.
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or f.etag in tags
    ims = request_headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return f.last_modified <= since
    return False


def _handler(server: DemoServer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "listening-demo/1"
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY, as nginx and Apache: else each answer on a reused connection waits
        # for the client's delayed ACK (40 ms on Linux) before its body goes out.
        disable_nagle_algorithm = True

        def do_HEAD(self):
            self._answer(send_body=False)

        def do_GET(self):
            self._answer(send_body=True)

        def _answer(self, send_body: bool) -> None:
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            f = server._lookup(path)
            if f is None and not path.endswith("/"):
                f = server._lookup(path + "/")
            if f is None:
                body = b"not found\n"
                self._send(404, {"Content-Type": "text/plain; charset=utf-8"}, body, send_body)
                return
            headers = {
                "ETag": f.etag,
                "Last-Modified": format_datetime(f.last_modified, usegmt=True),
                "Cache-Control": "no-cache",
            }
            if _not_modified(self.headers, f):
                self._send(304, headers, b"", False)
                return
            headers["Content-Type"] = f.content_type
            self._send(200, headers, f.body, send_body)

        def _send(self, status: int, headers: dict, body: bytes, send_body: bool) -> None:
            server._log(self.command, self.path, status)  # before the client can see an answer
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format, *args):
            pass  # quiet: tests and the demo command print their own progress

    return Handler


@contextmanager
def serve(
    root: Path | None = None,
    files: dict[str, bytes] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[DemoServer]:
    """Serve ``files`` (or the folder ``root``) over HTTP in a background thread."""
    try:
        httpd = ThreadingHTTPServer((host, port), BaseHTTPRequestHandler)
    except OSError as exc:
        raise ListeningError(
            f"cannot serve the demo on {host}:{port}: {exc.strerror or exc}; choose another "
            "--port, or leave it out to take a free one"
        ) from None
    httpd.daemon_threads = True
    server = DemoServer(httpd)
    httpd.RequestHandlerClass = _handler(server)
    if root is not None:
        server.set_files(load_folder(root))
    if files is not None:
        server.set_files(files)
    thread = threading.Thread(target=httpd.serve_forever, name="listening-demo", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_world(
    seed: int | None = None,
    end: date | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
):
    """Bind, build the world for the bound URL, serve it: yields ``(server, world)``."""
    from listening.demo.world import DEFAULT_END, DEFAULT_SEED, build_world

    with serve(host=host, port=port) as server:
        world = build_world(
            server.base_url,
            seed=DEFAULT_SEED if seed is None else seed,
            end=DEFAULT_END if end is None else end,
        )
        server.set_files(world.files)
        yield server, world
