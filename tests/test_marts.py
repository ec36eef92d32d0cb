"""Contract tests of the marts: hand-built rows in a real DuckDB store, then ``build.build``."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from listening import store
from listening.config import Brand, Config, Settings
from listening.marts import build

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
MARTS = tuple(store.mart_names())
SCORES = {"positive": 0.6, "neutral": 0.0, "negative": -0.6}


class World:
    """A store in memory with a tiny config, and helpers to add documents and mentions."""

    def __init__(self, brands: tuple[Brand, ...] | None = None, **settings):
        self.con = duckdb.connect()
        store.migrate(self.con, now=NOW)
        brands = brands or (
            Brand("Acme", "Acme", ("Globex",), ("Service client Acme",)),
            Brand("Globex", "Globex", (), ("Globex Officiel",)),
        )
        self.config = Config(Path("test.toml"), Settings(**settings), brands, ())
        self.n = 0

    def doc(
        self,
        when,
        author="Alice",
        *,
        kind="post",
        thread=None,
        parent=None,
        site="www.blog.fr",
        title=None,
        duplicate_of=None,
        doc_id=None,
    ) -> str:
        self.n += 1
        doc_id = doc_id or f"d{self.n}"
        when = _ts(when)
        url = f"https://{site}/{doc_id}"
        self.con.execute(
            "insert into raw.documents (document_id, kind, url, thread_url, parent_id, source, "
            "author, published_at, collected_at, title, text, duplicate_of, run_id) "
            "values (?, ?, ?, ?, ?, 'Blog', ?, ?, ?, ?, 'texte', ?, 'run')",
            [doc_id, kind, url, thread or url, parent, author, when, when, title, duplicate_of],
        )
        return doc_id

    def url(self, doc_id: str) -> str:
        return self.con.execute(
            "select url from raw.documents where document_id = ?", [doc_id]
        ).fetchone()[0]

    def mention(self, doc_id, brand="Acme", label="positive", aspects=None) -> str:
        mention_id = f"m-{doc_id}-{brand}"
        aspects = aspects or {}
        import json

        self.con.execute(
            "insert into raw.mentions (mention_id, document_id, brand, matched_terms, sentiment, "
            "sentiment_label, aspects, aspect_sentiment, analyzed_at) "
            "values (?, ?, ?, [?], ?, ?, ?, ?, ?)",
            [
                mention_id,
                doc_id,
                brand,
                brand,
                None if label is None else SCORES[label],
                label,
                sorted(aspects),
                json.dumps(aspects),
                NOW,
            ],
        )
        return mention_id

    def say(self, when, label="positive", author="Alice", brand="Acme", **kw) -> str:
        """A post by ``author`` naming ``brand`` with ``label``; returns the mention id."""
        return self.mention(self.doc(when, author, **kw), brand, label)

    def build(self, now=NOW, **kw):
        return build.build(self.con, self.config, now, **kw)

    def rows(self, sql, params=None) -> list[dict]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql, params=None):
        return self.con.execute(sql, params or []).fetchone()[0]


def _ts(when) -> datetime:
    if isinstance(when, datetime):
        return when
    if isinstance(when, date):
        return datetime(when.year, when.month, when.day, 10, tzinfo=UTC)
    return (
        datetime.fromisoformat(when).replace(tzinfo=UTC)
        if "+" not in when
        else datetime.fromisoformat(when)
    )


def index_at(w: World, day: str | date, brand="Acme") -> dict:
    return w.rows("select * from reputation_daily where brand = ? and day = ?", [brand, day])[0]


def expected_index(votes_by_day: dict[int, list[float]], t: int, h: float, k: float):
    """The documented formula, computed directly (quadratic, for small cases)."""
    ew_sum = ew_n = ew_sq = ew_n2 = 0.0
    cum_sum = cum_n = 0.0
    for s, votes in votes_by_day.items():
        if s > t:
            continue
        w = 0.5 ** ((t - s) / h)
        ew_sum += w * sum(votes)
        ew_n += w * len(votes)
        ew_sq += w * sum(v * v for v in votes)
        ew_n2 += w * w * len(votes)
        cum_sum += sum(votes)
        cum_n += len(votes)
    prior = cum_sum / (cum_n + k)
    index = (ew_sum + k * prior) / (ew_n + k)
    var = max((ew_sq + k) / (ew_n + k) - index**2, 0.0)
    n_eff = (ew_n + k) ** 2 / (ew_n2 + k)
    se = math.sqrt(var / n_eff)
    return 100 * index, max(-100, 100 * (index - 1.96 * se)), min(100, 100 * (index + 1.96 * se))


# -- reputation_daily ---------------------------------------------------------------------------


def test_reputation_daily_matches_the_documented_formula():
    w = World(reputation_half_life_days=10, reputation_prior_weight=4.0)
    start = date(2024, 6, 1)
    w.say(start, "positive", "Alice")
    w.say(start, "positive", "Bob")
    w.say(start + timedelta(days=3), "negative", "Carl")
    w.say(start + timedelta(days=3), "neutral", "Dan")
    w.say(start + timedelta(days=10), "positive", "Eve")
    w.build()
    votes = {0: [1.0, 1.0], 3: [-1.0, 0.0], 10: [1.0]}
    for t in (0, 1, 3, 9, 10, 29):
        row = index_at(w, start + timedelta(days=t))
        index, lower, upper = expected_index(votes, t, 10, 4.0)
        assert row["reputation_index"] == pytest.approx(index, abs=1e-9)
        assert row["reputation_lower"] == pytest.approx(lower, abs=1e-9)
        assert row["reputation_upper"] == pytest.approx(upper, abs=1e-9)
        assert row["reputation_lower"] <= row["reputation_index"] <= row["reputation_upper"]


def test_every_day_has_a_row_and_the_index_decays_towards_the_prior():
    w = World(reputation_half_life_days=7)
    for i in range(20):
        w.say("2024-06-01 09:00", "positive", f"fan{i}")
    w.build()
    rows = w.rows("select * from reputation_daily where brand = 'Acme' order by day")
    assert [r["day"] for r in rows] == [date(2024, 6, 1) + timedelta(days=i) for i in range(30)]
    assert sum(r["n_mentions"] for r in rows) == 20
    gaps = [abs(r["reputation_index"] - r["reputation_prior"]) for r in rows]
    assert all(a > b for a, b in itertools.pairwise(gaps)), "decays monotonically"
    assert (
        rows[0]["reputation_index"]
        > rows[-1]["reputation_index"]
        > rows[-1]["reputation_prior"] - 1e-9
    )
    widths = [r["reputation_upper"] - r["reputation_lower"] for r in rows]
    assert widths[-1] > widths[0], "less evidence, wider bounds"
    # the keys are unique
    assert w.one("select count(*) - count(distinct (brand, day)) from reputation_daily") == 0


def test_one_vote_per_person_per_day():
    prolific, single = World(), World()
    for i in range(10):
        prolific.say(f"2024-06-10 {8 + i:02d}:00", "negative", "Troll")
    single.say("2024-06-10 08:00", "negative", "Troll")
    for w in (prolific, single):
        w.say("2024-06-10 09:30", "positive", "Alice")
        w.build()
    a, b = index_at(prolific, "2024-06-30"), index_at(single, "2024-06-30")
    assert a["reputation_index"] == pytest.approx(b["reputation_index"])
    assert a["n_votes"] == 0 and index_at(prolific, "2024-06-10")["n_votes"] == 2
    day = index_at(prolific, "2024-06-10")
    assert (day["n_mentions"], day["n_voices"], day["n_negative"]) == (11, 2, 10)
    # an author's mixed labels on one day are averaged into one vote
    mixed = World()
    mixed.say("2024-06-10 08:00", "negative", "Alice")
    mixed.say("2024-06-10 09:00", "positive", "Alice")
    mixed.build()
    assert index_at(mixed, "2024-06-10")["reputation_index"] == pytest.approx(0.0)


def test_a_days_votes_are_summed_in_voice_order_whatever_the_rows_order():
    """vote_sum and vote_sq are the float sums of the day's votes in voice_id order, left to
    right: the same bits whatever order the store keeps the mentions in."""
    mixes = [("positive", "negative", "negative"), ("positive", "positive", "neutral")]
    mixes += [("positive",) + ("neutral",) * k for k in range(1, 7)]
    people = [(f"voix{i}", mixes[i % len(mixes)]) for i in range(40)]
    sums = []
    for order in (people, people[::-1]):
        w = World()
        for name, labels in order:
            for hour, label in enumerate(labels):
                w.say(f"2024-06-10 {8 + hour:02d}:00", label, name)
        w.build()
        votes = w.con.execute(
            "select avg(label_score) from stg_mentions where day = '2024-06-10' "
            "group by voice_id order by voice_id"
        ).fetchall()
        vote_sum = vote_sq = 0.0
        for (vote,) in votes:
            vote_sum += vote
            vote_sq += vote * vote
        row = w.con.execute(
            "select vote_sum, vote_sq from stg_brand_days where day = '2024-06-10'"
        ).fetchone()
        assert row == (vote_sum, vote_sq)
        sums.append(row)
    assert sums[0] == sums[1]
    assert sum(v for (v,) in reversed(votes)) != sums[0][0]  # the order matters here


def test_thin_evidence_is_shrunk():
    one, many = World(), World()
    one.say("2024-06-29", "positive", "Alice")
    for i in range(200):
        many.say("2024-06-29", "positive", f"fan{i}")
    for w in (one, many):
        w.build()
    thin, thick = index_at(one, "2024-06-30"), index_at(many, "2024-06-30")
    assert 0 < thin["reputation_index"] < 20 < 90 < thick["reputation_index"] < 100
    assert (thin["reputation_upper"] - thin["reputation_lower"]) > 3 * (
        thick["reputation_upper"] - thick["reputation_lower"]
    )


def test_duplicates_and_unscored_mentions():
    w = World()
    first = w.doc("2024-06-10", "Alice")
    w.mention(first, "Acme", "negative")
    copy = w.doc("2024-06-10", "Alice", site="autre.fr", duplicate_of=first)
    w.mention(copy, "Acme", "negative")
    w.say("2024-06-10", None, "Bob")  # not French: counted, not scored
    w.build()
    day = index_at(w, "2024-06-10")
    assert (day["n_mentions"], day["n_voices"], day["n_negative"], day["n_votes"]) == (2, 2, 1, 1)
    assert day["net_sentiment"] == -1.0


def test_days_are_cut_in_the_configured_time_zone():
    w = World()
    w.say("2024-06-10 22:30+00:00", "positive", "Alice")  # 00:30 on the 11th in Paris
    w.build()
    assert w.one("select min(day) from reputation_daily") == date(2024, 6, 11)
    utc = World(timezone="UTC")
    utc.say("2024-06-10 22:30+00:00", "positive", "Alice")
    utc.build()
    assert utc.one("select min(day) from reputation_daily") == date(2024, 6, 10)


def test_net_sentiment_and_mentions_after_as_of_are_ignored():
    w = World()
    w.say("2024-06-10", "positive", "A")
    w.say("2024-06-10", "positive", "B")
    w.say("2024-06-10", "negative", "C")
    w.say("2024-06-10", "neutral", "D")
    w.say("2024-07-10", "negative", "Future")
    w.build()
    day = index_at(w, "2024-06-10")
    assert day["net_sentiment"] == pytest.approx(1 / 3)
    assert w.one("select max(day) from reputation_daily") == date(2024, 6, 30)
    assert w.one("select count(*) from authors where author = 'Future'") == 0


def test_buzz_z_and_buzz_ratio():
    w = World()
    start = date(2024, 3, 1)
    pattern = [1, 2, 3, 2]
    counts = [pattern[i % 4] for i in range(100)] + [20]
    for i, n in enumerate(counts):
        for j in range(n):
            w.say(start + timedelta(days=i), "neutral", f"p{j}")
    spike_day = start + timedelta(days=100)
    w.build(now=datetime.combine(spike_day, datetime.min.time(), UTC) + timedelta(hours=20))
    past = counts[10:100]  # the previous 90 days
    med = statistics.median(past)
    mad = statistics.median([abs(x - med) for x in past])
    row = index_at(w, spike_day)
    assert row["buzz_z"] == pytest.approx((20 - med) / (1.4826 * mad))
    baseline = statistics.mean(counts[4:94])  # 90 days before the 7-day window
    assert row["buzz_ratio"] == pytest.approx(sum(counts[94:101]) / (7 * baseline))
    early = index_at(w, start + timedelta(days=20))
    assert early["buzz_z"] is None and early["buzz_ratio"] is None  # under 28 days of history


def test_buzz_z_falls_back_on_mean_absolute_deviation_for_sparse_counts():
    w = World()
    start = date(2024, 3, 1)
    for i in range(0, 60, 10):
        w.say(start + timedelta(days=i), "negative", f"p{i}")
    for j in range(5):
        w.say(start + timedelta(days=60), "negative", f"q{j}")
    w.build(now=datetime(2024, 4, 30, 20, tzinfo=UTC))
    row = index_at(w, start + timedelta(days=60))
    past = [1 if i % 10 == 0 else 0 for i in range(60)]
    mean_ad = statistics.mean(past)  # the median is 0
    assert row["negative_z"] == pytest.approx(5 / (1.2533 * mean_ad))


# -- authors ------------------------------------------------------------------------------------


def test_authors_status_turned_and_regular():
    w = World()
    for month, label in ((1, "positive"), (2, "positive"), (4, "negative"), (5, "negative")):
        w.say(f"2024-0{month}-15 10:00", label, "Claire")
    w.say("2024-06-20 10:00", "negative", "Claire", brand="Globex")
    w.say("2024-06-01", "positive", "Fan")
    w.say("2024-06-02", "positive", "Fan")
    w.say("2024-06-01", "negative", "Grumpy")
    w.say("2024-06-02", "neutral", "Calm")
    w.build()
    rows = {r["author"]: r for r in w.rows("select * from authors")}
    claire = rows["Claire"]
    assert claire["status"] == "turned" and claire["turned_to"] == "detractor"
    assert claire["turned_at"] == datetime(2024, 4, 15, 10, tzinfo=UTC)
    assert claire["is_regular"] and claire["n_mentions"] == 5 and claire["n_threads"] == 5
    assert claire["brands"] == ["Acme", "Globex"]
    assert claire["mean_sentiment"] == pytest.approx(-0.2)
    # last 90 days (from 2024-04-02): -1 -1 -1; before: 1 1
    assert claire["trend"] == pytest.approx(-2.0)
    assert [rows[n]["status"] for n in ("Fan", "Grumpy", "Calm")] == [
        "promoter",
        "detractor",
        "neutral",
    ]
    assert not rows["Fan"]["is_regular"] and rows["Fan"]["trend"] is None
    statuses = {r[0] for r in w.con.execute("select status from authors").fetchall()}
    assert statuses <= {"promoter", "detractor", "neutral", "turned"}
    assert w.one("select count(*) - count(distinct author_id) from authors") == 0


def test_authors_are_a_name_on_a_site_and_official_accounts_are_left_out():
    w = World()
    w.say("2024-06-01", "positive", "Alice", site="blog.fr")
    w.say("2024-06-02", "positive", " alice ", site="www.blog.fr")
    w.say("2024-06-03", "negative", "Alice", site="forum.fr")
    w.say("2024-06-03", "neutral", "service  client ACME", site="blog.fr")
    w.build()
    rows = w.rows("select site, n_mentions from authors order by site")
    assert rows == [{"site": "blog.fr", "n_mentions": 2}, {"site": "forum.fr", "n_mentions": 1}]


# -- threads ------------------------------------------------------------------------------------


def test_threads_answers_tone_and_voices():
    w = World()
    post = w.doc("2024-06-10 08:00", "Carl", title="Commande Acme jamais arrivée")
    w.mention(post, "Acme", "negative")
    thread = w.url(post)
    comments = [
        ("2024-06-10 09:00", "Dan", "negative"),
        ("2024-06-10 10:00", "Eve", None),  # names no brand: no mention, still a comment
        ("2024-06-10 14:00", "SERVICE CLIENT ACME", "neutral"),
        ("2024-06-10 15:00", "Dan", "positive"),
        ("2024-06-10 16:00", "Fred", "positive"),
        ("2024-06-10 17:00", "Gina", "neutral"),
    ]
    for when, author, label in comments:
        c = w.doc(when, author, kind="comment", thread=thread, parent=post)
        if label:
            w.mention(c, "Acme", label)
    other = w.doc("2024-06-11 08:00", "Hugo", title="Globex top")
    w.mention(other, "Globex", "positive")
    w.doc("2024-06-11 09:00", "Service client Acme", kind="comment", thread=w.url(other))
    w.doc("2024-06-11 09:00", "Nobody", title="Sans marque")
    w.build()
    rows = {r["thread_url"]: r for r in w.rows("select * from threads")}
    assert len(rows) == 2, "threads naming no brand are left out"
    t = rows[thread]
    assert t["title"] == "Commande Acme jamais arrivée" and t["brands"] == ["Acme"]
    assert (t["n_comments"], t["n_voices"]) == (6, 5)
    assert t["is_answered"] and t["first_answer_at"] == datetime(2024, 6, 10, 14, tzinfo=UTC)
    assert t["hours_to_first_answer"] == pytest.approx(6.0)
    assert t["post_sentiment"] == -1.0
    assert t["comments_sentiment"] == pytest.approx(0.25)  # -1, +1, +1, 0
    assert t["final_tone"] == "positive"  # Dan +1, Fred +1, Gina 0
    assert t["last_comment_at"] == datetime(2024, 6, 10, 17, tzinfo=UTC)
    # an official account of another brand is not an answer
    o = rows[w.url(other)]
    assert not o["is_answered"] and o["first_answer_at"] is None
    assert o["final_tone"] is None and o["n_comments"] == 1
    tones = {r[0] for r in w.con.execute("select final_tone from threads").fetchall()}
    assert tones <= {"positive", "neutral", "negative", None}


# -- share_of_voice, aspects_daily ---------------------------------------------------------------


def test_share_of_voice_fills_silent_competitors():
    w = World()
    for i in range(3):
        w.say("2024-06-04", "positive", f"a{i}")  # a Tuesday
    w.say("2024-06-05", "negative", "b0", brand="Globex")
    w.say("2024-06-12", "negative", "b1", brand="Acme")
    w.build()
    rows = w.rows("select * from share_of_voice where brand = 'Acme' order by week, competitor")
    assert [(r["week"], r["competitor"], r["n_mentions"]) for r in rows] == [
        (date(2024, 6, 3), "Acme", 3),
        (date(2024, 6, 3), "Globex", 1),
        (date(2024, 6, 10), "Acme", 1),
        (date(2024, 6, 10), "Globex", 0),
    ]
    assert rows[0]["share_of_mentions"] == pytest.approx(0.75)
    assert rows[3]["share_of_voices"] == 0.0 and rows[3]["net_sentiment"] is None
    sums = w.con.execute(
        "select sum(share_of_mentions) from share_of_voice group by week, brand"
    ).fetchall()
    assert all(s[0] == pytest.approx(1.0) for s in sums)
    # Globex has no competitors: its set is itself
    assert (
        w.one("select count(distinct competitor) from share_of_voice where brand = 'Globex'") == 1
    )


def test_aspects_daily():
    w = World()
    d1 = w.doc("2024-06-10", "A")
    w.mention(d1, "Acme", "negative")
    w.con.execute(
        "update raw.mentions set aspects = ['prix', 'service client'], "
        'aspect_sentiment = \'{"prix": -0.5, "service client": 0.4}\' '
        "where document_id = ?",
        [d1],
    )
    d2 = w.doc("2024-06-10", "B")
    w.mention(d2, "Acme", "positive")
    w.con.execute(
        "update raw.mentions set aspects = ['prix'], aspect_sentiment = '{\"prix\": 0.1}' "
        "where document_id = ?",
        [d2],
    )
    w.build()
    rows = w.rows("select * from aspects_daily order by aspect")
    assert [(r["aspect"], r["n_mentions"], r["n_positive"], r["n_negative"]) for r in rows] == [
        ("prix", 2, 0, 1),
        ("service client", 1, 1, 0),
    ]
    assert rows[0]["mean_sentiment"] == pytest.approx(-0.2)
    assert rows[0]["day"] == date(2024, 6, 10)


# -- documentation -------------------------------------------------------------------------------


def test_every_mart_and_column_is_commented():
    w = World()
    w.say("2024-06-10", "positive", "A")
    w.build()
    for mart in MARTS:
        comment = w.one(
            "select comment from duckdb_tables() where table_name = ? and schema_name = 'main'",
            [mart],
        )
        assert comment, f"{mart} has no COMMENT ON TABLE"
        missing = w.con.execute(
            "select column_name from duckdb_columns() where table_name = ? "
            "and schema_name = 'main' and (comment is null or comment = '')",
            [mart],
        ).fetchall()
        assert not missing, f"{mart}: columns without a comment: {missing}"


def test_build_is_repeatable_and_atomic():
    w = World()
    w.say("2024-06-10", "positive", "A")
    w.build()
    first = w.rows("select * from reputation_daily order by brand, day")
    w.build()
    assert w.rows("select * from reputation_daily order by brand, day") == first
    bad = replace(w.config, settings=replace(w.config.settings, timezone="Nowhere/Atlantis"))
    with pytest.raises(duckdb.Error):  # fails in the SQL, midway through the transaction
        build.build(w.con, bad, NOW, as_of=NOW.date())
    assert w.rows("select * from reputation_daily order by brand, day") == first


def test_a_half_life_too_short_for_the_history_is_refused():
    w = World(reputation_half_life_days=1)
    w.say("2020-01-01", "positive", "A")
    with pytest.raises(Exception, match="reputation_half_life_days"):
        w.build()
