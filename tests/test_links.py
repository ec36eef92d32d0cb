"""The README, the package metadata and what we send to servers name no URL that does not exist.

Tests have no network: every address off this machine that they show must be in KNOWN, pages
checked by hand when they were added. A made-up project home page (there is none yet) would send
readers, and the operators of every site we fetch, to somebody else's address.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from listening import notify
from listening.collect import fetch

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"https?://[^\s<>()\[\]`'\"]+")
LOOPBACK = {"127.0.0.1", "localhost"}
KNOWN = {
    "https://docs.astral.sh/uv/",  # uv's documentation (README, quickstart)
}


def reserved_for_examples(host: str | None) -> bool:
    """RFC 2606 names, which never resolve to anybody: fine in examples."""
    host = host or ""
    return host.endswith(".example") or host.split(".")[-2:] in (
        ["example", "com"],
        ["example", "org"],
        ["example", "net"],
    )


def off_machine_urls(text: str) -> set[str]:
    found = {u.rstrip(".,;:") for u in URL.findall(text)}
    return {
        u
        for u in found
        if urlsplit(u).hostname not in LOOPBACK and not reserved_for_examples(urlsplit(u).hostname)
    }


def test_url_finder_sees_the_addresses_it_must():
    text = (
        "see <https://listening.org/a>, [uv](https://docs.astral.sh/uv/) or http://127.0.0.1:8080,"
        " not https://intranet.example/x nor https://www.example.com/y."
    )
    assert off_machine_urls(text) == {"https://listening.org/a", "https://docs.astral.sh/uv/"}


def test_readme_metadata_and_user_agents_name_only_known_urls():
    texts = {
        "README.md": (ROOT / "README.md").read_text("utf-8"),
        "pyproject.toml": (ROOT / "pyproject.toml").read_text("utf-8"),
        "fetch.USER_AGENT": fetch.USER_AGENT,
        "notify.USER_AGENT": notify.USER_AGENT,
    }
    unknown = sorted(
        (where, url) for where, text in texts.items() for url in off_machine_urls(text) - KNOWN
    )
    assert unknown == [], (
        f"URLs nobody checked exist (fix or remove them; add a checked page to KNOWN): {unknown}"
    )
