"""The network guard refuses non-public addresses and non-http(s) schemes before connecting."""

from __future__ import annotations

import ipaddress
import socket

import pytest
import requests

from listening.collect.fetch import Fetcher
from listening.collect.fetchjobs import FetchPolicy
from listening.collect.guard import FIX, AddressRule, GuardedAdapter, blocked_reason, check_url
from listening.errors import SourceBlocked

# Fixtures feed_server and connect_log; harmless once conftest.py lists it too.
pytest_plugins = ["tests.feedserver"]

BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata endpoint
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("100.64.0.1", "non-global"),  # RFC 6598 carrier-grade NAT
    ("192.0.2.1", "private"),  # RFC 5737 documentation
    ("198.18.0.1", "private"),  # RFC 2544 benchmarking
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("ff02::1", "multicast"),
    ("fec0::1", "site-local"),
    ("::127.0.0.1", "reserved"),  # deprecated IPv4-compatible form
    ("2001:db8::1", "private"),
    # IPv6 forms that carry an IPv4 destination are judged by that destination.
    ("::ffff:127.0.0.1", "loopback (IPv4 127.0.0.1"),
    ("::ffff:169.254.169.254", "link-local (IPv4 169.254.169.254"),
    ("::ffff:10.0.0.1", "private (IPv4 10.0.0.1"),
    ("2002:a00:1::", "private (IPv4 10.0.0.1"),  # 6to4
    ("64:ff9b::a9fe:a9fe", "link-local (IPv4 169.254.169.254"),  # NAT64, RFC 6052
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private (IPv4 10.0.0.1"),  # Teredo client
]

PUBLIC = [
    "93.184.216.34",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "2a00:1450:4007:80f::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
]


@pytest.mark.parametrize(("address", "reason"), BLOCKED)
def test_blocked_addresses(address, reason):
    assert blocked_reason(ipaddress.ip_address(address)).startswith(reason)
    with pytest.raises(SourceBlocked) as excinfo:
        AddressRule().check(address, "http://example.org/feed")
    message = str(excinfo.value)
    assert "http://example.org/feed" in message
    assert str(ipaddress.ip_address(address)) in message
    assert FIX in message


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None
    AddressRule().check(address, "http://example.org/")


@pytest.mark.parametrize(("address", "_"), BLOCKED)
def test_allow_private_networks_lets_everything_through(address, _):
    AddressRule(allow_private_networks=True).check(address, "http://x/")


def test_allowed_networks_is_a_narrow_opt_in():
    rule = AddressRule(allowed_networks=("127.0.0.1/32", "192.168.1.0/24"))
    rule.check("127.0.0.1", "http://x/")
    rule.check("192.168.1.20", "http://x/")
    for address in ("127.0.0.2", "192.168.2.1", "::1", "169.254.169.254"):
        with pytest.raises(SourceBlocked):
            rule.check(address, "http://x/")


def test_a_bad_allowed_network_is_refused_at_once():
    with pytest.raises(ValueError):
        AddressRule(allowed_networks=("not-a-network",))


def test_ipv6_zone_id_is_ignored_for_the_check():
    with pytest.raises(SourceBlocked, match="link-local"):
        AddressRule().check("fe80::1%eth0", "http://x/")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://ftp.example.org/feed.xml",
        "gopher://127.0.0.1:70/",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "example.org/feed.xml",
    ],
)
def test_only_http_and_https(url):
    with pytest.raises(SourceBlocked, match="only http and https"):
        check_url(url, AddressRule(allow_private_networks=True))


def test_check_url_resolves_and_checks_every_address():
    assert check_url("https://93.184.216.34/feed", AddressRule()) == ["93.184.216.34"]
    assert check_url("HTTP://[2606:4700:4700::1111]:8080/", AddressRule()) == [
        "2606:4700:4700::1111"
    ]
    with pytest.raises(SourceBlocked, match="loopback"):
        check_url("http://localhost/feed", AddressRule())  # a name, resolved via /etc/hosts
    with pytest.raises(SourceBlocked, match="link-local"):
        check_url("http://169.254.169.254/latest/meta-data/", AddressRule())
    with pytest.raises(ValueError):
        check_url("http:///no-host", AddressRule())


def _fake_dns(monkeypatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Make getaddrinfo answer names from ``answers`` (one list per successive lookup)."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        batch = answers[host][min(len(lookups), len(answers[host])) - 1]
        return [info for address in batch for info in real(address, port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_a_name_with_one_private_answer_is_refused(monkeypatch):
    _fake_dns(monkeypatch, {"mixed.test": [["93.184.216.34", "10.1.2.3"]]})
    with pytest.raises(SourceBlocked, match=r"10\.1\.2\.3"):
        check_url("http://mixed.test/feed", AddressRule())


def test_dns_rebinding_is_caught_at_connect_time(monkeypatch, feed_server, connect_log):
    """The name passes the early check, then rebinds to loopback for the connection."""
    feed_server.static("/feed.xml", b"<rss/>")
    lookups = _fake_dns(monkeypatch, {"rebind.test": [["93.184.216.34"], ["127.0.0.1"]]})
    with Fetcher(FetchPolicy()) as fetcher:
        result = fetcher.fetch(f"http://rebind.test:{feed_server.port}/feed.xml")
    assert result.error_kind == "blocked"
    assert "127.0.0.1" in result.error and FIX in result.error
    assert lookups == ["rebind.test", "rebind.test"]
    assert connect_log == []  # neither the public nor the rebound address was contacted
    assert feed_server.hits("/feed.xml") == 0


def test_guarded_adapter_protects_a_plain_session(feed_server, connect_log):
    """Anything sent through the adapter is checked, even without ``check_url``."""
    url = feed_server.static("/feed.xml", b"<rss/>")
    session = requests.Session()
    session.mount("http://", GuardedAdapter(AddressRule()))
    with pytest.raises(SourceBlocked, match="loopback"):
        session.get(url, timeout=2)
    assert connect_log == []
    assert feed_server.hits("/feed.xml") == 0

    session.mount("http://", GuardedAdapter(AddressRule(allowed_networks=("127.0.0.1/32",))))
    assert session.get(url, timeout=2).content == b"<rss/>"
