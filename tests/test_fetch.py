"""The fetcher over real loopback HTTP (tests/feedserver.py): no mocked requests."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, wait
from email.utils import formatdate

import pytest
import requests

from listening import __version__
from listening.collect.fetch import (
    USER_AGENT,
    Fetcher,
    FetchJob,
    FetchPolicy,
    FetchResult,
    parse_retry_after,
)
from listening.collect.fetchqueue import FetchQueue
from listening.collect.guard import FIX

# Fixtures feed_server, make_feed_server, blackhole_url and connect_log from tests/feedserver.py;
# harmless once conftest.py lists it too.
pytest_plugins = ["tests.feedserver"]

LOOPBACK_ONLY = ("127.0.0.1/32",)  # the guard stays on for everything but the test server
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def fetcher(**overrides) -> Fetcher:
    policy = {"allowed_networks": LOOPBACK_ONLY, "connect_timeout": 1.0, "read_timeout": 2.0}
    return Fetcher(FetchPolicy(**{**policy, **overrides}))


# -- basics ----------------------------------------------------------------------------------


def test_user_agent_body_and_validators(feed_server):
    url = feed_server.static(
        "/feed.xml", RSS, etag='"v1"', last_modified="Wed, 21 Oct 2026 07:28:00 GMT"
    )
    result = fetcher().fetch(url)
    assert result.ok and result.error is None and result.error_kind is None
    assert (result.status, result.body, result.final_url) == (200, RSS, url)
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert result.permanent_redirect is None and not result.not_modified
    sent = feed_server.requests_to("/feed.xml")[0].headers
    assert sent["user-agent"] == USER_AGENT
    assert f"listening/{__version__} (self-hosted social listening)" == USER_AGENT
    assert "if-none-match" not in sent and "if-modified-since" not in sent


def test_keep_alive_reuses_one_connection(feed_server):
    """200s, 304s, redirects and small error pages all leave the connection reusable."""
    url = feed_server.static("/feed.xml", RSS, etag='"v1"')
    moved = feed_server.redirect("/old.xml", "/feed.xml")
    missing = feed_server.status("/missing.xml", 404, body=b"<html>not here</html>")
    with fetcher() as f:
        for _ in range(2):
            assert f.fetch(url).ok
            assert f.fetch(url, etag='"v1"').not_modified
            assert f.fetch(moved).ok
            assert f.fetch(missing).error_kind == "http"
    assert feed_server.connections == 1


def test_conditional_get_with_etag(feed_server):
    lm = "Wed, 21 Oct 2026 07:28:00 GMT"
    url = feed_server.static("/feed.xml", RSS, etag='"v1"', last_modified=lm)
    result = fetcher().fetch(url, etag='"v1"', last_modified=lm)
    assert result.ok and result.not_modified
    assert (result.status, result.body) == (304, b"")
    assert (result.etag, result.last_modified) == ('"v1"', lm)
    sent = feed_server.requests_to("/feed.xml")[0].headers
    # RFC 9110 §13.1.3: the strong validator alone.
    assert sent["if-none-match"] == '"v1"' and "if-modified-since" not in sent

    changed = fetcher().fetch(url, etag='"v0"')
    assert changed.status == 200 and changed.body == RSS and not changed.not_modified


def test_conditional_get_with_last_modified(feed_server):
    lm = "Wed, 21 Oct 2026 07:28:00 GMT"
    url = feed_server.static("/feed.xml", RSS, last_modified=lm)
    result = fetcher().fetch(url, last_modified=lm)
    assert result.not_modified and result.last_modified == lm and result.etag is None
    assert feed_server.requests_to("/feed.xml")[0].headers["if-modified-since"] == lm


def test_304_without_validators_keeps_the_stored_ones(feed_server):
    url = feed_server.status("/feed.xml", 304)
    result = fetcher().fetch(url, etag='"stored"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert result.not_modified and result.etag == '"stored"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_gzip_body_is_decoded(feed_server):
    url = feed_server.gzip("/feed.xml", RSS * 100)
    result = fetcher().fetch(url)
    assert result.ok and result.body == RSS * 100
    assert "gzip" in feed_server.requests_to("/feed.xml")[0].headers["accept-encoding"]


# -- size cap --------------------------------------------------------------------------------


def test_cap_counts_decoded_bytes(feed_server):
    # 2 MiB of zeros compresses to a few KiB: under the cap on the wire, over it once decoded.
    url = feed_server.gzip("/feed.xml", bytes(2 << 20))
    result = fetcher(max_bytes=1 << 20).fetch(url)
    assert not result.ok and result.error_kind == "too_large" and result.body == b""
    assert "settings.max_body_mib" in result.error and result.status == 200


def test_body_of_exactly_the_cap_is_fine(feed_server):
    url = feed_server.static("/feed.xml", b"x" * 1000)
    assert fetcher(max_bytes=1000).fetch(url).ok
    assert fetcher(max_bytes=999).fetch(url).error_kind == "too_large"


def test_gzip_bomb_stops_at_the_cap(feed_server):
    url = feed_server.gzip_bomb("/bomb.xml", size=1 << 30)  # 1 GiB of zeros, about 1 MiB gzipped
    result = fetcher().fetch(url)  # default cap: 10 MiB
    assert result.error_kind == "too_large"
    assert result.elapsed < 5
    time.sleep(0.1)  # let the server notice the hang-up
    # The server compressed (and we inflated) a little past the cap, not the whole GiB.
    assert feed_server.routes["/bomb.xml"].stats["bytes_generated"] < 64 << 20


@pytest.mark.parametrize("declare_length", [True, False])
def test_huge_body(feed_server, declare_length):
    url = feed_server.huge("/huge.xml", 200 << 20, declare_length=declare_length)
    result = fetcher(max_bytes=1 << 20).fetch(url)
    assert result.error_kind == "too_large" and result.body == b""
    assert result.elapsed < 5


# -- time limits -----------------------------------------------------------------------------


def test_slow_drip_body_fails_at_the_total_deadline(feed_server):
    # Each byte arrives well within the read timeout; only the total deadline can stop it.
    url = feed_server.drip("/slow.xml", b"x" * 200, delay=0.05)
    result = fetcher(read_timeout=5, total_timeout=0.5).fetch(url)
    assert result.error_kind == "timeout" and "settings.total_timeout" in result.error
    assert 0.4 < result.elapsed < 1.5
    assert result.status == 200 and result.body == b"" and not result.ok


def test_slow_drip_response_head_fails_at_the_total_deadline(feed_server):
    url = feed_server.drip("/slow.xml", b"x" * 10, delay=0.05, whole_response=True)
    result = fetcher(read_timeout=5, total_timeout=0.5).fetch(url)
    assert result.error_kind == "timeout" and "settings.total_timeout" in result.error
    assert 0.4 < result.elapsed < 1.5 and result.status is None


def test_fetches_wait_for_their_response_heads_with_no_thread_of_their_own(feed_server):
    """The response head's deadline is watched by one thread for every fetch: a 304 (no
    body, so no body watchdog) starts no thread, where a timer per fetch started one each."""
    url = feed_server.static("/feed.xml", RSS, etag='"v1"')
    f = fetcher(total_timeout=30)
    assert f.fetch(url, etag='"v1"').not_modified  # the watchdog runs from now on
    started = []

    def trace(frame, event, arg):  # called once in every thread started from now on
        started.append(threading.current_thread().name)

    threading.settrace(trace)
    try:
        results = [f.fetch(url, etag='"v1"') for _ in range(20)]
    finally:
        threading.settrace(None)
    assert all(r.not_modified for r in results)
    assert started == []


def test_the_head_watchdog_wakes_late_heads_only():
    """A head not there at its deadline has its socket shut down; a disarmed one (its head
    came, and the connection may serve the next request) is never touched afterwards."""
    from listening.collect.guard import _HeadWatch

    watch = _HeadWatch()
    served, served_peer = socket.socketpair()
    late, late_peer = socket.socketpair()
    at = time.monotonic() + 0.2
    watch.disarm(watch.arm(at, served))
    watch.arm(at, late)
    late.settimeout(10)
    assert late.recv(1) == b""  # shut down at the deadline, however long the peer is silent
    served_peer.sendall(b"x")
    served.settimeout(10)
    assert served.recv(1) == b"x"  # still open after the same deadline
    served.sendall(b"y")
    assert served_peer.recv(1) == b"y"
    for s in (served, served_peer, late, late_peer):
        s.close()


def test_silent_server_fails_at_the_read_timeout(feed_server):
    url = feed_server.static("/feed.xml", RSS, delay=2.0)
    result = fetcher(read_timeout=0.3).fetch(url)
    assert result.error_kind == "timeout" and "settings.read_timeout" in result.error
    assert result.status is None and result.elapsed < 1.5


def test_connect_timeout(blackhole_url):
    result = fetcher(connect_timeout=0.3).fetch(blackhole_url)
    assert result.error_kind == "timeout" and "settings.connect_timeout" in result.error
    assert result.status is None and result.elapsed < 2


def test_connection_refused_is_a_network_error():
    with socket.socket() as s:  # a port that was free a moment ago, now closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = fetcher().fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert result.error_kind == "network" and "refused" in result.error.lower()
    assert result.status is None


# -- redirects -------------------------------------------------------------------------------


def test_permanent_chain_reports_the_new_url(feed_server):
    final = feed_server.static("/new.xml", RSS)
    feed_server.redirect("/mid.xml", "/new.xml", status=308)
    start = feed_server.redirect("/old.xml", "/mid.xml", status=301)
    result = fetcher().fetch(start)
    assert result.ok and result.body == RSS
    assert result.url == start and result.final_url == final
    assert result.permanent_redirect == final


@pytest.mark.parametrize("statuses", [(302,), (301, 302), (307, 308), (303,)])
def test_chain_with_a_temporary_hop_is_not_permanent(feed_server, statuses):
    feed_server.static("/final.xml", RSS)
    path = "/final.xml"
    for i, status in enumerate(reversed(statuses)):
        path = feed_server.redirect(f"/hop{i}.xml", path, status=status).removeprefix(
            feed_server.base_url
        )
    result = fetcher().fetch(feed_server.url(path))
    assert result.ok and result.final_url == feed_server.url("/final.xml")
    assert result.permanent_redirect is None


def test_relative_location(feed_server):
    feed_server.static("/feeds/new.xml", RSS)
    url = feed_server.status("/feeds/old.xml", 301, headers={"Location": "new.xml"})
    result = fetcher().fetch(url)
    assert result.ok and result.permanent_redirect == feed_server.url("/feeds/new.xml")


def test_redirect_loop(feed_server):
    feed_server.redirect("/a.xml", "/b.xml")
    url = feed_server.redirect("/b.xml", "/a.xml")
    result = fetcher().fetch(url)
    assert result.error_kind == "redirect_loop" and "loop" in result.error
    assert feed_server.hits("/a.xml") == 1 and feed_server.hits("/b.xml") == 1


def test_too_many_redirects(feed_server):
    feed_server.static("/r6.xml", RSS)
    for i in range(6):
        feed_server.redirect(f"/r{i}.xml", f"/r{i + 1}.xml")
    assert fetcher().fetch(feed_server.url("/r1.xml")).ok  # exactly 5 hops
    result = fetcher().fetch(feed_server.url("/r0.xml"))  # 6 hops
    assert result.error_kind == "too_many_redirects" and "more than 5" in result.error
    assert feed_server.hits("/r6.xml") == 1  # only from the first fetch


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/feed.xml",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fd00::1]:8080/",
        "http://0.0.0.0:80/",
    ],
)
def test_redirect_to_a_blocked_address_is_refused_before_connecting(
    feed_server, connect_log, target
):
    url = feed_server.redirect("/feed.xml", target, status=302)
    result = fetcher().fetch(url)
    assert result.error_kind == "blocked" and result.status is None
    assert target in result.error and FIX in result.error
    contacted = {address[0] for address in connect_log}
    assert contacted == {"127.0.0.1"}  # only the test server


def test_redirect_to_ipv6_loopback_is_refused(feed_server, make_feed_server, connect_log):
    ipv6_server = make_feed_server("::1")
    target = ipv6_server.static("/secret.xml", b"secret")
    url = feed_server.redirect("/feed.xml", target)
    result = fetcher().fetch(url)
    assert result.error_kind == "blocked" and "::1" in result.error
    assert ipv6_server.hits("/secret.xml") == 0
    assert all(address[0] != "::1" for address in connect_log)
    # With private networks allowed, the same chain is followed.
    allowed = Fetcher(FetchPolicy(allow_private_networks=True)).fetch(url)
    assert allowed.ok and allowed.body == b"secret"


def test_guard_on_by_default(feed_server, connect_log):
    url = feed_server.static("/feed.xml", RSS)
    result = Fetcher(FetchPolicy()).fetch(url)
    assert result.error_kind == "blocked" and "loopback" in result.error and FIX in result.error
    assert connect_log == [] and feed_server.hits("/feed.xml") == 0


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "gopher://127.0.0.1:70/1"]
)
def test_other_schemes_are_refused(url, connect_log):
    result = fetcher().fetch(url)
    assert result.error_kind == "blocked" and "only http and https" in result.error
    assert connect_log == []


def test_redirect_to_another_scheme_is_refused(feed_server):
    url = feed_server.redirect("/feed.xml", "file:///etc/passwd")
    assert fetcher().fetch(url).error_kind == "blocked"


@pytest.mark.parametrize("url", ["http:///feed.xml", "http://127.0.0.1:99999/", "http://"])
def test_invalid_urls(url):
    result = fetcher().fetch(url)
    assert result.error_kind == "invalid_url" and "not a valid URL" in result.error


def test_unresolvable_name():
    result = fetcher().fetch("http://does-not-exist.invalid/feed.xml")  # RFC 6761: never resolves
    assert result.error_kind == "dns"


def test_https_checks_the_address_and_still_verifies_the_name(make_feed_server, connect_log):
    """The guard connects to the checked IP, yet TLS still checks the certificate's name."""
    server = make_feed_server(tls=True)  # certificate for "localhost" only
    server.static("/feed.xml", RSS)
    session = requests.Session()
    session.verify = server.ca_path
    with Fetcher(FetchPolicy(allowed_networks=LOOPBACK_ONLY), session=session) as f:
        result = f.fetch(f"https://localhost:{server.port}/feed.xml")
        assert result.ok and result.body == RSS, result.error
        mismatch = f.fetch(f"https://127.0.0.1:{server.port}/feed.xml")  # not in the cert
        assert mismatch.error_kind == "tls" and mismatch.status is None
    with Fetcher(FetchPolicy(), session=session) as f:  # guard fully on: refused before TLS
        refused = f.fetch(f"https://localhost:{server.port}/feed.xml")
        assert refused.error_kind == "blocked"
    assert server.hits("/feed.xml") == 1


