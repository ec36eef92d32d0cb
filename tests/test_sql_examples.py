"""Every ready query in sql/examples runs on a built store and returns rows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from listening.marts.campaigns import add_campaign, make_campaign
from listening.store import sql_dir
from tests.test_marts import World

EXAMPLES = sorted((sql_dir() / "examples").glob("*.sql"))
NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def world() -> World:
    w = World()
    start = date(2024, 1, 1)
    for i in range(181):
        day = start + timedelta(days=i)
        for j in range(1 + (i % 3)):
            w.say(day, "positive" if (i + j) % 4 else "negative", f"fan{j}-{i % 5}")
        w.say(day, "neutral", f"g{i % 3}", brand="Globex")
    for j in range(12):  # a spike
        w.say(date(2024, 6, 20), "negative", f"angry{j}")
    for month, label in ((1, "positive"), (2, "positive"), (4, "negative"), (6, "negative")):
        w.say(f"2024-0{month}-15 10:00", label, "Claire")
    post = w.doc("2024-06-25 08:00", "Carl", title="Commande Acme perdue")
    w.mention(post, "Acme", "negative")
    for h, author in ((1, "Dan"), (2, "Eve")):
        c = w.doc(
            datetime(2024, 6, 25, 8 + h, tzinfo=UTC), author, kind="comment", thread=w.url(post)
        )
        w.mention(c, "Acme", "negative")
    answered = w.doc("2024-06-20 08:00", "Zoé", title="Acme ?")
    w.mention(answered, "Acme", "neutral")
    w.doc(
        datetime(2024, 6, 20, 11, tzinfo=UTC),
        "Service client Acme",
        kind="comment",
        thread=w.url(answered),
    )
    w.con.execute(
        "update raw.mentions set aspects = ['prix'], aspect_sentiment = ? "
        "where document_id in (select document_id from raw.documents "
        "where published_at > '2024-05-01' limit 50)",
        [json.dumps({"prix": -0.3})],
    )
    add_campaign(
        w.con, make_campaign("Spot", "Acme", "tv", date(2024, 3, 1), date(2024, 3, 14)), NOW
    )
    w.build(now=NOW)
    return w


def test_there_are_at_least_ten_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_returns_rows(world: World, path: Path):
    text = path.read_text("utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("-- ") and lines[1].startswith("-- "), "a header comment"
    assert all(len(line) <= 80 for line in lines), "80 columns"
    rows = world.con.execute(text).fetchall()
    assert rows, f"{path.name} returned no rows on the test store"
