"""Campaigns: what the brand did on air, so the marts can compare before, during and after.

Writers take a DuckDB connection (the caller holds the store's writer lock); the
``listening campaigns`` command is ``listening.cli.campaigns``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TextIO

import duckdb

from listening import store
from listening.errors import ListeningError
from listening.models import stable_id

CSV_COLUMNS = ("name", "brand", "channel", "start", "end")


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
