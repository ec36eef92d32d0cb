"""Alert rules, episodes, cooldown, re-runs and webhook delivery over loopback (no mocks)."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from listening.marts.alerts.wording import de, french_date, plural
from tests.test_marts import World

FAST = {"backoff": 0.0, "timeout": (2.0, 2.0)}


class Receiver:
    """A webhook on 127.0.0.1 that records JSON bodies and answers ``status``."""

    def __init__(self):
        self.status = 200
        self.bodies: list[dict] = []
        self.hits = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.hits += 1
                if receiver.status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def at(day: date, hour=20) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def spike_world(spike_offsets=(70,), **settings) -> tuple[World, date]:
    """70+ days with one negative mention every 3 days, then spikes of 8 negatives (each in
    its own thread). A busy background of 4 to 12 neutral threads a day keeps the spikes'
    8 extra threads from being a buzz spike as well."""
    w = World(**settings)
    start = date(2024, 1, 1)
    for i in range(0, 120, 3):
        w.say(start + timedelta(days=i), "negative", f"r{i}")
    busy = random.Random(1)
    for i in range(120):
        for j in range(busy.randint(4, 12)):
            w.say(start + timedelta(days=i), "neutral", f"n{i}-{j}")
    for off in spike_offsets:
        for j in range(8):
            w.say(start + timedelta(days=off), "negative", f"s{off}-{j}")
    return w, start


def local_day(ts: datetime) -> date:
    return ts.astimezone(ZoneInfo("Europe/Paris")).date()


def alerts(w: World, rule: str | None = None) -> list[dict]:
    where = "where rule = ?" if rule else ""
    return w.rows(
        f"select * from alerts {where} order by opened_at, alert_id", [rule] if rule else []
    )


def test_negative_spike_episodes_and_cooldown():
    w, start = spike_world((70, 75, 100), alert_cooldown_days=14)
    w.build(now=at(start + timedelta(days=119)))
    found = alerts(w, "negative_spike")
    assert [local_day(a["opened_at"]) for a in found] == [
        start + timedelta(days=70),
        start + timedelta(days=100),
    ]
    first = found[0]
    assert first["brand"] == "Acme" and first["severity"] in ("warning", "critical")
    assert first["closed_at"] is not None
    assert "Pic de mentions négatives pour Acme du 11 mars au 16 mars" in first["summary"]
    # the negative mentions of the spike days: 8 + 8, and the regular one of day 75
    assert len(first["evidence"]) == 17
    assert first["delivery_status"] == "stored"  # no webhook


def test_alerts_are_stable_across_rebuilds():
    w, start = spike_world((70,))
    now = at(start + timedelta(days=90))
    w.build(now=now)
    before = alerts(w)
    stats = w.build(now=now)
    assert alerts(w) == before and stats.n_new_alerts == 0
    assert len(before) >= 1


def test_cusum_finds_one_drift_episode_not_noisy_days():
    w = World(reputation_half_life_days=30)
    start = date(2023, 6, 1)
    for i in range(200):
        day = start + timedelta(days=i)
        for j in range(4):
            label = "positive" if (i < 150 or (j == 0 and i % 2)) else "negative"
            w.say(day, label, f"p{j}-{i % 7}")
    w.build(now=at(start + timedelta(days=199)))
    drifts = alerts(w, "reputation_drift")
    down = [a for a in drifts if a["subject"] == "baisse"]
    assert len(down) == 1, drifts
    a = down[0]
    assert local_day(a["opened_at"]) >= start + timedelta(days=148)
    since = french_date(local_day(a["opened_at"]), start + timedelta(days=199))
    assert a["summary"].startswith(f"Réputation d'Acme en baisse continue depuis le {since} (−")
    assert a["evidence"]
    assert not [
        x
        for x in drifts
        if x["subject"] == "hausse" and local_day(x["opened_at"]) > start + timedelta(days=60)
    ]


def test_a_regular_who_turns_detractor():
    w = World()
    for month, label in (
        (1, "positive"),
        (2, "positive"),
        (3, "positive"),
        (5, "negative"),
        (6, "negative"),
        (6, "negative"),
    ):
        w.say(f"2024-0{month}-1{month} 10:00", label, "Claire")
    for label in ("positive", "positive", "negative", "negative"):  # one month: not a regular
        w.say("2024-06-10", label, "Passant")
    w.build()
    found = alerts(w, "regular_turned_detractor")
    assert len(found) == 1
    assert found[0]["summary"].startswith("Claire (blog.fr), habitué(e) jusque-là favorable")
    assert len(found[0]["evidence"]) == 3


def test_unanswered_negative_thread():
    w = World(unanswered_hours=48)
    now = datetime(2024, 6, 30, 12, tzinfo=UTC)

    def thread(posted: datetime, answer: datetime | None) -> str:
        post = w.doc(posted, "Carl", title="Livraison Acme")
        w.mention(post, "Acme", "negative")
        for h in (1, 2):
            c = w.doc(posted + timedelta(hours=h), f"x{h}", kind="comment", thread=w.url(post))
            w.mention(c, "Acme", "negative")
        if answer:
            w.doc(answer, "Service client Acme", kind="comment", thread=w.url(post))
        return w.url(post)

    late = thread(now - timedelta(days=4), None)
    thread(now - timedelta(days=4), now - timedelta(days=3))  # answered
    thread(now - timedelta(hours=20), None)  # not yet 48 hours
    w.build(now=now)
    found = alerts(w, "unanswered_negative_thread")
    assert [a["subject"] for a in found] == [late]
    assert found[0]["summary"] == (
        "Discussion « Livraison Acme » devenue négative envers Acme, sans réponse de la marque "
        "depuis le 26 juin à 15 h 00"
    )


def test_webhook_delivery(receiver):
    w, start = spike_world((70,), allow_private_networks=True)
    w.build(now=at(start + timedelta(days=80)), webhook_url=receiver.url, delivery_options=FAST)
    a = alerts(w, "negative_spike")[0]
    assert (a["delivery_status"], a["attempts"]) == ("sent", 1)
    assert a["delivered_at"] is not None
    assert receiver.bodies == [{"text": "🟠 " + a["summary"]}] or receiver.bodies == [
        {"text": "🔴 " + a["summary"]}
    ]
    w.build(now=at(start + timedelta(days=80)), webhook_url=receiver.url, delivery_options=FAST)
    assert len(receiver.bodies) == 1, "sent once"


def test_failed_delivery_is_retried_at_the_next_build(receiver, monkeypatch):
    w, start = spike_world((70,), allow_private_networks=True)
    monkeypatch.setenv("LISTENING_WEBHOOK_URL", receiver.url)
    receiver.status = 500
    now = at(start + timedelta(days=80))
    stats = w.build(now=now, delivery_options=FAST)
    a = alerts(w, "negative_spike")[0]
    assert (a["delivery_status"], a["attempts"]) == ("failed", 3)
    assert "HTTP 500" in a["last_error"] and stats.n_failed == 1
    assert receiver.hits == 3
    receiver.status = 200
    stats = w.build(now=now, delivery_options=FAST)
    a = alerts(w, "negative_spike")[0]
    assert (a["delivery_status"], a["attempts"]) == ("sent", 4) and stats.n_sent == 1
    assert len(receiver.bodies) == 1


def test_private_webhooks_are_refused_unless_allowed(receiver):
    w, start = spike_world((70,))
    w.build(now=at(start + timedelta(days=80)), webhook_url=receiver.url, delivery_options=FAST)
    a = alerts(w, "negative_spike")[0]
    assert a["delivery_status"] == "failed" and "LISTENING_WEBHOOK_URL" in a["last_error"]
    assert receiver.hits == 0


def test_old_episodes_are_stored_not_sent(receiver):
    w, start = spike_world((10 + 60,), allow_private_networks=True, alert_lookback_days=30)
    w.build(now=at(start + timedelta(days=119)), webhook_url=receiver.url, delivery_options=FAST)
    assert [a["delivery_status"] for a in alerts(w, "negative_spike")] == ["stored"]
    assert receiver.hits == 0


def test_french_wording():
    assert french_date(date(2025, 3, 1), date(2025, 6, 1)) == "1er mars"
    assert french_date(date(2024, 8, 2), date(2025, 6, 1)) == "2 août 2024"
    assert (de("Orvéa"), de("Fournil Dupré")) == ("d'Orvéa", "de Fournil Dupré")
    assert plural(1, "mention négative") == "1 mention négative"
    assert plural(3, "mention négative") == "3 mentions négatives"


def test_a_down_receiver_stops_the_round_and_nothing_is_lost(receiver):
    w, start = spike_world((70, 100), allow_private_networks=True, alert_lookback_days=60)
    now = at(start + timedelta(days=110))
    receiver.status = 503
    w.build(now=now, webhook_url=receiver.url, delivery_options=FAST)
    statuses = [a["delivery_status"] for a in alerts(w, "negative_spike")]
    assert statuses == ["failed", "pending"] and receiver.hits == 3
    receiver.status = 200
    w.build(now=now, webhook_url=receiver.url, delivery_options=FAST)
    assert [a["delivery_status"] for a in alerts(w, "negative_spike")] == ["sent", "sent"]
    assert len(receiver.bodies) == 2


def test_failure_notice_goes_through_the_network_guard(tmp_path, feed_server):
    """Airflow's failure callback posts like every alert: a private address is refused."""
    from listening.configfile import load_config
    from listening.store.failures import record_task_failure

    (tmp_path / "listening.toml").write_text(
        '[settings]\nstore = "s.duckdb"\nallow_private_networks = false\n', "utf-8"
    )
    config = load_config(tmp_path / "listening.toml")
    url = feed_server.static("/hook", b"ok", content_type="text/plain")
    pending = record_task_failure(
        config,
        config.store_path,
        "listening_collect",
        "load",
        "run1",
        "boom",
        datetime(2026, 11, 26, tzinfo=UTC),
        webhook_url=url,
    )
    assert feed_server.hits("/hook") == 0
    assert '"delivery": "failed"' in pending.read_text("utf-8")
    # The same notice to the same local receiver, allowed by the config: delivered.
    (tmp_path / "listening.toml").write_text(
        '[settings]\nstore = "s.duckdb"\nallow_private_networks = true\n', "utf-8"
    )
    config = load_config(tmp_path / "listening.toml")
    pending = record_task_failure(
        config,
        config.store_path,
        "listening_collect",
        "load",
        "run2",
        "boom",
        datetime(2026, 11, 26, tzinfo=UTC),
        webhook_url=url,
    )
    assert feed_server.hits("/hook") == 1
    assert '"delivery": "sent"' in pending.read_text("utf-8")


