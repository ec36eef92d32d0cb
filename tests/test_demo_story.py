"""The demo world tells its story through the real pipeline (issue 2 and 6 acceptance).

A TV campaign makes buzz but leaves reputation flat; a product defect slowly erodes Orvéa's
reputation and opens exactly one drift alert; Fournil Dupré recovers after fixing its
customer service.
"""

from datetime import date

import pytest

from listening import store
from listening.demo.world import DEFAULT_END, build_world


@pytest.fixture(scope="module")
def con(demo_store):
    db, _ = demo_store
    con = store.open_reader(db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def story():
    world = build_world("http://127.0.0.1:1", end=DEFAULT_END)
    return {e["kind"]: e for e in world.story()}


def index_on(con, brand: str, day: date) -> float:
    return con.execute(
        "select reputation_index from reputation_daily where brand = ? and day = ?", [brand, day]
    ).fetchone()[0]


def test_summary_names_every_brand(demo_store):
    _, lines = demo_store
    text = "\n".join(lines)
    for brand in ("Fournil Dupré", "Orvéa", "Ambrelle", "Maison Kervalec", "Telzio", "Tissandre"):
        assert brand in text
    assert "make dashboard" in text


def test_every_layer_is_filled(con):
    for relation in ("documents", "mentions", *store.mart_names()):
        assert con.execute(f"select count(*) from {relation}").fetchone()[0] > 0, relation
    # Threads keep who answered whom.
    assert (
        con.execute("select count(*) from documents where parent_id is not null").fetchone()[0]
        > 100
    )


def test_every_kind_of_source_is_collected(con):
    """A blog whose comments live only in its pages, a site found by autodiscovery."""
    page_comments, site_docs = con.execute(
        "select count(*) filter (where source = 'cuisine-de-mamie' and kind = 'comment'), "
        "count(*) filter (where source = 'le-fil-local') from documents"
    ).fetchone()
    assert page_comments > 0 and site_docs > 0
    assert (
        con.execute("select count(*) from source_health where last_error is not null").fetchone()[0]
        == 0
    )


def test_tv_campaign_makes_buzz_not_reputation(con, story):
    during = con.execute(
        "select buzz_lift, is_change_within_bounds, reputation_change from campaign_impact "
        "where brand = ? and period = 'during'",
        [story["campaign"]["brand"]],
    ).fetchone()
    buzz_lift, within_bounds, change = during
    assert buzz_lift >= 3, during
    assert within_bounds, f"reputation moved {change:+.1f} points during the campaign"


def test_product_defect_erodes_reputation_with_one_drift_alert(con, story):
    defect = story["defect"]
    brand = defect["brand"]
    start, end = defect["start"], defect["end"]
    assert index_on(con, brand, end) < index_on(con, brand, start) - 5
    drifts = con.execute(
        "select summary, opened_at from alerts where rule = 'reputation_drift' and brand = ? "
        "and summary like '%baisse%'",
        [brand],
    ).fetchall()
    assert len(drifts) == 1, drifts
    # dated within the defect, not from the months the index wandered before it
    assert start <= drifts[0][1].date() <= end, drifts


def test_recovering_brand_turns_up(con, story):
    fix = story["care_fix"]
    brand = fix["brand"]
    assert index_on(con, brand, fix["end"]) > index_on(con, brand, fix["start"]) + 5
    rises = con.execute(
        "select count(*) from alerts where rule = 'reputation_drift' and brand = ? "
        "and summary like '%hausse%'",
        [brand],
    ).fetchone()[0]
    assert rises >= 1


@pytest.mark.slow
def test_make_demo_runs_the_three_dags_and_builds_the_same_store(demo_store, tmp_path):
    """`make demo` = `listening demo --airflow`: Airflow runs the DAGs, same store as the CLI."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "listening.cli", "demo", "--airflow", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for dag in ("listening_collect", "listening_analyze", "listening_reputation"):
        assert f"airflow dags test {dag}: success" in proc.stdout
    via_airflow = store.open_reader(tmp_path / "listening.duckdb")
    via_cli = store.open_reader(demo_store[0])
    query = (
        "select (select count(*) from documents), (select count(*) from mentions), "
        "(select count(*) from reputation_daily where day <= date '2026-10-31'), "
        "(select count(*) from campaign_impact)"
    )
    assert via_airflow.execute(query).fetchone() == via_cli.execute(query).fetchone()
