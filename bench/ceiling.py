"""The store's one-machine ceiling: build time, size, memory and dashboard query latency.

Generates a store shaped like a large deployment (default: 10M documents over 3 years of which
3M name a brand, 300k authors with a long tail, 6 brands, 2,000 sources, 30 % posts and 70 %
comments in threads, each source with its own voices, texts of 3 to 400 French words taken from
the demo's text material) with DuckDB SQL, then measures:

- `listening build` as a command (a child process): wall time and peak resident memory (its
  rusage), the store and snapshot sizes after it;
- p50 and p95 of every named dashboard query in `dashboards/queries/` (through the dashboards'
  own `data.py`, on the published snapshot) with realistic parameters: the busiest brand, the
  last 90 days, page 1 of 50 rows, its busiest author, thread and latest mention.

The same is measured in the same run on a baseline store --baseline-fraction (0.1) the size;
the ratios show how each figure grows with the volume.

    .venv/bin/python bench/ceiling.py                         # 10M documents (an hour or more)
    .venv/bin/python bench/ceiling.py --documents 200000      # a quick check (6,000 authors)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from listening import store

ROOT = Path(__file__).resolve().parents[1]

BRANDS = ["Ambrelle", "Orvéa", "Fournil Dupré", "Telzio", "Tissandre", "Maison Kervalec"]
CHANNELS = ["blog", "news", "forum", "review", "other"]
FIRST = "2023-01-01"
DAYS = 3 * 365
ASPECTS = "['produit', 'service', 'prix', 'service client', 'livraison', 'communication']"


def vocabulary() -> list[str]:
    """French words from the demo world's text material (brand names excluded)."""
    text = (ROOT / "src" / "listening" / "demo" / "texts.py").read_text("utf-8")
    words = sorted({w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ]{2,}", text)})
    brands = {w.lower() for b in BRANDS for w in b.split()}
    return [w for w in words if w not in brands]


def stable_id(expr: str) -> str:
    """SQL for an id like the pipeline's (``listening.models.stable_id``: 16 hex digits of a
    hash, spread at random): joins and compression on ids like ``'d' || i`` (short, stored
    inline, in order) are cheaper than on the product's ids."""
    return f"substr(md5({expr}), 1, 16)"


def generate(db: Path, n_docs: int, n_mentions: int, n_authors: int, threads: int) -> None:
    con = duckdb.connect(str(db))
    con.execute(f"set threads = {threads}")
    store.migrate(con)
    words = vocabulary()
    con.execute("create temp table vocab as select unnest($w) as w", {"w": words})
    n_sources = 2000
    con.execute(f"""
        insert into raw.sources (source_id, name, url, configured_url, kind, channel,
            is_configured, state, redirect_count, consecutive_failures, created_at, updated_at)
        select 's' || i, 'Source ' || i, 'https://site' || i || '.fr/feed/',
            'https://site' || i || '.fr/feed/', 'feed', {CHANNELS}[1 + i % 5], true,
            'active', 0, 0, now(), now()
        from range({n_sources}) as r(i)
    """)
    n_posts = int(n_docs * 0.3)
    share = n_mentions / n_docs  # documents naming a brand
    # Authors: each source has its own voices (n_authors / n_sources of them), with a long
    # tail (the square of a uniform draw favours the first ones): the regulars of a site.
    per_source = max(1, n_authors // n_sources)
    con.execute(f"""
        create temp table gen as
        with docs as (
            select
                i,
                case when i < {n_posts} then i
                    else cast(hash(i, 't') % {n_posts} as bigint) end as thread,
            from range({n_docs}) as r(i)
        )
        select
            i,
            i < {n_posts} as is_post,
            thread,
            (thread % {n_sources}) * {per_source}
                + cast(floor({per_source} * pow((hash(i, 'a') % 1000000) / 1e6, 2)) as bigint)
                as a,
            (hash(i, 'm') % 1000000) / 1e6 < {share} as names_brand,
            cast(hash(i, 'b') % 6 as integer) as b,
            -- 3 to 400 words, most documents short (comments), a few long (articles)
            3 + cast(floor(397 * pow((hash(i, 'n') % 1000000) / 1e6, 3)) as integer) as n_words,
        from docs
    """)
    # Posting grows over the years; comments follow their post within days.
    con.execute(f"""
        create temp table posted as
        select i, timestamptz '{FIRST} 06:00:00+00'
            + to_days(cast(floor({DAYS - 4} * sqrt((hash(i, 'd') % 1000000) / 1e6)) as integer))
            + to_minutes(cast(hash(i, 'min') % 900 as integer)) as at,
        from range({n_posts}) as r(i)
    """)
    n_vocab = len(words)
    con.execute(f"""
        insert into raw.documents (document_id, kind, url, thread_url, parent_id, source,
            source_id, author, published_at, collected_at, title, text, lang,
            is_date_estimated, guid, content_hash, run_id)
        select
            {stable_id("'d' || g.i")},
            case when g.is_post then 'post' else 'comment' end,
            'https://site' || (g.thread % {n_sources}) || '.fr/p/' || g.thread
                || case when g.is_post then '' else '#c' || g.i end,
            'https://site' || (g.thread % {n_sources}) || '.fr/p/' || g.thread,
            case when not g.is_post then {stable_id("'d' || g.thread")} end,
            'Source ' || (g.thread % {n_sources}),
            's' || (g.thread % {n_sources}),
            'Auteur ' || g.a,
            g.published_at,
            g.collected_at,
            case when g.is_post then 'Titre ' || g.i end,
            array_to_string(list_transform(range(g.n_words),
                lambda x: voc.v[1 + cast(hash(g.i, x) % {n_vocab} as bigint)]), ' ')
                || case when g.names_brand then ' ' || {BRANDS}[g.b + 1] || ' ' else '' end,
            case when hash(g.i, 'l') % 100 < 95 then 'fr' else 'en' end,
            false,
            'g' || g.i,
            md5('d' || g.i),
            'bench',
        from (
            select *,
                -- collected by an hourly collect, within the hour after publication
                published_at + to_minutes(cast(1 + hash(i, 'c') % 60 as integer))
                    as collected_at,
            from (
                select g.*, p.at + case when g.is_post then interval 0 minutes
                    else to_minutes(cast(1 + hash(g.i, 'delay') % 6000 as integer)) end
                    as published_at,
                from gen as g
                join posted as p on p.i = g.thread
            )
        ) as g
        cross join (select list(w order by w) as v from vocab) as voc
        -- a store grows by loads, in the order documents are collected: its row groups
        -- hold consecutive periods (zone maps on dates skip the others)
        order by g.collected_at, g.i
    """)
    con.execute(f"""
        insert into raw.mentions (mention_id, document_id, brand, matched_terms, sentiment,
            sentiment_label, sentiment_version, aspects, aspect_sentiment, analyzed_at)
        select
            {stable_id("'m' || i")},
            {stable_id("'d' || i")},
            {BRANDS}[b + 1],
            [lower({BRANDS}[b + 1])],
            s,
            case when s > 0.05 then 'positive' when s < -0.05 then 'negative'
                else 'neutral' end,
            'bench',
            case when hash(i, 'asp') % 3 = 0
                then [{ASPECTS}[1 + cast(hash(i, 'x') % 6 as bigint)]] else [] end,
            case when hash(i, 'asp') % 3 = 0
                then json_object({ASPECTS}[1 + cast(hash(i, 'x') % 6 as bigint)], s) end,
            now(),
        from (
            select i, b, (cast(hash(i, 's') % 2001 as bigint) - 800) / 1000.0 as s
            from gen where names_brand
        ) as g
        join raw.documents as d on d.document_id = {stable_id("'d' || g.i")}
        -- analysed after each collect: in the documents' order
        order by d.collected_at, g.i
    """)
    con.execute("checkpoint")
    con.close()


def write_config(path: Path, db: Path) -> None:
    lines = ["[settings]", f"store = '{db}'"]
    for i, b in enumerate(BRANDS):
        rival = BRANDS[(i + 1) % len(BRANDS)]
        lines += [
            "",
            "[[brands]]",
            f'name = "{b}"',
            f"query = '\"{b}\"'",
            f'competitors = ["{rival}"]',
            f'official_authors = ["Service client {b}"]',
        ]
    path.write_text("\n".join(lines) + "\n", "utf-8")


# The command runs under a small helper that waits for it: a child forked from this (large)
# process would report our own peak RSS as its own (Linux keeps the parent's high-water mark
# across fork + exec).
PEAK_HELPER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd`` to its end: (wall seconds, CPU seconds, peak RSS in MiB)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PEAK_HELPER, *cmd], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    cpu, maxrss, code = out.stdout.split()[-3:]
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {code}): {out.stderr}")
    return elapsed, float(cpu), int(maxrss) / 1024


