"""Benchmark feed parsing (``collect.feeds.parse_feed``): the fast path against feedparser.

Workloads (bytes in memory, no network):

- fixtures: every feed of tests/fixtures/feeds (small, many of them broken on purpose);
- demo: every feed of the demo world (WordPress-style RSS and Atom: the sites' post feeds and
  one comment feed per post, French comments), the realistic one;
- real: the captured feeds of ../shared/corpora/comment-feeds, when present.

Contenders, each run in its own fresh process, interleaved (A B C, A B C, …), median kept:

- before: ``parse_feed`` of the baseline revision (``--against``, default the commit before the
  fast path), extracted with ``git archive``: feedparser and the old per-entry work;
- feedparser: ``parse_feed(..., fast=False)`` of this checkout (feedparser, new per-entry work);
- fast: ``parse_feed(...)`` of this checkout (lxml fast path, feedparser for the rest).

Then, in this process: the parsers alone (feedparser.parse, fastfeed.parse, and fastfeedparser
when it is installed) and the per-entry helpers (language, simhash) of both revisions on the
demo documents' texts, with a check that they give the same answers; and the accuracy of
language detection on labelled French and English texts for several prefix lengths.

    .venv/bin/python bench/parse.py [--repeat 3] [--against 9647fdf]

Exits 0 whatever the figures: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import pickle
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import types
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "feeds"
SHARED = ROOT.parent / "shared" / "corpora" / "comment-feeds"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
BASELINE = "9647fdf"  # main just before the fast path (issue 12)
BASE_URL = "http://127.0.0.1:8000"

# One job: (body, headers, feed_url, thread_url, post_id).
Job = tuple[bytes, dict, str, "str | None", "str | None"]


def fixture_jobs() -> list[Job]:
    from listening.collect.text import canonical_url
    from listening.models import stable_id

    jobs = []
    for path in sorted(FIXTURES.iterdir()):
        if path.name.endswith(".expected.json"):
            continue
        expected_path = path.with_name(path.name.split(".")[0] + ".expected.json")
        expected = json.loads(expected_path.read_text())
        if expected.get("mode"):
            continue  # HTML pages: not feeds
        thread = expected.get("thread_url")
        jobs.append(
            (
                path.read_bytes(),
                expected.get("headers", {}),
                expected.get("feed_url", f"https://fixtures.example.fr/{path.name}"),
                thread,
                stable_id(canonical_url(thread)) if thread else None,
            )
        )
    return jobs


def demo_jobs() -> list[Job]:
    from listening.collect.feeds import parse_feed
    from listening.demo.cast import SITES
    from listening.demo.world import build_world

    world = build_world(BASE_URL)
    feeds = {path: body for path, body in world.files.items() if body.startswith(b"<?xml")}
    comment_feeds = {}
    for site in SITES:
        result = parse_feed(
            feeds[site.feed_path], {}, source="s", feed_url=BASE_URL + site.feed_path,
            collected_at=NOW,
        )  # fmt: skip
        comment_feeds.update({cf.url: cf for cf in result.comment_feeds})
    headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
    jobs = []
    for path, body in sorted(feeds.items()):
        cf = comment_feeds.get(BASE_URL + path)
        jobs.append((body, headers, BASE_URL + path, cf and cf.thread_url, cf and cf.post_id))
    return jobs


def real_jobs() -> list[Job]:
    paths = sorted(p for p in SHARED.rglob("*") if p.suffix in (".xml", ".atom", ".rss"))
    return [(p.read_bytes(), {}, "https://example.org/feed/", None, None) for p in paths]


# -- one timed pass, in a child process ---------------------------------------------------------

CHILD = """
import json, pickle, sys, time
from datetime import UTC, datetime
sys.path.insert(0, sys.argv[1])
try:
    from listening.collect.feeds import parse_feed
except ImportError:  # a baseline from before the layout step (listening/parse.py)
    from listening.parse import parse_feed
jobs = pickle.load(open(sys.argv[2], "rb"))
fast = sys.argv[3] == "fast"
loops = int(sys.argv[4])
kwargs = {} if sys.argv[3] == "before" else {"fast": fast}
now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
def one_pass():
    n = 0
    for body, headers, url, thread, post_id in jobs:
        result = parse_feed(body, dict(headers), source="s", feed_url=url, collected_at=now,
                            thread_url=thread, post_id=post_id, **kwargs)
        n += len(result.documents)
    return n
one_pass()  # warm: imports, caches of the first pass are not what a long collect sees
t0 = time.perf_counter()
for _ in range(loops):
    n = one_pass()
