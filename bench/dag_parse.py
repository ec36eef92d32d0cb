"""How long parsing each DAG file takes (the DAG processor re-parses them every few minutes).

    .venv/bin/python bench/dag_parse.py [--repeat 5]

Runs in a throwaway AIRFLOW_HOME. Reports the one-off cost of importing ``airflow.sdk`` (paid
once per DAG processor), then, per file, the first parse and the best of ``--repeat`` parses,
as Airflow's own DagBag measures them. Also checks that parsing imported nothing heavy (the
``listening`` package, duckdb, feedparser): those belong inside task bodies. Target: < 1 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
HEAVY = ("listening", "duckdb", "feedparser", "vaderSentiment_fr", "pandas")
BUDGET_S = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="parses per file (default 5)")
    args = parser.parse_args()

    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="dag-parse-bench-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

    t0 = time.perf_counter()
    import airflow.sdk  # noqa: F401 - timed on purpose: the one-off cost per process

    print(f"import airflow.sdk (once per process): {time.perf_counter() - t0:.3f} s")
    from airflow.dag_processing.dagbag import BundleDagBag

    files = [
        p for p in sorted(DAGS.glob("*.py")) if p.name not in _ignored(DAGS / ".airflowignore")
    ]
    worst = 0.0
    for path in files:
        times = []
        for _ in range(max(1, args.repeat)):
            for name in [m for m in sys.modules if m.startswith("listening_")]:
                del sys.modules[name]  # re-import the helper modules too, as a fresh parse
            bag = BundleDagBag(dag_folder=str(path), bundle_path=DAGS)
            if bag.import_errors:
                print(f"{path.name}: import errors: {bag.import_errors}")
                return 1
            times.append(sum(s.duration.total_seconds() for s in bag.dagbag_stats))
        worst = max(worst, times[0])
        print(
            f"{path.name:28} first {times[0]:.3f} s   best {min(times):.3f} s   "
            f"dags {sorted(bag.dag_ids)}"
        )
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    print(f"heavy modules imported while parsing: {', '.join(heavy) or 'none'}")
    ok = worst < BUDGET_S and not heavy
    print(
        f"{'OK' if ok else 'TOO SLOW OR TOO HEAVY'}: slowest first parse {worst:.3f} s "
        f"(budget {BUDGET_S:.1f} s)"
    )
    return 0 if ok else 1


def _ignored(path: Path) -> set[str]:
    if not path.exists():
        return set()
    lines = path.read_text("utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


if __name__ == "__main__":
    raise SystemExit(main())
