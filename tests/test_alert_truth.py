"""The alerts raised on the demo world against what the world planted (issue 11.3): every
required alert of a planted event fires (recall 100%) and at least 80% of the alerts that infer
a change point to a planted event (precision), over the 18 months."""

from __future__ import annotations

import json

import pytest

from listening import store
from listening.demo.truth import evaluate, read_alerts, report


@pytest.fixture(scope="module")
def truth_and_alerts(demo_store):
    db, _ = demo_store
    truth = json.loads((db.parent / "ground_truth.json").read_text("utf-8"))
    con = store.open_reader(db)
    try:
        yield truth, read_alerts(con, "Europe/Paris")
    finally:
        con.close()


def test_the_demo_writes_what_it_planted(truth_and_alerts):
    truth, _ = truth_and_alerts
    by_id = {e["id"]: e for e in truth["events"]}
    assert {"campaign", "defect", "care_fix", "turned_regulars"} <= set(by_id)
    assert by_id["campaign"]["brand"] == "Ambrelle"
    assert by_id["campaign"]["alerts"] == ["buzz_spike"]
    assert by_id["defect"]["alerts"] == ["reputation_drift:baisse"]
    assert by_id["care_fix"]["alerts"] == ["reputation_drift:hausse"]
    assert len(by_id["turned_regulars"]["people"]) == 6


def test_alerts_on_the_demo_world_have_full_recall_and_80_percent_precision(truth_and_alerts):
    truth, raised = truth_and_alerts
    ev = evaluate(truth, raised)
    note = report(ev)
    assert ev.missed == [], note
    assert ev.recall == 1.0, note
    assert len(ev.scored) >= ev.n_required, note
    assert ev.precision >= 0.8, note
    # nothing is « critique » on a handful of mentions
    assert all(a.rule != "negative_spike" or "critique" not in a.summary for a, _ in ev.scored)


def test_a_false_alarm_lowers_precision():
    """The measure itself: an alert for a brand and rule nothing planted counts against."""
    from datetime import date

    from listening.demo.truth import RaisedAlert

    truth = {
        "end": "2026-10-31",
        "events": [
            {
                "id": "campaign",
                "kind": "campaign",
                "brand": "Ambrelle",
                "start": "2026-03-02",
                "end": "2026-03-22",
                "alerts": ["buzz_spike"],
                "signals": ["buzz_spike"],
            }
        ],
    }
    hit = RaisedAlert("buzz_spike", "Ambrelle", None, date(2026, 3, 4), None, "")
    early = RaisedAlert("buzz_spike", "Ambrelle", None, date(2025, 7, 9), date(2025, 7, 12), "")
    other = RaisedAlert("negative_spike", "Telzio", None, date(2026, 3, 4), None, "")
    ev = evaluate(truth, [hit, early, other])
    assert (ev.precision, ev.recall) == (pytest.approx(1 / 3), 1.0)
    assert evaluate(truth, [early]).recall == 0.0