def timed_build(config: Path, db: Path) -> tuple[float, float]:
    """`listening build` as a child process: (seconds, peak RSS in MiB); prints its CPU time
    too (a shared machine stretches the wall time, not the CPU time)."""
    cli = Path(sys.executable).with_name("listening")
    cmd = [str(cli), "build", "--config", str(config), "--db", str(db), "-q"]
    elapsed, cpu, peak = measured(cmd)
    print(
        f"  listening build: {elapsed:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak:.0f} MiB",
        flush=True,
    )
    return elapsed, peak


def query_params(snapshot: Path) -> tuple[dict, dict]:
    """Realistic parameters: the busiest brand, its last 90 days, its busiest author…"""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        brand = con.execute(
            "select brand from mentions group by brand order by count(*) desc limit 1"
        ).fetchone()[0]
        rival = next(b for b in BRANDS if b != brand)
        end = con.execute("select max(published_at)::date from mentions").fetchone()[0]
        start = con.execute("select ?::date - 90", [end]).fetchone()[0]
        author, site = con.execute(
            "select author, site from authors where list_contains(brands, ?) "
            "order by n_mentions desc limit 1",
            [brand],
        ).fetchone()
        thread = con.execute(
            "select thread_url from threads where list_contains(brands, ?) "
            "order by n_comments desc limit 1",
            [brand],
        ).fetchone()[0]
        mention = con.execute(
            "select mention_id from mentions where brand = ? order by published_at desc limit 1",
            [brand],
        ).fetchone()[0]
        # the brand's most talked-about aspect (one it has: the Sujets page offers no other)
        aspect = con.execute(
            "select aspect from aspects_daily where brand = ? group by aspect "
            "order by sum(n_mentions) desc, aspect limit 1",
            [brand],
        ).fetchone()[0]
    finally:
        con.close()
    common = {
        "brand": brand,
        "brands": [brand, rival],
        "start": start,
        "end": end,
        "sources": [],
        "channels": [],
        "sentiment": None,
        "aspect": None,
        "author": None,
        "lang": None,
        "q": None,
        "limit": 50,
        "offset": 0,
        "mention_id": mention,
        "per_label": 5,
        "regulars_only": False,
        "site": site,
        "status": None,
        "thread_url": thread,
    }
    overrides = {"author_mentions": {"author": author}, "aspect_samples": {"aspect": aspect}}
    return common, overrides


