"""Commands around the pipeline: try a brand query (match), the demo world (demo), the
dashboards (dashboard) and the weekly report (report)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from listening.cli.common import Output, config_of, db_of, reader_db
from listening.errors import ListeningError


def cmd_match(args, out: Output) -> int:
    from listening.analyze.query import explain, parse_query
    from listening.errors import QuerySyntaxError

    out.result(explain(args.query, args.text))
    try:
        parse_query(args.query)
    except QuerySyntaxError:
        return 1  # explain() showed where; the exit status says it does not parse
    return 0


def cmd_demo(args, out: Output) -> int:
    from listening.demo.run import run_demo

    if args.scale:
        from listening.demo.scale import run_scale_demo

        run_scale_demo(Path(args.dir), seed=args.seed, until=args.until, out=out)
        return 0
    run_demo(
        Path(args.dir),
        seed=args.seed,
        until=args.until,
        port=args.port,
        airflow=args.airflow,
        out=out,
    )
    return 0


def cmd_dashboard(args, out: Output) -> int:
    import subprocess

    db = reader_db(args)
    app = Path(__file__).resolve().parents[3] / "dashboards" / "app.py"
    if not app.exists():
        raise ListeningError(f"dashboard app not found at {app}: run from a checkout")
    env = {**os.environ, "LISTENING_DB": str(db.resolve())}
    out.say(f"dashboard on http://127.0.0.1:{args.port} (Ctrl-C to stop)")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" button: this is a self-hosted tool
    ]
    return subprocess.call(cmd, env=env)


def cmd_report(args, out: Output) -> int:
    import time

    from listening.report import brands_to_report, write_report
    from listening.report.weeks import last_complete_week, parse_week

    config = config_of(args)
    db = db_of(args, config)
    now = datetime.now(UTC)
    week = parse_week(args.week) if args.week else last_complete_week(now, config.settings.timezone)
    brands = brands_to_report(config, args.brand)
    target = Path(args.out) if args.out else None
    for brand in brands:
        path = target
        if target is not None and (len(brands) > 1 or target.is_dir()):
            from listening.report import brand_slug

            path = target / f"{brand_slug(brand)}-{week}.{args.format}"
        out.progress(f"report {brand} {week}…")
        started = time.monotonic()
        r = write_report(config, db, brand, week, fmt=args.format, out=path, now=now)
        out.result(
            f"{r.path}  ({brand}, {week}, {r.n_bytes / 1024:.0f} KiB, "
            f"{time.monotonic() - started:.1f} s)"
        )
    return 0
