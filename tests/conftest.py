from pathlib import Path

import pytest

pytest_plugins = ["tests.feedserver"]


class _Quiet:
    def progress(self, message: str) -> None:
        pass

    def say(self, message: str) -> None:
        pass

    def result(self, message: str) -> None:
        self.lines.append(message)

    def __init__(self):
        self.lines: list[str] = []


@pytest.fixture
def blog(feed_server):
    """A WordPress-like blog on the loopback server: two posts, one with a comment thread."""
    from tests.test_collect import blog_feed, comment_feed

    base = feed_server.base_url
    feed_server.static("/greg/feed/", blog_feed(base), etag='"f1"')
    feed_server.static(
        "/greg/2026/11/box/feed/",
        comment_feed(base),
        content_type="application/atom+xml",
        etag='"c1"',
    )
    return feed_server


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> tuple[Path, list[str]]:
    """The demo world run through the whole pipeline once per session: (store, printed lines)."""
    from listening.demo.run import run_demo

    out = _Quiet()
    folder = tmp_path_factory.mktemp("demo")
    db = run_demo(folder, out=out)
    return db, out.lines
