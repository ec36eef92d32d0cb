"""Collect: plan which sources are due, fetch them, and write staging files.

Fetching never touches the store: it turns a *unit* (one configured source and the comment
threads under it) into two staging files in ``<store dir>/staging/<run_id>/``:
``<source_id>.documents.jsonl`` and then ``<source_id>.state.json``, whose atomic rename marks
the unit complete. ``listening.load`` moves complete units into the store. So a crash between
fetch and load loses nothing, and fetch can run on another machine that shares the folder.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
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
    max_total: int | None = None,
) -> list[UnitResult]:
    """Fetch every due feed of ``units`` and stage the results; never raises for web problems.

    Main feeds are fetched first (all units concurrently, within the per-host and total caps),
    then the comment threads they announce or that are due.
    """
    from listening.fetch import FetchJob, Fetcher  # noqa: I001 - heavy imports on first use

    fetcher = Fetcher(fetch_policy(config, max_total))
    rng = random.Random(f"{run_dir.name}")
    run_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, _UnitWork] = {u.name: _UnitWork(u, config, now, rng) for u in units}

    # Phase 1: main feeds (kind 'site' may need a second request to its discovered feed).
    jobs = [w.main_job() for w in out.values() if w.unit.main.is_due]
    for _ in range(2):
        next_jobs: list[FetchJob] = []
        for job, result in fetcher.fetch_many([j for j in jobs if j]):
            work = out[job.key]
            follow = work.on_main(job, result)
            if follow:
                next_jobs.append(follow)
            if on_progress:
                on_progress(work.unit.name)
        jobs = next_jobs
        if not jobs:
            break

    # Phase 2: comment threads (comment feeds, or post pages for blogs without them).
    jobs = []
    for work in out.values():
        jobs.extend(work.child_jobs())
    robots: dict[str, Any] = {}
    page_jobs = [j for j in jobs if out[j.key.split("\x1f")[0]].children[j.key].kind == "page"]
    if page_jobs:
        robots = _robots_for(fetcher, page_jobs)
    allowed = []
    for j in jobs:
        work = out[j.key.split("\x1f")[0]]
        child = work.children[j.key]
        if child.kind == "page" and not _robots_ok(robots, j.url):
            work.skip_child(child, "robots.txt disallows this page for listening; not fetched")
            continue
        allowed.append(j)
    for job, result in fetcher.fetch_many(allowed):
        work = out[job.key.split("\x1f")[0]]
        work.on_child(job, result)

    results = []
    for work in out.values():
        work.stage(run_dir)
        results.append(work.result)
    return results


def fetch_in_processes(
    units: list[Unit],
    config: Config,
    run_dir: Path,
    now: datetime,
    *,
    on_progress: Callable[[str], None] | None = None,
) -> list[UnitResult]:
    """``fetch_units`` spread over worker processes: parsing is CPU-bound Python, so threads
    alone leave all but one core idle.

    Units are grouped by host and a host's units stay in one process, so the per-host cap
    still holds across the whole run; the total concurrency is shared between processes.
    """
    groups = _groups_by_host(units)
    workers = min(config.settings.fetch_processes or os.cpu_count() or 1, len(groups))
    if workers <= 1:
        return fetch_units(units, config, run_dir, now, on_progress=on_progress)
    # Deal the groups, largest first, to the least loaded process.
    shares: list[list[Unit]] = [[] for _ in range(workers)]
    for group in sorted(groups, key=lambda g: (-sum(1 + len(u.children) for u in g), g[0].name)):
        min(shares, key=lambda share: sum(1 + len(u.children) for u in share)).extend(group)
    per_process = max(1, -(-config.settings.max_concurrency // workers))
    # fork is cheap (a re-poll of unchanged feeds is over in a second or two) but only safe in
    # a process without other threads; a threaded caller (Airflow, Streamlit) gets spawn.
    method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
    context = multiprocessing.get_context(method)
    results: list[UnitResult] = []
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [
            pool.submit(fetch_units, share, config, run_dir, now, max_total=per_process)
            for share in shares
            if share
        ]
        for future in as_completed(futures):
            for result in future.result():
                results.append(result)
                if on_progress:
                    on_progress(result.name)
    order = {u.name: i for i, u in enumerate(units)}
    return sorted(results, key=lambda r: order[r.name])


def _groups_by_host(units: list[Unit]) -> list[list[Unit]]:
    groups: dict[str, list[Unit]] = {}
    for unit in units:
        host = urllib.parse.urlsplit(unit.main.url).hostname or ""
        groups.setdefault(host, []).append(unit)
    return list(groups.values())


def fetch_policy(config: Config, max_total: int | None = None):
    from listening.fetch import FetchPolicy

    s = config.settings
    return FetchPolicy(
        allow_private_networks=s.allow_private_networks,
        connect_timeout=s.connect_timeout,
        read_timeout=s.read_timeout,
        total_timeout=s.total_timeout,
        max_bytes=s.max_body_mib * 1024 * 1024,
        max_per_host=s.max_per_host,
        max_total=max_total or s.max_concurrency,
    )


class _UnitWork:
    """Mutable bookkeeping of one unit while its fetches complete."""

    def __init__(self, unit: Unit, config: Config, now: datetime, rng: random.Random):
        self.unit = unit
        self.config = config
        self.now = now
        self.rng = rng
        self.result = UnitResult(unit.name)
        self.documents: dict[str, Document] = {}
        self.states: dict[str, FeedState] = {}
        self.children: dict[str, FeedState] = {self._key(c.url): c for c in unit.children}
        self.post_dates: dict[str, datetime] = {}

    def _key(self, url: str) -> str:
        return f"{self.unit.name}\x1f{url}"

    # main feed
    def main_job(self):
        from listening.fetch import FetchJob

        m = self.unit.main
        url = m.feed_url if (m.kind == "site" and m.feed_url) else m.url
        return FetchJob(self.unit.name, url, m.etag, m.last_modified)

    def on_main(self, job, result):
        from listening.fetch import FetchJob
        from listening.parse import discover_feeds, parse_feed

        m = self.unit.main
        bozo = None
        self.result.n_fetches += 1
        if result.not_modified:
            self.result.n_not_modified += 1
        if m.kind == "site" and result.ok and not result.not_modified and job.url == m.url:
            feeds = _safely(discover_feeds, result.body, result.final_url)
            if isinstance(feeds, str):
                feeds = []
            if not feeds:
                self._fail_main(
                    result,
                    f'{m.url}: no feed announced by <link rel="alternate"> on this page; '
                    'set kind = "feed" with the feed\'s URL instead',
                )
                return None
            m.feed_url = feeds[0]
            return FetchJob(self.unit.name, m.feed_url, None, None)
        if result.ok and not result.not_modified:
            parsed = parse_feed(
                result.body,
                result.headers,
                source=self.unit.name,
                feed_url=result.final_url,
                collected_at=self.now,
                thread_url=result.final_url if m.kind == "comments" else None,
            )
            if not parsed.is_feed and m.kind == "page" and _looks_html(result):
                if error := self._page_as_post(result):
                    self._fail_main(result, f"{job.url}: {error}")
                    return None
            elif not parsed.is_feed:
                self._fail_main(result, f"{job.url}: {parsed.error or 'not a feed'}")
                return None
            else:
                self._add_documents(parsed.documents)
                self._discover_children(parsed)
                if parsed.is_bozo:
                    bozo = (
                        f"{job.url}: malformed feed ({parsed.bozo_message}); "
                        f"{len(parsed.documents)} entries salvaged — tell the site's owner"
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
        from listening.fetch import FetchResult

        failed = FetchResult(
            **{
                **{f.name: getattr(result, f.name) for f in fields(result)},
                "error": message,
                "error_kind": "parse",
                "body": b"",
            }
        )
        self._update_state(self.unit.main, failed, main=True)
        self.result.errors.append(message)

    def _page_as_post(self, result) -> str | None:
        """The page's article and its comments; the reason when the page cannot be read."""
        from listening.parse import parse_page

        docs = _safely(
            parse_page, result.body, result.final_url, source=self.unit.name, collected_at=self.now
        )
        if isinstance(docs, str):
            return docs
        self._add_documents(docs)
        return None

    def _add_documents(self, docs: Iterable[Document]) -> None:
        for d in docs:
            self.documents[d.document_id] = d

    def _discover_children(self, parsed) -> None:
        """Comment threads announced by the feed's posts: fetch new or changed ones now."""
        m = self.unit.main
        posts = {d.document_id: d for d in parsed.documents if d.kind == "post"}
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
            for post in posts.values():
                key = self._key(post.url)
                if key not in self.children:
                    self.children[key] = FeedState(
                        source_id=child_id(m.source_id, post.url),
                        url=post.url,
                        kind="page",
                        thread_url=post.url,
                        post_id=post.document_id,
                    )
                self.states[key] = self.children[key]

    # children
    def child_jobs(self):
        from listening.fetch import FetchJob

        return [
            FetchJob(key, c.url, c.etag, c.last_modified)
            for key, c in self.children.items()
            if c.is_due and c.state != "disabled"
        ]

    def skip_child(self, child: FeedState, message: str) -> None:
        child.state, child.disabled_reason, child.last_error = "disabled", message, message
        self.states[self._key(child.url)] = child

    def on_child(self, job, result) -> None:
        from listening.parse import extract_page_comments, parse_feed

        child = self.children[job.key]
        self.result.n_fetches += 1
        if result.not_modified:
            self.result.n_not_modified += 1
        n_new = 0
        if result.ok and not result.not_modified:
            if child.kind == "page":
                docs = _safely(
                    extract_page_comments,
                    result.body,
                    result.final_url,
                    source=self.unit.name,
                    collected_at=self.now,
                )
                if isinstance(docs, str):
                    result, docs = _with_error(result, f"{job.url}: {docs}"), []
            else:
                parsed = parse_feed(
                    result.body,
                    result.headers,
                    source=self.unit.name,
                    feed_url=result.final_url,
                    collected_at=self.now,
                    thread_url=child.thread_url,
                    post_id=child.post_id,
                )
                docs = parsed.documents
                if not parsed.is_feed:
                    result = _with_error(result, f"{job.url}: {parsed.error or 'not a feed'}")
            n_new = len(docs)
            self._add_documents(docs)
            if docs:
                newest = max(d.published_at for d in docs)
                child.last_new_document_at = newest.isoformat()
        self._update_state(child, result, main=False)
        if child.last_new_document_at is None and n_new == 0 and result.ok:
            child.last_new_document_at = self.now.isoformat()
        self.states[job.key] = child

    def _update_state(self, fs: FeedState, result, *, main: bool) -> None:
        from listening.sourcestate import SourceState, next_state

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
        sid = self.unit.main.source_id
        docs_path = run_dir / f"{sid}.documents.jsonl"
        tmp = docs_path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for d in self.documents.values():
                fh.write(json.dumps(d.to_json(), ensure_ascii=False) + "\n")
        os.replace(tmp, docs_path)
        state = {
            "source": self.unit.source,
            "source_id": sid,
            "main": asdict(self.unit.main),
            "children": [asdict(c) for k, c in self.states.items() if c is not self.unit.main],
            "n_documents": len(self.documents),
            "fetched_at": self.now.isoformat(),
        }
        state_path = run_dir / f"{sid}.state.json"
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, state_path)
        self.result.n_documents = len(self.documents)


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
    from listening.parse import PageError

    try:
        return parse(*args, **kwargs)
    except PageError as exc:
        return str(exc)
    except Exception as exc:  # whatever the page does to the parser is that page's problem
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        return f"unreadable HTML page ({reason}); tell the site's owner"


