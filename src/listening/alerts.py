"""Alerts: rules evaluated on the marts after each build, stored once per episode, delivered.

Rules (constants below; the settings are in ``listening.config.Settings``):

- ``negative_spike``: a day whose negative mentions have a robust z-score >= 3 against the
  previous 90 days (``reputation_daily.negative_z``) and at least 3 negative mentions.
- ``reputation_drift``: a one-sided CUSUM (Page 1954) on the daily reputation index, run
  both ways. Down: S_t = max(0, S_{t-1} + (index_{t-1} - index_t) - SLACK), i.e. the largest
  fall from an earlier day minus SLACK points per day elapsed. It alarms when S_t >= THRESHOLD
  and the index has also left the 95% bounds it had when the fall began; the episode starts on
  that day (the last day S was 0) and ends when S is back to 0. A brand's first
  ``reputation_half_life_days`` days are skipped: its index then walks from neutral to its level.
- ``regular_turned_detractor``: a regular (active in >= 3 months) whose status is ``turned``
  towards ``detractor`` in the authors mart; at most one alert per person and brand.
- ``unanswered_negative_thread``: a thread whose final tone is negative, with no answer from
  the brand since its tone turned, for ``settings.unanswered_hours`` (and less than
  ``settings.alert_lookback_days`` ago: older threads are history); one alert per thread
  and brand.

Episodes of the same rule, brand and subject less than ``settings.alert_cooldown_days`` apart
are one episode (one alert). ``alert_id`` hashes rule, brand, subject and episode start, so a
rebuild on the same data finds the same alerts and updates them in place. Episodes whose last
activity is older than ``settings.alert_lookback_days`` are stored, not sent: a first build on
three years of history must not post three years of alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb

from listening.config import Config
from listening.days import local_date
from listening.models import stable_id

ENV_WEBHOOK = "LISTENING_WEBHOOK_URL"
SPIKE_Z = 3.0
SPIKE_MIN_NEGATIVE = 3
CRITICAL_Z = 6.0
# The index has a long memory (half-life 90 days): a real change of opinion moves it by a
# fraction of a point a day, so the slack is small and the bounds test guards against noise.
DRIFT_SLACK = 0.05  # index points per day a drift must exceed (ordinary wobble)
DRIFT_THRESHOLD = 8.0  # index points of fall beyond the slack that make a drift
EVIDENCE_MAX = 50

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass
class Alert:
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


def french_date(d: date, today: date | None = None) -> str:
    """``3 mars`` (``1er mars`` for the first of the month, as French writes it), with the year
    when it is not the year of ``today``: ``3 mars 2025``."""
    day = "1er" if d.day == 1 else str(d.day)
    year = "" if today is not None and today.year == d.year else f" {d.year}"
    return f"{day} {MONTHS[d.month - 1]}{year}"


def de(name: str) -> str:
    """``de Fournil Dupré``, ``d'Orvéa``: French elides *de* before a vowel."""
    return f"d'{name}" if name[:1].lower() in "aeiouyàâéèêëîïôöùûü" else f"de {name}"


def plural(n: int, word: str) -> str:
    """``1 mention négative``, ``3 mentions négatives`` (each word of ``word`` takes an s)."""
    return f"{n} " + (word if n == 1 else " ".join(w + "s" for w in word.split()))


def _points(x: float) -> str:
    return f"{'+' if x >= 0 else '−'}{abs(round(x))} points"


def _episodes(days: list[date], cooldown: int) -> list[list[date]]:
    """Group sorted days into episodes: a gap longer than ``cooldown`` days starts a new one."""
    out: list[list[date]] = []
    for d in days:
        if out and (d - out[-1][-1]).days <= cooldown:
            out[-1].append(d)
        else:
            out.append([d])
    return out


def evaluate(
    con: duckdb.DuckDBPyConnection, config: Config, now: datetime, as_of: date | None = None
) -> list[Alert]:
    """Every alert episode found in the marts built up to the local day ``as_of`` (default:
    today in settings.timezone at ``now``); deterministic for given data."""
    tz = ZoneInfo(config.settings.timezone)
    as_of = as_of or local_date(now, config.settings.timezone)
    return [
        *_negative_spikes(con, config, tz, as_of),
        *_drifts(con, config, tz, as_of),
        *_turned_regulars(con, config, as_of),
        *_unanswered_threads(con, config, now, as_of),
    ]