def time_queries(db: Path, runs: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 (ms) of every named dashboard query, as the dashboards run them."""
    import importlib.util

    os.environ["LISTENING_DB"] = str(db)
    # The dashboards' own module (bench/dashboards.py would shadow the package name).
    spec = importlib.util.spec_from_file_location("dashboard_data", ROOT / "dashboards" / "data.py")
    data = sys.modules["dashboard_data"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)

    common, overrides = query_params(store.snapshot_path(db))
    names = sorted(p.stem for p in data.QUERIES.glob("*.sql") if not p.stem.startswith("_"))
    out = {}
    con = data._open(data.current())
    try:
        for name in names:
            params = {**common, **overrides.get(name, {})}
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                data._run(con, name, params)
                times.append((time.perf_counter() - t0) * 1000)
            q = statistics.quantiles(times, n=20) if len(times) > 1 else times * 19
            out[name] = (statistics.median(times), q[-1])
    finally:
        con.close()
    return out


def size_mib(*paths: Path) -> float:
    return sum(p.stat().st_size for p in paths if p.exists()) / 2**20


def measure(folder: Path, n_docs: int, n_mentions: int, n_authors: int, args) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "listening.duckdb"
    t0 = time.perf_counter()
    generate(db, n_docs, n_mentions, n_authors, args.threads)
    gen_s = time.perf_counter() - t0
    print(f"  generated {n_docs:,} documents, {n_mentions:,} mentions in {gen_s:.0f} s", flush=True)
    config = folder / "listening.toml"
    write_config(config, db)
    build_s, peak = timed_build(config, db)
    con = duckdb.connect(str(store.snapshot_path(db)), read_only=True)
    counts = {
        t: con.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("documents", "mentions", "authors", "threads", "reputation_daily")
    }
    con.close()
    return {
        "build_s": build_s,
        "peak_mib": peak,
        "store_mib": size_mib(db, db.with_name(db.name + ".wal")),
        "snapshot_mib": size_mib(store.snapshot_path(db)),
        "counts": counts,
        "queries": time_queries(db, args.runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000_000)
    parser.add_argument("--mention-share", type=float, default=0.3, help="default 0.3")
    parser.add_argument(
        "--authors", type=int, help="default: 3 %% of the documents (300,000 for 10M)"
    )
    parser.add_argument("--baseline-fraction", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=20, help="runs per query (default 20)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads to generate")
    parser.add_argument("--dir", type=Path, help="keep the stores here (default: a temp dir)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    print(f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, DuckDB {duckdb.__version__}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        results = {}
        f = args.baseline_fraction
        for label, scale in (("baseline", f), ("target", 1.0)):
            n_docs = max(1000, int(args.documents * scale))
            n_authors = max(100, int((args.authors or 0.03 * args.documents) * scale))
            print(f"{label}: {n_docs:,} documents", flush=True)
            results[label] = measure(
                Path(tmp) / label, n_docs, int(n_docs * args.mention_share), n_authors, args
            )
        base, big = results["baseline"], results["target"]
        print()
        print(f"{'':24} {'baseline':>12} {'target':>12} {'ratio':>7}")
        rows = [("documents", base["counts"]["documents"], big["counts"]["documents"], "{:,}")]
        rows += [
            (k, base["counts"][k], big["counts"][k], "{:,}")
            for k in ("mentions", "authors", "threads", "reputation_daily")
        ]
        rows += [
            ("listening build (s)", base["build_s"], big["build_s"], "{:.1f}"),
            ("build peak RSS (MiB)", base["peak_mib"], big["peak_mib"], "{:.0f}"),
            ("store (MiB)", base["store_mib"], big["store_mib"], "{:.0f}"),
            ("snapshot (MiB)", base["snapshot_mib"], big["snapshot_mib"], "{:.0f}"),
        ]
        for name, a, b, fmt in rows:
            print(f"{name:<24} {fmt.format(a):>12} {fmt.format(b):>12} {b / a if a else 0:>6.1f}x")
        print(f"\n{'dashboard query (ms)':<24} {'p50':>8} {'p95':>8}  (target; baseline p95)")
        for name, (p50, p95) in big["queries"].items():
            print(f"{name:<24} {p50:>8.1f} {p95:>8.1f}  ({base['queries'][name][1]:.1f})")
        worst = max(big["queries"].items(), key=lambda kv: kv[1][1])
        print(f"\nslowest p95: {worst[0]} {worst[1][1]:.0f} ms")


if __name__ == "__main__":
    main()
