"""Benchmark ``listening forget`` on the demo world against a plain ``listening build``.

The demo world (22 sources, ~12 000 documents, ~6 600 mentions) is generated and run through
the pipeline once into a temporary folder (or ``--db`` names an existing demo store, which is
copied first and never changed). Then, on copies of that store, measured in this one run:

- baseline: ``listening build`` (marts rebuilt, snapshot published), the work every stage does;
- forget: ``listening forget --author NAME`` for the ``--people`` most prolific voices, one after
  the other (each: delete, rebuild the marts, rewrite the file, publish);

printing wall times, the ratio forget / build, the store's size before and after, and how many
of the person's documents the snapshot still has (0). Each timing is the real CLI in a
subprocess. (That no byte of a name is left is what tests/test_privacy.py checks.)

    .venv/bin/python bench/forget.py                       # generates the demo (~3 min)
    .venv/bin/python bench/forget.py --db data/demo/listening.duckdb --people 3

Exits 0 whatever the figures: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cli(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "listening.cli", *args, "-q"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to, ignore=shutil.ignore_patterns("airflow", "staging"))
    return to / "listening.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="an existing demo store (default: generate one)")
    ap.add_argument("--people", type=int, default=3, help="voices to forget (default: 3)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-forget-"))
    try:
        if args.db:
            demo = args.db.parent
        else:
            demo = tmp / "demo"
            print("generating the demo world…", flush=True)
            subprocess.run(
                [sys.executable, "-m", "listening.cli", "demo", "--dir", str(demo), "-q"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        import duckdb

        from listening.store import snapshot_path

        con = duckdb.connect(str(snapshot_path(demo / "listening.duckdb")), read_only=True)
        people = con.execute(
            "select author from authors order by n_mentions desc, author limit ?", [args.people]
        ).fetchall()
        n_docs = con.execute("select count(*) from documents").fetchone()[0]
        con.close()

        base = copy(demo, tmp / "baseline")
        cli("init", "--config", str(base))  # migrate a store from an older listening first
        t_build = cli("build", "--config", str(base))

        work = copy(demo, tmp / "forget")
        cli("init", "--config", str(work))
        cli("build", "--config", str(work))  # same starting point as the baseline's result
        db = work.parent / "listening.duckdb"
        print(f"demo store: {n_docs} documents, {db.stat().st_size / 1e6:.1f} MB after a build")
        print(f"baseline  listening build                     {t_build:6.2f} s")
        for (name,) in people:
            before = db.stat().st_size
            t = cli("forget", "--config", str(work), "--author", name)
            after = db.stat().st_size
            snap = duckdb.connect(str(snapshot_path(db)), read_only=True)
            left = snap.execute(
                "select count(*) from documents where author_key(author) = author_key(?)", [name]
            ).fetchone()[0]
            snap.close()
            print(
                f"forget    --author {name!r:24} {t:6.2f} s  ({t / t_build:.2f}x build)  "
                f"store {before / 1e6:.1f} -> {after / 1e6:.1f} MB  "
                f"their documents left: {left}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
