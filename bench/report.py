"""Benchmark the weekly report on the demo store: where the time goes, and the file sizes.

For each brand of the demo world, the report of one week, timed by step in one process:
the snapshot queries (the baseline), the HTML page with its two charts (Altair + vl-convert)
and the PDF layout (WeasyPrint). Ratios are against the queries measured in the same run. The
first brand also pays the one-off start of vl-convert and WeasyPrint, printed apart.

    .venv/bin/listening demo            # builds data/demo/listening.duckdb once
    .venv/bin/python bench/report.py [--db data/demo/listening.duckdb] [--week 2026-W43]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import altair as alt
import pandas as pd

from listening.configfile import load_config
from listening.report import charts
from listening.report.data import collect
from listening.report.render import render_html, render_pdf
from listening.report.weeks import parse_week
from listening.store import open_reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="data/demo/listening.duckdb")
    parser.add_argument("--week", default="2026-W43")
    args = parser.parse_args()
    db = Path(args.db)
    config = load_config(db.parent / "listening.toml")
    week = parse_week(args.week)
    now = datetime.now(UTC)

    started = time.perf_counter()
    charts.to_png(alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q"))
    render_pdf("<p>é</p>")
    warmup = time.perf_counter() - started

    rows = []
    for brand in config.brands:
        t0 = time.perf_counter()
        con = open_reader(db)
        data = collect(con, config, brand.name, week, now)
        con.close()
        t1 = time.perf_counter()
        html = render_html(data)  # with its two charts (Altair + vl-convert)
        t2 = time.perf_counter()
        pdf = render_pdf(html)
        t3 = time.perf_counter()
        rows.append((brand.name, t1 - t0, t2 - t1, t3 - t2, len(html), len(pdf)))

    print(f"week {week}, {len(rows)} brands, store {db}")
    print(f"one-off start of vl-convert and WeasyPrint: {warmup:.2f} s")
    print(
        f"{'brand':<18}{'queries':>9}{'html+charts':>13}{'pdf':>8}{'total':>8}"
        f"{'html KiB':>10}{'pdf KiB':>9}"
    )
    for name, q, h, p, nh, np_ in rows:
        print(
            f"{name:<18}{q:>8.2f}s{h:>12.2f}s{p:>7.2f}s{q + h + p:>7.2f}s"
            f"{nh / 1024:>10.0f}{np_ / 1024:>9.0f}"
        )
    q, h, p = (statistics.median(r[i] for r in rows) for i in (1, 2, 3))
    print(
        f"median per report: queries {q:.2f} s (baseline), html with charts {h:.2f} s "
        f"(× {h / q:.1f}), pdf layout {p:.2f} s (× {p / q:.1f}), whole PDF report "
        f"{q + h + p:.2f} s (× {(q + h + p) / q:.1f})"
    )


if __name__ == "__main__":
    main()
