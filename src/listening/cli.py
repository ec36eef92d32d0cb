"""The ``listening`` command: a thin shell over the library (nothing imports this module)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import textwrap
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from listening import __version__
from listening.errors import ListeningError

EXAMPLES = {
    "init": "listening init                       # create the store and register sources",
    "collect": "listening collect                    # fetch due sources into the store",
    "analyze": "listening analyze --rescore          # re-score what an older scorer scored",
    "build": "listening build                      # rebuild the marts and publish the snapshot",
    "run": "listening run                        # collect, then analyze, then build",
    "sentiment": 'echo "J\'ai quitté SFR pour Free" | listening sentiment --target Free',
    "sql": 'listening sql "select brand, count(*) from mentions group by 1" --csv',
    "sources": "listening sources --import feeds.opml --dry-run   # preview an OPML import",
    "forget": 'listening forget --author "Marie Dupont" --site blog.example.fr',
    "match": 'listening match \'"Acme" NOT "Acme Anvil"\' "J\'adore Acme"',
    "demo": "listening demo                       # the whole pipeline on a French demo world",
    "dashboard": "listening dashboard                  # open http://127.0.0.1:8501",
    "report": "listening report --brand Ambrelle --week 2026-W44 --format pdf",
}


class Output:
    """Progress on a terminal (one rewritten line on stderr), silence in logs."""

    def __init__(self, quiet: bool = False):
        self.tty = sys.stderr.isatty() and not quiet
        self.quiet = quiet
        self._dirty = False

    def progress(self, message: str) -> None:
        if self.tty:
            width = 100
            sys.stderr.write("\r" + message[:width].ljust(width))
            sys.stderr.flush()
            self._dirty = True

    def say(self, message: str) -> None:
        """A line for the user (stderr): waits, warnings, notes."""
        self._clear()
        if not self.quiet:
            print(message, file=sys.stderr)

    def result(self, message: str) -> None:
        self._clear()
        print(message)

    def _clear(self) -> None:
        if self._dirty:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()
            self._dirty = False


class _Parser(argparse.ArgumentParser):
    """A usage mistake is a user error like any other: one line, exit status 1."""

    def error(self, message: str) -> None:
        self.exit(1, f"listening: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="listening",
        description="Social listening and reputation monitoring for French-speaking brands.",
        epilog="Run `listening COMMAND --help` for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"listening {__version__}")
    common = _Parser(add_help=False)
    common.add_argument(
        "--config", help="config file (default: $LISTENING_CONFIG, else ./listening.toml)"
    )
    common.add_argument("--db", help="DuckDB store (default: $LISTENING_DB, else settings.store)")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            parents=[common],
            epilog=f"example:\n  {EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=globals()[f"cmd_{name}"])
        return p

    add("init", "Validate the config, create or migrate the store, register the sources.")
    add("collect", "Fetch the due feeds, comment threads and pages; load them into the store.")
    p = add("analyze", "Match brands, score French sentiment and tag aspects of new documents.")
    p.add_argument(
        "--rescore",
        action="store_true",
        help="also re-score mentions scored by an older sentiment version",
    )
    p = add("build", "Rebuild the marts (reputation, voices, threads…) and publish the snapshot.")
    p.add_argument(
        "--full",
        action="store_true",
        help="rebuild everything, not only what changed since the last build (same result)",
    )
    p = add("run", "Collect, then analyze, then build.")
    p.add_argument("--rescore", action="store_true", help="as in `analyze --rescore`")
    p = add("sentiment", "Score French text read from stdin, one text per line; JSON lines out.")
    p.add_argument(
        "--target",
        metavar="TEXT",
        help="score the clauses about this name (a brand) rather than the whole text",
    )
    p.add_argument(
        "--jsonl",
        action="store_true",
        help='read JSON lines {"text": ..., "target": ...} (target optional) instead of text',
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=["train"],
        help="train: fit the store's adapter on the analysts' label corrections, compare it "
        "with the base scorer by cross-validation, adopt it only when it wins",
    )
    p = add("sql", "Run a read-only SQL query on the published snapshot and print the result.")
    p.add_argument("query", help='SQL text, e.g. "select * from mentions limit 5"')
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    fmt.add_argument("--json", action="store_true", help="print one JSON object per row")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="stop a query running longer than this (default: 30)",
    )
    p = add("sources", "List the sources with their health; import or export them as OPML.")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--enable", metavar="NAME", help="re-enable a disabled source")
    what.add_argument(
        "--import",
        dest="import_opml",
        metavar="FILE",
        help="add the feeds of an OPML file (a feed reader's export) to the config",
    )
    what.add_argument(
        "--export",
        dest="export_opml",
        metavar="FILE",
        help="write the configured sources as OPML 2.0 (- for stdout)",
    )
    p.add_argument("--dry-run", action="store_true", help="with --import: show, change nothing")
    p = add(
        "forget", "Erase a person (GDPR): documents, mentions, derived rows, files; never again."
    )
    p.add_argument("--author", required=True, help="the person's name as it appears")
    p.add_argument("--site", metavar="HOST", help="only on this site (default: every site)")
    p.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    p = add("match", "Show whether and where a brand query matches a text.")
    p.add_argument("query", help='brand query, e.g. \'"Acme" OR "Acme Corp"\'')
    p.add_argument("text", help="text to test")
    p = add("demo", "Generate the French demo world, serve it on 127.0.0.1 and run the pipeline.")
    p.add_argument(
        "--dir", default="data/demo", help="where the demo config and store go (default: data/demo)"
    )
    p.add_argument("--seed", type=int, default=None, help="world seed (default: fixed)")
    p.add_argument(
        "--until",
        type=date.fromisoformat,
        default=None,
        help="last day of the world (YYYY-MM-DD; default: fixed)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="the demo server's loopback port (default: a free one). URLs, and so document "
        "ids, carry it: a fixed port gives the same store on every run",
    )
    p.add_argument(
        "--airflow",
        action="store_true",
        help="run the stages as the project's Airflow DAGs (`airflow dags test`); needs a "
        "checkout (what `make demo` does)",
    )
    p.add_argument(
        "--scale",
        action="store_true",
        help="run the DAGs on Airflow's CeleryExecutor with PostgreSQL, Redis and two workers "
        "(as root: the fetch worker as another user); needs the scale extra, a checkout, "
        "postgresql and redis-server (what `make scale-demo` does)",
    )
    p = add("dashboard", "Start the dashboards on http://127.0.0.1 (Streamlit).")
    p.add_argument("--port", type=int, default=8501, help="port (default: 8501)")
    p = add("report", "Write the weekly French report of a brand (PDF or HTML) from the snapshot.")
    p.add_argument("--brand", default="all", help="brand name, or all (default: all)")
    p.add_argument(
        "--week", help="ISO week, e.g. 2026-W44 (default: the last complete week, local time)"
    )
    p.add_argument("--format", choices=("pdf", "html"), default="pdf", help="default: pdf")
    p.add_argument(
        "--out",
        help="file, or folder for several brands (default: reports/<brand>/<week>.pdf "
        "beside the store)",
    )
    from listening.build.campaigns import add_cli as add_campaigns_cli

    add_campaigns_cli(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(quiet=getattr(args, "quiet", False))
    try:
        return args.func(args, out) or 0
    except ListeningError as exc:
        out._clear()
        print(f"listening: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        out._clear()
        print("listening: interrupted", file=sys.stderr)
        return 130


# -- helpers ------------------------------------------------------------------------------------


def _config(args):
    from listening.configfile import config_path, load_config

    return load_config(config_path(args.config))


def _db(args, config=None) -> Path:
    from listening.store import store_path

    return store_path(args.db, config.store_path if config else None)


def _reader_db(args) -> Path:
    """For read-only commands a config is optional when --db or LISTENING_DB names the store."""
    if args.db or os.environ.get("LISTENING_DB"):
        return _db(args)
    return _db(args, _config(args))


def _print_table(out: Output, columns: list[str], rows: list[tuple], max_width: int = 60) -> None:
    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.3f}"
        if isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        s = " ".join(str(v).split())
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out.result(line.rstrip())
    out.result("  ".join("-" * w for w in widths))
    for r in cells:
        out.result("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    out.result(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


# -- commands -----------------------------------------------------------------------------------


def cmd_init(args, out: Output) -> int:
    from listening import pipeline

    config = _config(args)
    db = _db(args, config)
    applied = pipeline.init(config, db, out.say)
    if applied:
        out.result(f"store {db}: applied {', '.join(applied)}")
    else:
        out.result(f"store {db}: up to date")
    out.result(f"{len(config.brands)} brands, {len(config.sources)} sources in {config.path}")
    return 0


def cmd_collect(args, out: Output) -> int:
    from listening import pipeline

    config = _config(args)
    stats = pipeline.collect(
        config,
        _db(args, config),
        say=out.say,
        on_progress=lambda name, done, total: out.progress(f"collect {done}/{total}: {name}"),
    )
    _report_collect(out, stats)
    return 0


def _report_collect(out: Output, stats) -> None:
    load = stats.load
    out.result(
        f"collect: {stats.n_units} sources due, {stats.n_fetches} fetches "
        f"({stats.n_not_modified} unchanged), {load.n_documents_new} new documents, "
        f"{load.n_documents_updated} updated, {load.n_duplicates_linked} near-duplicates linked"
    )
    for e in stats.errors:
        out.say(f"  warning: {e}")


def cmd_analyze(args, out: Output) -> int:
    from listening import pipeline

    config = _config(args)
    stats = pipeline.analyze_stage(
        config,
        _db(args, config),
        rescore=args.rescore,
        say=out.say,
        on_progress=lambda done, total: out.progress(f"analyze {done}/{total} documents"),
    )
    out.result(
        f"analyze: {stats.n_documents} documents, {stats.n_mentions} mentions "
        f"({stats.n_unscored} not French: not scored)"
    )
    return 0


def cmd_build(args, out: Output) -> int:
    from listening import pipeline

    config = _config(args)
    stats = pipeline.build_stage(
        config,
        _db(args, config),
        say=out.say,
        on_progress=lambda n: out.progress(f"build {n}"),
        full=getattr(args, "full", False),  # `listening run` builds incrementally
    )
    how = (
        f"full: {stats.full_reason}"
        if stats.is_full
        else f"incremental: {stats.n_documents} documents, {stats.n_mentions} mentions changed"
    )
    out.result(f"build: {len(stats.relations)} relations rebuilt ({how}); snapshot published")
    if stats.n_expired:
        days = config.settings.retention_days
        out.result(f"retention: {stats.n_expired} documents older than {days} days deleted")
    return 0


def cmd_run(args, out: Output) -> int:
    for step in (cmd_collect, cmd_analyze, cmd_build):
        step(args, out)
    return 0


def cmd_sentiment(args, out: Output) -> int:
    if args.action == "train":
        from listening import pipeline
        from listening.analyze.adapter import describe

        config = _config(args)
        report = pipeline.train_stage(config, _db(args, config), say=out.say)
        out.result(describe(report))
        if report.adopted:
            out.result("new mentions use it now; `listening analyze --rescore` applies it to all")
        return 0
    from listening.analyze.target import score_text

    bad = 0
    for n, line in enumerate(sys.stdin, 1):
        text, target = line.rstrip("\n"), args.target
        if not text.strip():
            continue
        if args.jsonl:
            try:
                item = json.loads(text)
                text, target = item["text"], item.get("target", target)
                if not isinstance(text, str) or not isinstance(target, str | None):
                    raise TypeError
            except (ValueError, KeyError, TypeError, AttributeError):
                bad += 1
                out.say(
                    f'stdin line {n}: skipped, not a JSON object with a string "text" '
                    '(expected {"text": "...", "target": "..."}, target optional)'
                )
                continue
        print(json.dumps(score_text(text, target), ensure_ascii=False), flush=True)
    if bad:
        raise ListeningError(f"{bad} input line(s) skipped; fix them and run again")
    return 0


def cmd_sql(args, out: Output) -> int:
    import duckdb

    from listening.store import open_reader

    con = open_reader(_reader_db(args))
    # DuckDB has no statement timeout: a timer interrupts the connection instead.
    timer = threading.Timer(args.timeout, con.interrupt)
    timer.start()
    try:
        cur = con.execute(args.query)
        columns = [d[0] for d in cur.description] if cur.description else None
        rows = cur.fetchall() if columns else []
    except duckdb.InterruptException:
        raise ListeningError(
            f"SQL error: the query ran longer than {args.timeout:g} s and was stopped; "
            "narrow it (a where clause, a limit) or raise --timeout"
        ) from None
    except duckdb.Error as exc:
        msg = str(exc).strip().splitlines()[0]
        if "read-only" in msg.lower():
            msg += " (listening sql reads the published snapshot; it never writes)"
        raise ListeningError(f"SQL error: {msg}") from None
    finally:
        timer.cancel()
    if columns is None:
        return 0
    if args.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    elif args.json:
        for r in rows:
            print(json.dumps(dict(zip(columns, r, strict=True)), default=str, ensure_ascii=False))
    else:
        _print_table(out, columns, rows)
    return 0


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {value!r}")
    return seconds


def cmd_sources(args, out: Output) -> int:
    if args.import_opml or args.export_opml:
        return _sources_opml(args, out)
    if args.dry_run:
        raise ListeningError("--dry-run goes with --import FILE")
    if args.enable:
        from listening import pipeline

        config = _config(args)
        pipeline.enable_source(config, _db(args, config), args.enable, say=out.say)
        out.result(f"source {args.enable!r} re-enabled; it will be fetched on the next collect")
        return 0
    from listening.store import open_reader

    con = open_reader(_reader_db(args))
    cur = con.execute(
        "select name, kind, state, last_status, last_fetch_at, next_fetch_at, "
        "consecutive_failures as failures, n_documents as docs, last_error "
        "from source_health order by name"
    )
    rows = cur.fetchall()
    if not rows:
        out.result("no source yet: add [[sources]] to listening.toml, then `listening init`")
        return 0
    _print_table(out, [d[0] for d in cur.description], rows, max_width=70)
    return 0


def _sources_opml(args, out: Output) -> int:
    from listening.collect import opml
    from listening.configfile import config_path

    if args.export_opml:
        data = opml.export_opml(_config(args))
        if args.export_opml == "-":
            sys.stdout.buffer.write(data)
        else:
            opml.write_aside(Path(args.export_opml), data)
            out.result(f"wrote {args.export_opml}: OPML 2.0, {data.count(b'xmlUrl=')} feeds")
        return 0
    path = Path(args.import_opml)
    try:
        data = sys.stdin.buffer.read() if args.import_opml == "-" else path.read_bytes()
    except OSError as exc:
        raise ListeningError(f"cannot read {path}: {exc.strerror}") from None
    plan = opml.plan_import(config_path(args.config), data, source_name=str(path))
    for line in plan.report():
        out.result(line)
    if args.dry_run or not plan.added:
        out.result("dry run: listening.toml unchanged" if args.dry_run else "nothing to add")
        return 0
    opml.apply_import(plan)
    out.result(
        f"{plan.config_path}: {len(plan.added)} sources added; "
        "they are fetched at the next `listening collect`"
    )
    return 0


def cmd_forget(args, out: Output) -> int:
    from listening import pipeline

    config = _config(args)
    r = pipeline.forget(
        config, _db(args, config), args.author, args.site, dry_run=args.dry_run, say=out.say
    )
    s = r.stats
    out.result(
        f"{'would remove' if args.dry_run else 'removed'}: {s.n_documents} documents, "
        f"{s.n_mentions} mentions, {s.n_overrides} label corrections, {s.n_alerts} alerts; "
        f"{s.n_replies_reattached} replies by others re-attached to the thread; name redacted "
        f"in {s.n_texts_redacted} other texts"
    )
    if args.dry_run:
        out.result("dry run: nothing changed")
        return 0
    out.result(
        f"files beside the store cleaned: {s.n_files}; marts rebuilt; store rewritten without "
        f"the erased bytes ({r.size_before / 1e6:.1f} MB -> {r.size_after / 1e6:.1f} MB); "
        "snapshot published"
    )
    if r.n_reports:
        out.result(
            f"weekly reports deleted: {r.n_reports} (they may quote the person); "
            "`listening report --week YYYY-Www` writes any of them again without the person"
        )
    where = f"on {args.site}" if args.site else "on any site"
    out.result(
        f"suppressed: documents by this author {where} are dropped at load from now on; "
        "audit line added to the `erasures` table (counts only)"
    )
    if args.author.casefold() in config.path.read_text("utf-8").casefold():
        out.say(f"note: the name also appears in {config.path}: edit it there by hand")
    return 0


def cmd_match(args, out: Output) -> int:
    from listening.analyze.matching import explain, parse_query
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

    db = _reader_db(args)
    app = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
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

    config = _config(args)
    db = _db(args, config)
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


def help_text() -> str:
    """The CLI reference as in the README (tests compare them)."""
    parser = build_parser()
    lines = []
    for action in parser._subparsers._group_actions:  # argparse keeps subcommands here
        for name, sp in action.choices.items():
            lines.append(f"{name}: {textwrap.shorten(sp.description, 100)}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
