"""The command line's grammar: every command, its options and example (``listening --help``)."""

from __future__ import annotations

import argparse
import textwrap
from datetime import date

from listening import __version__
from listening.cli import campaigns, data, stages, tools

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
COMMANDS = {
    "init": stages.cmd_init,
    "collect": stages.cmd_collect,
    "analyze": stages.cmd_analyze,
    "build": stages.cmd_build,
    "run": stages.cmd_run,
    "sentiment": stages.cmd_sentiment,
    "sql": data.cmd_sql,
    "sources": data.cmd_sources,
    "forget": data.cmd_forget,
    "match": tools.cmd_match,
    "demo": tools.cmd_demo,
    "dashboard": tools.cmd_dashboard,
    "report": tools.cmd_report,
}


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
        p.set_defaults(func=COMMANDS[name])
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
        help="rebuild everything, not only what changed since the last build (same result); "
        "says which stored rows differed",
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
    campaigns.add_parser(sub, common)
    return parser


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {value!r}")
    return seconds


def help_text() -> str:
    """The CLI reference as in the README (tests compare them)."""
    parser = build_parser()
    lines = []
    for action in parser._subparsers._group_actions:  # argparse keeps subcommands here
        for name, sp in action.choices.items():
            lines.append(f"{name}: {textwrap.shorten(sp.description, 100)}")
    return "\n".join(lines)