print(json.dumps({"seconds": (time.perf_counter() - t0) / loops, "documents": n}))
"""


def timed(src: Path, jobs_file: Path, contender: str, loops: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), str(jobs_file), contender, str(loops)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_src(rev: str, folder: Path) -> Path | None:
    """The ``listening`` package as it was at ``rev`` (git archive), or None."""
    try:
        tar = subprocess.run(
            ["git", "archive", rev, "src/listening"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(folder, filter="data")
    return folder / "src"


def compare(name: str, jobs: list[Job], before: Path | None, repeat: int, loops: int) -> None:
    contenders = (["before"] if before else []) + ["feedparser", "fast"]
    with tempfile.TemporaryDirectory() as tmp:
        jobs_file = Path(tmp) / "jobs.pickle"
        jobs_file.write_bytes(pickle.dumps(jobs))
        runs: dict[str, list[dict]] = {c: [] for c in contenders}
        for _ in range(repeat):
            for c in contenders:
                src = before if c == "before" else ROOT / "src"
                runs[c].append(timed(src, jobs_file, c, loops))
    size = sum(len(j[0]) for j in jobs) / 1e6
    print(f"\n== {name}: {len(jobs)} feeds, {size:.1f} MB, median of {repeat} interleaved runs")
    head = f"{'contender':<12}{'s/pass':>9}{'feeds/s':>9}{'µs/doc':>9}{'docs':>7}{'vs fp':>8}"
    print(head + (f"{'vs before':>11}" if before else ""))
    medians = {c: statistics.median(r["seconds"] for r in runs[c]) for c in contenders}
    for c in contenders:
        s, docs = medians[c], runs[c][-1]["documents"]
        row = f"{c:<12}{s:>9.3f}{len(jobs) / s:>9.0f}{s / max(docs, 1) * 1e6:>9.0f}{docs:>7}"
        row += f"{s / medians['feedparser']:>8.2f}"
        print(row + (f"{s / medians['before']:>11.2f}" if before else ""))
    docs = {c: runs[c][-1]["documents"] for c in contenders}
    if len(set(docs.values())) != 1:
        print(f"  !! document counts differ: {docs}")


# -- in process: parsers alone, per-entry helpers ------------------------------------------------


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def parsers_alone(jobs: list[Job], repeat: int) -> None:
    import feedparser

    from listening.collect import fastfeed

    def run_feedparser():
        for body, headers, *_ in jobs:
            feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False,
                             resolve_relative_uris=False)  # fmt: skip

    def run_fastfeed():
        for body, headers, *_ in jobs:
            hdrs = {k.lower(): v for k, v in headers.items()}
            if fastfeed.parse(body, hdrs) is None:
                feedparser.parse(io.BytesIO(body), response_headers=hdrs, sanitize_html=False,
                                 resolve_relative_uris=False)  # fmt: skip

    contenders = {"feedparser.parse": run_feedparser, "fastfeed.parse": run_fastfeed}
    try:
        import fastfeedparser  # not a dependency: measured when installed by hand

        def run_fastfeedparser():
            for body, *_ in jobs:
                # It refuses what it cannot read; we only time it.
                with contextlib.suppress(Exception):
                    fastfeedparser.parse(body)

        contenders["fastfeedparser.parse"] = run_fastfeedparser
    except ImportError:
        print("  (fastfeedparser not installed: `uv pip install fastfeedparser` to add it)")
    times = {name: [] for name in contenders}
    for _ in range(repeat):  # interleaved
        for name, fn in contenders.items():
            times[name].append(median_time(fn, 1))
    base = statistics.median(times["feedparser.parse"])
    print(f"\n== parsers alone on the demo feeds ({len(jobs)} feeds), median of {repeat}")
    for name, t in times.items():
        m = statistics.median(t)
        print(f"{name:<22}{m:>8.3f} s{len(jobs) / m:>8.0f} feeds/s{m / base:>7.2f}x")


def old_module(rev: str, path: str, name: str):
    try:
        src = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    module = types.ModuleType(name)
    module.__dict__["__name__"] = name
    sys.modules[name] = module  # dataclasses and lru_cache look their module up
    exec(compile(src, f"{rev}:{path}", "exec"), module.__dict__)
    return module


def per_entry(jobs: list[Job], rev: str, repeat: int) -> None:
    from listening.analyze import lang
    from listening.collect import text
    from listening.collect.feeds import parse_feed

    texts = []
    for body, headers, url, thread, post_id in jobs:
        for doc in parse_feed(body, dict(headers), source="s", feed_url=url, collected_at=NOW,
                              thread_url=thread, post_id=post_id).documents:  # fmt: skip
            texts.append((f"{doc.title or ''}\n{doc.text}", doc.text))
    # the baseline's paths (before the stage sub-packages), else today's
    old_lang = old_module(rev, "src/listening/lang.py", "_old_lang") or old_module(
        rev, "src/listening/analyze/lang.py", "_old_lang"
    )
    old_text = old_module(rev, "src/listening/text.py", "_old_text") or old_module(
        rev, "src/listening/collect/text.py", "_old_text"
    )
    print(f"\n== per-entry helpers on the demo documents ({len(texts)} texts), median of {repeat}")
    if old_lang is None or old_text is None:
        print(f"  (revision {rev} not found: only this checkout is timed)")
    pairs = [
        ("detect_language", lang.detect_language, old_lang and old_lang.detect_language, 0),
        ("content_fingerprint", text.content_fingerprint,
         old_text and old_text.content_fingerprint, 1),
    ]  # fmt: skip
    for name, new, old, which in pairs:
        inputs = [t[which] for t in texts]
        if old is not None:
            same = sum(old(x) == new(x) for x in inputs)
            t_old, t_new = [], []
            for i in range(repeat):  # interleaved, each going first in turn
                for f, times in ((old, t_old), (new, t_new))[:: 1 if i % 2 else -1]:
                    times.append(median_time(lambda f=f, xs=inputs: [f(x) for x in xs], 1))
            o, n = statistics.median(t_old), statistics.median(t_new)
            print(
                f"{name:<20} before {o / len(inputs) * 1e6:6.1f} µs, now "
                f"{n / len(inputs) * 1e6:6.1f} µs ({n / o:.2f}x); same answer {same}/{len(inputs)}"
            )
        else:
            n = median_time(lambda f=new, xs=inputs: [f(x) for x in xs], repeat)
            print(f"{name:<20} now {n / len(inputs) * 1e6:6.1f} µs")


def language_prefixes(demo: list[Job]) -> None:
    """Accuracy of detect_language on labelled short texts, and what a shorter prefix changes.

    French: tests/data/sentiment_fr.tsv (short sentences) and sentiment_reviews.tsv (customer
    reviews), all French. English: the entries of the English blogs in ../shared (title and
    text). Unlabelled: the demo documents, for label changes only.
    """
    from listening.analyze.lang import detect_language
    from listening.collect.feeds import parse_feed

    sets: dict[str, tuple[str | None, list[str]]] = {}
    for name in ("sentiment_fr.tsv", "sentiment_reviews.tsv"):
        lines = (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
        rows = [ln.split("\t") for ln in lines if "\t" in ln and not ln.startswith("#")]
        sets[name] = ("fr", [row[-1] for row in rows[1:]])
    docs = []
    jobs = [("demo", j) for j in demo] + [
        ("real", j) for j in (real_jobs() if SHARED.is_dir() else [])
    ]
    for origin, (body, headers, url, thread, post_id) in jobs:
        for doc in parse_feed(body, dict(headers), source="s", feed_url=url, collected_at=NOW,
                              thread_url=thread, post_id=post_id).documents:  # fmt: skip
            docs.append((origin, f"{doc.title or ''}\n{doc.text}"))
    if SHARED.is_dir():
        sets["../shared English blog entries"] = ("en", [t for o, t in docs if o == "real"])
    sets["demo documents (unlabelled)"] = (None, [t for o, t in docs if o == "demo"])
    print("\n== language detection: accuracy, and labels changed by a shorter prefix")
    for prefix in (2000, 1000, 600, 400, 250, 150):
        cells = []
        for name, (truth, texts) in sets.items():
            labels = [detect_language(t[:prefix]) for t in texts]
            changed = sum(a != detect_language(t) for a, t in zip(labels, texts, strict=True))
            acc = f"{sum(lb == truth for lb in labels) / len(texts):.1%} " if truth else ""
            cells.append(f"{name} ({len(texts)}): {acc}changed {changed}")
        print(f"prefix {prefix:>4}: " + "; ".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs (median kept)")
    ap.add_argument("--against", default=BASELINE, help="git revision of the 'before' column")
    ap.add_argument("--quick", action="store_true", help="every fifth demo feed only")
    ap.add_argument("--lang-only", action="store_true", help="only the language section")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))

    print("building the workloads (demo world feeds: a few seconds)…", flush=True)
    demo = demo_jobs()
    if args.quick:
        demo = demo[::5]
    if args.lang_only:
        language_prefixes(demo)
        return 0
    workloads = [("fixtures (x20 per pass)", fixture_jobs() * 20, 1), ("demo", demo, 1)]
    if SHARED.is_dir():
        workloads.append(("real: ../shared comment-feeds (x5 per pass)", real_jobs() * 5, 1))
    else:
        print("(../shared corpora absent: real feeds skipped)")
    with tempfile.TemporaryDirectory() as tmp:
        before = baseline_src(args.against, Path(tmp))
        if before is None:
            print(f"(revision {args.against} not found: no 'before' column)")
        for name, jobs, loops in workloads:
            print(f"timing {name}…", flush=True)
            compare(name, jobs, before, args.repeat, loops)
    parsers_alone(demo, args.repeat)
    per_entry(demo, args.against, max(args.repeat, 5))
    language_prefixes(demo)
    print(
        "\nbefore: parse_feed at the baseline revision; feedparser: this checkout with fast=False;"
        "\nfast: this checkout. Ratios < 1 are faster. µs/doc = pass time / documents out."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
