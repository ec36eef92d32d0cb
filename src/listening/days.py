"""What day it is: days are local (``settings.timezone``) everywhere, never the UTC date.

``day`` in the marts is the local date of ``published_at``; the day a build stands for
(``as_of``) must be cut the same way, or a Paris build at 01:45 leaves out a mention of 01:30
and a Montréal build at 21:00 writes a row for tomorrow.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_date(now: datetime, timezone: str) -> date:
    """The date of the instant ``now`` in ``timezone`` (a naive ``now`` is taken as UTC)."""
    if now.tzinfo is None:
        raise ValueError(f"local_date needs an aware datetime, got {now!r}")
    return now.astimezone(ZoneInfo(timezone)).date()


def build_day(now: datetime, timezone: str, *, complete_days_only: bool = False) -> date:
    """The last day a build at ``now`` covers: today so far, or, for the daily run that
    stands for the day just ended, yesterday (a partial day would read as a quiet one)."""
    today = local_date(now, timezone)
    return today - timedelta(days=1) if complete_days_only else today
