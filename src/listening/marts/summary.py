"""The brands at a glance, from the built marts: what ``listening demo`` prints after a build.

Per brand: mentions, voices, net sentiment and the reputation index's 90-day trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass
class BrandSummary:
    """One brand's line of the summary."""

    brand: str
    n_mentions: int
    n_voices: int
    net_sentiment: float | None
    reputation_now: float | None  # reputation_index on the last day with mentions
    reputation_before: float | None  # 90 days earlier

    @property
    def trend(self) -> str:
        """The reputation index over 90 days; 5 points either way is a real move."""
        if self.reputation_now is None or self.reputation_before is None:
            return "—"
        delta = self.reputation_now - self.reputation_before
        word = "en hausse" if delta > 5 else "en baisse" if delta < -5 else "stable"
        return f"{word} ({self.reputation_before:+.0f} → {self.reputation_now:+.0f})"


def summarize(con: duckdb.DuckDBPyConnection) -> list[BrandSummary]:
    """Per brand: mentions, voices (``voice_id``: the marts' one definition, from
    stg_documents), net sentiment, and the reputation index's trend over the last 90 days of
    data (from the ``reputation_daily`` mart)."""
    rows = con.execute(
        """
        with m as (
            select brand, voice_id, sentiment_label as label, published_at
            from stg_mentions
            where not is_duplicate
        ),
        totals as (
            select brand,
                count(*) as n_mentions,
                count(distinct voice_id) as n_voices,
                (count(*) filter (where label = 'positive')
                 - count(*) filter (where label = 'negative'))
                / nullif(count(*) filter (where label in ('positive', 'negative')), 0)
                    as net_sentiment,
            from m
            group by brand
        ),
        last_day as (
            select brand, max(day) as day from reputation_daily
            where n_mentions > 0 group by brand
        ),
        trend as (
            select l.brand,
                max(r.reputation_index) filter (where r.day = l.day) as now,
                max(r.reputation_index) filter (where r.day = l.day - 90) as before,
            from last_day as l
            join reputation_daily as r on r.brand = l.brand
            group by l.brand
        )
        select t.brand, t.n_mentions, t.n_voices, t.net_sentiment, r.now, r.before,
        from totals as t
        left join trend as r using (brand)
        order by t.n_mentions desc, t.brand
        """
    ).fetchall()
    return [BrandSummary(*r) for r in rows]
