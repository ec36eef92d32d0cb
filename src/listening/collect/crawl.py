"""Collect: plan which sources are due, fetch them, and write staging files.

Fetching never touches the store: it turns a *unit* (one configured source and the comment
threads under it) into staging files in ``<store dir>/staging/<run_id>/``:
``<source_id>.documents.jsonl`` (one JSON document per line; absent when nothing new came) and
then ``<source_id>.state.json``, whose atomic rename marks the unit complete.
``listening.store.load`` moves complete units into the store. So a crash between fetch and load
loses nothing, and fetch can run on another machine that shares the folder.
"""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from listening.config import Config, Source
from listening.models import Document, stable_id

ROBOTS_AGENT = "listening"


def new_run_id(now: datetime) -> str:
    """Time-sortable and unique: staged runs load in the order they were fetched."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S}Z-{secrets.token_hex(3)}"


def source_id(source: Source) -> str:
    return stable_id("source", source.name)


def child_id(parent_id: str, url: str) -> str:
    return stable_id("thread", parent_id, url)


@dataclass
class FeedState:
    """What the store knows about one fetchable URL (a source or a comment thread)."""

    source_id: str
    url: str
    kind: str  # feed | site | page | comments ; children: 'comments' (feed) or 'page' (HTML)
    state: str = "active"
    etag: str | None = None
    last_modified: str | None = None
    pending_redirect: str | None = None
    redirect_count: int = 0
    consecutive_failures: int = 0
    next_fetch_at: str | None = None
    last_fetch_at: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    disabled_reason: str | None = None
    feed_url: str | None = None  # kind 'site': the feed found by autodiscovery
    thread_url: str | None = None  # children: the post
    post_id: str | None = None
    n_comments_announced: int | None = None
    last_new_document_at: str | None = None
    is_due: bool = True


@dataclass
class Unit:
    """One configured source with its known comment threads: the work of one fetch task."""

    source: dict[str, Any]  # name, url, kind, channel
    main: FeedState
    children: list[FeedState] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source["name"]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "main": asdict(self.main),
            "children": [asdict(c) for c in self.children],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Unit:
        return cls(d["source"], FeedState(**d["main"]), [FeedState(**c) for c in d["children"]])

    @property
    def is_due(self) -> bool:
        return self.main.is_due or any(c.is_due for c in self.children)


# -- fetching a unit ---------------------------------------------------------------------------


@dataclass
class UnitResult:
    name: str
    n_documents: int = 0
    n_fetches: int = 0
    n_not_modified: int = 0
    errors: list[str] = field(default_factory=list)


def fetch_units(
    units: list[Unit],
    config: Config,
    run_dir: Path,
    now: datetime,
    *,
    on_progress: Callable[[str], None] | None = None,
) -> list[UnitResult]:
    """Fetch every due feed of ``units`` and stage each unit as soon as it is parsed; never
    raises for web problems.

    One fetching side (threads, per-host and total caps on connections) hands bodies to
    ``settings.fetch_processes`` parser processes (0: one per CPU core; 1: parse here), so
    parsing uses every core whatever the host layout. A unit's main feed comes first, then the
    comment threads it announces or that are due; the unit is staged when its last parse is
    done. Fetches wait while parsers lag behind, so memory holds a bounded number of bodies.
    """
    from listening.collect.fetch import Fetcher, FetchQueue

    run_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{run_dir.name}")
    works = [_UnitWork(u, config, now, rng) for u in units]
    n_parsers = config.settings.fetch_processes or os.cpu_count() or 1
    n_bodies = sum(w.unit.is_due for w in works)
    with (
        Fetcher(fetch_policy(config)) as fetcher,
        FetchQueue(fetcher) as queue,
        _parsers(min(n_parsers, n_bodies)) as parsers,
    ):
        _Run(queue, parsers, run_dir, on_progress).collect(works)
    return [w.result for w in works]


class _Inline:
    """Parsing in the calling process (``fetch_processes = 1``, or nothing to parse)."""

    def submit(self, function: Callable, *args: Any) -> Future:
        future: Future = Future()
        future.set_result(function(*args))
        return future

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc) -> None:
        pass


def _parsers(n: int):
    from listening.collect.parsepool import ParsePool

    return ParsePool(n) if n > 1 else _Inline()


class _Run:
    """The event loop of one fetch run: fetch completions become parse tasks, parse results
    become follow-up fetches or staged units."""

    def __init__(self, queue, parsers, run_dir: Path, on_progress):
        self.queue = queue
        self.parsers = parsers
        self.run_dir = run_dir
        self.on_progress = on_progress
        self.parsing: dict[Future, tuple[_UnitWork, Any, Any, str]] = {}
        self.robots: dict[str, bytes | None] = {}  # origin -> robots.txt (None: disallow all)
        self.robots_waiting: dict[str, list[tuple[_UnitWork, Any]]] = {}
        # Bodies in memory at once: those being fetched or parsed, plus a few waiting parsers.
        self.max_bodies = queue.limit_total + 2 * getattr(parsers, "n_workers", 1)

    def collect(self, works: list[_UnitWork]) -> None:
        for work in works:
            if work.unit.main.is_due:
                self._fetch(work, work.main_job(), "main")
            else:
                self._children(work)
            self._maybe_stage(work)
        while self.queue or self.parsing:
            self.queue.start(max(0, self.max_bodies - len(self.parsing) - len(self.queue.running)))
            done, _ = wait([*self.queue.running, *self.parsing], return_when=FIRST_COMPLETED)
            for future in done:
                if future in self.parsing:
                    self._parsed(future)
                else:
                    self._fetched(future)

    def _fetch(self, work: _UnitWork, job, role: str) -> None:
        work.pending += 1
        self.queue.add(job, (work, role))

    def _fetched(self, future) -> None:
        job, tag, result = self.queue.finish(future)
        if tag[0] == "robots":
            self._robots_arrived(tag[1], result)
            return
        work, role = tag
        work.pending -= 1
        if result.ok and not result.not_modified:
            task = work.parse_task(job, result, role)
            work.pending += 1
            self.parsing[self.parsers.submit(parse_body, task)] = (
                work,
                job,
                _bodiless(result),
                role,
            )
        elif role == "main":
            work.on_main(job, result, None)
            self._children(work)
        else:
            work.on_child(job, result, None)
        self._maybe_stage(work)

    def _parsed(self, future) -> None:
        work, job, result, role = self.parsing.pop(future)
        work.pending -= 1
        try:
            parsed = future.result()
        except Exception as exc:  # the parser process died on this body: that source's problem
            parsed = Parsed(is_feed=False, error=f"unreadable ({exc}); tell the site's owner")
        if role == "main":
            follow = work.on_main(job, result, parsed)
            if follow is not None:
                self._fetch(work, follow, "main")
            else:
                self._children(work)
        else:
            work.on_child(job, result, parsed)
        self._maybe_stage(work)

    def _children(self, work: _UnitWork) -> None:
        """Comment threads (comment feeds, or post pages after the host's robots.txt)."""
        from listening.collect.fetch import FetchJob

        for job in work.child_jobs():
            if work.children[job.key].kind != "page":
                self._fetch(work, job, "child")
                continue
            origin = _origin(job.url)
            if origin in self.robots:
                self._page_job(work, job, self.robots[origin])
                continue
            work.pending += 1
            if origin not in self.robots_waiting:
                self.queue.add(FetchJob(origin, origin + "/robots.txt"), ("robots", origin))
            self.robots_waiting.setdefault(origin, []).append((work, job))

    def _robots_arrived(self, origin: str, result) -> None:
        # RFC 9309 §2.3.1.3: an unavailable robots.txt (4xx) allows everything; an
        # unreachable one (5xx, network) disallows everything.
        if result.status and 400 <= result.status < 500:
            self.robots[origin] = b""
        elif result.ok:
            self.robots[origin] = result.body
        else:
            self.robots[origin] = None
        for work, job in self.robots_waiting.pop(origin, []):
            work.pending -= 1
            self._page_job(work, job, self.robots[origin])
            self._maybe_stage(work)

    def _page_job(self, work: _UnitWork, job, robots: bytes | None) -> None:
        from listening.collect.robots import robots_allows

        if robots is not None and robots_allows(robots, ROBOTS_AGENT, job.url):
            self._fetch(work, job, "child")
        else:
            child = work.children[job.key]
            work.skip_child(child, "robots.txt disallows this page for listening; not fetched")

    def _maybe_stage(self, work: _UnitWork) -> None:
        if work.pending or work.is_staged:
            return
        work.stage(self.run_dir)
        if self.on_progress:
            self.on_progress(work.unit.name)


def _bodiless(result):
    """The result without its body: what is kept while the body is being parsed."""
    return dataclasses.replace(result, body=b"")


@dataclass
class ParseTask:
    """One body to parse, with what the parser needs to know (sent to a parser process)."""

    role: str  # 'main' | 'child'
    kind: str  # the feed's kind: feed | site | page | comments (children: comments | page)
    discover: bool  # a 'site' source's page: find its feed
    body: bytes
    headers: dict[str, str]
    final_url: str
    source: str
    collected_at: datetime
    thread_url: str | None = None
    post_id: str | None = None


@dataclass
class Parsed:
    """What came out of one body: documents as staged JSON lines, and what the unit needs."""

    lines: list[tuple[str, bytes]] = field(default_factory=list)  # (document_id, JSON)
    posts: list[tuple[str, str]] = field(default_factory=list)  # (document_id, url)
    comment_feeds: list[Any] = field(default_factory=list)  # listening.collect.discover.CommentFeed
    newest: datetime | None = None  # the latest published_at among the documents
    is_feed: bool = True
    error: str | None = None  # one line when nothing usable came out
    is_bozo: bool = False
    bozo_message: str | None = None
    feeds: list[str] | None = None  # a site's page: the feeds it announces
    as_page: bool = False  # a 'page' source's HTML read as an article and its comments


_encoder = None


def _lines(docs: Iterable[Document]) -> list[tuple[str, bytes]]:
    """One staged JSON line per document (msgspec encodes dataclasses and datetimes directly,
    with no deep copy; RFC 3339 timestamps)."""
    global _encoder
    if _encoder is None:
        import msgspec

        _encoder = msgspec.json.Encoder()
    return [(d.document_id, _encoder.encode(d)) for d in docs]


def _parsed_docs(docs: list[Document], **kwargs) -> Parsed:
    newest = max((d.published_at for d in docs), default=None)
    return Parsed(lines=_lines(docs), newest=newest, **kwargs)


def parse_body(task: ParseTask) -> Parsed:
    """Bytes to documents, with no network: runs in a parser process (or in the caller)."""
    from listening.collect.discover import discover_feeds
    from listening.collect.feeds import parse_feed
    from listening.collect.pages import extract_page_comments, parse_page

    if task.discover:
        feeds = _safely(discover_feeds, task.body, task.final_url)
        return Parsed(feeds=[] if isinstance(feeds, str) else feeds)
    if task.role == "child" and task.kind == "page":
        docs = _safely(
            extract_page_comments,
            task.body,
            task.final_url,
            source=task.source,
            collected_at=task.collected_at,
        )
        if isinstance(docs, str):
            return Parsed(is_feed=False, error=docs)
        return _parsed_docs(docs)
    parsed = parse_feed(
        task.body,
        task.headers,
        source=task.source,
        feed_url=task.final_url,
        collected_at=task.collected_at,
        thread_url=task.thread_url,
        post_id=task.post_id,
    )
    html_page = task.role == "main" and task.kind == "page" and not parsed.is_feed
    if html_page and _looks_html(task.headers, task.body):
        at = task.collected_at
        docs = _safely(parse_page, task.body, task.final_url, source=task.source, collected_at=at)
        if isinstance(docs, str):
            return Parsed(is_feed=False, error=docs, as_page=True)
        return _parsed_docs(docs, as_page=True)
    if not parsed.is_feed:
        return Parsed(is_feed=False, error=parsed.error or "not a feed")
    return _parsed_docs(
        parsed.documents,
        posts=[(d.document_id, d.url) for d in parsed.documents if d.kind == "post"],
        comment_feeds=parsed.comment_feeds,
        is_bozo=parsed.is_bozo,
        bozo_message=parsed.bozo_message,
    )


def fetch_policy(config: Config):
    from listening.collect.fetch import FetchPolicy

    s = config.settings
    return FetchPolicy(
        allow_private_networks=s.allow_private_networks,
        connect_timeout=s.connect_timeout,
        read_timeout=s.read_timeout,
        total_timeout=s.total_timeout,
        max_bytes=s.max_body_mib * 1024 * 1024,
        max_per_host=s.max_per_host,
        max_total=s.max_concurrency,
    )


class _UnitWork:
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
        self.states: dict[str, FeedState] = {}
        self.children: dict[str, FeedState] = {self._key(c.url): c for c in unit.children}
        self.post_dates: dict[str, datetime] = {}

    def _key(self, url: str) -> str:
        return f"{self.unit.name}\x1f{url}"

    # main feed
    def main_job(self):
        from listening.collect.fetch import FetchJob

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
        child = self.children[job.key]
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
        from listening.collect.fetch import FetchJob

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
                self._discover_children(parsed)
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

    def _discover_children(self, parsed: Parsed) -> None:
        """Comment threads announced by the feed's posts: fetch new or changed ones now."""
        m = self.unit.main
        for cf in parsed.comment_feeds:
            key = self._key(cf.url)
            known = self.children.get(key)
            if known is None:
                # A post may point only at an HTML page for its comments (TypePad
                # rel="replies" type="text/html", RSS <comments>): read the page then.
                kind = "page" if cf.format == "html" else "comments"
                known = FeedState(
                    source_id=child_id(m.source_id, cf.url),
                    url=cf.url,
                    kind=kind,
                    thread_url=cf.thread_url,
                    post_id=cf.post_id,
                    n_comments_announced=None,
                    is_due=cf.n_comments != 0,
                )
                self.children[key] = known
            elif cf.n_comments is not None and cf.n_comments != known.n_comments_announced:
                known.is_due = True  # the post announces new comments: fetch now
            if cf.n_comments is not None:
                known.n_comments_announced = cf.n_comments
            self.states[key] = known
        if m.kind == "page":
            # A blog without comment feeds: its comments live in each post's HTML page.
            for document_id, url in dict(parsed.posts).items():
                key = self._key(url)
                if key not in self.children:
                    self.children[key] = FeedState(
                        source_id=child_id(m.source_id, url),
                        url=url,
                        kind="page",
                        thread_url=url,
                        post_id=document_id,
                    )
                self.states[key] = self.children[key]

    # children
    def child_jobs(self):
        from listening.collect.fetch import FetchJob

        return [
            FetchJob(key, c.url, c.etag, c.last_modified)
            for key, c in self.children.items()
            if c.is_due and c.state != "disabled"
        ]

    def skip_child(self, child: FeedState, message: str) -> None:
        child.state, child.disabled_reason, child.last_error = "disabled", message, message
        self.states[self._key(child.url)] = child

    def on_child(self, job, result, parsed: Parsed | None) -> None:
        child = self.children[job.key]
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
                child.last_new_document_at = parsed.newest.isoformat()
        self._update_state(child, result, main=False)
        if child.last_new_document_at is None and n_new == 0 and result.ok:
            child.last_new_document_at = self.now.isoformat()
        self.states[job.key] = child

    def _update_state(self, fs: FeedState, result, *, main: bool) -> None:
        from listening.collect.state import SourceState, next_state

        s = self.config.settings
        cur = SourceState(**_state_kwargs(fs, SourceState))
        interval = timedelta(minutes=s.poll_interval_minutes)
        if not main:
            interval = _thread_interval(fs, self.now, s.poll_interval_minutes)
        new = next_state(
            cur,
            result,
            self.now,
            interval=interval,
            max_failures=s.max_failures,
            backoff_base=timedelta(minutes=s.backoff_base_minutes),
            backoff_cap=timedelta(hours=s.backoff_cap_hours),
            rng=self.rng,
        )
        for f in fields(new):
            if hasattr(fs, f.name):
                value = getattr(new, f.name)
                setattr(fs, f.name, value.isoformat() if isinstance(value, datetime) else value)
        if main and fs.kind == "site" and not result.ok:
            fs.feed_url = None  # the discovered feed failed: rediscover it next time
        if not result.ok and not main and result.error:
            self.result.errors.append(result.error)

    # staging
    def stage(self, run_dir: Path) -> None:
        """Write documents, then state: the state file's rename marks the unit complete."""
        import msgspec

        sid = self.unit.main.source_id
        if self.documents:  # none (all 304, or an error): no documents file at all
            docs_path = run_dir / f"{sid}.documents.jsonl"
            tmp = docs_path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(b"\n".join(self.documents.values()) + b"\n")
            os.replace(tmp, docs_path)
        state = {
            "source": self.unit.source,
            "source_id": sid,
            "main": self.unit.main,
            "children": [c for c in self.states.values() if c is not self.unit.main],
            "n_documents": len(self.documents),
            "fetched_at": self.now.isoformat(),
        }
        state_path = run_dir / f"{sid}.state.json"
        tmp = state_path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(state))
        os.replace(tmp, state_path)
        self.result.n_documents = len(self.documents)
        self.documents = {}  # staged: the unit's documents leave memory
        self.is_staged = True


