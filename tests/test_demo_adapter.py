"""The demo's analysts correct labels; the adapter learned from them reads the world better."""

from listening import store
from listening.analyze.adapter import current_adapter, mention_text
from listening.analyze.sentiment.scorer import get_scorer
from listening.demo.world import DEFAULT_END, build_world


def test_demo_corrections_train_an_adopted_adapter_that_scores_the_mentions(demo_store):
    db, lines = demo_store
    text = "\n".join(lines)
    assert "analysts: " in text and "adopted" in text
    con = store.open_reader(db)
    try:
        runs = con.execute(
            "select n_corrections, cv_base, cv_adapter, is_adopted, adapter_id "
            "from sentiment_adapters"
        ).fetchall()
        by_model = dict(
            con.execute("select scored_by, count(*) from mention_models group by 1").fetchall()
        )
        n_overridden = con.execute("select count(*) from mentions where is_overridden").fetchone()[
            0
        ]
    finally:
        con.close()
    assert len(runs) == 1
    n, cv_base, cv_adapter, adopted, adapter_id = runs[0]
    assert n >= 50 and n == n_overridden
    assert adopted and adapter_id and cv_adapter > cv_base
    assert by_model["adapter"] > 0 and set(by_model) <= {"adapter", "unscored"}


def test_demo_adapter_agrees_with_the_world_more_than_the_base_scorer(demo_store):
    """Judged on the mentions nobody corrected, against what the world's authors meant."""
    import duckdb

    db, _ = demo_store
    con = duckdb.connect(str(store.snapshot_path(db)), read_only=True)
    try:
        adapter = current_adapter(con)
        rows = con.execute(
            "select url, brand, kind, title, text from mentions "
            "where sentiment_label is not null and not is_overridden"
        ).fetchall()
    finally:
        con.close()
    port = rows[0][0].split("/")[2].split(":")[1]
    world = build_world(f"http://127.0.0.1:{port}", end=DEFAULT_END)
    truth = {
        d["url"]: (d["brand"], d["sentiment"])
        for d in world.documents
        if d["sentiment"] and len(d["brands_named"]) <= 1
    }
    scorer = get_scorer()
    n = base_ok = adapter_ok = 0
    for url, brand, kind, title, body in rows:
        if url not in truth or truth[url][0] != brand:
            continue
        t = mention_text(kind, title, body)
        base = scorer.score(t, "fr")
        n += 1
        base_ok += base.label == truth[url][1]
        adapter_ok += adapter.apply(t, base).label == truth[url][1]
    assert n > 1000
    assert adapter_ok > base_ok
