"""Benchmark ``listening.pipeline.collect`` on many local RSS feeds against a naive baseline.

N French blog feeds (RSS 2.0, M items of about 1-2 KB of text each, no comment feeds, so one
fetch per feed) are served from this process by threaded ``http.server`` instances on loopback,
with strong ETags, Last-Modified, 304 answers and gzip. Measured, best of ``--repeat`` runs
interleaved so that a busy machine slows every contender alike:

- baseline: a plain sequential loop of ``requests.get`` + ``feedparser.parse`` over the feeds;
- first poll: ``pipeline.collect`` on a fresh temporary store (fetch, parse, stage, load);
- re-poll: ``pipeline.collect`` again one day later, every source due, every answer a 304;
- the same two polls with every feed on a single host (the per-host cap then applies);
- peak memory: the process's RSS high-water mark, and (``--tracemalloc``) the tracemalloc peak
  of one extra, untimed first poll.

Why several hosts: the fetcher caps concurrent requests per *host name* (``max_per_host``,
default 2), and the key is the host name alone, so feeds on different ports of 127.0.0.1 would
still share one slot pair. Linux routes all of 127.0.0.0/8 to loopback, so one server per
address 127.0.0.1, 127.0.0.2 ... (``--hosts``, default 50) mimics many sites with no DNS.

    .venv/bin/python bench/collect.py [--feeds 500] [--items 50] [--hosts 50] [--repeat 2]
    .venv/bin/python bench/collect.py --quick            # 50 feeds x 20 items
    .venv/bin/python bench/collect.py --quick --profile  # + cProfile of one first poll
    .venv/bin/python bench/collect.py --latency 50       # each answer 50 ms late, like the web

Exits 0 whatever the figures: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import gzip
import hashlib
import html
import io
import multiprocessing
import os
import pstats
import random
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import requests

from listening import pipeline
from listening.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT / "tests" / "data" / "sentiment_fr.tsv"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
MIB = 1024 * 1024

FIRST_NAMES = ["Greg", "Julie", "Marc", "Sophie", "Karim", "Léa", "Hugo", "Inès", "Paul", "Zoé"]
TOPICS = ["cuisine", "box internet", "vélo", "jardinage", "voyages", "téléphonie", "bricolage"]


# -- feeds -------------------------------------------------------------------------------------


@dataclass
class Feed:
    path: str
    gz_body: bytes  # kept compressed: served as is to clients that accept gzip (both do)
    etag: str
    last_modified: datetime
    n_items: int


def french_sentences() -> list[str]:
    lines = SENTENCES.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 1)[1] for line in lines if "\t" in line]


def rss_feed(i: int, n_items: int, sentences: list[str], rng: random.Random) -> bytes:
    """A WordPress-like RSS 2.0 feed: excerpt in <description>, full post in content:encoded."""
    author = FIRST_NAMES[i % len(FIRST_NAMES)]
    site = f"https://blog{i:04d}.exemple.fr"
    items = []
    for j in range(n_items):
        published = NOW - timedelta(hours=3 * j + i % 3, minutes=i % 60)
        paragraphs = [
            " ".join(rng.sample(sentences, rng.randint(3, 5))) for _ in range(rng.randint(3, 5))
        ]
        if rng.random() < 0.2:
            paragraphs.insert(1, "Mon avis sur Telzio : la box redémarre encore, le support rame.")
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>\n" for p in paragraphs)
        title = html.escape(rng.choice(sentences)[:70].rstrip(" ,."), quote=False)
        slug = f"{j:03d}-{hashlib.blake2s(title.encode(), digest_size=4).hexdigest()}"
        items.append(
            f"""<item>
  <title>{title}</title>
  <link>{site}/2026/11/{slug}/</link>
  <guid isPermaLink="false">{site}/?p={1000 + j}</guid>
  <dc:creator><![CDATA[{author}]]></dc:creator>
  <pubDate>{format_datetime(published)}</pubDate>
  <category><![CDATA[{TOPICS[(i + j) % len(TOPICS)]}]]></category>
  <description><![CDATA[{html.escape(paragraphs[0][:200], quote=False)} […]]]></description>
  <content:encoded><![CDATA[{body}]]></content:encoded>
