"""Benchmark the build and the dashboard queries on a synthetic store.

1M mentions by 100k authors over 3 years, 10 brands (generated with DuckDB SQL in seconds),
then: the time of ``listening.build.build`` (target <= 20 s on 2 cores) and the p95 of
dashboard-style queries on the built store (target <= 200 ms).

    .venv/bin/python bench/marts.py [--mentions 1000000] [--authors 100000] [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from listening import build, store
from listening.config import Brand, Config, Settings

BRANDS = [f"Marque{i}" for i in range(10)]
DAYS = 3 * 365
FIRST = date(2022, 1, 1)

QUERIES = {
    "reputation of a brand over a period": (
        "select day, reputation_index, reputation_lower, reputation_upper, n_mentions, buzz_z "
        "from reputation_daily where brand = 'Marque3' and day between date '2023-01-01' "
        "and date '2023-12-31' order by day"
    ),
    "mentions filtered page": (
        "select published_at, brand, author, title, sentiment_label, url from mentions "
        "where brand = 'Marque3' and sentiment_label = 'negative' "
        "and published_at >= timestamptz '2024-06-01 00:00:00+00' "
        "order by published_at desc limit 50 offset 50"
    ),
    "top authors": (
        "select author, site, n_mentions, mean_sentiment, status from authors "
        "where list_contains(brands, 'Marque3') order by n_mentions desc limit 50"
    ),
    "threads": (
        "select thread_url, title, n_comments, n_voices, final_tone, is_answered, "
        "hours_to_first_answer from threads where list_contains(brands, 'Marque3') "
        "and final_tone = 'negative' order by last_comment_at desc limit 50"
    ),
    "share of voice, 12 weeks": (
        "select competitor, sum(n_mentions), sum(n_voices) from share_of_voice "
        "where brand = 'Marque3' and week >= date '2024-10-01' group by competitor"
    ),
    "aspects of a quarter": (
        "select aspect, sum(n_mentions), avg(mean_sentiment) from aspects_daily "
        "where brand = 'Marque3' and day >= date '2024-10-01' group by aspect"
    ),
}


def config(path: Path) -> Config:
    brands = tuple(
        Brand(b, b, (BRANDS[(i + 1) % 10], BRANDS[(i + 2) % 10]), (f"Service client {b}",))
        for i, b in enumerate(BRANDS)
    )
    return Config(path, Settings(), brands, ())


def generate(con: duckdb.DuckDBPyConnection, n_mentions: int, n_authors: int) -> None:
    """Documents (1 post per 5 documents, the rest comments on them) and one mention each."""
    n_posts = n_mentions // 5
    con.execute(f"""
        create temp table gen as
        select
            i,
            case when i < {n_posts} then 'post' else 'comment' end as kind,
            cast(hash(i, 'author') % {n_authors} as bigint) as a,
            case when i < {n_posts} then i
                else cast(hash(i, 'thread') % {n_posts} as bigint) end as thread,
            cast(hash(i, 'brand') % 10 as bigint) as b,
            cast(hash(i, 'label') % 100 as bigint) as l,
            cast(hash(i, 'aspect') % 10 as bigint) as asp,
        from range({n_mentions}) as r(i)
    """)
    # post dates spread over 3 years with weekly rhythm; comments up to 3 days after their post
    con.execute(f"""
        create temp table posted as
        select i, timestamptz '{FIRST} 06:00:00+00'
            + to_days(cast(hash(i, 'day') % {DAYS - 4} as integer))
            + to_minutes(cast(hash(i, 'minute') % 900 as integer)) as at,
        from range({n_posts}) as r(i)
    """)
    con.execute(f"""
        insert into raw.documents (document_id, kind, url, thread_url, parent_id, source,
            author, published_at, collected_at, title, text, run_id)
        select
            'd' || g.i,
            g.kind,
            'https://site' || (g.a % 20) || '.fr/doc/' || g.i,
            'https://site' || (g.thread % 20) || '.fr/doc/' || g.thread,
            case when g.kind = 'comment' then 'd' || g.thread end,
            'Source ' || (g.thread % 20),
            case when g.kind = 'comment' and g.l < 2
                then 'Service client {BRANDS[0]}' else 'Auteur ' || g.a end,
            p.at + case when g.kind = 'comment'
                then to_minutes(cast(1 + hash(g.i, 'delay') % 4000 as integer))
                else interval 0 minutes end,
            p.at + interval 1 hour,
            case when g.kind = 'post' then 'Titre ' || g.i end,
            'texte',
            'bench',
        from gen as g
        join posted as p on p.i = g.thread
    """)
    aspects = "['produit', 'service', 'prix', 'service client', 'livraison']"
    con.execute(f"""
        insert into raw.mentions (mention_id, document_id, brand, matched_terms, sentiment,
            sentiment_label, aspects, aspect_sentiment, analyzed_at)
        select
            'm' || i,
            'd' || i,
            'Marque' || b,
            ['marque'],
            case when l < 35 then 0.6 when l < 60 then -0.5 when l < 95 then 0.0 end,
            case when l < 35 then 'positive' when l < 60 then 'negative'
                when l < 95 then 'neutral' end,
            case when asp < 5 then [{aspects}[asp + 1]] else [] end,
            case when asp < 5 then json_object({aspects}[asp + 1],
                case when l < 35 then 0.5 when l < 60 then -0.4 else 0.0 end)
            end,
            now(),
        from gen
    """)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--authors", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the store (and publish its snapshot) at this path, e.g. for "
        "bench/dashboards.py --db PATH",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        if args.keep:
            args.keep.parent.mkdir(parents=True, exist_ok=True)
            for old in (args.keep, store.snapshot_path(args.keep)):
                old.unlink(missing_ok=True)
            db = args.keep
        con = duckdb.connect(str(db))
        con.execute(f"set threads = {args.threads}")
        store.migrate(con)
        t0 = time.perf_counter()
        generate(con, args.mentions, args.authors)
        con.execute("checkpoint")
        print(
            f"generated {args.mentions:,} mentions, {args.authors:,} authors, "
            f"{DAYS} days in {time.perf_counter() - t0:.1f} s"
        )
        now = datetime(2024, 12, 31, 20, tzinfo=UTC)
        cfg = config(db)
        t0 = time.perf_counter()
        stats = build.build(con, cfg, now, webhook_url="")
        elapsed = time.perf_counter() - t0
        print(
            f"build: {elapsed:.1f} s for {len(stats.relations)} relations, "
            f"{stats.n_alerts} alerts  (target <= 20 s on {args.threads} threads)"
        )
        t0 = time.perf_counter()
        build.build(con, cfg, now, webhook_url="")
        print(f"rebuild: {time.perf_counter() - t0:.1f} s")
        for table in ("reputation_daily", "authors", "threads", "share_of_voice", "aspects_daily"):
            print(f"  {table}: {con.execute(f'select count(*) from {table}').fetchone()[0]:,} rows")
        con.execute("checkpoint")
        con.close()
        reader = duckdb.connect(str(db), read_only=True)
        reader.execute(f"set threads = {args.threads}")
        for name, sql in QUERIES.items():
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                reader.execute(sql).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            print(f"  p95 {p95(times):7.1f} ms  median {statistics.median(times):7.1f} ms  {name}")
        reader.close()
        print(f"store size: {os.path.getsize(db) / 2**20:.0f} MiB")
        if args.keep:
            print(f"kept: {db}; snapshot: {store.publish(db)}")


if __name__ == "__main__":
    main()
