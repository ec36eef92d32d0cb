"""Reading a streamed HTTP response within limits, and how one fetch fails.

``read_body`` enforces a cap on the *decoded* body while streaming (urllib3 2.x inflates at most
the bytes asked for, so a gzip bomb stops at the cap), a read timeout per socket operation and the
fetch's total deadline (a watchdog wakes a read blocked inside the decoder). ``drain`` reads a
small unwanted body so the connection goes back to the pool. ``FetchFailure`` stops a fetch with
an error kind and a one-line message; ``listening.collect.fetch`` turns it into a result.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING

import requests
import urllib3.exceptions

if TYPE_CHECKING:
    from listening.collect.fetchjobs import FetchPolicy

CHUNK = 64 * 1024
DRAIN_MAX = 64 * 1024  # read and drop an unwanted body up to this size to keep the connection


class FetchFailure(Exception):
    """Stop this fetch with an error kind and a one-line message."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def drain(response: requests.Response, policy: FetchPolicy, deadline: float) -> None:
    """Read a small unwanted body (a redirect's, an error page) so that the connection goes
    back to the pool; a large or unknown-length body is not worth it: it gets closed."""
    length = response.headers.get("content-length", "")
    if response.status_code not in (204, 304) and not (
        length.isdigit() and int(length) <= DRAIN_MAX
    ):
        return
    sock = socket_of(response)
    with contextlib.suppress(urllib3.exceptions.HTTPError, OSError):
        while (remaining := deadline - time.monotonic()) > 0:
            if sock is not None:
                sock.settimeout(min(policy.read_timeout, remaining))
            if not response.raw.read1(CHUNK, decode_content=False):
                break


def read_body(response: requests.Response, policy: FetchPolicy, deadline: float) -> bytes:
    """The decoded body, at most ``policy.max_bytes``, read by ``deadline``."""
    url = response.url
    too_large = FetchFailure(
        "too_large",
        f"{url} is larger than {policy.max_bytes / 1048576:g} MiB once decoded; "
        "raise settings.max_body_mib if this source is legitimately that big",
    )
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "identity" and declared.isdigit() and int(declared) > policy.max_bytes:
        raise too_large  # no need to download what we will refuse anyway
    raw = response.raw
    sock = socket_of(response)
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
                raise FetchFailure("timeout", deadline_message(url, policy))
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
        raise FetchFailure("timeout", read_timeout_message(url, policy, deadline)) from e
    except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as e:
        if fired.is_set():
            raise FetchFailure("timeout", deadline_message(url, policy)) from e
        kind = "decode" if isinstance(e, urllib3.exceptions.DecodeError) else "network"
        raise FetchFailure(kind, f"reading {url} failed: {root_cause(e)}") from e
    finally:
        watchdog.cancel()
    if fired.is_set():
        raise FetchFailure("timeout", deadline_message(url, policy))
    return bytes(body)


def deadline_message(url: str, policy: FetchPolicy) -> str:
    return (
        f"{url} took longer than settings.total_timeout ({policy.total_timeout:g}s) "
        "in total; the server is too slow, raise the setting only if the source is worth it"
    )


def read_timeout_message(url: str, policy: FetchPolicy, deadline: float) -> str:
    if time.monotonic() >= deadline - 0.05:
        return deadline_message(url, policy)
    return (
        f"{url} sent nothing for {policy.read_timeout:g}s (settings.read_timeout); "
        "the server is stalled, it will be retried later"
    )


def socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response is read from, to bound each read by the deadline."""
    return getattr(getattr(response.raw, "connection", None), "sock", None)


def root_cause(error: BaseException) -> BaseException:
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