</item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Le blog de {author} n°{i}</title>
  <link>{site}/</link>
  <description>Carnet de {author} : {TOPICS[i % len(TOPICS)]} et humeurs du quotidien</description>
  <language>fr-FR</language>
  <lastBuildDate>{format_datetime(NOW)}</lastBuildDate>
  <generator>https://wordpress.org/?v=6.7</generator>
{chr(10).join(items)}
</channel>
</rss>
""".encode()


def make_feeds(n_feeds: int, n_items: int) -> tuple[list[Feed], int]:
    """The feeds, and the total size of their uncompressed bodies."""
    sentences, rng = french_sentences(), random.Random(42)
    feeds, raw = [], 0
    for i in range(n_feeds):
        body = rss_feed(i, n_items, sentences, rng)
        raw += len(body)
        etag = '"' + hashlib.blake2s(body, digest_size=8).hexdigest() + '"'
        modified = (NOW - timedelta(minutes=i % 60)).replace(microsecond=0)
        gz = gzip.compress(body, compresslevel=6, mtime=0)
        feeds.append(Feed(f"/blog-{i:04d}/feed/", gz, etag, modified, n_items))
    return feeds, raw


# -- server ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like any real blog host
    server: _FeedServer

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        feed = self.server.feeds.get(self.path)
        if feed is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.server.latency:
            time.sleep(self.server.latency)  # a distant host's round trip, before the answer
        validators = {
            "ETag": feed.etag,
            "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        }
        if self._not_modified(feed):
            self.send_response(304)  # RFC 9110 §15.4.5: repeat the validators, no body
            for k, v in validators.items():
                self.send_header(k, v)
            self.end_headers()
            return
        gz = "gzip" in self.headers.get("Accept-Encoding", "")
        body = feed.gz_body if gz else gzip.decompress(feed.gz_body)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        if gz:
            self.send_header("Content-Encoding", "gzip")
        for k, v in validators.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _not_modified(self, feed: Feed) -> bool:
        # RFC 9110 §13.1.2-3: If-None-Match wins; If-Modified-Since only without it.
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or feed.etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return feed.last_modified <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False


class _FeedServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, feeds: dict[str, Feed], latency: float = 0.0):
        super().__init__((host, 0), _Handler)
        self.feeds = feeds
        self.latency = latency


def serve(
    feeds: list[Feed], n_hosts: int, latency: float = 0.0
) -> tuple[list[str], list[_FeedServer]]:
    """Serve feed i on host 127.0.0.(1 + i % n_hosts); return the feed URLs and the servers."""
    by_host: list[dict[str, Feed]] = [{} for _ in range(n_hosts)]
    for i, f in enumerate(feeds):
        by_host[i % n_hosts][f.path] = f
    servers = [_FeedServer(f"127.0.0.{1 + k}", by_host[k], latency) for k in range(n_hosts)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True, name="bench-feed-server").start()
    urls = []
    for i, f in enumerate(feeds):
        host, port = servers[i % n_hosts].server_address[:2]
        urls.append(f"http://{host}:{port}{f.path}")
    return urls, servers


def serve_in_process(feeds: list[Feed], n_hosts: int, latency: float = 0.0):
    """The servers in a process of their own, as the web is: the measured process then holds
    no server threads (and so may fork its fetch workers, as the CLI does). Returns the URLs
    and a function that stops the servers."""
    context = multiprocessing.get_context("fork")  # feeds are inherited, not pickled
    ours, theirs = context.Pipe()

    def run(conn) -> None:
        urls, servers = serve(feeds, n_hosts, latency)
        conn.send(urls)
        conn.recv()  # until told to stop
        stop(servers)

    process = context.Process(target=run, args=(theirs,), daemon=True)
    process.start()
    urls = ours.recv()

    def stop_process() -> None:
        ours.send("stop")
        process.join(timeout=30)

    stop_process.pid = process.pid
    return urls, stop_process


def stop(servers: list[_FeedServer]) -> None:
    """Shut the servers down together: each ``shutdown`` waits up to one 0.5 s poll interval."""
    threads = [threading.Thread(target=s.shutdown) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in servers:
        s.server_close()


# -- contenders --------------------------------------------------------------------------------


def baseline(urls: list[str]) -> tuple[float, float, int]:
    """A plain sequential loop: requests.get then feedparser.parse; (wall s, CPU s, entries)."""
    n = 0
    start, cpu = time.perf_counter(), time.process_time()
    for url in urls:
        response = requests.get(url, timeout=20)
        response.raise_for_status()
        n += len(feedparser.parse(io.BytesIO(response.content)).entries)
    return time.perf_counter() - start, time.process_time() - cpu, n


def write_config(folder: Path, urls: list[str]) -> Path:
    lines = [
        "[settings]",
        'store = "data/listening.duckdb"',
        "allow_private_networks = true  # loopback feeds",
        "",
        "[[brands]]",
        'name = "Telzio"',
        'query = "Telzio"',
    ]
    for i, url in enumerate(urls):
        lines += ["", "[[sources]]", f'name = "Blog {i:04d}"', f'url = "{url}"', 'channel = "blog"']
    path = folder / "listening.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@dataclass
class Poll:
    seconds: float
    cpu: float  # process CPU time, every thread (the feed servers' too, as for the baseline)
    n_fetches: int
    n_not_modified: int
    n_documents: int
    n_errors: int


def poll(config, now: datetime) -> Poll:
    start, cpu = time.perf_counter(), time.process_time()
    stats = pipeline.collect(config, config.store_path, now=now)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    docs = stats.load.n_documents_new if stats.load else 0
    return Poll(seconds, cpu, stats.n_fetches, stats.n_not_modified, docs, len(stats.errors))


def pipeline_pair(urls: list[str]) -> tuple[Poll, Poll]:
    """First poll on a fresh store, then a re-poll one day later (all due, all unchanged)."""
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        config = load_config(write_config(Path(tmp), urls))
        first = poll(config, NOW)
        again = poll(config, NOW + timedelta(days=1))
    return first, again


def traced_first_poll(urls: list[str]) -> float:
    """Peak of Python allocations (MiB) during one first poll; DuckDB's own memory is not seen."""
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        config = load_config(write_config(Path(tmp), urls))
        gc.collect()
        tracemalloc.start()
        try:
            pipeline.collect(config, config.store_path, now=NOW)
            return tracemalloc.get_traced_memory()[1] / MIB
        finally:
            tracemalloc.stop()


