"""Benchmark ``listening collect`` on many local RSS feeds against plain loops, in one run.

N French blog feeds (RSS 2.0, M items of about 2 KB of text each, no comment feeds, so one fetch
per feed) are served by threaded ``http.server`` instances in a process of their own, on
loopback, with strong ETags, Last-Modified, 304 answers and gzip, in two layouts: every feed on
one host, and feeds spread over ``--hosts`` hosts (127.0.0.1, 127.0.0.2 ...: Linux routes all
of 127.0.0.0/8 to loopback, and the per-host cap keys on the host name, so this mimics many
sites with no DNS). On each layout, in a fresh child process each (so that its whole process
tree is measured, parser processes included):

- plain: a sequential loop of ``requests.get`` + ``feedparser.parse`` (the baseline);
- threads: 8 threads + ``feedparser``, at most 2 requests per host at once, then a
  conditional re-poll (every answer a 304);
- collect: ``pipeline.collect`` on a fresh store (plan, fetch, parse, stage, load), then again
  one day later with every source due and every answer a 304.

Runs are interleaved (and rotated) so a busy machine slows every contender alike; the report
gives medians, the median of the per-run ratios to the plain loop's first poll measured on the
same layout in the same run, and the peak RSS of each contender's process tree (sampled every
10 ms; the target is judged on it) beside its peak PSS, where pages the processes share (the
libraries' code each one maps) count once in all.

    .venv/bin/python bench/collect.py                    # 300 feeds x 40 items, 30 hosts, 3 runs
    .venv/bin/python bench/collect.py --quick            # 50 feeds x 20 items, 1 run
    .venv/bin/python bench/collect.py --profile          # + cProfile of one first poll, 1 host
    .venv/bin/python bench/collect.py --latency 50       # each answer 50 ms late, like the web

Exits 0 whatever the figures: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gzip
import hashlib
import html
import io
import json
import multiprocessing
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
    # TCP_NODELAY, as nginx and Apache set it: without it, the body written after the headers
    # waits for the client's delayed ACK (40 ms on Linux) on every reused connection, a stall
    # no real host has, and one that only the contenders reusing connections would pay.
    disable_nagle_algorithm = True
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


# -- contenders (each runs in a child process: its whole process tree is measured) ------------


def plain_loop(urls: list[str]) -> dict:
    """The baseline: a sequential loop of requests.get then feedparser.parse."""
    import feedparser  # imported by the contenders that use it, not by every child:
    import requests  # listening's own process tree never loads feedparser in its parent

    n = 0
    start = time.perf_counter()
    for url in urls:
        response = requests.get(url, timeout=20)
        response.raise_for_status()
        n += len(feedparser.parse(io.BytesIO(response.content)).entries)
    return {"first": time.perf_counter() - start, "n_first": n}


def threads_feedparser(urls: list[str]) -> dict:
    """8 threads + feedparser, at most 2 requests per host at once (a semaphore per host), then
    a conditional re-poll with the validators of the first poll (every answer a 304)."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    import feedparser
    import requests

    hosts = {urlsplit(u).hostname: threading.Semaphore(2) for u in urls}
    local = threading.local()
    validators: dict[str, tuple[str | None, str | None]] = {}

    def get(url: str, headers: dict[str, str]):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        with hosts[urlsplit(url).hostname]:
            response = session.get(url, headers=headers, timeout=20)
            response.content  # noqa: B018 - read the body while holding the host's slot
        return response

    def first(url: str) -> int:
        response = get(url, {})
        response.raise_for_status()
        validators[url] = (response.headers.get("etag"), response.headers.get("last-modified"))
        return len(feedparser.parse(io.BytesIO(response.content)).entries)

    def again(url: str) -> int:
        etag, modified = validators[url]
        response = get(url, {"If-None-Match": etag} if etag else {"If-Modified-Since": modified})
        if response.status_code == 304:
            return 1
        return len(feedparser.parse(io.BytesIO(response.content)).entries) and 0

    with ThreadPoolExecutor(8) as pool:
        start = time.perf_counter()
        n = sum(pool.map(first, urls))
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        n_304 = sum(pool.map(again, urls))
        again_s = time.perf_counter() - start
    return {"first": first_s, "n_first": n, "repoll": again_s, "n_304": n_304}


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


