"""``listening campaigns add|import|list``: record what the brands did on air
(``listening.marts.campaigns`` validates and writes)."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date

from listening.cli.common import config_of, db_of
from listening.marts.campaigns import (
    CSV_COLUMNS,
    CampaignError,
    import_campaigns,
    list_campaigns,
    make_campaign,
    read_csv,
)

EPILOG = """\
example:
  listening campaigns add --name "Printemps TV" --brand Acme --channel tv \\
      --start 2024-03-01 --end 2024-03-21
  listening campaigns import campagnes.csv   # columns: name,brand,channel,start,end
  listening campaigns list --csv
"""


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``listening campaigns add|import|list`` (``common``: --config, --db, -q).

    The common options work before or after the action (``listening campaigns --db x list``
    and ``listening campaigns list --db x``): the actions repeat them with a suppressed
    default, so an action that does not see them keeps the value parsed before it.
    """
    help_ = "Record marketing campaigns (TV, radio…) to measure their impact."
    p = subparsers.add_parser(
        "campaigns",
        help=help_,
        description=help_,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="campaigns_command", required=True, metavar="ACTION")
    leaf = {
        "parents": [_suppressed(common)],
        "formatter_class": argparse.RawDescriptionHelpFormatter,
        "epilog": EPILOG,
    }
    add = sub.add_parser(
        "add",
        help="add (or update) one campaign",
        description="Add a campaign, or update the one with the same brand, name and start.",
        **leaf,
    )
    add.add_argument("--name", required=True, help="campaign name")
    add.add_argument("--brand", required=True, help="brand name from the config")
    add.add_argument("--channel", required=True, help="tv, radio, social, print, web…")
    add.add_argument(
        "--start", required=True, type=date.fromisoformat, help="first day (YYYY-MM-DD)"
    )
    add.add_argument(
        "--end", required=True, type=date.fromisoformat, help="last day, inclusive (YYYY-MM-DD)"
    )
    imp = sub.add_parser(
        "import",
        help="add campaigns from a CSV file",
        description="Add campaigns from a CSV file with the header "
        "name,brand,channel,start,end (all lines or none).",
        **leaf,
    )
    imp.add_argument("file", help="CSV file, or - for standard input")
    lst = sub.add_parser(
        "list",
        help="list the campaigns",
        description="List the campaigns of the published snapshot.",
        **leaf,
    )
    lst.add_argument("--brand", help="only this brand")
    lst.add_argument("--csv", action="store_true", help="print CSV")
    p.set_defaults(func=cmd_campaigns)


def _suppressed(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A copy of ``common``'s options whose defaults do not overwrite values parsed earlier."""
    copy = argparse.ArgumentParser(add_help=False)
    for action in common._actions:
        if not action.option_strings:
            continue
        kwargs = {"help": action.help, "default": argparse.SUPPRESS}
        if action.nargs == 0:  # a flag (store_true)
            kwargs["action"] = "store_const"
            kwargs["const"] = action.const
        else:
            kwargs["metavar"] = action.metavar
        copy.add_argument(*action.option_strings, dest=action.dest, **kwargs)
    return copy


def cmd_campaigns(args: argparse.Namespace, out) -> int:
    from listening import store

    config = config_of(args)
    db = db_of(args, config)
    brands = [b.name for b in config.brands]
    if args.campaigns_command == "list":
        con = store.open_reader(db)
        try:
            campaigns = list_campaigns(con, args.brand)
        finally:
            con.close()
        if args.csv:
            w = csv.writer(sys.stdout)
            w.writerow(["campaign_id", *CSV_COLUMNS])
            for c in campaigns:
                w.writerow([c.campaign_id, c.name, c.brand, c.channel, c.start_date, c.end_date])
        else:
            for c in campaigns:
                out.result(f"{c.start_date} → {c.end_date}  {c.brand:<16} {c.channel:<8} {c.name}")
            if not campaigns:
                out.result("no campaigns yet: add one with `listening campaigns add`")
        return 0
    if args.campaigns_command == "add":
        campaigns = [
            make_campaign(args.name, args.brand, args.channel, args.start, args.end, brands)
        ]
    elif args.file == "-":
        campaigns = read_csv(sys.stdin, brands)
    else:
        try:
            with open(args.file, encoding="utf-8-sig", newline="") as fh:
                campaigns = read_csv(fh, brands)
        except FileNotFoundError:
            raise CampaignError(f"{args.file}: file not found") from None
    with store.open_writer(db, on_wait=out.say) as con:
        n = import_campaigns(con, campaigns)
    out.result(f"campaigns: {n} recorded; run `listening build` to update campaign_impact")
    return 0
