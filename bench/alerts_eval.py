"""Precision and recall of the alerts on the demo world, against what the world planted.

Usage::

    .venv/bin/python bench/alerts_eval.py                  # runs `listening demo` in a temp folder
    .venv/bin/python bench/alerts_eval.py --dir data/demo  # a folder `listening demo` filled

The demo writes ``ground_truth.json`` (the planted events: a TV campaign, a product defect, a
customer-service fix, the regulars it turns into detractors…, and the threads it leaves on a
complaint the brand never answered). This prints the planted events, every alert raised over
the 18 months and what it points to, precision over every rule and per rule, and recall; then the
same figures re-evaluated with other minima (``alert_min_count``, ``alert_min_z``), the first
being the old spike rule's (3 mentions, z 3), as a baseline from the same run. The demo world
is the only evaluation set: the minima were set from the statistics (3.5 is Iglewicz &
Hoaglin's outlier cut-off), and the grid shows how much the figures depend on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from listening import store
from listening.configfile import load_config
from listening.demo.truth import evaluate, read_alerts, report
from listening.marts.alerts import rules as alert_rules

GRID = [(3, 3.0), (5, 3.5), (3, 3.5), (5, 3.0), (8, 3.5), (5, 5.0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="a folder `listening demo` filled")
    args = parser.parse_args()
    folder = args.dir
    if folder is None:
        from listening.demo.run import run_demo

        class Quiet:
            def progress(self, message): ...
            def say(self, message): ...
            def result(self, message): ...

        folder = Path(tempfile.mkdtemp(prefix="alerts-eval-"))
        print(f"running the demo in {folder} (about 3 minutes)…", file=sys.stderr)
        run_demo(folder, out=Quiet())
    truth_file = folder / "ground_truth.json"
    if not truth_file.exists():
        sys.exit(f"{truth_file}: not found; run `listening demo --dir {folder}` first")
    truth = json.loads(truth_file.read_text("utf-8"))
    config = load_config(folder / "listening.toml")
    con = store.open_reader(folder / "listening.duckdb")
    s = config.settings
    minima = f"alert_min_count = {s.alert_min_count}, alert_min_z = {s.alert_min_z}"
    print(f"alerts in the store ({minima}):")
    print(report(evaluate(truth, read_alerts(con, s.timezone))))
    print()
    # the same rules re-evaluated on the same marts with other minima
    end = date.fromisoformat(truth["end"])
    as_of = con.execute("select max(day) from reputation_daily").fetchone()[0]
    now = datetime.combine(as_of + timedelta(days=1), datetime.min.time()).astimezone()
    con.execute("set variable as_of = ?", [as_of])
    print(
        f"{'min_count':>9} {'min_z':>5} {'alerts':>6} {'precision':>9} {'recall':>6}  "
        "per rule (right/raised); false alarms"
    )
    for min_count, min_z in GRID:
        settings = replace(s, alert_min_count=min_count, alert_min_z=min_z)
        found = alert_rules.evaluate(con, replace(config, settings=settings), now, as_of)
        ev = evaluate(truth, read_alerts(con, s.timezone, found))
        false = [f"{a.kind} {a.brand} {a.start}" for a, ids in ev.scored if not ids]
        rules = ", ".join(f"{r} {ok}/{n}" for r, (ok, n, _) in ev.by_rule().items())
        print(
            f"{min_count:>9} {min_z:>5} {len(ev.scored):>6} {ev.precision:>9.0%} "
            f"{ev.recall:>6.0%}  {rules}; {'; '.join(false) or '-'}"
        )
    print(f"(world ends {end}; built as of {as_of})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