def listening_collect(urls: list[str]) -> dict:
    """``pipeline.collect`` (plan, fetch, parse, stage, load) on a fresh store, then again one
    day later: every source due, every answer a 304."""
    from listening import pipeline
    from listening.configfile import load_config

    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        config = load_config(write_config(Path(tmp), urls))
        for key, now in (("first", NOW), ("repoll", NOW + timedelta(days=1))):
            start = time.perf_counter()
            stats = pipeline.collect(config, config.store_path, now=now)
            out[key] = time.perf_counter() - start
            out[f"n_{key}"] = stats.load.n_documents_new if stats.load else 0
            out[f"errors_{key}"] = len(stats.errors)
            out["n_304"] = stats.n_not_modified
    return out


CONTENDERS = {
    "plain": plain_loop,
    "threads": threads_feedparser,
    "collect": listening_collect,
}
LABELS = {
    "plain": "plain sequential requests + feedparser loop",
    "threads": "8 threads + feedparser, 2 per host",
    "collect": "listening collect",
}


def run_contender(name: str, urls_file: Path) -> None:
    """Child side: run one contender, print its figures as one JSON line."""
    urls = urls_file.read_text("utf-8").split()
    print(json.dumps(CONTENDERS[name](urls)), flush=True)


def tree_memory(root) -> tuple[int, int]:
    """RSS and PSS summed over ``root`` and its descendants. A child whose command line is
    its parent's has not exec'd yet (``subprocess`` starts programs by vfork, sharing the
    parent's memory until the exec): it is the parent's pages, counted once."""
    import psutil

    rss = pss = 0
    with contextlib.suppress(psutil.Error):
        procs = [root, *root.children(recursive=True)]
        cmdlines = {}
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                cmdlines[proc.pid] = proc.cmdline()
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                if proc is not root and cmdlines.get(proc.pid) == cmdlines.get(proc.ppid()):
                    continue
                memory = proc.memory_full_info()
                rss += memory.rss
                pss += memory.pss
    return rss, pss