def profiled_polls(urls: list[str], top: int) -> None:
    """cProfile of one first poll and its re-poll (main thread only: planning, parsing, staging
    and loading; the fetches themselves run on the fetcher's threads)."""
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        config = load_config(write_config(Path(tmp), urls))
        for title, now in (("first poll", NOW), ("re-poll", NOW + timedelta(days=1))):
            profiler = cProfile.Profile()
            profiler.enable()
            pipeline.collect(config, config.store_path, now=now)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(r"listening/", top)
            print(f"\ncProfile of one {title}, top {top} cumulative in src/listening:")
            print("   ncalls" + out.getvalue().split("ncalls", 1)[-1].rstrip())


# -- report ------------------------------------------------------------------------------------


def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def start_memory_sampler():
    """A process that samples the RSS of this process plus its children (the fetch workers)
    every 20 ms: the real simultaneous peak, which per-process high-water marks cannot give.
    Started before any thread exists here (fork). Returns a function giving the peak in MiB."""
    import psutil  # an Airflow dependency, so in the venv

    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    watched = os.getpid()

    def run(conn) -> None:
        me = psutil.Process(watched)
        excluded = {os.getpid()}  # the sampler itself, then the feed servers (the "web")
        peak = 0
        while True:
            if conn.poll(0.02):
                message = conn.recv()
                if message == "stop":
                    break
                excluded.add(message)
                continue
            total = 0
            try:
                procs = [me, *(c for c in me.children(recursive=True) if c.pid not in excluded)]
            except psutil.Error:
                break
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            peak = max(peak, total)
        conn.send(peak / MIB)

    process = context.Process(target=run, args=(theirs,), daemon=True)
    process.start()

    def peak(exclude: int | None = None) -> float | None:
        """``peak(pid)`` leaves a process out of the sum; ``peak()`` stops and returns."""
        if exclude is not None:
            ours.send(exclude)
            return None
        ours.send("stop")
        value = ours.recv()
        process.join(timeout=10)
        return value

    return peak