# -- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "hint"),
    [
        (404, "http", "check the source's URL"),
        (410, "gone", "delete the source"),
        (403, "http", "access refused"),
        (500, "http", "server error"),
    ],
)
def test_error_statuses(feed_server, code, kind, hint):
    url = feed_server.status("/feed.xml", code, body=b"<html>error page</html>")
    result = fetcher().fetch(url)
    assert (result.status, result.error_kind, result.body) == (code, kind, b"")
    assert hint in result.error and str(code) in result.error and "\n" not in result.error
    assert not result.ok and result.retry_after is None


@pytest.mark.parametrize(("code", "kind"), [(429, "rate_limited"), (503, "http")])
def test_retry_after_in_seconds(feed_server, code, kind):
    url = feed_server.status("/feed.xml", code, headers={"Retry-After": "120"})
    result = fetcher().fetch(url)
    assert (result.status, result.error_kind, result.retry_after) == (code, kind, 120.0)
    assert "120s" in result.error


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_as_http_date(feed_server, code):
    url = feed_server.status(
        "/feed.xml", code, headers={"Retry-After": formatdate(time.time() + 90, usegmt=True)}
    )
    result = fetcher().fetch(url)
    assert result.status == code and 85 <= result.retry_after <= 91


def test_parse_retry_after():
    date = "Thu, 26 Nov 2026 08:00:00 GMT"
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Thu, 26 Nov 2026 08:02:00 GMT", date) == 120.0  # vs server clock
    assert parse_retry_after("Thu, 26 Nov 2026 07:00:00 GMT", date) == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after(None) is None


