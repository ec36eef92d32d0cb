"""Source state transitions: a pure function of (state, fetch result, now)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from listening.collect.fetchjobs import FetchResult
from listening.collect.state import (
    MAX_RETRY_AFTER,
    SourceState,
    next_state,
    reenable,
)

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
URL = "https://example.org/feed.xml"
NEW = "https://example.org/rss"
SETTINGS = {
    "interval": 3600,
    "max_failures": 8,
    "backoff_base": 60,
    "backoff_cap": 3600,
}


def ok(**kw) -> FetchResult:
    return FetchResult(**{"url": URL, "final_url": URL, "status": 200, "body": b"<rss/>", **kw})


def failed(status: int | None = 500, kind: str = "http", **kw) -> FetchResult:
    error = kw.pop("error", f"{URL} answered HTTP {status}: server error; will retry later")
    return FetchResult(
        **{"url": URL, "final_url": URL, "status": status, "error": error, "error_kind": kind, **kw}
    )


def step(state: SourceState, result: FetchResult, now: datetime = NOW, **kw) -> SourceState:
    return next_state(state, result, now, **{**SETTINGS, "rng": random.Random(7), **kw})


def test_first_success():
    state = step(SourceState(URL), ok(etag='"a"', last_modified="Tue, 24 Nov 2026 10:00:00 GMT"))
    assert state.state == "active" and state.url == URL
    assert state.etag == '"a"' and state.last_modified == "Tue, 24 Nov 2026 10:00:00 GMT"
    assert state.next_fetch_at == NOW + timedelta(hours=1)
    assert (state.last_status, state.last_fetch_at, state.last_error) == (200, NOW, None)
    assert state.consecutive_failures == 0


def test_timedelta_durations_work_too():
    state = next_state(SourceState(URL), ok(), NOW, interval=timedelta(minutes=30))
    assert state.next_fetch_at == NOW + timedelta(minutes=30)


def test_200_replaces_validators_and_304_keeps_them():
    state = SourceState(URL, etag='"a"', last_modified="old")
    assert step(state, ok()).etag is None  # a 200 without ETag: the old one is stale
    kept = step(state, ok(status=304, body=b"", not_modified=True))
    assert (kept.etag, kept.last_modified, kept.last_status) == ('"a"', "old", 304)
    updated = step(state, ok(status=304, body=b"", not_modified=True, etag='"b"'))
    assert updated.etag == '"b"' and updated.last_modified == "old"


def test_backoff_grows_exponentially_up_to_the_cap():
    state = SourceState(URL)
    delays = []
    for _ in range(7):
        state = step(state, failed(), rng=random.Random(1))
        delays.append((state.next_fetch_at - NOW).total_seconds())
        assert state.state == "backoff"
    assert state.consecutive_failures == 7
    nominal = [60, 120, 240, 480, 960, 1920, 3600]  # base·2^(n-1), capped at 3600
    factor = delays[0] / nominal[0]  # same seed, same jitter factor each time
    assert delays == pytest.approx([n * factor for n in nominal])


@pytest.mark.parametrize("failures", [1, 2, 3, 6, 7])
def test_jitter_stays_within_20_percent(failures):
    nominal = min(3600, 60 * 2 ** (failures - 1))
    seen = set()
    for seed in range(200):
        state = step(
            SourceState(URL, consecutive_failures=failures - 1), failed(), rng=random.Random(seed)
        )
        delay = (state.next_fetch_at - NOW).total_seconds()
        assert 0.8 * nominal <= delay <= 1.2 * nominal
        seen.add(round(delay))
    assert len(seen) > 20  # it does spread


def test_without_rng_the_jitter_is_deterministic():
    state = SourceState(URL, consecutive_failures=2)
    first = next_state(state, failed(), NOW, **SETTINGS)
    again = next_state(state, failed(), NOW, **SETTINGS)
    assert first == again  # re-running a stage computes the same schedule


def test_retry_after_wins_when_larger():
    longer = step(SourceState(URL), failed(429, "rate_limited", retry_after=7200))
    assert longer.next_fetch_at == NOW + timedelta(seconds=7200)
    shorter = step(SourceState(URL), failed(503, retry_after=1))
    assert (shorter.next_fetch_at - NOW).total_seconds() >= 0.8 * 60
    absurd = step(SourceState(URL), failed(429, "rate_limited", retry_after=1e9))
    assert absurd.next_fetch_at == NOW + timedelta(seconds=MAX_RETRY_AFTER)


def test_disabled_after_max_failures():
    state = SourceState(URL)
    for _ in range(2):
        state = step(state, failed(None, "timeout", error="timed out\nsecond line"), max_failures=3)
        assert state.state == "backoff"
    assert state.last_error == "timed out second line"  # one line
    state = step(state, failed(None, "timeout", error="timed out"), max_failures=3)
    assert state.state == "disabled" and state.next_fetch_at is None
    assert "3 failures in a row" in state.disabled_reason and "re-enable" in state.disabled_reason
    assert not state.is_due_at(NOW + timedelta(days=365))
    # A disabled source stays disabled whatever happens until a user re-enables it.
    assert step(state, ok()) == state


def test_default_max_failures_is_8():
    state = SourceState(URL)
    for n in range(1, 9):
        state = next_state(state, failed(), NOW)
        assert state.state == ("disabled" if n == 8 else "backoff")


def test_410_disables_at_once():
    gone = failed(410, "gone", error=f"{URL} answered HTTP 410 Gone: delete the source")
    state = step(SourceState(URL, etag='"a"'), gone)
    assert state.state == "disabled" and state.last_status == 410
    assert state.disabled_reason.startswith("gone:") and "410" in state.disabled_reason
    assert state.etag == '"a"'


def test_success_after_failures_resets():
    state = step(step(SourceState(URL), failed()), failed())
    assert state.consecutive_failures == 2
    state = step(state, ok(), now=NOW + timedelta(hours=2))
    assert state.state == "active" and state.consecutive_failures == 0
    assert state.last_error is None
    assert state.next_fetch_at == NOW + timedelta(hours=3)


def test_permanent_redirect_applies_once_it_repeats():
    moved = ok(final_url=NEW, permanent_redirect=NEW)
    once = step(SourceState(URL), moved)
    assert once.url == URL and once.pending_redirect == NEW and once.redirect_count == 1
    twice = step(once, moved)
    assert twice.url == NEW and twice.pending_redirect is None and twice.redirect_count == 0
    # Already there: nothing pending.
    assert step(twice, ok(url=NEW, final_url=NEW)).pending_redirect is None


def test_redirect_must_repeat_consecutively_and_to_the_same_target():
    once = step(SourceState(URL), ok(final_url=NEW, permanent_redirect=NEW))
    elsewhere = step(once, ok(permanent_redirect="https://example.org/other"))
    assert elsewhere.url == URL and elsewhere.pending_redirect == "https://example.org/other"
    assert elsewhere.redirect_count == 1
    not_moved = step(once, ok())  # a fetch without the redirect in between resets it
    assert not_moved.pending_redirect is None and not_moved.redirect_count == 0
    assert step(not_moved, ok(permanent_redirect=NEW)).url == URL


def test_failure_keeps_pending_redirect_and_url():
    once = step(SourceState(URL), ok(permanent_redirect=NEW))
    after = step(once, failed())
    assert (after.url, after.pending_redirect, after.redirect_count) == (URL, NEW, 1)


def test_reenable():
    state = step(SourceState(URL), failed(410, "gone"))
    later = NOW + timedelta(days=3)
    back = reenable(state, later)
    assert back.state == "active" and back.consecutive_failures == 0
    assert back.disabled_reason is None and back.next_fetch_at == later
    assert back.is_due_at(later)
    again = step(back, failed(), now=later)
    assert again.state == "backoff" and again.consecutive_failures == 1


def test_is_due():
    assert SourceState(URL).is_due_at(NOW)
    scheduled = SourceState(URL, next_fetch_at=NOW + timedelta(minutes=5))
    assert not scheduled.is_due_at(NOW) and scheduled.is_due_at(NOW + timedelta(minutes=5))