def _local_start(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(), tz)


def _negative_spikes(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    rows = con.execute(
        "select brand, day, n_negative, negative_z from reputation_daily "
        "where negative_z >= ? and n_negative >= ? order by brand, day",
        [SPIKE_Z, SPIKE_MIN_NEGATIVE],
    ).fetchall()
    by_brand: dict[str, dict[date, tuple[int, float]]] = {}
    for brand, day, n, z in rows:
        by_brand.setdefault(brand, {})[day] = (n, z)
    out = []
    for brand, days in by_brand.items():
        for ep in _episodes(sorted(days), config.settings.alert_cooldown_days):
            n_total = sum(days[d][0] for d in ep)
            z_max = max(days[d][1] for d in ep)
            peak = max(ep, key=lambda d: days[d][0])
            evidence = [
                r[0]
                for r in con.execute(
                    "select mention_id from stg_mentions where brand = ? and not is_duplicate "
                    "and sentiment_label = 'negative' and day in (select unnest(?)) "
                    "order by published_at, mention_id limit ?",
                    [brand, ep, EVIDENCE_MAX],
                ).fetchall()
            ]
            when = (
                f"le {french_date(ep[0], as_of)}"
                if len(ep) == 1
                else f"du {french_date(ep[0], as_of)} au {french_date(ep[-1], as_of)}"
            )
            out.append(
                Alert(
                    rule="negative_spike",
                    brand=brand,
                    subject=None,
                    opened_at=_local_start(ep[0], tz),
                    closed_at=_local_start(ep[-1] + timedelta(days=1), tz)
                    if ep[-1] < as_of
                    else None,
                    last_activity=ep[-1],
                    severity="critical" if z_max >= CRITICAL_Z else "warning",
                    summary=(
                        f"Pic de mentions négatives pour {brand} {when} : "
                        f"{plural(n_total, 'mention négative')}, dont {days[peak][0]} le "
                        f"{french_date(peak, as_of)} "
                        f"(score z {days[peak][1]:.1f})"
                    ),
                    evidence=evidence,
                )
            )
    return out


def _cusum_episodes(
    days: list[date], index: list[float], lower: list[float], upper: list[float], sign: int
) -> list[tuple[int, int, int | None]]:
    """(start, alarm, end) positions of drift episodes; sign -1 for falls, +1 for rises.

    ``end`` is the first day the statistic is back to 0 (None while the drift goes on).
    """
    out = []
    s = 0.0
    start = 0
    alarm = None
    for t in range(1, len(days)):
        change = sign * (index[t] - index[t - 1])
        s = max(0.0, s + change - DRIFT_SLACK)
        if s == 0.0:
            if alarm is not None:
                out.append((start, alarm, t))
                alarm = None
            start = t
            continue
        outside = index[t] < lower[start] if sign < 0 else index[t] > upper[start]
        if alarm is None and s >= DRIFT_THRESHOLD and outside:
            alarm = t
    if alarm is not None:
        out.append((start, alarm, None))
    return out


def _drifts(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    rows = con.execute(
        "select brand, day, reputation_index, reputation_lower, reputation_upper "
        "from reputation_daily order by brand, day"
    ).fetchall()
    series: dict[str, list[tuple]] = {}
    for r in rows:
        series.setdefault(r[0], []).append(r[1:])
    out = []
    cooldown = config.settings.alert_cooldown_days
    for brand, data in series.items():
        # warm-up: a young brand's index walks from neutral to its level, which is no drift
        data = data[config.settings.reputation_half_life_days :]
        if len(data) < 2:
            continue
        days = [r[0] for r in data]
        index = [r[1] for r in data]
        lower = [r[2] for r in data]
        upper = [r[3] for r in data]
        for sign in (-1, 1):
            merged: list[list[int | None]] = []
            for start, alarm, end in _cusum_episodes(days, index, lower, upper, sign):
                prev_end = merged[-1][2] if merged else None
                if (
                    merged
                    and prev_end is not None
                    and (days[start] - days[prev_end]).days <= cooldown
                ):
                    merged[-1][2] = end
                else:
                    merged.append([start, alarm, end])
            for start, _alarm, end in merged:
                last = end if end is not None else len(days) - 1
                change = index[last] - index[start]
                if end is not None:
                    # the extreme of the episode, not the day it recovered
                    span = index[start : end + 1]
                    change = (min(span) if sign < 0 else max(span)) - index[start]
                word = "baisse" if sign < 0 else "hausse"
                out.append(
                    Alert(
                        rule="reputation_drift",
                        brand=brand,
                        subject=word,
                        opened_at=_local_start(days[start], tz),
                        closed_at=_local_start(days[end], tz) if end is not None else None,
                        last_activity=days[last],
                        severity="warning" if sign < 0 else "info",
                        summary=(
                            f"Réputation {de(brand)} en {word} continue depuis le "
                            f"{french_date(days[start], as_of)} ({_points(change)})"
                            + (
                                ""
                                if end is None
                                else f", revenue à la normale le {french_date(days[end], as_of)}"
                            )
                        ),
                        evidence=_drift_evidence(con, brand, days[start], days[last], sign),
                    )
                )
    return out


def _drift_evidence(con, brand: str, start: date, end: date, sign: int) -> list[str]:
    label = "negative" if sign < 0 else "positive"
    return [
        r[0]
        for r in con.execute(
            "select mention_id from stg_mentions where brand = ? and not is_duplicate "
            "and sentiment_label = ? and day between ? and ? "
            "order by published_at desc, mention_id limit ?",
            [brand, label, start, end, EVIDENCE_MAX],
        ).fetchall()
    ]


def _turned_regulars(con, config: Config, as_of: date) -> list[Alert]:
    # the person's status is across brands; alert only for the brands they used to praise
    # (mean label >= 0.25 before turned_at) and now criticise (<= -0.25 since)
    rows = con.execute(
        """
        with turned as (
            select author_id, author, site, turned_at,
            from authors
            where is_regular and status = 'turned' and turned_to = 'detractor'
        ),
        per_brand as (
            select t.author_id, any_value(t.author) as author, any_value(t.site) as site,
                any_value(t.turned_at) as turned_at, m.brand,
                avg(m.label_score) filter (where m.published_at < t.turned_at) as before,
                avg(m.label_score) filter (where m.published_at >= t.turned_at) as since,
                list(m.mention_id order by m.published_at, m.mention_id) filter (
                    where m.published_at >= t.turned_at and m.sentiment_label = 'negative'
                ) as evidence,
                max(m.day) as last_day,
                count(*) filter (
                    where m.published_at >= t.turned_at and m.sentiment_label = 'negative'
                ) as n_negative,
            from turned as t
            join stg_mentions as m
                on m.author_id = t.author_id
                and not m.is_duplicate
                and m.day <= getvariable('as_of')
            group by t.author_id, m.brand
        )
        select author_id, author, site, turned_at, brand, evidence, last_day, n_negative,
        from per_brand
        where before >= 0.25 and since <= -0.25
        order by brand, author_id
        """
    ).fetchall()
    out = []
    for author_id, author, site, turned_at, brand, evidence, last_day, n_negative in rows:
        out.append(
            Alert(
                rule="regular_turned_detractor",
                brand=brand,
                subject=author_id,
                opened_at=turned_at,
                closed_at=None,
                # one alert per person and brand, whatever turned_at becomes as history grows
                episode_key="once",
                last_activity=last_day,
                severity="warning",
                summary=(
                    f"{author} ({site}), habitué(e) jusque-là favorable, critique désormais "
                    f"{brand} : {plural(n_negative, 'mention négative')} depuis le "
                    f"{french_date(local_date(turned_at, config.settings.timezone), as_of)}"
                ),
                evidence=list(evidence[:EVIDENCE_MAX]),
            )
        )
    return out


def _unanswered_threads(con, config: Config, now: datetime, as_of: date) -> list[Alert]:
    hours = config.settings.unanswered_hours
    rows = con.execute(
        """
        with open_threads as (
            select t.thread_url, coalesce(t.title, t.thread_url) as title, b.brand,
                t.tone_since, t.last_comment_at,
            from threads as t, unnest(t.brands) as b(brand)
            where t.final_tone = 'negative'
                and (t.last_answer_at is null or t.last_answer_at < t.tone_since)
                and t.tone_since <= ?::timestamptz - to_hours(?)
                -- a thread that went quiet long ago is history, not something to answer
                and t.tone_since >= ?::timestamptz - to_days(?)
        )
        select o.thread_url, o.title, o.brand, o.tone_since, o.last_comment_at,
            coalesce(list(m.mention_id order by m.published_at, m.mention_id)
                filter (where m.mention_id is not null), []) as evidence,
        from open_threads as o
        left join stg_mentions as m
            on m.thread_url = o.thread_url and m.brand = o.brand
            and m.sentiment_label = 'negative' and not m.is_duplicate
        group by all
        order by o.brand, o.thread_url
        """,
        [now, hours, now, config.settings.alert_lookback_days],
    ).fetchall()
    out = []
    for thread_url, title, brand, tone_since, last_comment_at, evidence in rows:
        evidence = list(evidence[:EVIDENCE_MAX])
        since = tone_since.astimezone(ZoneInfo(config.settings.timezone))
        out.append(
            Alert(
                rule="unanswered_negative_thread",
                brand=brand,
                subject=thread_url,
                opened_at=tone_since,
                closed_at=None,
                # one alert per thread and brand: new comments move tone_since
                episode_key="once",
                last_activity=local_date(last_comment_at or tone_since, config.settings.timezone),
                severity="warning",
                summary=(
                    f"Discussion « {title[:80]} » devenue négative envers {brand}, sans réponse "
                    f"de la marque depuis le {french_date(since.date(), as_of)} à "
                    f"{since:%H} h {since:%M}"
                ),
                evidence=evidence,
            )
        )
    return out


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
            summary = f.summary, evidence = f.evidence, updated_at = $now
        from found_alerts as f
        where f.alert_id = a.alert_id
            and (a.opened_at <> f.opened_at or a.closed_at is distinct from f.closed_at
                or a.severity <> f.severity or a.summary <> f.summary
                or a.evidence <> f.evidence)
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
    con.execute("drop table found_alerts")
    return len(unique), n_new


def message(summary: str, severity: str, brand: str) -> dict:
    icon = {"critical": "🔴", "warning": "🟠"}.get(severity, "🔵")
    return {"text": f"{icon} {summary}"}


def deliver_pending(
    con: duckdb.DuckDBPyConnection, config: Config, now: datetime, url: str, **post_options
) -> tuple[int, int]:
    """Send ``pending`` and ``failed`` alerts, oldest first; return (sent, failed).

    Each alert's outcome is written at once, so a crash midway loses nothing. The first
    failure stops the round: the remaining alerts keep their status for the next build.
    """
    from listening.notify import post_json

    rows = con.execute(
        "select alert_id, summary, severity, brand from raw.alerts "
        "where delivery_status in ('pending', 'failed') order by opened_at, alert_id"
    ).fetchall()
    sent = failed = 0
    for alert_id, summary, severity, brand in rows:
        result = post_json(
            url,
            message(summary, severity, brand),
            allow_private_networks=config.settings.allow_private_networks,
            **post_options,
        )
        if result.ok:
            sent += 1
            con.execute(
                "update raw.alerts set delivery_status = 'sent', delivered_at = ?, "
                "attempts = attempts + ?, last_error = null, updated_at = ? where alert_id = ?",
                [now, result.attempts, now, alert_id],
            )
        else:
            failed += 1
            con.execute(
                "update raw.alerts set delivery_status = 'failed', attempts = attempts + ?, "
                "last_error = ?, updated_at = ? where alert_id = ?",
                [result.attempts, result.error, now, alert_id],
            )
            # the receiver is down or refuses us: the others wait for the next build rather
            # than hold the store's writer lock through more timeouts
            break
    return sent, failed