def test_ok_property():
    base = {"url": "u", "final_url": "u"}
    assert FetchResult(**base, status=200).ok
    assert FetchResult(**base, status=304, not_modified=True).ok
    assert not FetchResult(**base, status=200, error="too big", error_kind="too_large").ok
    assert not FetchResult(**base, status=404, error="x", error_kind="http").ok
    assert not FetchResult(**base).ok


# -- many at once ----------------------------------------------------------------------------


def test_fetch_many_respects_the_per_host_cap(feed_server):
    for i in range(6):
        feed_server.static(f"/f{i}.xml", RSS, delay=0.2)
    jobs = [FetchJob(f"k{i}", feed_server.url(f"/f{i}.xml")) for i in range(6)]
    done = list(fetcher(max_per_host=2, max_total=8).fetch_many(jobs))
    assert sorted(job.key for job, _ in done) == [f"k{i}" for i in range(6)]
    assert all(result.ok for _, result in done)
    assert feed_server.max_in_flight == 2  # bounded, and the bound was used


def test_fetch_many_respects_the_total_cap(feed_server):
    """Two host names for the same server: 127.0.0.1 and localhost (both loopback)."""
    for i in range(8):
        feed_server.static(f"/f{i}.xml", RSS, delay=0.2)
    jobs = [
        FetchJob(f"k{i}", f"http://{host}:{feed_server.port}/f{i}.xml")
        for i, host in enumerate(["127.0.0.1", "localhost"] * 4)
    ]
    seen: list[str] = []
    lock = threading.Lock()

    def on_done(job: FetchJob, result: FetchResult) -> None:
        with lock:
            seen.append(job.key)

    f = fetcher(max_per_host=2, max_total=3)
    yielded = [job.key for job, result in f.fetch_many(jobs, on_done=on_done) if result.ok]
    assert sorted(yielded) == sorted(seen) == sorted(job.key for job in jobs)
    assert feed_server.max_in_flight == 3
    assert max(feed_server.max_in_flight_by_host.values()) == 2


