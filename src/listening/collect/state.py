"""A source's state: the one record of what we know about a fetchable URL, and its next
state, computed from the previous one and the latest fetch.

``SourceState`` is a ``raw.sources`` row as fetching sees it (a configured source or a comment
thread under it). Its datetimes are ``datetime`` objects; ``to_json``/``from_json`` are the one
place where they become the ISO strings of the staging files (``listening.collect.staging``).

``next_state`` is pure: no I/O and no clock (``now`` is passed in), and the jitter comes from
``rng`` or, when none is given, from a generator seeded by the source and ``now``, so re-running a
stage computes the same schedule (``STYLE.md``: "no now() inside business logic").

Rules, and why:

- success (200 or 304): active again, validators stored, next fetch after ``interval``;
- failure: exponential backoff ``base * 2^(n-1)`` capped, with ±20% jitter so sources that failed
  together (one host down) do not all retry in the same second; a server's Retry-After
  (RFC 9110 §10.2.3, on 429 and 503) wins when it asks for longer;
- disabled after ``max_failures`` failures in a row, at once on 410 Gone (RFC 9110 §15.5.11:
  "likely to be permanent"), and at once when the network guard refuses the URL (a policy,
  not a fault: retrying cannot help); only a user re-enables a source (``reenable``);
- a permanent redirect (301/308) replaces the stored URL only when two fetches in a row see the
  same target, so one misconfigured response cannot move a source for good.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from listening.config import Source
from listening.models import stable_id

if TYPE_CHECKING:
    from listening.collect.fetchjobs import FetchResult

ACTIVE, BACKOFF, DISABLED = "active", "backoff", "disabled"
REDIRECT_CONFIRMATIONS = 2
JITTER = 0.2
# A hostile or broken Retry-After must not park a source for months; a week is plenty.
MAX_RETRY_AFTER = 7 * 24 * 3600.0


def source_id(source: Source) -> str:
    return stable_id("source", source.name)


def child_id(parent_id: str, url: str) -> str:
    return stable_id("thread", parent_id, url)


@dataclass(kw_only=True)
class SourceState:
    """What we remember about a source or a comment thread between fetches (one
    ``raw.sources`` row). Fields are in the order of the staging JSON's keys."""

    source_id: str = ""
    url: str = field(kw_only=False)  # current URL: the configured one, or where it moved
    # feed | site | page | comments ; threads: 'comments' (a feed) or 'page' (HTML)
    kind: str = "feed"
    state: str = ACTIVE  # 'active' | 'backoff' | 'disabled'
    etag: str | None = None
    last_modified: str | None = None
    pending_redirect: str | None = None  # permanent target seen, not yet confirmed
    redirect_count: int = 0  # consecutive fetches that saw pending_redirect
    consecutive_failures: int = 0
    next_fetch_at: datetime | None = None  # None: due now
    last_fetch_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    disabled_reason: str | None = None
    feed_url: str | None = None  # kind 'site': the feed found by autodiscovery
    thread_url: str | None = None  # threads: the post
    post_id: str | None = None
    n_comments_announced: int | None = None
    last_new_document_at: datetime | None = None
    is_due: bool = True  # planned: fetch it in this run

    def is_due_at(self, now: datetime) -> bool:
        return self.state != DISABLED and (self.next_fetch_at is None or self.next_fetch_at <= now)

    def to_json(self) -> dict[str, Any]:
        """The staging files' form: datetimes as ISO strings."""
        return {
            f.name: v.isoformat() if isinstance(v := getattr(self, f.name), datetime) else v
            for f in fields(self)
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SourceState:
        return cls(
            **{k: datetime.fromisoformat(v) if k in _DATETIMES and v else v for k, v in d.items()}
        )


_DATETIMES = frozenset(f.name for f in fields(SourceState) if f.name.endswith("_at"))
# The columns of ``raw.sources`` that hold a source's state (read by the plan, written by load).
STATE_COLUMNS = [
    f.name for f in fields(SourceState) if f.name not in ("source_id", "kind", "is_due")
]


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _one_line(text: str | None) -> str | None:
    return " ".join(text.split()) if text else text


def backoff_delay(failures: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after ``failures`` (≥ 1) failures in a row: base·2^(n-1), capped, ±20%."""
    delay = min(cap, base * 2.0 ** min(failures - 1, 60))
    return delay * rng.uniform(1 - JITTER, 1 + JITTER)


def next_state(
    state: SourceState,
    result: FetchResult,
    now: datetime,
    *,
    interval: float | timedelta = 3600.0,
    max_failures: int = 8,
    backoff_base: float | timedelta = 300.0,
    backoff_cap: float | timedelta = 86400.0,
    rng: random.Random | None = None,
) -> SourceState:
    """The state after fetching ``state.url`` and getting ``result`` at ``now``.

    Durations are seconds (or ``timedelta``). A disabled source is returned unchanged: it should
    not have been fetched, and only ``reenable`` brings it back.
    """
    if state.state == DISABLED:
        return state
    common = {"last_status": result.status, "last_fetch_at": now}
    if result.ok:
        return _after_success(state, result, now, _seconds(interval), common)
    failures = state.consecutive_failures + 1
    error = _one_line(result.error) or f"HTTP {result.status}"
    if result.status == 410 or result.error_kind == "gone":
        return replace(
            state,
            state=DISABLED,
            consecutive_failures=failures,
            disabled_reason=f"gone: {error}",
            last_error=error,
            next_fetch_at=None,
            **common,
        )
    if result.error_kind == "blocked":
        # The network guard refuses by policy (scheme, private address): retrying cannot help
        # until the config changes, so the source waits for a user instead of backing off.
        return replace(
            state,
            state=DISABLED,
            consecutive_failures=failures,
            disabled_reason=(
                f"refused by the network guard: {error}; "
                "then re-enable it with `listening sources --enable NAME`"
            ),
            last_error=error,
            next_fetch_at=None,
            **common,
        )
    if failures >= max_failures:
        return replace(
            state,
            state=DISABLED,
            consecutive_failures=failures,
            disabled_reason=(
                f"{failures} failures in a row, the last: {error}; "
                "fix the source, then re-enable it"
            ),
            last_error=error,
            next_fetch_at=None,
            **common,
        )
    if rng is None:
        rng = random.Random(f"{state.url}|{failures}|{now.isoformat()}")
    delay = backoff_delay(failures, base=_seconds(backoff_base), cap=_seconds(backoff_cap), rng=rng)
    if result.retry_after is not None:
        delay = max(delay, min(result.retry_after, MAX_RETRY_AFTER))
    return replace(
        state,
        state=BACKOFF,
        consecutive_failures=failures,
        last_error=error,
        next_fetch_at=now + timedelta(seconds=delay),
        **common,
    )


def _after_success(
    state: SourceState, result: FetchResult, now: datetime, interval: float, common: dict
) -> SourceState:
    if result.not_modified:  # a 304 may omit validators; ours still describe our copy
        etag = result.etag or state.etag
        last_modified = result.last_modified or state.last_modified
    else:
        etag, last_modified = result.etag, result.last_modified
    url, pending, count = state.url, None, 0
    target = result.permanent_redirect
    if target and target != state.url:
        count = state.redirect_count + 1 if target == state.pending_redirect else 1
        pending = target
        if count >= REDIRECT_CONFIRMATIONS:
            url, pending, count = target, None, 0
    return replace(
        state,
        url=url,
        state=ACTIVE,
        etag=etag,
        last_modified=last_modified,
        pending_redirect=pending,
        redirect_count=count,
        consecutive_failures=0,
        next_fetch_at=now + timedelta(seconds=interval),
        disabled_reason=None,
        last_error=None,
        **common,
    )


def reenable(state: SourceState, now: datetime) -> SourceState:
    """A user brings a source back: active, failure count reset, due at once."""
    return replace(
        state,
        state=ACTIVE,
        consecutive_failures=0,
        disabled_reason=None,
        next_fetch_at=now,
    )
