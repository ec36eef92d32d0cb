"""Stages wired together: analyze after collect, corrections kept across re-scoring."""

from datetime import timedelta

from listening import pipeline, store
from listening.store.overrides import pending_overrides, record_override
from tests.test_collect import NOW, collect, write_config


def test_analyst_correction_reaches_the_store_and_survives_rescoring(tmp_path, blog, monkeypatch):
    import listening.analyze.sentiment

    monkeypatch.setattr(listening.analyze.sentiment, "SENTIMENT_VERSION", "fr-0-older")
    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    config, _ = collect(tmp_path)
    db = config.store_path
    stats = pipeline.analyze_stage(config, db, now=NOW)
    assert stats.n_mentions >= 2
    con = store.open_reader(db)
    mention_id, label = con.execute(
        "select mention_id, sentiment_label from mentions where author = 'Julie'"
    ).fetchone()
    con.close()
    assert label == "negative"
    # The dashboard never opens the live store: it leaves the correction for the writer.
    record_override(db, mention_id, "neutral", "plainte générale", "analyste", NOW)
    assert pending_overrides(db) == {mention_id: "neutral"}
    pipeline.build_stage(config, db, now=NOW + timedelta(hours=1))
    assert pending_overrides(db) == {}
    monkeypatch.undo()  # the current scorer: everything the older one scored is re-scored
    again = pipeline.analyze_stage(config, db, rescore=True, now=NOW + timedelta(hours=2))
    assert again.n_documents == stats.n_documents
    con = store.open_reader(db)
    row = con.execute(
        "select sentiment_label, is_overridden from mentions where mention_id = ?", [mention_id]
    ).fetchone()
    assert row == ("neutral", True)


def test_a_document_the_analysis_fails_on_is_reported_and_the_others_are_analysed(
    tmp_path, blog, monkeypatch
):
    import listening.analyze.target as target

    real = target.get_target_scorer()

    class FailsOnOneText:
        def score(self, haystack, *args, **kwargs):
            if "ne répond jamais" in haystack:
                raise ValueError("a scorer bug")
            return real.score(haystack, *args, **kwargs)

    monkeypatch.setattr(target, "get_target_scorer", FailsOnOneText)
    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    config, _ = collect(tmp_path)
    db = config.store_path
    stats = pipeline.analyze_stage(config, db, now=NOW)
    assert [error for _, error in stats.failed] == ["ValueError: a scorer bug"]
    failed_id = stats.failed[0][0]
    con = store.open_reader(db)
    authors = {r[0] for r in con.execute("select author from mentions").fetchall()}
    con.close()
    assert "Julie" not in authors and len(authors) >= 1  # the others went on
    # left unanalysed: the next run, with the bug fixed, analyses it
    monkeypatch.undo()
    again = pipeline.analyze_stage(config, db, now=NOW + timedelta(hours=1))
    assert (again.n_documents, again.failed) == (1, [])
    con = store.open_reader(db)
    assert con.execute(
        "select author from mentions where document_id = ?", [failed_id]
    ).fetchone() == ("Julie",)
    con.close()
