"""A unit's comment threads: which are known, which the feed announces, which are due.

A blog post's comments live in a comment feed (``wfw:commentRss``, ``rel="replies"``) or, when the
post points only at an HTML page, in that page. Each thread is a ``SourceState`` under its
source (``raw.sources.parent_source_id``): it is fetched when it is new, when its post announces a
new comment count, or when its schedule says so; threads slow down as they age.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from listening.collect.parsetask import Parsed
from listening.collect.state import SourceState, child_id


class Threads:
    """The comment threads of one unit while it is fetched: those the store knows, those its
    feed announces, and those this run fetched or found (``staged``)."""

    def __init__(self, unit_name: str, main: SourceState, children: list[SourceState]):
        self.unit_name = unit_name
        self.main = main
        self.known: dict[str, SourceState] = {self.key(c.url): c for c in children}
        self.touched: dict[str, SourceState] = {}

    def key(self, url: str) -> str:
        """A thread's fetch key: unique across units, so one fetch queue serves them all."""
        return f"{self.unit_name}\x1f{url}"

    def __getitem__(self, key: str) -> SourceState:
        return self.known[key]

    def touch(self, key: str, child: SourceState) -> None:
        """``child`` was fetched or found in this run: its state goes to the staging file."""
        self.touched[key] = child

    def staged(self) -> list[SourceState]:
        return [c for c in self.touched.values() if c is not self.main]

    def discover(self, parsed: Parsed) -> None:
        """Comment threads announced by the feed's posts: fetch new or changed ones now."""
        m = self.main
        for cf in parsed.comment_feeds:
            key = self.key(cf.url)
            known = self.known.get(key)
            if known is None:
                # A post may point only at an HTML page for its comments (TypePad
                # rel="replies" type="text/html", RSS <comments>): read the page then.
                kind = "page" if cf.format == "html" else "comments"
                known = SourceState(
                    cf.url,
                    source_id=child_id(m.source_id, cf.url),
                    kind=kind,
                    thread_url=cf.thread_url,
                    post_id=cf.post_id,
                    n_comments_announced=None,
                    is_due=cf.n_comments != 0,
                )
                self.known[key] = known
            elif cf.n_comments is not None and cf.n_comments != known.n_comments_announced:
                known.is_due = True  # the post announces new comments: fetch now
            if cf.n_comments is not None:
                known.n_comments_announced = cf.n_comments
            self.touch(key, known)
        if m.kind == "page":
            # A blog without comment feeds: its comments live in each post's HTML page.
            for document_id, url in dict(parsed.posts).items():
                key = self.key(url)
                if key not in self.known:
                    self.known[key] = SourceState(
                        url,
                        source_id=child_id(m.source_id, url),
                        kind="page",
                        thread_url=url,
                        post_id=document_id,
                    )
                self.touch(key, self.known[key])

    def jobs(self) -> list:
        """The due threads' fetches (``listening.collect.fetch.FetchJob``)."""
        from listening.collect.fetchjobs import FetchJob

        return [
            FetchJob(key, c.url, c.etag, c.last_modified)
            for key, c in self.known.items()
            if c.is_due and c.state != "disabled"
        ]

    def skip(self, child: SourceState, message: str) -> None:
        child.state, child.disabled_reason, child.last_error = "disabled", message, message
        self.touch(self.key(child.url), child)


def thread_interval(fs: SourceState, now: datetime, minutes: int) -> timedelta:
    """Threads slow down as they age: a day-old thread is polled less than a new one."""
    last = fs.last_new_document_at
    if not last:
        return timedelta(minutes=minutes)
    age = now - last
    return max(timedelta(minutes=minutes), min(age / 4, timedelta(days=1)))
