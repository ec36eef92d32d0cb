"""Alerts: rules evaluated on the marts after each build, stored once per episode, delivered.

Every rule that infers a change needs volume and strength: at least ``alert_min_count``
mentions, threads or votes behind it and a z-score of at least ``alert_min_z`` (settings; 3.5
is Iglewicz & Hoaglin's cut-off for outliers). Twice both makes a spike ``critical``. A busy
day is not news: a brand named 3 times instead of once has a huge z but no volume, and a big
brand's ordinary wobble has volume but no z. Where comments cluster, volume is counted in
conversations (threads): forty comments in one heated thread are one event, not forty.

- ``negative_spike``: a day whose negative mentions have a robust z-score of ``alert_min_z`` or
  more against the previous 90 days (``reputation_daily.negative_z``), spread over
  ``alert_min_count`` threads or more.
- ``buzz_spike``: a week (the 7 days up to a day) whose threads naming the brand have a robust
  z-score of ``alert_min_z`` or more against the 7-day counts of the 90 days before it, at least
  ``alert_min_count`` above their median. Weeks of conversations, not days of mentions: one
  long comment thread makes a busy day, a campaign or a controversy makes a busy week.
- ``reputation_drift``: a one-sided CUSUM (Page 1954) on the daily reputation index, run
  both ways. Down: S_t = max(0, S_{t-1} + (index_{t-1} - index_t) - SLACK), i.e. the largest
  fall from an earlier day minus SLACK points per day elapsed. It alarms when S_t >= THRESHOLD,
  the change since the fall began is ``alert_min_z`` standard errors or more (the errors of
  both days, from the index's bounds, added in quadrature: conservative, the two days share
  votes) and at least ``alert_min_count`` votes were cast since. The episode starts on the day
  the index left its level: the last day, up to the alarm, inside the bounds the index had at
  its extreme since S was last 0 (S's last 0 alone dates a slow fall from months of wandering
  before it); it ends when S is back to 0. A brand's first
  ``reputation_half_life_days`` days are skipped: its index then walks from neutral to its level.
- ``regular_turned_detractor``: a regular (active in >= 3 months) whose status is ``turned``
  towards ``detractor`` in the authors mart, who used to praise the brand and now criticises
  it, with ``alert_min_count`` labelled mentions of it or more and a change of mean label of
  ``alert_min_z`` standard errors or more (each side's variance floored at 0.25, so that a few
  unanimous labels do not look certain); at most one alert per person and brand.
- ``unanswered_negative_thread``: a thread whose final tone is negative, with no answer from
  the brand since its tone turned, for ``settings.unanswered_hours`` (and less than
  ``settings.alert_lookback_days`` ago: older threads are history), where
  ``alert_unanswered_min_voices`` people or more (distinct voices) have a negative mention of
  the brand since its last answer (or ever, when it never answered), and the latest labelled
  mention of the brand there is not positive; one alert per thread and brand. Volume here
  too: one voice is one opinion (often a mixed one, « pas mal, mais trop cher »); several
  people complaining unanswered is what a care team must see. A fact to act on (answer).

A day's many small alerts roll up into one: the people who turned, or the threads that went
negative, on the same local day for the same brand make one alert listing them.

Episodes of the same rule, brand and subject less than ``settings.alert_cooldown_days`` apart
are one episode (one alert). ``alert_id`` hashes rule, brand, subject and episode start, so a
rebuild on the same data finds the same alerts and updates them in place. Episodes whose last
activity is older than ``settings.alert_lookback_days`` are stored, not sent: a first build on
three years of history must not post three years of alerts.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb

from listening.config import Config
from listening.days import local_date
from listening.models import stable_id

ENV_WEBHOOK = "LISTENING_WEBHOOK_URL"
BUZZ_WEEK = 7  # days summed into a week's volume
BUZZ_BASELINE = 90  # days of weekly volumes a week is compared with
BUZZ_MIN_BASELINE = 28  # fewer days of history: no buzz alert (as buzz_z in reputation_daily)
TURN_VARIANCE_FLOOR = 0.25  # labels are -1/0/+1: the variance of someone half the time neutral
ROLL_UP_RULES = ("regular_turned_detractor", "unanswered_negative_thread")
# the rules `evaluate` runs over the whole history (task_failure alerts come from the DAGs)
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
    found = [
        *_negative_spikes(con, config, tz, as_of),
        *_buzz_spikes(con, config, tz, as_of),
        *_drifts(con, config, tz, as_of),
        *_turned_regulars(con, config, as_of),
        *_unanswered_threads(con, config, now, as_of),
    ]
    return roll_up(found, tz, as_of)


def is_strong(n: float, z: float | None, config: Config) -> bool:
    """Volume and strength: what every inferred alert needs (settings alert_min_*)."""
    s = config.settings
    return z is not None and n >= s.alert_min_count and z >= s.alert_min_z


def severity(n: float, z: float, config: Config, base: str = "warning") -> str:
    """``critical`` with twice the volume and twice the strength an alert needs."""
    s = config.settings
    return "critical" if n >= 2 * s.alert_min_count and z >= 2 * s.alert_min_z else base


def robust_z(x: float, past: list[float]) -> float | None:
    """(x - median) / (1.4826 MAD), or 1.2533 x the mean absolute deviation when the MAD is 0
    (Iglewicz & Hoaglin 1993), as ``buzz_z`` and ``negative_z`` in reputation_daily."""
    if not past:
        return None
    med = statistics.median(past)
    deviations = [abs(v - med) for v in past]
    mad = statistics.median(deviations)
    if mad > 0:
        return (x - med) / (1.4826 * mad)
    mean_ad = statistics.fmean(deviations)
    return (x - med) / (1.2533 * mean_ad) if mean_ad > 0 else None


_RANK = {"info": 0, "warning": 1, "critical": 2}
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
                severity=max((a.severity for a in members), key=_RANK.get),
                summary=head + " :\n" + "\n".join(f"– {a.summary}" for a in members),
                evidence=[e for a in members for e in a.evidence][:EVIDENCE_MAX],
                episode_key=f"day:{day.isoformat()}",
            )
        )
    return out


def _local_start(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(), tz)


def _negative_spikes(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    # volume is counted in conversations: the comments of one heated thread are one event
    # (the unanswered_negative_thread rule's), many threads at once are a spike
    rows = con.execute(
        """
        select r.brand, r.day, r.n_negative, r.negative_z,
            count(distinct coalesce(m.thread_url, m.mention_id)) as n_threads,
        from reputation_daily as r
        join stg_mentions as m
            on m.brand = r.brand and m.day = r.day
            and m.sentiment_label = 'negative' and not m.is_duplicate
        where r.negative_z >= $min_z
        group by all
        having count(distinct coalesce(m.thread_url, m.mention_id)) >= $min_count
        order by r.brand, r.day
        """,
        {"min_z": config.settings.alert_min_z, "min_count": config.settings.alert_min_count},
    ).fetchall()
    by_brand: dict[str, dict[date, tuple[int, float, int]]] = {}
    for brand, day, n, z, n_threads in rows:
        by_brand.setdefault(brand, {})[day] = (n, z, n_threads)
    out = []
    for brand, days in by_brand.items():
        for ep in _episodes(sorted(days), config.settings.alert_cooldown_days):
            n_total = sum(days[d][0] for d in ep)
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
            n_peak, z_peak, threads_peak = days[peak]
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
                    severity=max(
                        (severity(days[d][2], days[d][1], config) for d in ep), key=_RANK.get
                    ),
                    summary=(
                        f"Pic de mentions négatives pour {brand} {when} : "
                        f"{plural(n_total, 'mention négative')}, dont {n_peak} le "
                        f"{french_date(peak, as_of)} dans {plural(threads_peak, 'discussion')} "
                        f"(score z {z_peak:.1f})"
                    ),
                    evidence=evidence,
                )
            )
    return out


def _buzz_spikes(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    calendar: dict[str, list[date]] = {}
    for brand, day in con.execute(
        "select brand, day from reputation_daily order by brand, day"
    ).fetchall():
        calendar.setdefault(brand, []).append(day)
    threads: dict[tuple[str, date], set[str]] = {}
    mentions: dict[tuple[str, date], int] = {}
    for brand, day, keys in con.execute(
        "select brand, day, list(coalesce(thread_url, mention_id)) from stg_mentions "
        "where not is_duplicate and day <= getvariable('as_of') group by brand, day"
    ).fetchall():
        threads[(brand, day)] = set(keys)
        mentions[(brand, day)] = len(keys)
    out = []
    for brand, days in calendar.items():
        # a week's buzz: the conversations (threads) naming the brand in the 7 days up to a day
        weeks = []
        for t in range(len(days)):
            span = days[max(0, t - BUZZ_WEEK + 1) : t + 1]
            weeks.append(len(set().union(*(threads.get((brand, d), set()) for d in span))))
        hot: dict[date, tuple[int, float, float]] = {}
        for t in range(len(days)):
            # the weeks that ended 7 to 97 days earlier: none overlaps this one
            past = weeks[max(BUZZ_WEEK - 1, t - BUZZ_WEEK - BUZZ_BASELINE + 1) : t - BUZZ_WEEK + 1]
            if len(past) < BUZZ_MIN_BASELINE:
                continue
            z = robust_z(weeks[t], past)
            median = statistics.median(past)
            if is_strong(weeks[t] - median, z, config):
                hot[days[t]] = (weeks[t], z, median)
        for ep in _episodes(sorted(hot), config.settings.alert_cooldown_days):
            peak = max(ep, key=lambda d: hot[d][0])
            n_threads, z, median = hot[peak]
            week = [peak - timedelta(days=k) for k in range(BUZZ_WEEK)]
            n_mentions = sum(mentions.get((brand, d), 0) for d in week)
            evidence = [
                r[0]
                for r in con.execute(
                    "select mention_id from stg_mentions where brand = ? and not is_duplicate "
                    "and day between ? and ? order by published_at, mention_id limit ?",
                    [brand, week[-1], peak, EVIDENCE_MAX],
                ).fetchall()
            ]
            out.append(
                Alert(
                    rule="buzz_spike",
                    brand=brand,
                    subject=None,
                    opened_at=_local_start(ep[0], tz),
                    closed_at=_local_start(ep[-1] + timedelta(days=1), tz)
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
                    evidence=evidence,
                )
            )
    return out


def _cusum_episodes(
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


def _took_off(index: list[float], se: list[float], first: int, alarm: int, sign: int) -> int:
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


def _drifts(con, config: Config, tz: ZoneInfo, as_of: date) -> list[Alert]:
    rows = con.execute(
        "select brand, day, reputation_index, "
        # the bounds are index +/- 1.96 standard errors (reputation_daily.sql)
        f"(reputation_upper - reputation_lower) / (2 * {BOUNDS_Z}), n_votes "
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
        se = [r[2] for r in data]
        votes = [r[3] for r in data]
        for sign in (-1, 1):
            merged: list[list[int | None]] = []
            for start, alarm, end in _cusum_episodes(days, index, se, votes, sign, config):
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
                start = _took_off(index, se, first, alarm, sign)
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
                count(m.label_score) filter (where m.published_at < t.turned_at) as n_before,
                count(m.label_score) filter (where m.published_at >= t.turned_at) as n_since,
                var_pop(m.label_score) filter (where m.published_at < t.turned_at) as var_before,
                var_pop(m.label_score) filter (where m.published_at >= t.turned_at) as var_since,
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
            before - since as change,
            n_before + n_since as n_labelled,
            sqrt(greatest(var_before, $floor) / n_before + greatest(var_since, $floor) / n_since)
                as error,
        from per_brand
        where before >= 0.25 and since <= -0.25
        order by brand, author_id
        """,
        {"floor": TURN_VARIANCE_FLOOR},
    ).fetchall()
    out = []
    for row in rows:
        author_id, author, site, turned_at, brand, evidence, last_day, n_negative = row[:8]
        change, n_labelled, error = row[8:]
        if not is_strong(n_labelled, change / error, config):
            continue  # a handful of labels that happen to change sign
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
        """
        with open_threads as (
            select t.thread_url, coalesce(t.title, t.thread_url) as title, b.brand,
                t.tone_since, t.last_comment_at, t.last_answer_at,
            from threads as t, unnest(t.brands) as b(brand)
            where t.final_tone = 'negative'
                and (t.last_answer_at is null or t.last_answer_at < t.tone_since)
                and t.tone_since <= $now::timestamptz - to_hours($hours)
                -- a thread that went quiet long ago is history, not something to answer
                and t.tone_since >= $now::timestamptz - to_days($lookback)
        ),
        -- the people's labelled mentions of the brand since its last answer (all, unanswered)
        voiced as (
            select o.thread_url, o.brand, m.mention_id, m.voice_id, m.sentiment_label,
                m.published_at,
            from open_threads as o
            join stg_mentions as m
                on m.thread_url = o.thread_url and m.brand = o.brand
                and not m.is_duplicate and m.day <= $as_of
                and m.sentiment_label is not null
                and (o.last_answer_at is null or m.published_at > o.last_answer_at)
            where not exists (
                select 1 from official_authors as a where a.author_key = m.author_key
            )
        ),
        complaints as (
            select thread_url, brand,
                list(mention_id order by published_at, mention_id) filter (
                    where sentiment_label = 'negative'
                ) as evidence,
            from voiced
            group by thread_url, brand
            -- one voice is one opinion: several people complaining unanswered is a case
            having count(distinct voice_id) filter (
                    where sentiment_label = 'negative'
                ) >= $min_voices
                -- and the brand's latest mention is not praise: the thread ended well
                and arg_max(sentiment_label, (published_at, mention_id)) <> 'positive'
        )
        select o.thread_url, o.title, o.brand, o.tone_since, o.last_comment_at, c.evidence,
        from open_threads as o
        join complaints as c using (thread_url, brand)
        order by o.brand, o.thread_url
        """,
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
            "horizon": _local_start(as_of + timedelta(days=1), ZoneInfo(config.settings.timezone)),
        },
    )
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
        "where delivery_status in ('pending', 'failed') and withdrawn_at is null "
        "order by opened_at, alert_id"
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
