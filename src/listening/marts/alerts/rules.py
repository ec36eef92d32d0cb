"""Alert rules: the five rules of ``listening.marts.alerts``, evaluated on the built marts.

Each rule's SQL is a file of ``sql/alerts`` (``<rule>.sql``, and ``<rule>_*.sql`` for its
calendar or evidence), plain SQL with ``$name`` parameters; this module turns the rows into
``Alert`` episodes with their French summary. ``evaluate`` runs them all; it reads the marts,
``stg_mentions`` and ``stg_brand_days`` only, and writes nothing.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from listening.config import Config
from listening.days import local_date
from listening.marts.alerts.episodes import (
    BOUNDS_Z,
    EVIDENCE_MAX,
    Alert,
    cusum_episodes,
    group_days,
    local_start,
    roll_up,
    took_off,
)
from listening.marts.alerts.strength import RANK, is_strong, robust_z, severity
from listening.marts.alerts.wording import de, french_date, plural, points
from listening.store import sql_dir

BUZZ_WEEK = 7  # days summed into a week's volume (stg_brand_days.week_conversations has 7)
BUZZ_BASELINE = 90  # days of weekly volumes a week is compared with
BUZZ_MIN_BASELINE = 28  # fewer days of history: no buzz alert (as buzz_z in reputation_daily)
TURN_VARIANCE_FLOOR = 0.25  # labels are -1/0/+1: the variance of someone half the time neutral


def query(name: str) -> str:
    """The text of ``sql/alerts/<name>.sql``."""
    return (sql_dir() / "alerts" / f"{name}.sql").read_text("utf-8")


def _with_evidence(con, name: str, alerts: list[Alert], episodes: list[dict]) -> list[Alert]:
    """``alerts`` with their evidence: for each one's episode in ``episodes`` (same order; the
    fields ``sql/alerts/<name>.sql`` reads), the mention ids the file gives, ``EVIDENCE_MAX`` at
    most. One query for every episode of a rule."""
    if episodes:
        numbered = [{"episode": i, **e} for i, e in enumerate(episodes)]
        rows = con.execute(query(name), {"episodes": numbered, "limit": EVIDENCE_MAX}).fetchall()
        for i, mention_id in rows:
            alerts[i].evidence.append(mention_id)
    return alerts


def evaluate(
    con: duckdb.DuckDBPyConnection, config: Config, now: datetime, as_of: date | None = None
) -> list[Alert]:
    """Every alert episode found in the marts built up to the local day ``as_of`` (default:
    today in settings.timezone at ``now``); deterministic for given data."""
    tz = ZoneInfo(config.settings.timezone)
    as_of = as_of or local_date(now, config.settings.timezone)
    found = [
        *_negative_spikes(con, config, tz, as_of),
        *_buzz_spikes(con, config, tz, as_of),
        *_drifts(con, config, tz, as_of),
        *_turned_regulars(con, config, as_of),
        *_unanswered_threads(con, config, now, as_of),
    ]
    return roll_up(found, tz, as_of)


def _negative_spikes(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    rows = con.execute(
        query("negative_spike"),
        {"min_z": config.settings.alert_min_z, "min_count": config.settings.alert_min_count},
    ).fetchall()
    by_brand: dict[str, dict[date, tuple[int, float, int]]] = {}
    for brand, day, n, z, n_threads in rows:
        by_brand.setdefault(brand, {})[day] = (n, z, n_threads)
    out: list[Alert] = []
    episodes: list[dict] = []
    for brand, days in by_brand.items():
        for ep in group_days(sorted(days), config.settings.alert_cooldown_days):
            n_total = sum(days[d][0] for d in ep)
            peak = max(ep, key=lambda d: days[d][0])
            episodes.append({"brand": brand, "days": ep})
            when = (
                f"le {french_date(ep[0], as_of)}"
                if len(ep) == 1
                else f"du {french_date(ep[0], as_of)} au {french_date(ep[-1], as_of)}"
            )
            n_peak, z_peak, threads_peak = days[peak]
            out.append(
                Alert(
                    rule="negative_spike",
                    brand=brand,
                    subject=None,
                    opened_at=local_start(ep[0], tz),
                    closed_at=local_start(ep[-1] + timedelta(days=1), tz)
                    if ep[-1] < as_of
                    else None,
                    last_activity=ep[-1],
                    severity=max(
                        (severity(days[d][2], days[d][1], config) for d in ep), key=RANK.get
                    ),
                    summary=(
                        f"Pic de mentions négatives pour {brand} {when} : "
                        f"{plural(n_total, 'mention négative')}, dont {n_peak} le "
                        f"{french_date(peak, as_of)} dans {plural(threads_peak, 'discussion')} "
                        f"(score z {z_peak:.1f})"
                    ),
                )
            )
    return _with_evidence(con, "negative_spike_evidence", out, episodes)


def _buzz_spikes(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    # a week's buzz: the conversations (threads) naming the brand in the 7 days up to a day
    calendar: dict[str, list[date]] = {}
    weekly: dict[str, list[int]] = {}
    mentions: dict[tuple[str, date], int] = {}
    rows = con.execute(query("buzz_spike"), {"week": BUZZ_WEEK}).fetchall()
    for brand, day, n_conversations, n_mentions in rows:
        calendar.setdefault(brand, []).append(day)
        weekly.setdefault(brand, []).append(n_conversations)
        mentions[(brand, day)] = n_mentions
    out: list[Alert] = []
    episodes: list[dict] = []
    min_count = config.settings.alert_min_count  # is_strong's volume test, before the z
    for brand, days in calendar.items():
        weeks = weekly[brand]
        hot: dict[date, tuple[int, float, float]] = {}
        for t in range(len(days)):
            # the weeks that ended 7 to 97 days earlier: none overlaps this one
            past = weeks[max(BUZZ_WEEK - 1, t - BUZZ_WEEK - BUZZ_BASELINE + 1) : t - BUZZ_WEEK + 1]
            if len(past) < BUZZ_MIN_BASELINE:
                continue
            median = statistics.median(past)
            if weeks[t] - median < min_count:  # too few above the usual, whatever the z
                continue
            z = robust_z(weeks[t], past, median)
            if is_strong(weeks[t] - median, z, config):
                hot[days[t]] = (weeks[t], z, median)
        for ep in group_days(sorted(hot), config.settings.alert_cooldown_days):
            peak = max(ep, key=lambda d: hot[d][0])
            n_threads, z, median = hot[peak]
            week = [peak - timedelta(days=k) for k in range(BUZZ_WEEK)]
            n_mentions = sum(mentions.get((brand, d), 0) for d in week)
            episodes.append({"brand": brand, "first": week[-1], "last": peak})
            out.append(
                Alert(
                    rule="buzz_spike",
                    brand=brand,
                    subject=None,
                    opened_at=local_start(ep[0], tz),
                    closed_at=local_start(ep[-1] + timedelta(days=1), tz)
                    if ep[-1] < as_of
                    else None,
                    last_activity=ep[-1],
                    # buzz is attention, not a verdict: reputation_drift says whether it hurt
                    severity="info",
                    summary=(
                        f"Pic de buzz pour {brand} du {french_date(ep[0], as_of)} au "
                        f"{french_date(ep[-1], as_of)} : {plural(n_threads, 'discussion')} "
                        f"({plural(n_mentions, 'mention')}) sur les 7 jours jusqu'au "
                        f"{french_date(peak, as_of)}, contre {median:.0f} d'habitude "
                        f"(score z {z:.1f})"
                    ),
                )
            )
    return _with_evidence(con, "buzz_spike_evidence", out, episodes)


def _drifts(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    rows = con.execute(query("reputation_drift"), {"bounds_z": BOUNDS_Z}).fetchall()
    series: dict[str, list[tuple]] = {}
    for r in rows:
        series.setdefault(r[0], []).append(r[1:])
    out: list[Alert] = []
    episodes: list[dict] = []
    cooldown = config.settings.alert_cooldown_days
    for brand, data in series.items():
        # warm-up: a young brand's index walks from neutral to its level, which is no drift
        data = data[config.settings.reputation_half_life_days :]
        if len(data) < 2:
            continue
        days = [r[0] for r in data]
        index = [r[1] for r in data]
        se = [r[2] for r in data]
        votes = [r[3] for r in data]
        for sign in (-1, 1):
            merged: list[list[int | None]] = []
            for start, alarm, end in cusum_episodes(days, index, se, votes, sign, config):
                prev_end = merged[-1][2] if merged else None
                if (
                    merged
                    and prev_end is not None
                    and (days[start] - days[prev_end]).days <= cooldown
                ):
                    merged[-1][2] = end
                else:
                    merged.append([start, alarm, end])
            for first, alarm, end in merged:
                start = took_off(index, se, first, alarm, sign)
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
                        opened_at=local_start(days[start], tz),
                        closed_at=local_start(days[end], tz) if end is not None else None,
                        last_activity=days[last],
                        severity="warning" if sign < 0 else "info",
                        summary=(
                            f"Réputation {de(brand)} en {word} continue depuis le "
                            f"{french_date(days[start], as_of)} ({points(change)})"
                            + (
                                ""
                                if end is None
                                else f", revenue à la normale le {french_date(days[end], as_of)}"
                            )
                        ),
                    )
                )
                label = "negative" if sign < 0 else "positive"
                episodes.append(
                    {"brand": brand, "label": label, "first": days[start], "last": days[last]}
                )
    return _with_evidence(con, "reputation_drift_evidence", out, episodes)


def _turned_regulars(con, config: Config, as_of: date) -> list[Alert]:
    # the person's status is across brands: the query keeps the brands they used to praise
    # only the strong turns (settings alert_min_*): a handful of labels that happen to change
    # sign is chance
    s = config.settings
    rows = con.execute(
        query("regular_turned_detractor"),
        {"floor": TURN_VARIANCE_FLOOR, "min_count": s.alert_min_count, "min_z": s.alert_min_z},
    ).fetchall()
    out = []
    for row in rows:
        author_id, author, site, turned_at, brand, evidence, last_day, n_negative = row[:8]
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
    s = config.settings
    rows = con.execute(
        query("unanswered_negative_thread"),
        {
            "now": now,
            "hours": s.unanswered_hours,
            "lookback": s.alert_lookback_days,
            "as_of": as_of,
            "min_voices": s.alert_unanswered_min_voices,
        },
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
