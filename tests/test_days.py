"""Days are local everywhere (issue 11.1): the day a build stands for is cut in
settings.timezone like the mentions' ``day``, at both ends of the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from listening.days import build_day, local_date
from tests.test_marts import World


def test_a_paris_build_at_0145_includes_a_mention_of_0130():
    w = World(timezone="Europe/Paris")
    # 01:30 and 01:45 on 11 June in Paris (CEST, UTC+2) are still 10 June in UTC
    w.say(datetime(2024, 6, 10, 23, 30, tzinfo=UTC), "negative", "Nuit")
    w.build(now=datetime(2024, 6, 10, 23, 45, tzinfo=UTC))
    assert w.rows("select day, n_mentions from reputation_daily") == [
        {"day": date(2024, 6, 11), "n_mentions": 1}
    ]
    assert w.one("select count(*) from authors where author = 'Nuit'") == 1


def test_a_montreal_build_at_2100_writes_no_row_for_tomorrow():
    w = World(timezone="America/Montreal")
    w.say(datetime(2024, 6, 10, 14, 0, tzinfo=UTC), "positive", "Jour")  # 10:00 in Montréal
    # 21:00 on 10 June in Montréal (EDT, UTC-4) is already 11 June in UTC
    w.build(now=datetime(2024, 6, 11, 1, 0, tzinfo=UTC))
    assert w.one("select max(day) from reputation_daily") == date(2024, 6, 10)
    assert w.one("select count(*) from reputation_daily where day > date '2024-06-10'") == 0


def test_alerts_are_dated_and_kept_recent_in_local_days():
    """An alert whose last day is the local today is recent, even when UTC is a day ahead."""
    w = World(timezone="America/Montreal", alert_lookback_days=0)
    start = datetime(2024, 1, 1, 15, tzinfo=UTC)
    for i in range(0, 99, 3):
        w.say(start + timedelta(days=i), "negative", f"r{i}")
    for j in range(9):
        w.say(datetime(2024, 4, 10, 16, j, tzinfo=UTC), "negative", f"s{j}")
    # 21:00 on 10 April in Montréal: UTC is on 11 April
    w.build(now=datetime(2024, 4, 11, 1, 0, tzinfo=UTC), webhook_url="http://127.0.0.1:9/")
    spike = w.rows("select * from alerts where rule = 'negative_spike'")
    assert len(spike) == 1
    # still going on the local today: open, and pending delivery (recent)
    assert spike[0]["closed_at"] is None
    assert spike[0]["delivery_status"] in ("pending", "failed")
    assert "le 10 avril :" in spike[0]["summary"]


@pytest.mark.parametrize(
    ("now", "zone", "today"),
    [
        (datetime(2024, 6, 10, 23, 45, tzinfo=UTC), "Europe/Paris", date(2024, 6, 11)),
        (datetime(2024, 6, 11, 1, 0, tzinfo=UTC), "America/Montreal", date(2024, 6, 10)),
        (datetime(2024, 1, 10, 23, 45, tzinfo=UTC), "Europe/Paris", date(2024, 1, 11)),
    ],
)
def test_local_date_and_the_day_a_build_stands_for(now, zone, today):
    assert local_date(now, zone) == today
    assert build_day(now, zone) == today
    # the 06:00 daily run stands for the day that just ended, never a partial today
    assert build_day(now, zone, complete_days_only=True) == date.fromordinal(today.toordinal() - 1)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="aware"):
        local_date(datetime(2024, 6, 10, 12), "Europe/Paris")
