"""Alerts an analyst would act on (issue 11.3): volume and strength, buzz in conversations,
and a day's many small alerts rolled up into one."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from listening.marts.alerts import rules
from tests.test_alerts import alerts, at
from tests.test_marts import World

START = date(2024, 1, 1)


def background(w: World, days: int = 120, seed: int = 1) -> None:
    """An ordinary brand: 1 to 4 threads a day, one negative mention every 3 days."""
    rng = random.Random(seed)
    for i in range(days):
        day = START + timedelta(days=i)
        for j in range(rng.randint(1, 4)):
            w.say(day, "positive", f"p{i}-{j}")
        if i % 3 == 0:
            w.say(day, "negative", f"r{i}")


def negative_day(w: World, day: date, n_threads: int, per_thread: int = 1) -> None:
    for t in range(n_threads):
        post = w.doc(datetime(day.year, day.month, day.day, 9, t, tzinfo=UTC), f"a{t}")
        w.mention(post, "Acme", "negative")
        for c in range(per_thread - 1):
            when = datetime(day.year, day.month, day.day, 10 + c % 10, t, tzinfo=UTC)
            doc = w.doc(when, f"c{t}-{c}", kind="comment", thread=w.url(post))
            w.mention(doc, "Acme", "negative")


def test_three_negative_mentions_are_no_spike_however_rare():
    w = World()
    background(w)
    negative_day(w, START + timedelta(days=100), n_threads=3)
    w.build(now=at(START + timedelta(days=110)))
    z = w.one("select negative_z from reputation_daily where day = ?", [START + timedelta(100)])
    assert z >= 3.5, "strong, but only 3 mentions: no volume"
    assert alerts(w, "negative_spike") == []
    # the same day with a minimum of 3 is a spike: the setting decides
    low = World(alert_min_count=3)
    background(low)
    negative_day(low, START + timedelta(days=100), n_threads=3)
    low.build(now=at(START + timedelta(days=110)))
    assert len(alerts(low, "negative_spike")) == 1


def test_one_heated_thread_is_no_spike_many_threads_are():
    w = World()
    background(w)
    negative_day(w, START + timedelta(days=90), n_threads=1, per_thread=9)  # one thread
    negative_day(w, START + timedelta(days=110), n_threads=6)  # six threads
    w.build(now=at(START + timedelta(days=119)))
    found = alerts(w, "negative_spike")
    assert len(found) == 1
    assert found[0]["summary"].startswith("Pic de mentions négatives pour Acme le 20 avril")
    assert "dans 6 discussions" in found[0]["summary"]
    assert found[0]["severity"] == "warning"


def test_critical_needs_twice_the_volume_and_twice_the_strength():
    w = World()
    background(w)
    negative_day(w, START + timedelta(days=110), n_threads=12)
    w.build(now=at(START + timedelta(days=119)))
    (spike,) = alerts(w, "negative_spike")
    assert spike["severity"] == "critical"


def test_a_campaign_week_is_buzz_a_long_thread_is_not():
    w = World()
    background(w, days=160)
    post = w.doc(datetime(2024, 4, 10, 8, tzinfo=UTC), "Auteur")
    w.mention(post, "Acme", "neutral")
    for c in range(40):  # 40 comments in one thread: a busy day, not buzz
        when = datetime(2024, 4, 10, 9, c, tzinfo=UTC)
        w.mention(w.doc(when, f"f{c}", kind="comment", thread=w.url(post)), "Acme", "neutral")
    for i in range(140, 147):  # a campaign week: 6 new conversations a day
        for j in range(6):
            w.say(START + timedelta(days=i), "neutral", f"camp{i}-{j}")
    w.build(now=at(START + timedelta(days=159)))
    (buzz,) = alerts(w, "buzz_spike")
    assert buzz["severity"] == "info"
    opened = buzz["opened_at"].astimezone(UTC).date()
    assert START + timedelta(days=139) <= opened <= START + timedelta(days=143)
    assert "discussions" in buzz["summary"] and "d'habitude" in buzz["summary"]


def test_a_turn_on_a_handful_of_labels_is_chance():
    """A turn alerts with alert_min_count labels or more and a change of alert_min_z standard
    errors or more. Claire's 4 labels change by 2 with a standard error of 0.5: z = 4.0."""

    def claire(**settings) -> list[dict]:
        w = World(**settings)
        for month, label in ((1, "positive"), (2, "positive"), (5, "negative"), (6, "negative")):
            w.say(f"2024-0{month}-1{month} 10:00", label, "Claire")
        w.build()
        return alerts(w, "regular_turned_detractor")

    assert claire() == []  # the default alert_min_count, 5: too few labels
    assert len(claire(alert_min_count=4, alert_min_z=2.0)) == 1
    assert len(claire(alert_min_count=4, alert_min_z=4.0)) == 1  # z >= alert_min_z
    assert claire(alert_min_count=4, alert_min_z=4.5) == []  # enough labels, too small a z


