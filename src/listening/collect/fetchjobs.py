"""The records of one fetch: the limits it runs under, what is asked, what came back.

``listening.collect.fetch`` does the fetching; the queue (``fetchqueue``), the body reader
(``body``), the units of work and the source state only need these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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


class CanFetch(Protocol):
    """What the fetch queue needs of a fetcher (``listening.collect.fetch.Fetcher``)."""

    policy: FetchPolicy

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult: ...