def test_a_slow_fall_is_dated_from_when_the_index_left_its_level():
    """An index that wanders down within its bounds for 100 days, then falls: CUSUM's
    statistic never returns to 0 after the warm-up, so its last 0 would date the fall from the
    first day; the alert opens when the fall takes the index out of the bounds it had at its
    peak (30 - 1.96 x 7 = 16.3, reached 18 days into the fall)."""
    import duckdb

    from listening.config import Config, Settings
    from listening.marts.alerts import rules
    from listening.marts.alerts.episodes import cusum_episodes

    warm_up, se = 30, 7.0
    index = [30.0] * warm_up
    index += [30 - 0.06 * t for t in range(100)]  # wandering: 30 -> 24, within one se
    index += [24 - 0.42 * t for t in range(100)]  # the fall: 24 -> -18
    first = date(2024, 1, 1)
    con = duckdb.connect()
    con.execute(
        "create table reputation_daily as select 'Acme' as brand, "
        "?::date + cast(i as integer) as day, x as reputation_index, "
        "x + 1.96 * ? as reputation_upper, x - 1.96 * ? as reputation_lower, 1 as n_votes "
        "from (select unnest(?) as x, generate_subscripts(?, 1) - 1 as i)",
        [first, se, se, index, index],
    )
    con.execute(  # the evidence's source: no mention here
        "create table stg_mentions (mention_id varchar, brand varchar, is_duplicate boolean, "
        "sentiment_label varchar, day date, published_at timestamptz)"
    )
    config = Config(Path("t.toml"), Settings(reputation_half_life_days=warm_up), (), ())
    tz = ZoneInfo("Europe/Paris")
    as_of = first + timedelta(days=len(index) - 1)
    (fall,) = [a for a in rules._drifts(con, config, tz, as_of) if a.subject == "baisse"]
    opened = fall.opened_at.date() - first
    assert opened == timedelta(days=warm_up + 100 + 18), opened
    # CUSUM alone dates it from the first day after the warm-up
    days = [first + timedelta(days=i) for i in range(warm_up, len(index))]
    n = len(days)
    episodes = cusum_episodes(days, index[warm_up:], [se] * n, [1] * n, -1, config)
    assert [start for start, _, _ in episodes] == [0]


