"""Alert episodes: days grouped into episodes, the drift CUSUM, rolled-up alerts, and the
episodes opened, closed and withdrawn in ``raw.alerts``.

Episodes of the same rule, brand and subject less than ``settings.alert_cooldown_days`` apart
are one episode (one alert). ``alert_id`` hashes rule, brand, subject and episode start (or
``episode_key``), so a rebuild on the same data finds the same alerts and updates them in
place; what a rebuild no longer finds is withdrawn, and found again, restored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb

from listening.config import Config
from listening.days import local_date
from listening.marts.alerts.strength import RANK, is_strong
from listening.marts.alerts.wording import french_date
from listening.models import stable_id

EVIDENCE_MAX = 50  # mention ids kept as an alert's evidence
ROLL_UP_RULES = ("regular_turned_detractor", "unanswered_negative_thread")
# the rules `rules.evaluate` runs over the whole history: what they no longer find is withdrawn
# (task_failure alerts come from the DAGs)
EVALUATED_RULES = (
    "negative_spike",
    "buzz_spike",
    "reputation_drift",
    "regular_turned_detractor",
    "unanswered_negative_thread",
)
# The index has a long memory (half-life 90 days): a real change of opinion moves it by a
# fraction of a point a day, so the slack is small and the z test guards against noise.
DRIFT_SLACK = 0.05  # index points per day a drift must exceed (ordinary wobble)
DRIFT_THRESHOLD = 8.0  # index points of fall beyond the slack that make a drift
BOUNDS_Z = 1.96  # reputation_lower/upper are the index -/+ 1.96 standard errors


@dataclass
class Alert:
    """One episode a rule found, as stored in ``raw.alerts`` (``alert_id`` its key)."""

    rule: str
    brand: str
    subject: str | None
    opened_at: datetime
    closed_at: datetime | None
    last_activity: date
    severity: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    # What identifies the episode when its start may move as history grows; else the start day.
    episode_key: str | None = None

    @property
    def alert_id(self) -> str:
        key = self.episode_key or self.opened_at.date().isoformat()
        return stable_id("alert", self.rule, self.brand, self.subject or "", key)


def group_days(days: list[date], cooldown: int) -> list[list[date]]:
    """Group sorted days into episodes: a gap longer than ``cooldown`` days starts a new one."""
    out: list[list[date]] = []
    for d in days:
        if out and (d - out[-1][-1]).days <= cooldown:
            out[-1].append(d)
        else:
            out.append([d])
    return out


def local_start(d: date, tz: ZoneInfo) -> datetime:
    """Midnight of the local day ``d``: when a day-long episode opens or closes."""
    return datetime.combine(d, time(), tz)


_ROLL_UP_HEADS = {
    "regular_turned_detractor": "{n} habitué(e)s jusque-là favorables critiquent désormais "
    "{brand} depuis le {day}",
    "unanswered_negative_thread": "{n} discussions devenues négatives envers {brand} le {day}, "
    "sans réponse de la marque",
}


def roll_up(found: list[Alert], tz: ZoneInfo, as_of: date) -> list[Alert]:
    """One alert per rule, brand and local day for the people or threads of ``ROLL_UP_RULES``
    that open the same day: one message listing them, not a burst of messages."""
    groups: dict[tuple[str, str, date], list[Alert]] = {}
    out = []
    for a in found:
        if a.rule in ROLL_UP_RULES:
            day = a.opened_at.astimezone(tz).date()
            groups.setdefault((a.rule, a.brand, day), []).append(a)
        else:
            out.append(a)
    for (rule, brand, day), members in groups.items():
        if len(members) == 1:
            out.extend(members)
            continue
        members.sort(key=lambda a: (a.opened_at, a.subject or ""))
        head = _ROLL_UP_HEADS[rule].format(n=len(members), brand=brand, day=french_date(day, as_of))
        out.append(
            Alert(
                rule=rule,
                brand=brand,
                subject=None,
                opened_at=members[0].opened_at,
                closed_at=None,
                last_activity=max(a.last_activity for a in members),
                severity=max((a.severity for a in members), key=RANK.get),
                summary=head + " :\n" + "\n".join(f"– {a.summary}" for a in members),
                evidence=[e for a in members for e in a.evidence][:EVIDENCE_MAX],
                episode_key=f"day:{day.isoformat()}",
            )
        )
    return out


def cusum_episodes(
    days: list[date],
    index: list[float],
    se: list[float],
    votes: list[int],
    sign: int,
    config: Config,
) -> list[tuple[int, int, int | None]]:
    """(start, alarm, end) positions of drift episodes; sign -1 for falls, +1 for rises.

    ``end`` is the first day the statistic is back to 0 (None while the drift goes on).
    """
    out = []
    s = 0.0
    start = 0
    alarm = None
    cast = 0  # votes since the episode began
    for t in range(1, len(days)):
        change = sign * (index[t] - index[t - 1])
        s = max(0.0, s + change - DRIFT_SLACK)
        if s == 0.0:
            if alarm is not None:
                out.append((start, alarm, t))
                alarm = None
            start, cast = t, 0
            continue
        cast += votes[t]
        error = math.hypot(se[t], se[start])
        z = sign * (index[t] - index[start]) / error if error > 0 else None
        if alarm is None and s >= DRIFT_THRESHOLD and is_strong(cast, z, config):
            alarm = t
    if alarm is not None:
        out.append((start, alarm, None))
    return out


def took_off(index: list[float], se: list[float], first: int, alarm: int, sign: int) -> int:
    """The day a drift left its starting level: the last day up to the alarm whose index is
    still inside the bounds (95 %, 1.96 standard errors) the index had at the episode's extreme
    before the move (its highest point for a fall, its lowest for a rise).

    CUSUM's own estimate, the last day its statistic was 0, comes too early when the index
    wanders for months before it really moves: the wandering adds up without resetting the
    statistic, and a fall that begins with a defect in October would be dated from August.
    """
    window = range(first, alarm + 1)
    peak = max(window, key=lambda t: -sign * index[t])
    level, band = index[peak], BOUNDS_Z * se[peak]
    return max(t for t in window if t >= peak and -sign * (index[t] - level) >= -band)


def store_alerts(
    con: duckdb.DuckDBPyConnection,
    found: list[Alert],
    now: datetime,
    config: Config,
    *,
    has_webhook: bool,
    as_of: date | None = None,
) -> tuple[int, int]:
    """Upsert the episodes on ``alert_id``; return (alerts found, new alerts).

    A known alert keeps its delivery state; its end, summary and evidence are refreshed. A new
    one is ``pending`` when a webhook is set and it is recent, else ``stored``.
    """
    as_of = as_of or local_date(now, config.settings.timezone)
    recent_from = as_of - timedelta(days=config.settings.alert_lookback_days)
    unique = list({a.alert_id: a for a in found}.values())
    columns = {
        "alert_id": [a.alert_id for a in unique],
        "rule": [a.rule for a in unique],
        "brand": [a.brand for a in unique],
        "subject": [a.subject for a in unique],
        "opened_at": [a.opened_at for a in unique],
        "closed_at": [a.closed_at for a in unique],
        "severity": [a.severity for a in unique],
        "summary": [a.summary for a in unique],
        "evidence": [a.evidence for a in unique],
        "is_recent": [a.last_activity >= recent_from for a in unique],
    }
    # one statement for all the episodes (a row-at-a-time upsert takes seconds per thousand)
    con.execute(
        "create or replace temp table found_alerts as select "
        + ", ".join(
            f"unnest(?::{t}[]) as {c}"
            for c, t in (
                ("alert_id", "varchar"),
                ("rule", "varchar"),
                ("brand", "varchar"),
                ("subject", "varchar"),
                ("opened_at", "timestamptz"),
                ("closed_at", "timestamptz"),
                ("severity", "varchar"),
                ("summary", "varchar"),
                ("evidence", "varchar[]"),
                ("is_recent", "boolean"),
            )
        ),
        list(columns.values()),
    )
    con.execute(
        """
        update raw.alerts as a set
            opened_at = f.opened_at, closed_at = f.closed_at, severity = f.severity,
            summary = f.summary, evidence = f.evidence, withdrawn_at = null, updated_at = $now
        from found_alerts as f
        where f.alert_id = a.alert_id
            and (a.opened_at <> f.opened_at or a.closed_at is distinct from f.closed_at
                or a.severity <> f.severity or a.summary <> f.summary
                or a.evidence <> f.evidence or a.withdrawn_at is not null)
        """,
        {"now": now},
    )
    n_new = con.execute(
        """
        insert into raw.alerts (alert_id, rule, brand, subject, opened_at, closed_at, severity,
            summary, evidence, delivery_status, attempts, created_at, updated_at)
        select alert_id, rule, brand, subject, opened_at, closed_at, severity, summary,
            evidence, case when $webhook and is_recent then 'pending' else 'stored' end,
            0, $now, $now,
        from found_alerts
        where alert_id not in (select alert_id from raw.alerts)
        """,
        {"now": now, "webhook": has_webhook},
    ).fetchone()[0]
    # What these rules no longer find up to as_of is withdrawn: late comments or a re-score
    # moved or erased the episode (a later day's alerts wait for a build that sees that day).
    con.execute(
        """
        update raw.alerts set withdrawn_at = $now, updated_at = $now
        where withdrawn_at is null and list_contains($rules, rule) and opened_at < $horizon
            and alert_id not in (select alert_id from found_alerts)
        """,
        {
            "now": now,
            "rules": list(EVALUATED_RULES),
            "horizon": local_start(as_of + timedelta(days=1), ZoneInfo(config.settings.timezone)),
        },
    )
    con.execute("drop table found_alerts")
    return len(unique), n_new
