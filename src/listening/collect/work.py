"""One unit while it is fetched: what each fetch and parse result means for its sources.

``UnitWork`` turns the main feed's result (a feed, a site's page to find its feed in, a page
read as an article) and each comment thread's result into documents and new source states
(``listening.collect.state.next_state``), and finally into the unit's staging files. The event
loop that runs the fetches and parses is ``listening.collect.crawl``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path

from listening.collect import staging
from listening.collect.parsetask import Parsed, ParseTask
from listening.collect.staging import Unit
from listening.collect.state import SourceState, next_state
from listening.collect.threads import Threads, thread_interval
from listening.config import Config


@dataclass
class UnitResult:
    name: str
    n_documents: int = 0
    n_fetches: int = 0
    n_not_modified: int = 0
    errors: list[str] = field(default_factory=list)


class UnitWork:
    """Mutable bookkeeping of one unit while its fetches complete."""

    def __init__(self, unit: Unit, config: Config, now: datetime, rng: random.Random):
        self.unit = unit
        self.config = config
        self.now = now
        self.rng = rng
        self.result = UnitResult(unit.name)
        self.documents: dict[str, bytes] = {}  # document_id -> staged JSON line
        self.pending = 0  # fetches, parses and robots.txt waits not yet done
        self.is_staged = False
        self.threads = Threads(unit.name, unit.main, unit.children)

    # main feed
    def main_job(self):
        from listening.collect.fetchjobs import FetchJob

        m = self.unit.main
        url = m.feed_url if (m.kind == "site" and m.feed_url) else m.url
        return FetchJob(self.unit.name, url, m.etag, m.last_modified)

    def parse_task(self, job, result, role: str) -> ParseTask:
        if role == "main":
            m = self.unit.main
            return ParseTask(
                role,
                m.kind,
                m.kind == "site" and job.url == m.url,
                result.body,
                result.headers,
                result.final_url,
                self.unit.name,
                self.now,
                thread_url=result.final_url if m.kind == "comments" else None,
            )
        child = self.threads[job.key]
        return ParseTask(
            role,
            child.kind,
            False,
            result.body,
            result.headers,
            result.final_url,
            self.unit.name,
            self.now,
            thread_url=child.thread_url,
            post_id=child.post_id,
        )

    def on_main(self, job, result, parsed: Parsed | None):
        """The main feed's fetch (and parse, when there was a body); a follow-up job or None."""
        from listening.collect.fetchjobs import FetchJob

        m = self.unit.main
        bozo = None
        self.result.n_fetches += 1
        if result.not_modified:
            self.result.n_not_modified += 1
        if parsed is not None and parsed.feeds is not None:
            if not parsed.feeds:
                self._fail_main(
                    result,
                    f'{m.url}: no feed announced by <link rel="alternate"> on this page; '
                    'set kind = "feed" with the feed\'s URL instead',
                )
                return None
            m.feed_url = parsed.feeds[0]
            return FetchJob(self.unit.name, m.feed_url, None, None)
        if parsed is not None:
            if not parsed.is_feed:
                self._fail_main(result, f"{job.url}: {parsed.error}")
                return None
            self._add_documents(parsed.lines)
            if not parsed.as_page:
                self.threads.discover(parsed)
            if parsed.is_bozo:
                bozo = (
                    f"{job.url}: malformed feed ({parsed.bozo_message}); "
                    f"{len(parsed.lines)} entries salvaged — tell the site's owner"
                )
        self._update_state(m, result, main=True)
        if bozo:
            # Recorded, not a failure: the source stays active with what could be kept.
            m.last_error = bozo
            self.result.errors.append(bozo)
        if parsed_error := (result.error if not result.ok else None):
            self.result.errors.append(parsed_error)
        return None

    def _fail_main(self, result, message: str) -> None:
        self._update_state(self.unit.main, _with_error(result, message), main=True)
        self.result.errors.append(message)

    def _add_documents(self, lines: Iterable[tuple[str, bytes]]) -> None:
        for document_id, line in lines:
            self.documents[document_id] = line

    # comment threads
    def on_child(self, job, result, parsed: Parsed | None) -> None:
        child = self.threads[job.key]
        self.result.n_fetches += 1
        if result.not_modified:
            self.result.n_not_modified += 1
        n_new = 0
        if parsed is not None:
            if not parsed.is_feed:
                result = _with_error(result, f"{job.url}: {parsed.error}")
            n_new = len(parsed.lines)
            self._add_documents(parsed.lines)
            if parsed.newest is not None:
                child.last_new_document_at = parsed.newest
        self._update_state(child, result, main=False)
        if child.last_new_document_at is None and n_new == 0 and result.ok:
            child.last_new_document_at = self.now
        self.threads.touch(job.key, child)

    def _update_state(self, fs: SourceState, result, *, main: bool) -> None:
        """``fs`` becomes its next state, in place (the unit and its threads hold it)."""
        s = self.config.settings
        interval = timedelta(minutes=s.poll_interval_minutes)
        if not main:
            interval = thread_interval(fs, self.now, s.poll_interval_minutes)
        new = next_state(
            fs,
            result,
            self.now,
            interval=interval,
            max_failures=s.max_failures,
            backoff_base=timedelta(minutes=s.backoff_base_minutes),
            backoff_cap=timedelta(hours=s.backoff_cap_hours),
            rng=self.rng,
        )
        for f in fields(new):
            setattr(fs, f.name, getattr(new, f.name))
        if main and fs.kind == "site" and not result.ok:
            fs.feed_url = None  # the discovered feed failed: rediscover it next time
        if not result.ok and not main and result.error:
            self.result.errors.append(result.error)

    def stage(self, run_dir: Path, together: list[bytes] | None = None) -> None:
        """Write the unit's staging files; its documents leave memory. A unit with no
        documents goes into ``together`` if given (``staging.write_states`` writes them)."""
        documents = list(self.documents.values())
        if not documents and together is not None:
            together.append(staging.unit_state(self.unit, self.threads.staged(), 0, self.now))
        else:
            staging.write_unit(run_dir, self.unit, self.threads.staged(), documents, self.now)
        self.result.n_documents = len(documents)
        self.documents = {}
        self.is_staged = True


def _with_error(result, message: str):
    from listening.collect.fetchjobs import FetchResult

    return FetchResult(
        **{
            **{f.name: getattr(result, f.name) for f in fields(result)},
            "error": message,
            "error_kind": "parse",
            "body": b"",
        }
    )