def test_a_days_many_small_alerts_roll_up_into_one():
    w = World(unanswered_hours=48)
    now = datetime(2024, 6, 30, 12, tzinfo=UTC)
    turned = datetime(2024, 6, 20, 15, tzinfo=UTC)
    titles = []
    for k in range(3):  # three threads turn negative the same afternoon, nobody answers
        title = f"Livraison Acme {k}"
        titles.append(title)
        post = w.doc(turned + timedelta(minutes=k), "Carl", title=title)
        w.mention(post, "Acme", "negative")
        for h in (1, 2):
            when = turned + timedelta(hours=h, minutes=k)
            c = w.doc(when, f"x{k}{h}", kind="comment", thread=w.url(post))
            w.mention(c, "Acme", "negative")
    w.build(now=now)
    (rolled,) = alerts(w, "unanswered_negative_thread")
    assert rolled["subject"] is None
    assert rolled["summary"].startswith(
        "3 discussions devenues négatives envers Acme le 20 juin, sans réponse de la marque :"
    )
    for title in titles:
        assert f"« {title} »" in rolled["summary"]
    assert len(rolled["evidence"]) == 9
    # stable across rebuilds: the same roll-up, updated in place
    w.build(now=now)
    assert len(alerts(w, "unanswered_negative_thread")) == 1


def complaint_threads(w: World, *threads: tuple[str, list]) -> None:
    """Threads about Acme posted on 20 June 2024: (title, [(author, {brand: label}), …]) for the
    comments, one hour apart; nobody from the brands answers."""
    turned = datetime(2024, 6, 20, 15, tzinfo=UTC)
    for title, comments in threads:
        post = w.doc(turned, "Carl", title=title)
        w.mention(post, "Acme", "neutral")
        for h, (author, labels) in enumerate(comments, start=1):
            c = w.doc(turned + timedelta(hours=h), author, kind="comment", thread=w.url(post))
            for brand, label in labels.items():
                w.mention(c, brand, label)


NEG = {"Acme": "negative"}
ONE_VOICE = ("Un seul avis", [("Ana", NEG), ("Ana", NEG), ("Ana", NEG)])


def test_one_voice_is_an_opinion_two_voices_unanswered_are_a_case():
    """An unanswered complaint needs alert_unanswered_min_voices people (voices) with a negative
    mention of the brand since its last answer, and its latest labelled mention not praise."""
    w = World(unanswered_hours=48)
    complaint_threads(
        w,
        ONE_VOICE,  # one person complaining, even three times: one opinion
        # two people complain, then a third praises Acme (and blames Globex): the thread is
        # negative on average, but Acme's last word from people is praise
        (
            "Fin heureuse",
            [("Léo", NEG), ("Zoé", NEG), ("Max", {"Acme": "positive", "Globex": "negative"})],
        ),
        ("Deux plaintes", [("Léo", NEG), ("Zoé", NEG)]),  # a case for the care team
    )
    now = datetime(2024, 6, 30, 12, tzinfo=UTC)
    w.build(now=now)
    tones = dict(w.con.execute("select title, final_tone from threads").fetchall())
    assert set(tones.values()) == {"negative"}, "all three would alert on tone alone"
    (alert,) = alerts(w, "unanswered_negative_thread")
    assert alert["summary"].startswith("Discussion « Deux plaintes » devenue négative envers Acme")
    assert len(alert["evidence"]) == 2
    # the setting decides: one voice is enough when asked for
    one = World(unanswered_hours=48, alert_unanswered_min_voices=1)
    complaint_threads(one, ONE_VOICE)
    one.build(now=now)
    (alert,) = alerts(one, "unanswered_negative_thread")
    assert "« Un seul avis »" in alert["summary"]