def _state_kwargs(fs: FeedState, cls) -> dict[str, Any]:
    out = {}
    for f in fields(cls):
        if hasattr(fs, f.name):
            v = getattr(fs, f.name)
            if f.name.endswith("_at") and isinstance(v, str):
                v = datetime.fromisoformat(v)
            out[f.name] = v
    return out


def _thread_interval(fs: FeedState, now: datetime, minutes: int) -> timedelta:
    """Threads slow down as they age: a day-old thread is polled less than a new one."""
    last = fs.last_new_document_at
    if not last:
        return timedelta(minutes=minutes)
    age = now - datetime.fromisoformat(last)
    return max(timedelta(minutes=minutes), min(age / 4, timedelta(days=1)))


def _safely(parse: Callable[..., list], *args, **kwargs) -> list | str:
    """``parse(*args, **kwargs)``, or one line saying why the page could not be read.

    What a hostile page does to a parser (a ``RecursionError``, a ``MemoryError`` on absurd
    markup, a parser bug) is that page's problem: it becomes its source's ``last_error`` and
    every other source is still collected.
    """
    from listening.collect.htmltree import PageError

    try:
        return parse(*args, **kwargs)
    except PageError as exc:
        return str(exc)
    except Exception as exc:  # whatever the page does to the parser is that page's problem
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        return f"unreadable HTML page ({reason}); tell the site's owner"


def _with_error(result, message: str):
    from listening.collect.fetch import FetchResult

    return FetchResult(
        **{
            **{f.name: getattr(result, f.name) for f in fields(result)},
            "error": message,
            "error_kind": "parse",
            "body": b"",
        }
    )


def _looks_html(headers: dict[str, str], body: bytes) -> bool:
    ctype = headers.get("content-type", "")
    return "html" in ctype or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))


def _origin(url: str) -> str:
    p = urllib.parse.urlsplit(url)
    return f"{p.scheme}://{p.netloc}"