def measure(name: str, urls_file: Path) -> dict:
    """Run a contender in a child process; add the peak RSS of its process tree (itself and
    its parser processes, sampled every 10 ms), the peak PSS (shared pages, such as the
    libraries' code that each process maps, split among the processes sharing them) and the
    tree's CPU time."""
    import psutil  # an Airflow dependency, so in the venv

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen(
        [sys.executable, __file__, "--run", name, "--urls-file", str(urls_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = peak_pss = 0
    me = psutil.Process(child.pid)
    while child.poll() is None:
        rss, pss = tree_memory(me)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.01)
    out, _ = child.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode:
        raise SystemExit(f"contender {name} failed (exit code {child.returncode})")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["rss_mib"] = peak / MIB
    figures["pss_mib"] = peak_pss / MIB
    figures["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return figures


# -- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def profiled_poll(urls: list[str], top: int) -> None:
    """cProfile of one first poll, in this process (the fetching side and the event loop;
    parsing runs in the parser processes, so ``fetch_processes = 1`` shows it here)."""
    from listening import pipeline
    from listening.configfile import load_config

    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        config = load_config(write_config(Path(tmp), urls))
        profiler = cProfile.Profile()
        profiler.enable()
        pipeline.collect(config, config.store_path, now=NOW)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"listening/", top)
        print(f"\ncProfile of one first poll, top {top} cumulative in src/listening:")
        print("   ncalls" + out.getvalue().split("ncalls", 1)[-1].rstrip())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, default=300)
    p.add_argument("--items", type=int, default=40)
    p.add_argument("--hosts", type=int, default=30, help="loopback addresses 127.0.0.1..N")
    p.add_argument("--quick", action="store_true", help="50 feeds x 20 items, 1 run")
    p.add_argument("--repeat", type=int, default=3, help="interleaved runs; medians reported")
    p.add_argument(
        "--latency", type=float, default=0.0, metavar="MS", help="server delay per request"
    )
    p.add_argument("--profile", type=int, nargs="?", const=15, default=0, metavar="TOP")
    p.add_argument("--run", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    p.add_argument("--urls-file", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.run:
        run_contender(args.run, args.urls_file)
        return 0
    if args.quick:
        args.feeds, args.items, args.repeat = 50, 20, 1
    n_hosts = max(1, min(args.hosts, args.feeds, 254))

    feeds, raw_bytes = make_feeds(args.feeds, args.items)
    gz_bytes = sum(len(f.gz_body) for f in feeds)
    latency = args.latency / 1000
    n_docs = args.feeds * args.items
    print(
        f"{args.feeds} feeds x {args.items} items = {n_docs} documents; "
        f"{raw_bytes / MIB:.1f} MiB of XML ({raw_bytes / n_docs / 1024:.1f} KiB/item), "
        f"{gz_bytes / MIB:.1f} MiB gzipped; layouts: 1 host and {n_hosts} hosts "
        f"(127.0.0.1-{n_hosts}); per-host cap 2, total 8 (defaults); "
        f"server latency {args.latency:g} ms; {os.cpu_count()} CPUs",
        flush=True,
    )
    layouts = {}
    stoppers = []
    with tempfile.TemporaryDirectory(prefix="bench-collect-urls-") as tmp:
        for hosts in (1, n_hosts):
            urls, stop_servers = serve_in_process(feeds, hosts, latency)
            stoppers.append(stop_servers)
            path = Path(tmp) / f"urls-{hosts}.txt"
            path.write_text("\n".join(urls), "utf-8")
            layouts[hosts] = path
        runs: dict[tuple[str, int], list[dict]] = {}
        checks: list[str] = []
        order = [(name, hosts) for hosts in layouts for name in CONTENDERS]
        try:
            for r in range(args.repeat):
                # Interleaved, and rotated from run to run, so a busy machine slows all alike.
                for name, hosts in order[r % len(order) :] + order[: r % len(order)]:
                    figures = measure(name, layouts[hosts])
                    runs.setdefault((name, hosts), []).append(figures)
                    if figures["n_first"] != n_docs:
                        checks.append(f"run {r + 1} {name} {hosts} hosts: {figures}")
                    if "repoll" in figures and figures["n_304"] != args.feeds:
                        checks.append(f"run {r + 1} {name} {hosts} hosts re-poll: {figures}")
                print(
                    f"run {r + 1}: "
                    + ", ".join(
                        f"{name}/{hosts}h {v[-1]['first']:.2f}s"
                        + (f" (re-poll {v[-1]['repoll']:.2f}s)" if "repoll" in v[-1] else "")
                        for (name, hosts), v in runs.items()
                    ),
                    flush=True,
                )
            if args.profile:
                profiled_poll(layouts[1].read_text("utf-8").split(), args.profile)
        finally:
            for stop_servers in stoppers:
                stop_servers()

    def ratios(name: str, hosts: int, key: str) -> list[float]:
        base = [f["first"] for f in runs[("plain", hosts)]]
        return [f[key] / b for f, b in zip((f for f in runs[(name, hosts)]), base, strict=True)]

    med = statistics.median
    print(
        f"\nmedians of {args.repeat} interleaved runs; × plain = median of the per-run ratios "
        "to the plain loop's first poll on the same layout in the same run"
    )
    head = f"{'contender':46}{'hosts':>6}{'first s':>9}{'× plain':>9}{'re-poll s':>10}"
    print(head + f"{'× plain':>9}{'CPU s':>8}{'peak RSS MiB':>16}{'peak PSS MiB':>14}")
    summary = {}
    for (name, hosts), figures in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        first = med(f["first"] for f in figures)
        x_first = med(ratios(name, hosts, "first"))
        line = f"{LABELS[name]:46}{hosts:6}{first:9.2f}{x_first:9.2f}"
        if "repoll" in figures[0]:
            x_again = med(ratios(name, hosts, "repoll"))
            line += f"{med(f['repoll'] for f in figures):10.2f}{x_again:9.3f}"
            summary[(name, hosts, "repoll")] = x_again
        else:
            line += f"{'-':>10}{'-':>9}"
        rss = [f["rss_mib"] for f in figures]
        pss = med(f["pss_mib"] for f in figures)
        line += f"{med(f['cpu'] for f in figures):8.1f}{med(rss):8.0f} (max {max(rss):.0f})"
        line += f"{pss:10.0f}"
        print(line)
        summary[(name, hosts, "first")] = x_first
        summary[(name, hosts, "rss")] = max(rss)
    print(
        "(CPU s: the contender's whole process tree, interpreter start-up included; PSS: "
        "median of the peaks, pages shared by several processes split among them)"
    )
    for c in checks:
        print(f"CHECK: {c}")
    print()
    for hosts in layouts:
        x = summary[("collect", hosts, "first")]
        print(f"{verdict(x <= 0.5)}  first poll, {hosts} host(s) <= 0.5x plain loop: {x:.2f}x")
    for hosts in layouts:
        x = summary[("collect", hosts, "repoll")]
        print(f"{verdict(x <= 0.1)}  re-poll all due, {hosts} host(s) <= 0.1x plain: {x:.3f}x")
    rss = max(summary[("collect", hosts, "rss")] for hosts in layouts)
    print(f"{verdict(rss <= 120)}  peak RSS of the collect process tree <= 120 MiB: {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