def test_fetch_many_yields_as_completed(feed_server):
    slow = feed_server.static("/slow.xml", RSS, delay=0.5)
    fast = feed_server.static("/fast.xml", RSS)
    jobs = [FetchJob("slow", slow), FetchJob("fast", fast)]
    order = [job.key for job, _ in fetcher().fetch_many(jobs)]
    assert order == ["fast", "slow"]


def test_fetch_many_reports_failures_as_results(feed_server):
    jobs = [
        FetchJob("gone", feed_server.status("/gone.xml", 410)),
        FetchJob("blocked", "http://169.254.169.254/"),
        FetchJob("fine", feed_server.static("/ok.xml", RSS)),
    ]
    kinds = {job.key: result.error_kind for job, result in fetcher().fetch_many(jobs)}
    assert kinds == {"gone": "gone", "blocked": "blocked", "fine": None}


def test_hosts_take_turns_and_each_host_keeps_its_order(feed_server):
    """One queue per host: a job for a second host does not wait behind a long queue for the
    first one, and each host's jobs start in the order they were added."""
    for i in range(4):
        feed_server.static(f"/f{i}.xml", RSS)
    a = [FetchJob(f"a{i}", f"http://127.0.0.1:{feed_server.port}/f{i}.xml") for i in range(3)]
    b = [FetchJob("b0", f"http://localhost:{feed_server.port}/f3.xml")]
    order = [job.key for job, _ in fetcher(max_per_host=1, max_total=1).fetch_many(a + b)]
    assert order == ["a0", "b0", "a1", "a2"]