def _with_error(result, message: str):
    from listening.fetch import FetchResult

    return FetchResult(
        **{
            **{f.name: getattr(result, f.name) for f in fields(result)},
            "error": message,
            "error_kind": "parse",
            "body": b"",
        }
    )


def _looks_html(result) -> bool:
    ctype = result.headers.get("content-type", "")
    return "html" in ctype or result.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))


def _robots_for(fetcher, jobs) -> dict[str, Any]:
    """robots.txt of each host we will fetch pages from (RFC 9309)."""
    from listening.fetch import FetchJob

    roots = sorted({_origin(j.url) for j in jobs})
    out: dict[str, Any] = {}
    for job, result in fetcher.fetch_many([FetchJob(r, r + "/robots.txt") for r in roots]):
        # RFC 9309 §2.3.1.3: an unavailable robots.txt (4xx) allows everything; an
        # unreachable one (5xx, network) disallows everything.
        if result.status and 400 <= result.status < 500:
            out[job.key] = b""
        elif result.ok:
            out[job.key] = result.body
        else:
            out[job.key] = None
    return out


def _robots_ok(robots: dict[str, Any], url: str) -> bool:
    from listening.parse import robots_allows

    body = robots.get(_origin(url))
    if body is None:
        return False
    return robots_allows(body, ROBOTS_AGENT, url)


def _origin(url: str) -> str:
    p = urllib.parse.urlsplit(url)
    return f"{p.scheme}://{p.netloc}"
