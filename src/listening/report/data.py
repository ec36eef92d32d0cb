"""What a weekly report says, read from the published snapshot (never the live store).

Each query is a named file of ``sql/report/``; this module runs them for one brand and one
week and turns the rows into the facts the report shows, including the one-sentence « hype
ou réalité » reading of buzz against reputation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from listening.config import Config
from listening.report.weeks import Week, french_day
from listening.store import sql_dir

WEEKS_BEFORE = 4  # the report compares the week with the four before it
BUZZ_PEAK = 2.0  # a day with twice its usual volume is a buzz peak (as on the dashboard)
MOVED_POINTS = 1.0  # an aspect's tone moved when it changed by this much, on a -100..100 scale
MIN_ASPECT_MENTIONS = 3  # an aspect needs this many mentions in the week to be reported
QUOTES_PER_ASPECT = 2
TOP_VOICES = 5
MAX_THREADS = 8
EVIDENCE_SHOWN = 3  # quoted mentions per alert; the report counts the others
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass
class ReportData:
    brand: str
    week: Week
    timezone: str
    generated_at: datetime
    weeks: list[dict] = field(default_factory=list)  # the brand's last five weeks, oldest first
    competitors: list[dict] = field(default_factory=list)  # the week's row of each competitor
    days: list[dict] = field(default_factory=list)  # the brand's days over the five weeks
    reading: str = ""  # « hype ou réalité », one sentence
    campaigns: list[dict] = field(default_factory=list)
    aspects: list[dict] = field(default_factory=list)  # those that moved, with "quotes"
    promoters: list[dict] = field(default_factory=list)
    detractors: list[dict] = field(default_factory=list)
    threads: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)

    @property
    def current(self) -> dict | None:
        """The reported week's row, when the brand had data that week."""
        last = self.weeks[-1] if self.weeks else None
        return last if last and last["week"] == self.week.monday else None

    @property
    def previous(self) -> dict | None:
        rows = [w for w in self.weeks if w["week"] < self.week.monday]
        return rows[-1] if rows else None


def query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict]:
    """Run ``sql/report/<name>.sql`` with the parameters it names; rows as dicts."""
    sql = (sql_dir() / "report" / f"{name}.sql").read_text("utf-8")
    wanted = set(_PARAM.findall(sql))
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"report query {name} needs {sorted(missing)}")
    cur = con.execute(sql, {k: v for k, v in params.items() if k in wanted})
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def local_bounds(week: Week, timezone: str) -> tuple[datetime, datetime]:
    """The week's first and last instants (half-open) as UTC timestamps."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(week.monday, time(), tz)
    end = datetime.combine(week.sunday + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def collect(
    con: duckdb.DuckDBPyConnection, config: Config, brand: str, week: Week, now: datetime
) -> ReportData:
    """Everything the report of ``brand`` for ``week`` shows."""
    tz = config.settings.timezone
    first = week.shifted(-WEEKS_BEFORE).monday
    start, end = week.monday, week.sunday
    from_ts, to_ts = local_bounds(week, tz)
    competitors = list(config.brand(brand).competitors)
    data = ReportData(brand, week, tz, now)
    rows = query(con, "reputation_weeks", brands=[brand, *competitors], start=first, end=end)
    data.weeks = [r for r in rows if r["brand"] == brand]
    data.competitors = [r for r in rows if r["brand"] != brand and r["week"] == start]
    data.days = query(con, "reputation_days", brand=brand, start=first, end=end)
    data.reading = hype_or_reality(data)
    data.campaigns = query(con, "campaigns", brand=brand, start=start, end=end)
    data.aspects = moved_aspects(con, brand, first, start, end)
    for direction, target in ((1, data.promoters), (-1, data.detractors)):
        target += query(
            con, "voices", brand=brand, start=start, end=end, direction=direction, limit=TOP_VOICES
        )
    data.threads = query(
        con, "threads", brand=brand, from_ts=from_ts, to_ts=to_ts, limit=MAX_THREADS
    )
    data.alerts = query(con, "alerts", brand=brand, from_ts=from_ts, to_ts=to_ts)
    for alert in data.alerts:
        ids = list(alert["evidence"] or [])
        alert["n_evidence"] = len(ids)
        alert["quotes"] = (
            query(con, "alert_evidence", mention_ids=ids, to_ts=to_ts, limit=EVIDENCE_SHOWN)
            if ids
            else []
        )
    data.sources = query(con, "sources")
    return data


def moved_aspects(con, brand: str, first: date, start: date, end: date) -> list[dict]:
    """Aspects whose tone moved most against the four weeks before, each with two quotes."""
    rows = query(con, "aspects", brand=brand, start=first, week_start=start, end=end)
    moved = []
    for r in rows:
        if r["n_week"] < MIN_ASPECT_MENTIONS or r["tone_week"] is None:
            continue
        before = r["tone_before"]
        r["change"] = None if before is None else 100 * (r["tone_week"] - before)
        if r["change"] is None or abs(r["change"]) >= MOVED_POINTS:
            moved.append(r)
    moved.sort(key=lambda r: -abs(r["change"] or 100))
    for r in moved:
        direction = -1 if (r["change"] or r["tone_week"]) < 0 else 1
        r["quotes"] = query(
            con,
            "aspect_quotes",
            brand=brand,
            aspect=r["aspect"],
            start=start,
            end=end,
            direction=direction,
            limit=QUOTES_PER_ASPECT,
        )
    return moved


def fmt(value: float | None, digits: int = 1, sign: bool = False) -> str:
    """A number the French way: « +12,3 », « 4,0 »; « — » when unknown."""
    if value is None:
        return "—"
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return text.replace(".", ",").replace("-", "−")


def hype_or_reality(data: ReportData) -> str:
    """The dashboard's reading, in one sentence: did the week's buzz move reputation?

    Reputation moved when the index at the end of the week left the 95 % bounds it had at
    the end of the week before; a buzz peak is a day at twice the brand's usual volume.
    """
    cur, prev = data.current, data.previous
    if cur is None:
        return "Aucune donnée cette semaine pour cette marque : rien à interpréter."
    peak = cur["peak_buzz"]
    has_peak = peak is not None and peak >= BUZZ_PEAK
    peak_text = f"× {fmt(peak)} le {french_day(cur['peak_day'])}" if has_peak else ""
    if prev is None or prev["reputation_index"] is None:
        if has_peak:
            return f"Pic de buzz ({peak_text}), mais pas d'historique pour juger la réputation."
        return "Première semaine suivie : pas encore d'historique pour juger la réputation."
    change = cur["reputation_index"] - prev["reputation_index"]
    lower, upper = prev["reputation_lower"], prev["reputation_upper"]
    moved = not (lower <= cur["reputation_index"] <= upper)
    points = f"{fmt(change, sign=True)} point{'s' if abs(change) >= 2 else ''}"
    if has_peak and moved:
        return (
            f"Réalité : le pic de buzz ({peak_text}) s'accompagne d'un vrai mouvement de la "
            f"réputation ({points}, hors de sa fourchette de la semaine précédente)."
        )
    if has_peak:
        return (
            f"Hype : pic de buzz ({peak_text}), mais la réputation reste dans sa fourchette "
            f"de la semaine précédente ({points}) : pas de changement de fond."
        )
    if moved:
        return (
            f"Réalité sans bruit : la réputation sort de sa fourchette ({points}) sans pic de "
            "buzz, un changement de fond à surveiller."
        )
    return (
        f"Semaine calme : ni pic de buzz, ni mouvement de la réputation ({points}, dans sa "
        "fourchette de la semaine précédente)."
    )