def test_a_job_added_while_others_run_keeps_the_caps(feed_server):
    for i in range(6):
        feed_server.static(f"/f{i}.xml", RSS, delay=0.1)
    with FetchQueue(fetcher(max_per_host=2, max_total=8)) as queue:
        queue.add(FetchJob("k0", feed_server.url("/f0.xml")), "tag0")
        assert queue.start() == 1
        for i in range(1, 6):
            queue.add(FetchJob(f"k{i}", feed_server.url(f"/f{i}.xml")), f"tag{i}")
        assert queue.start() == 1  # the host has two slots, one already taken
        done = []
        while queue:
            queue.start()
            finished, _ = wait(queue.running, return_when=FIRST_COMPLETED)
            done += [queue.finish(f) for f in finished]
    assert sorted((job.key, tag) for job, tag, _ in done) == [
        (f"k{i}", f"tag{i}") for i in range(6)
    ]
    assert all(result.ok for _, _, result in done)
    assert feed_server.max_in_flight == 2


def test_each_jobs_host_is_read_once_whatever_the_backlog(feed_server, monkeypatch):
    """Starting a job never walks the waiting ones (a run of 300 feeds on one host once cost
    44,000 URL parses)."""
    from listening.collect import fetchqueue

    calls = []
    real = fetchqueue.host_key
    monkeypatch.setattr(fetchqueue, "host_key", lambda url: calls.append(url) or real(url))
    feed_server.static("/f.xml", RSS)
    jobs = [FetchJob(f"k{i}", feed_server.url(f"/f.xml?{i}")) for i in range(60)]
    done = list(fetcher(max_per_host=2, max_total=8).fetch_many(jobs))
    assert len(done) == 60 and len(calls) == 60


def test_gzip_module_agrees_with_server_encoding(feed_server):
    """The test server's gzip is real gzip (guards the fixture itself)."""
    feed_server.gzip("/feed.xml", RSS)
    with socket.create_connection(("127.0.0.1", feed_server.port)) as s:
        s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    assert gzip.decompress(raw.split(b"\r\n\r\n", 1)[1]) == RSS