def worker_rss_peak_mib() -> float:
    """The largest RSS high-water mark of any finished child: a fetch worker process."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, default=500)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--hosts", type=int, default=50, help="loopback addresses 127.0.0.1..N")
    p.add_argument("--quick", action="store_true", help="50 feeds x 20 items")
    p.add_argument("--repeat", type=int, default=2, help="interleaved runs; best is reported")
    p.add_argument(
        "--latency", type=float, default=0.0, metavar="MS", help="server delay per request"
    )
    p.add_argument("--no-single-host", action="store_true", help="skip the one-host polls")
    # tracemalloc slows the traced poll about 8x: opt in (cheap with --quick).
    p.add_argument("--tracemalloc", action="store_true", help="+ one traced extra first poll")
    p.add_argument("--profile", type=int, nargs="?", const=10, default=0, metavar="TOP")
    args = p.parse_args(argv)
    if args.quick:
        args.feeds, args.items = 50, 20
    n_hosts = max(1, min(args.hosts, args.feeds, 254))

    feeds, raw_bytes = make_feeds(args.feeds, args.items)
    gz_bytes = sum(len(f.gz_body) for f in feeds)
    latency = args.latency / 1000
    sampled_peak = start_memory_sampler()
    urls, stop_hosts = serve_in_process(feeds, n_hosts, latency)
    sampled_peak(stop_hosts.pid)
    one_host_urls, stop_one_host = [], None
    if not args.no_single_host:
        one_host_urls, stop_one_host = serve_in_process(feeds, 1, latency)
        sampled_peak(stop_one_host.pid)
    n_docs = args.feeds * args.items
    rss_setup = rss_peak_mib()
    print(
        f"{args.feeds} feeds x {args.items} items = {n_docs} documents; "
        f"{raw_bytes / MIB:.1f} MiB of XML ({raw_bytes / n_docs / 1024:.1f} KiB/item), "
        f"{gz_bytes / MIB:.1f} MiB gzipped; {n_hosts} hosts (127.0.0.1-{n_hosts}), "
        f"per-host cap 2, total 8 (defaults); server latency {args.latency:g} ms"
    )

    runs: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    checks: list[str] = []
    for r in range(args.repeat):
        gc.collect()
        base_s, base_cpu, entries = baseline(urls)
        runs.setdefault("baseline", []).append(base_s)
        cpus.setdefault("baseline", []).append(base_cpu)
        if entries != n_docs:
            checks.append(f"baseline parsed {entries} entries, expected {n_docs}")
        contenders = [("", urls)] + ([(" (1 host)", one_host_urls)] if one_host_urls else [])
        for label, feed_urls in contenders:
            gc.collect()
            first, again = pipeline_pair(feed_urls)
            runs.setdefault("first" + label, []).append(first.seconds)
            runs.setdefault("repoll" + label, []).append(again.seconds)
            cpus.setdefault("first" + label, []).append(first.cpu)
            cpus.setdefault("repoll" + label, []).append(again.cpu)
            if (first.n_fetches, first.n_documents, first.n_errors) != (args.feeds, n_docs, 0):
                checks.append(f"run {r + 1}{label} first poll: {first}")
            if (again.n_not_modified, again.n_errors) != (args.feeds, 0):
                checks.append(f"run {r + 1}{label} re-poll: {again}")
        print(
            f"run {r + 1}: "
            + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in runs.items())
            + f"; RSS peak so far {rss_peak_mib():.0f} MiB",
            flush=True,
        )
    rss_peak = rss_peak_mib()
    worker_peak = worker_rss_peak_mib()
    # This process plus its fetch workers, sampled together (the feed servers left out).
    total_peak = sampled_peak()
    traced = traced_first_poll(urls) if args.tracemalloc else None
    stop_hosts()
    if stop_one_host:
        stop_one_host()

    best = {k: min(v) for k, v in runs.items()}
    base, first, again = best["baseline"], best["first"], best["repoll"]
    rows = [
        ("baseline (requests.get + feedparser, sequential)", "baseline", True),
        (f"pipeline first poll, {n_hosts} hosts", "first", True),
        (f"pipeline re-poll (304s), {n_hosts} hosts", "repoll", False),
        ("pipeline first poll, 1 host", "first (1 host)", True),
        ("pipeline re-poll (304s), 1 host", "repoll (1 host)", False),
    ]
    print(
        f"\nbest of {args.repeat} (every run: "
        + "; ".join(f"{k} " + "/".join(f"{x:.2f}" for x in v) for k, v in runs.items())
        + ")"
    )
    print(f"{'':50}{'wall s':>8}{'CPU s':>8}{'docs/s':>8}{'× base':>8}")
    for name, key, has_rate in rows:
        if key not in best:
            continue
        secs, cpu = best[key], min(cpus[key])
        rate = f"{n_docs / secs:8.0f}" if has_rate else f"{'-':>8}"
        print(f"{name:50}{secs:8.2f}{cpu:8.2f}{rate}{secs / base:8.2f}")
    print(f"re-poll / first poll: {again / first:.3f}")
    # Same-run ratios: the machine is shared, so a run's contenders saw similar load.
    per_run = [
        f"run {i + 1}: first/base {f / b:.2f}, re-poll/first {a / f:.3f}"
        for i, (b, f, a) in enumerate(
            zip(runs["baseline"], runs["first"], runs["repoll"], strict=True)
        )
    ]
    print("same-run ratios: " + "; ".join(per_run))
    print(
        f"peak RSS (ru_maxrss): main process {rss_peak:.0f} MiB (after setup: {rss_setup:.0f} "
        f"MiB), largest fetch worker {worker_peak:.0f} MiB; sampled peak of main + workers "
        f"together {total_peak:.0f} MiB"
    )
    if traced is not None:
        print(f"tracemalloc peak of one first poll (Python objects only): {traced:.0f} MiB")
    for c in checks:
        print(f"CHECK: {c}")
    print()
    print(f"{verdict(first <= base)}  first poll <= 1.0x baseline: {first / base:.2f}x")
    print(f"{verdict(again <= 0.1 * first)}  re-poll <= 0.1x first poll: {again / first:.3f}x")
    print(f"{verdict(total_peak <= 500)}  peak memory <= 500 MiB: {total_peak:.0f} MiB")

    if args.profile:
        urls, servers = serve(feeds, n_hosts, latency)
        profiled_polls(urls, args.profile)
        stop(servers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
