"""Campaigns: what the brand did on air, so the marts can compare before, during and after.

Writers take a DuckDB connection (the caller holds the store's writer lock); ``add_cli``
registers the ``listening campaigns`` command for ``listening.cli``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TextIO

import duckdb

from listening import store
from listening.errors import ListeningError
from listening.models import stable_id

CSV_COLUMNS = ("name", "brand", "channel", "start", "end")
EPILOG = """\
example:
  listening campaigns add --name "Printemps TV" --brand Acme --channel tv \\
      --start 2024-03-01 --end 2024-03-21
  listening campaigns import campagnes.csv   # columns: name,brand,channel,start,end
  listening campaigns list --csv
"""


class CampaignError(ListeningError):
    """A campaign cannot be recorded as given (bad dates, unknown brand, bad CSV)."""


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    brand: str
    channel: str
    start_date: date
    end_date: date


def make_campaign(
    name: str,
    brand: str,
    channel: str,
    start: date,
    end: date,
    brands: Iterable[str] | None = None,
) -> Campaign:
    """Validate and build a campaign; its id hashes brand, name and start (re-adding updates)."""
    name, brand, channel = (name or "").strip(), (brand or "").strip(), (channel or "").strip()
    problems = []
    if not name:
        problems.append("the name is empty")
    if not channel:
        problems.append("the channel is empty (tv, radio, social, print, web…)")
    known = sorted(brands) if brands is not None else None
    if known is not None and brand not in known:
        problems.append(
            f"brand {brand!r} is not in the config (brands: {', '.join(known) or 'none'})"
        )
    if end < start:
        problems.append(f"the end {end} is before the start {start}")
    if problems:
        raise CampaignError(f"campaign {name!r}: " + "; ".join(problems))
    return Campaign(
        stable_id("campaign", brand, name, start.isoformat()),
        name,
        brand,
        channel.lower(),
        start,
        end,
    )


def add_campaign(
    con: duckdb.DuckDBPyConnection, campaign: Campaign, now: datetime | None = None
) -> Campaign:
    """Insert the campaign, or update its channel and end when it exists."""
    con.execute(
        "insert into raw.campaigns (campaign_id, name, brand, channel, start_date, end_date, "
        "created_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (campaign_id) do update set "
        "channel = excluded.channel, end_date = excluded.end_date",
        [
            campaign.campaign_id,
            campaign.name,
            campaign.brand,
            campaign.channel,
            campaign.start_date,
            campaign.end_date,
            now or datetime.now(UTC),
        ],
    )
    return campaign


def read_csv(fp: TextIO, brands: Iterable[str] | None = None) -> list[Campaign]:
    """Campaigns from CSV text with a header ``name,brand,channel,start,end`` (ISO dates).

    Every bad line is reported (with its line number), not only the first.
    """
    brands = list(brands) if brands is not None else None
    reader = csv.DictReader(fp)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise CampaignError(
            f"the CSV lacks the column(s) {', '.join(missing)}; expected a header line "
            f"{','.join(CSV_COLUMNS)}"
        )
    out, problems = [], []
    for row in reader:
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        line = reader.line_num
        try:
            start = date.fromisoformat(row["start"])
            end = date.fromisoformat(row["end"])
        except ValueError:
            problems.append(
                f"line {line}: dates must be YYYY-MM-DD, got {row['start']!r}, {row['end']!r}"
            )
            continue
        try:
            out.append(make_campaign(row["name"], row["brand"], row["channel"], start, end, brands))
        except CampaignError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise CampaignError("nothing imported:\n  " + "\n  ".join(problems))
    return out


def import_campaigns(
    con: duckdb.DuckDBPyConnection, campaigns: list[Campaign], now: datetime | None = None
) -> int:
    """Upsert all the campaigns in one transaction; return how many."""
    with store.transaction(con):
        for c in campaigns:
            add_campaign(con, c, now)
    return len(campaigns)


def list_campaigns(con: duckdb.DuckDBPyConnection, brand: str | None = None) -> list[Campaign]:
    rows = con.execute(
        "select campaign_id, name, brand, channel, start_date, end_date from campaigns "
        "where ? is null or brand = ? order by start_date, brand, name",
        [brand, brand],
    ).fetchall()
    return [Campaign(*r) for r in rows]


# -- command line -------------------------------------------------------------------------------


def add_cli(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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
    p.set_defaults(func=run_cli)


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


def run_cli(args: argparse.Namespace, out) -> int:
    from listening import store
    from listening.configfile import config_path, load_config

    config = load_config(config_path(args.config))
    db = store.store_path(args.db, config.store_path)
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
