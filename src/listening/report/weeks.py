"""ISO weeks as the reports name them (``2026-W44``), in local days.

A week runs Monday to Sunday, in the local days of ``settings.timezone``, like the marts'
``day`` columns; the default report is the last week that is over in that time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from listening.errors import ListeningError
from listening.marts.alerts.wording import MONTHS  # the French month names, kept once

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def shifted(self, weeks: int) -> Week:
        return week_of(self.monday + timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def label(self) -> str:
        """« semaine 44, du 26 octobre au 1er novembre 2026 »"""
        return f"semaine {self.number}, du {french_date(self.monday, self.sunday)}"


def week_of(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def parse_week(text: str) -> Week:
    """``2026-W44`` (or ``2026W44``) → Week; a clear error otherwise."""
    m = _WEEK.match(text.strip())
    if m:
        year, number = int(m.group(1)), int(m.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            pass
        else:
            return Week(year, number)
    raise ListeningError(
        f"--week {text!r}: expected an ISO week such as 2026-W44 (year, W, week 1 to 52 or 53)"
    )


def last_complete_week(now: datetime, timezone: str) -> Week:
    """The last Monday–Sunday week that is over at ``now`` in ``timezone``."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    today = now.astimezone(ZoneInfo(timezone)).date()
    return last_week_through(today - timedelta(days=1))


def last_week_through(day: date) -> Week:
    """The last Monday–Sunday week whose Sunday is ``day`` or before."""
    return week_of(day - timedelta(days=day.isoweekday() % 7))


def french_day(day: date) -> str:
    """« 1er novembre 2026 », « 26 octobre 2026 »"""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def french_date(start: date, end: date) -> str:
    """A range the French way: « 26 octobre au 1er novembre 2026 »."""
    first = french_day(start)
    if start.year == end.year:
        first = first.rsplit(" ", 1)[0]
        if start.month == end.month:
            first = first.split(" ", 1)[0]
    return f"{first} au {french_day(end)}"
