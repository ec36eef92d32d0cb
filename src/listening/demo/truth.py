"""What the demo world planted, and how the alerts raised on it compare (issue 11.3).

``ground_truth(world)`` lists the planted events (the story's storylines and the regulars it
turns into detractors) with, for each, the alert rules that must fire (``alerts``: recall) and
the rules that point to it when they fire (``signals``: precision). ``evaluate`` matches the
alerts of a store against it: an alert points to an event when the brand is the event's, its
rule (with the drift's direction) is one of the event's signals, and its episode overlaps the
event's dates (for a turned regular: the person is the planted one).

The world also leaves complaints unanswered on purpose: ``unanswered_complaints(world)`` lists
the threads that end on a complaint the brand never answered (from the generator's labels, not
from a scorer). An ``unanswered_negative_thread`` alert points to the truth when every thread it
names (its subject, or its evidence's threads for a roll-up) is one of them, for the alert's
brand; otherwise it is a false alarm. Precision covers every alert raised, every rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from listening.demo.cast import BRAND_BY_KEY

UNANSWERED = "unanswered_negative_thread"
UNANSWERED_ID = "unanswered_complaints"

# rules (``reputation_drift:baisse`` for a direction) that must fire, and that point to it
_EXPECTED = {
    "campaign": (["buzz_spike"], ["buzz_spike"]),
    "launch": ([], []),
    # as its products fail, people who liked the brand turn against it, planted or not
    "defect": (
        ["reputation_drift:baisse"],
        ["reputation_drift:baisse", "negative_spike", "regular_turned_detractor"],
    ),
    # the brand's state from its first day: no change for a detector to see
    "care_complaints": ([], ["negative_spike", "reputation_drift:baisse"]),
    "care_fix": (["reputation_drift:hausse"], ["reputation_drift:hausse"]),
}


def ground_truth(world) -> dict:
    """The planted events as JSON-ready data (dates as ISO strings)."""
    events = []
    for e in world.story():
        alerts, signals = _EXPECTED[e["kind"]]
        events.append(
            {
                "id": e["kind"],
                "kind": e["kind"],
                "brand": e["brand"],
                "title": e["title"],
                "start": e["start"].isoformat(),
                "end": (e["end"] or world.end).isoformat(),
                "expect": e["expect"],
                "alerts": alerts,
                "signals": signals,
            }
        )
    if world.switchers:
        people = []
        for name, switch_at in sorted(world.switchers, key=lambda s: s[1]):
            # what the generator wrote in their name that names the brand: the evidence
            # a detector can see (their comments that do not name it are no mentions)
            docs = [
                d for d in world.documents if d["author"] == name and "Orvéa" in d["brands_named"]
            ]
            after = [d for d in docs if d["published_at"].date() >= switch_at]
            people.append(
                {
                    "author": name,
                    "turns_on": switch_at.isoformat(),
                    "n_naming_before": len(docs) - len(after),
                    "n_naming_after": len(after),
                    "n_negative_after": sum(d["sentiment"] == "negative" for d in after),
                }
            )
        events.append(
            {
                "id": "turned_regulars",
                "kind": "turned_regulars",
                "brand": "Orvéa",
                "title": "Des habitués fans d'Orvéa se retournent contre la Box 6",
                "start": min(s for _, s in world.switchers).isoformat(),
                "end": world.end.isoformat(),
                "expect": "at least one regular_turned_detractor alert; a person is found "
                "when they named the brand often enough, before and after, to tell a change "
                "from chance",
                "alerts": ["regular_turned_detractor"],
                "signals": ["regular_turned_detractor"],
                "people": people,
            }
        )
    return {
        "seed": world.seed,
        "end": world.end.isoformat(),
        "note": "Planted by the demo generator. alerts: rules that must fire (recall); "
        "signals: rules that point to the event when they fire (precision). "
        "unanswered_complaints: threads ending on a complaint the brand never answered "
        "(what an unanswered_negative_thread alert must point to).",
        "events": events,
        "unanswered_complaints": unanswered_complaints(world),
    }


def unanswered_complaints(world) -> list[dict]:
    """The threads the world leaves on an unanswered complaint: people (not the brand, not
    spam) posted negative comments after the brand's last answer in the thread (or in a thread
    it never answered), and the last of their comments with an opinion (positive or negative,
    the generator's labels) is one of those complaints. ``since``: the first such complaint;
    ``last``: the last one (UTC)."""
    out = []
    for p in world.posts:
        if not p.brand:
            continue
        answers = [c.published_at for c in p.comments if c.is_official]
        last_answer = max(answers, default=None)
        after = [
            c
            for c in sorted(p.comments, key=lambda c: c.published_at)
            if not c.is_official
            and not c.is_spam
            and (last_answer is None or c.published_at > last_answer)
        ]
        opinions = [c for c in after if c.sentiment in ("positive", "negative")]
        if not opinions or opinions[-1].sentiment != "negative":
            continue
        complaints = [c for c in opinions if c.sentiment == "negative"]
        out.append(
            {
                "thread_url": world.base_url + p.path,
                "brand": BRAND_BY_KEY[p.brand].name,
                "since": complaints[0].published_at.isoformat(),
                "last": complaints[-1].published_at.isoformat(),
                "n_complaints": len(complaints),
                "answered_before": last_answer is not None,
            }
        )
    return sorted(out, key=lambda t: (t["since"], t["thread_url"]))


def write_ground_truth(world, path: Path) -> Path:
    path.write_text(json.dumps(ground_truth(world), ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


@dataclass
class RaisedAlert:
    rule: str
    brand: str
    subject: str | None
    start: date
    end: date | None
    summary: str
    authors: list[str] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)  # its subject's, or its evidence's

    @property
    def kind(self) -> str:
        return f"{self.rule}:{self.subject}" if self.rule == "reputation_drift" else self.rule


def read_alerts(con: duckdb.DuckDBPyConnection, timezone: str, found=None) -> list[RaisedAlert]:
    """The store's alerts (or the ``listening.marts.alerts.episodes.Alert`` list ``found``),
    with their local days and the authors of their evidence."""
    tz = ZoneInfo(timezone)
    source = "alerts"
    if found is not None:
        con.execute(
            "create or replace temp table found_alerts as select unnest(?) as rule, "
            "unnest(?) as brand, unnest(?::varchar[]) as subject, "
            "unnest(?::timestamptz[]) as opened_at, unnest(?::timestamptz[]) as closed_at, "
            "unnest(?) as summary, unnest(?::varchar[][]) as evidence",
            [
                [a.rule for a in found],
                [a.brand for a in found],
                [a.subject for a in found],
                [a.opened_at for a in found],
                [a.closed_at for a in found],
                [a.summary for a in found],
                [a.evidence for a in found],
            ],
        )
        source = "found_alerts"
    rows = con.execute(
        f"""
        select a.rule, a.brand, a.subject, a.opened_at, a.closed_at, a.summary,
            coalesce(list(distinct m.author order by m.author)
                filter (where m.author is not null), []),
            coalesce(list(distinct m.thread_url order by m.thread_url)
                filter (where m.thread_url is not null), []),
        from {source} as a
        left join mentions as m on list_contains(a.evidence, m.mention_id)
        group by all
        order by a.opened_at, a.rule, a.brand
        """
    ).fetchall()

    def day(ts: datetime | None) -> date | None:
        return ts.astimezone(tz).date() if ts else None

    out = []
    for rule, brand, subject, opened, closed, summary, authors, threads in rows:
        if rule == UNANSWERED and subject:
            threads = [subject]  # one thread: its subject; a roll-up: its evidence's threads
        out.append(
            RaisedAlert(
                rule, brand, subject, day(opened), day(closed), summary, list(authors), threads
            )
        )
    return out


@dataclass
class Evaluation:
    events: list[dict]
    scored: list[tuple[RaisedAlert, list[str]]]  # every alert, ids of the events it points to
    missed: list[tuple[str, str]]  # (event id, rule) that did not fire
    # unanswered_negative_thread alerts: the threads they name that the world did not leave
    # on an unanswered complaint of their brand
    not_planted: dict[int, list[str]] = field(default_factory=dict)
    n_planted_threads: int = 0

    @property
    def precision(self) -> float:
        return _precision(self.scored)

    def by_rule(self) -> dict[str, tuple[int, int, float]]:
        """rule -> (alerts pointing to the truth, alerts raised, precision)."""
        out = {}
        for rule in sorted({a.rule for a, _ in self.scored}):
            mine = [(a, ids) for a, ids in self.scored if a.rule == rule]
            out[rule] = (sum(1 for _, ids in mine if ids), len(mine), _precision(mine))
        return out

    @property
    def n_required(self) -> int:
        return sum(len(e["alerts"]) for e in self.events)

    @property
    def recall(self) -> float:
        return 1.0 if not self.n_required else 1 - len(self.missed) / self.n_required


def _precision(scored: list[tuple[RaisedAlert, list[str]]]) -> float:
    return sum(1 for _, ids in scored if ids) / len(scored) if scored else 1.0


def points_to(alert: RaisedAlert, event: dict, world_end: date) -> bool:
    if alert.brand != event["brand"] or alert.kind not in event["signals"]:
        return False
    # by the day it opens: an alert dated before the event began is a false alarm, even when
    # its episode runs on into the event
    start, end = date.fromisoformat(event["start"]), date.fromisoformat(event["end"])
    return start <= alert.start <= min(end, world_end)


def evaluate(truth: dict, alerts: list[RaisedAlert]) -> Evaluation:
    world_end = date.fromisoformat(truth["end"])
    events = truth["events"]
    planted = {(t["thread_url"], t["brand"]) for t in truth.get("unanswered_complaints", [])}
    scored, not_planted = [], {}
    for a in alerts:
        if a.rule == UNANSWERED:
            # every thread it names must be one the world left on an unanswered complaint
            bad = [t for t in a.threads if (t, a.brand) not in planted]
            ids = [UNANSWERED_ID] if a.threads and not bad else []
            if not ids:
                not_planted[len(scored)] = bad or ["(no thread named)"]
        else:
            ids = [e["id"] for e in events if points_to(a, e, world_end)]
        scored.append((a, ids))
    missed = [
        (e["id"], rule)
        for e in events
        for rule in e["alerts"]
        if not any(e["id"] in ids and a.kind == rule for a, ids in scored)
    ]
    return Evaluation(events, scored, missed, not_planted, len(planted))


def report(ev: Evaluation) -> str:
    """The closing note: planted events, alerts raised, precision and recall."""
    lines = ["planted events (must fire → found):"]
    for e in ev.events:
        found = sorted({a.kind for a, ids in ev.scored if e["id"] in ids})
        need = ", ".join(e["alerts"]) or "nothing required"
        lines.append(
            f"  {e['id']:<28} {e['brand']:<14} {e['start']} → {e['end']}  "
            f"[{need}] → {', '.join(found) or 'no alert'}"
        )
    lines.append(
        f"  {UNANSWERED_ID:<28} (several)      threads ending on a complaint the brand never "
        f"answered: {ev.n_planted_threads} planted"
    )
    lines.append("alerts raised (every rule, scored):")
    for i, (a, ids) in enumerate(ev.scored):
        verdict = ", ".join(ids) if ids else "FALSE ALARM"
        if a.rule == UNANSWERED:
            verdict += f" ({plural_threads(len(a.threads))})"
        lines.append(f"  {a.start} {a.kind:<26} {a.brand:<16} → {verdict}")
        for t in ev.not_planted.get(i, []):
            lines.append(f"      not an unanswered complaint of {a.brand} in the world: {t}")
    n_true = sum(1 for _, ids in ev.scored if ids)
    lines.append("precision per rule:")
    for rule, (n_ok, n, p) in ev.by_rule().items():
        lines.append(f"  {rule:<28} {p:>4.0%} ({n_ok} of {n})")
    lines.append(
        f"precision {ev.precision:.0%} ({n_true} of {len(ev.scored)} alerts, every rule, point "
        f"to a planted event); recall {ev.recall:.0%} "
        f"({ev.n_required - len(ev.missed)} of {ev.n_required} required alerts fired)"
        + (f"; missed: {ev.missed}" if ev.missed else "")
    )
    for e in ev.events:
        if e["kind"] != "turned_regulars":
            continue
        named = {n for a, ids in ev.scored if e["id"] in ids for n in a.authors}
        lines.append("planted turned regulars (documents naming the brand before / after):")
        for p in e["people"]:
            lines.append(
                f"  {p['author']:<24} turns {p['turns_on']}  {p['n_naming_before']:>2} / "
                f"{p['n_naming_after']:>2} ({p['n_negative_after']} negative)  "
                + ("found" if p["author"] in named else "not found")
            )
    return "\n".join(lines)


def plural_threads(n: int) -> str:
    return f"{n} thread" + ("s" if n != 1 else "")