def test_an_alert_later_data_no_longer_shows_is_withdrawn_and_never_delivered(receiver):
    """Late comments or a re-score move an episode: the build withdraws what it no longer
    finds up to as_of (kept in raw.alerts with withdrawn_at), restores it if found again, and
    leaves alone what opened after as_of."""
    from listening.marts.alerts import delivery, episodes

    w = World(allow_private_networks=True)  # the receiver is on 127.0.0.1
    con, config = w.con, w.config
    now = datetime(2024, 6, 30, 12, tzinfo=UTC)

    def found(day: date, subject: str) -> episodes.Alert:
        return episodes.Alert(
            # still going on: recent enough to be sent
            "reputation_drift",
            "Acme",
            subject,
            at(day, 0),
            None,
            date(2024, 6, 29),
            "warning",
            f"{day}",
        )

    old, moved, later = (
        found(date(2024, 3, 1), "baisse"),
        found(date(2024, 4, 2), "baisse"),
        (found(date(2024, 7, 5), "hausse")),
    )
    episodes.store_alerts(con, [old, later], now, config, has_webhook=True, as_of=date(2024, 7, 10))
    episodes.store_alerts(con, [moved], now, config, has_webhook=True, as_of=date(2024, 6, 30))
    shown = {r[0] for r in con.execute("select alert_id from alerts").fetchall()}
    assert shown == {moved.alert_id, later.alert_id}
    withdrawn = con.execute(
        "select alert_id from raw.alerts where withdrawn_at is not null"
    ).fetchall()
    assert withdrawn == [(old.alert_id,)]
    delivery.deliver_pending(con, config, now, receiver.url, **FAST)
    assert sorted(b["text"] for b in receiver.bodies) == ["🟠 2024-04-02", "🟠 2024-07-05"]
    episodes.store_alerts(con, [old, moved], now, config, has_webhook=True, as_of=date(2024, 6, 30))
    shown = {r[0] for r in con.execute("select alert_id from alerts").fetchall()}
    assert shown == {old.alert_id, moved.alert_id, later.alert_id}
