"""Campaigns: the library writers, the CLI wiring, and the campaign_impact mart."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from listening import store
from listening.cli.campaigns import add_parser
from listening.marts.campaigns import (
    CampaignError,
    add_campaign,
    import_campaigns,
    list_campaigns,
    make_campaign,
    read_csv,
)
from tests.test_marts import World

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)


def test_add_is_an_upsert_and_validates():
    con = duckdb.connect()
    store.migrate(con, now=NOW)
    c = make_campaign("Printemps", "Acme", "TV", date(2024, 3, 1), date(2024, 3, 21), ["Acme"])
    add_campaign(con, c, NOW)
    add_campaign(
        con, make_campaign("Printemps", "Acme", "radio", date(2024, 3, 1), date(2024, 3, 28)), NOW
    )
    [got] = list_campaigns(con)
    assert (got.channel, got.end_date, got.campaign_id) == (
        "radio",
        date(2024, 3, 28),
        c.campaign_id,
    )
    with pytest.raises(CampaignError, match="before the start"):
        make_campaign("X", "Acme", "tv", date(2024, 3, 2), date(2024, 3, 1))
    with pytest.raises(CampaignError, match="not in the config"):
        make_campaign("X", "Initech", "tv", date(2024, 3, 1), date(2024, 3, 2), ["Acme"])


def test_csv_import_reports_every_bad_line_and_imports_nothing():
    good = (
        "name,brand,channel,start,end\nA,Acme,tv,2024-01-01,2024-01-10\n"
        "B,Acme,radio,2024-02-01,2024-02-03\n"
    )
    con = duckdb.connect()
    store.migrate(con, now=NOW)
    assert import_campaigns(con, read_csv(io.StringIO(good), ["Acme"]), NOW) == 2
    bad = (
        "name,brand,channel,start,end\nC,Acme,tv,2024-13-01,2024-01-10\n"
        "D,Nope,tv,2024-01-01,2024-01-02\n"
    )
    with pytest.raises(CampaignError) as err:
        read_csv(io.StringIO(bad), ["Acme"])
    assert "line 2" in str(err.value) and "line 3" in str(err.value)
    with pytest.raises(CampaignError, match="lacks the column"):
        read_csv(io.StringIO("name,brand\nA,Acme\n"))
    assert len(list_campaigns(con)) == 2


class Out:
    def __init__(self):
        self.lines: list[str] = []

    def result(self, message):
        self.lines.append(message)

    def say(self, message):
        self.lines.append(message)


def test_cli_add_import_list(tmp_path, capsys):
    config = tmp_path / "listening.toml"
    config.write_text(
        '[settings]\nstore = "data/l.duckdb"\n\n[[brands]]\nname = "Acme"\nquery = "Acme"\n',
        "utf-8",
    )
    parser = argparse.ArgumentParser(prog="listening")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config")
    common.add_argument("--db")
    common.add_argument("-q", "--quiet", action="store_true")
    add_parser(parser.add_subparsers(dest="command"), common)

    def run(*argv):
        out = Out()
        args = parser.parse_args(list(argv))
        assert args.func(args, out) == 0
        return out.lines

    cfg = ("--config", str(config))
    run(
        "campaigns",
        "add",
        *cfg,
        "--name",
        "Printemps TV",
        "--brand",
        "Acme",
        "--channel",
        "tv",
        "--start",
        "2024-03-01",
        "--end",
        "2024-03-21",
    )
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("name,brand,channel,start,end\nÉté,Acme,radio,2024-06-01,2024-06-15\n")
    run("campaigns", "import", str(csv_file), *cfg)
    lines = run("campaigns", "list", *cfg)
    assert len(lines) == 2 and "Printemps TV" in lines[0] and "Été" in lines[1]
    run("campaigns", "list", *cfg, "--csv")
    assert capsys.readouterr().out.splitlines()[0].startswith("campaign_id,name")
    with pytest.raises(CampaignError):
        run(
            "campaigns",
            "add",
            *cfg,
            "--name",
            "X",
            "--brand",
            "Nope",
            "--channel",
            "tv",
            "--start",
            "2024-03-01",
            "--end",
            "2024-03-21",
        )
    # the common options work before or after the action
    lines = run("campaigns", "--config", str(config), "list", "--brand", "Acme")
    assert len(lines) == 2
    args = parser.parse_args(["campaigns", "--db", "x.duckdb", "list", "-q"])
    assert (args.db, args.quiet, args.config) == ("x.duckdb", True, None)
    help_text = parser._subparsers._group_actions[0].choices["campaigns"].format_help()
    assert "example:" in help_text and "listening campaigns" in help_text
    assert "--config" in help_text and "--db" in help_text


def test_campaign_impact_before_during_after():
    w = World(campaign_window_days=10)
    start, end = date(2024, 5, 1), date(2024, 5, 5)
    for i in range(-40, 40):
        day = start + timedelta(days=i)
        n = 6 if start <= day <= end else 1
        for j in range(n):
            w.say(day, "positive", f"p{i}-{j}")
    add_campaign(w.con, make_campaign("Spot", "Acme", "tv", start, end), NOW)
    late = make_campaign("Futur", "Acme", "tv", date(2024, 6, 25), date(2024, 7, 5))
    add_campaign(w.con, late, NOW)
    w.build(now=datetime(2024, 6, 30, 12, tzinfo=UTC))
    rows = w.rows("select * from campaign_impact where name = 'Spot'")
    assert [r["period"] for r in rows] == ["before", "during", "after"]
    before, during, after = rows
    assert (before["period_start"], before["period_end"]) == (date(2024, 4, 21), date(2024, 4, 30))
    assert (during["n_days"], during["n_mentions"], during["mean_daily_mentions"]) == (5, 30, 6)
    assert before["buzz_lift"] == 1.0 and during["buzz_lift"] == 6.0
    assert after["period_end"] == date(2024, 5, 15) and after["is_complete"]
    assert during["reputation_change"] == pytest.approx(
        during["reputation_end"] - during["reputation_start"]
    )
    assert (
        during["reputation_start_lower"]
        <= during["reputation_start"]
        <= during["reputation_start_upper"]
    )
    futur = w.rows("select * from campaign_impact where name = 'Futur'")
    assert [r["is_complete"] for r in futur] == [True, False, False]
    assert futur[2]["n_days"] == 0 and futur[2]["mean_daily_mentions"] is None
    keys = w.one("select count(*) - count(distinct (campaign_id, period)) from campaign_impact")
    assert keys == 0