def test_a_weeks_conversations_are_the_distinct_threads_of_its_seven_days():
    """buzz_spike.sql counts a week's conversations with a running sum; the same as the
    distinct threads (or lone mentions) of the 7 days up to each day, counted directly."""
    w = World()
    rng = random.Random(7)
    posts = [w.doc(datetime(2024, 1, 1, 8, tzinfo=UTC), f"a{t}") for t in range(12)]
    for post in posts:
        w.mention(post, "Acme", "neutral")
    for i in range(80):  # comments on the threads with gaps of 1 to 12 days, lone posts
        day = datetime(2024, 1, 1, 9, tzinfo=UTC) + timedelta(days=i)
        for post in rng.sample(posts, rng.randint(0, 3)):
            doc = w.doc(day, f"c{i}", kind="comment", thread=w.url(post))
            w.mention(doc, "Acme", rng.choice(["positive", "negative"]))
        if i % 5 == 0:
            w.say(day.date(), "neutral", f"lone{i}")
    w.build(now=at(START + timedelta(days=90)))
    seen: dict[date, set[str]] = {}
    for day, key in w.con.execute(
        "select day, coalesce(thread_url, mention_id) from stg_mentions_as_of where brand = 'Acme'"
    ).fetchall():
        seen.setdefault(day, set()).add(key)
    counted = {
        day: (n_week, n_day)
        for brand, day, n_week, n_day in w.con.execute(
            rules.query("buzz_spike"), {"week": 7}
        ).fetchall()
        if brand == "Acme"
    }
    first = min(seen)
    expected = {}
    for k in range((max(counted) - first).days + 1):
        day = first + timedelta(days=k)
        week = [day - timedelta(days=j) for j in range(7)]
        n_day = w.one(
            "select count(*) from stg_mentions_as_of where brand = 'Acme' and day = ?", [day]
        )
        expected[day] = (len(set().union(*(seen.get(d, set()) for d in week))), n_day)
    assert counted == expected
    assert max(n for n, _ in counted.values()) > 5  # threads do recur within weeks


def test_a_days_negative_conversations_are_its_distinct_negative_threads():
    """negative_spike reads each day's negative conversations from stg_brand_days (counted by
    the build, incrementally): the distinct threads (or lone mentions) of its negative
    mentions, counted directly from the mentions; and a spike's count is that one."""
    w = World(alert_min_count=3)
    background(w)
    negative_day(w, START + timedelta(days=100), n_threads=4, per_thread=3)
    w.say(START + timedelta(days=100), "negative", "lone")  # outside any thread
    w.build(now=at(START + timedelta(days=110)))
    direct = dict(
        w.con.execute(
            "select day, count(distinct coalesce(thread_url, mention_id)) "
            "from stg_mentions_as_of where brand = 'Acme' and sentiment_label = 'negative' "
            "group by day"
        ).fetchall()
    )
    counted = dict(
        w.con.execute(
            "select day, n_negative_threads from stg_brand_days "
            "where brand = 'Acme' and n_negative_threads > 0"
        ).fetchall()
    )
    assert counted == direct
    assert direct[START + timedelta(days=100)] == 5
    (spike,) = alerts(w, "negative_spike")
    assert "dans 5 discussions" in spike["summary"]
