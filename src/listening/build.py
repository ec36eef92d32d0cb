"""Build: run ``sql/staging`` then ``sql/marts`` (one relation per file), in name order.

Settings reach the SQL as DuckDB variables (``getvariable('half_life_days')``), so each file
is plain SQL an analyst can read and run by hand after a ``set variable``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from listening.config import Config
from listening.store import sql_dir


@dataclass
class BuildStats:
    relations: list[str] = field(default_factory=list)


def sql_files() -> list[Path]:
    root = sql_dir()
    return [*sorted((root / "staging").glob("*.sql")), *sorted((root / "marts").glob("*.sql"))]


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    now: datetime,
    *,
    on_progress: Callable[[str], None] | None = None,
) -> BuildStats:
    """Rebuild every relation in one transaction: readers never see half a build."""
    s = config.settings
    variables = {
        "half_life_days": s.reputation_half_life_days,
        "as_of": now.date() if isinstance(now, datetime) else now,
        "timezone": s.timezone,
    }
    stats = BuildStats()
    con.execute("begin transaction")
    try:
        for name, value in variables.items():
            con.execute(f"set variable {name} = ?", [value])
        for path in sql_files():
            if on_progress:
                on_progress(path.stem)
            con.execute(path.read_text("utf-8"))
            stats.relations.append(path.stem)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return stats


@dataclass
class BrandSummary:
    brand: str
    n_mentions: int
    n_voices: int
    net_sentiment: float | None
    recent_net: float | None  # last 90 days
    previous_net: float | None  # the 90 days before

    @property
    def trend(self) -> str:
        if self.recent_net is None or self.previous_net is None:
            return "—"
        delta = self.recent_net - self.previous_net
        if delta > 0.05:
            return "en hausse"
        if delta < -0.05:
            return "en baisse"
        return "stable"


def summarize(con: duckdb.DuckDBPyConnection, as_of: date) -> list[BrandSummary]:
    """Per brand: mentions, distinct voices, net sentiment, and its 90-day trend."""
    rows = con.execute(
        """
        with m as (
            select brand, author, sentiment_label as label,
                published_at::date as day
            from mentions
            where not is_duplicate
        ),
        net as (
            select brand,
                count(*) as n_mentions,
                count(distinct author) as n_voices,
                (count(*) filter (where label = 'positive')
                 - count(*) filter (where label = 'negative'))
                / nullif(count(*) filter (where label in ('positive', 'negative')), 0)
                    as net_sentiment,
                (count(*) filter (where label = 'positive' and day > $d - 90)
                 - count(*) filter (where label = 'negative' and day > $d - 90))
                / nullif(count(*) filter (where label in ('positive', 'negative')
                    and day > $d - 90), 0) as recent_net,
                (count(*) filter (where label = 'positive' and day between $d - 180
                    and $d - 90)
                 - count(*) filter (where label = 'negative' and day between $d - 180
                    and $d - 90))
                / nullif(count(*) filter (where label in ('positive', 'negative')
                    and day between $d - 180 and $d - 90), 0) as previous_net,
            from m
            group by brand
        )
        select * from net order by n_mentions desc, brand
        """,
        {"d": as_of},
    ).fetchall()
    return [BrandSummary(*r) for r in rows]
