"""Incremental builds: after new data, the marts equal a full rebuild's, row by row.

Hand-built rows in a real DuckDB store (test_marts.World). Each case changes the raw tables the
way a pipeline stage does (load: new documents and comments on old threads, text edits, near
duplicates; analyze: new and re-scored mentions; analysts' overrides; erasures), builds
incrementally, then rebuilds everything and compares every relation.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from listening import store
from listening.marts import build, incremental
from tests.test_marts import MARTS, NOW, World

COMPARED = (*MARTS, "stg_documents", "stg_mentions", "stg_brand_days")


def snapshot(w: World) -> dict[str, list[tuple]]:
    return {t: sorted(w.con.execute(f"select * from {t}").fetchall(), key=repr) for t in COMPARED}


def assert_same_as_full(w: World, now=NOW, scopes=None, **kw) -> build.BuildStats:
    """Build incrementally, then fully: same rows. ``scopes``: the incremental build's
    scope tables, ``{table: rows}``, checked before the full build empties them."""
    stats = w.build(now, **kw)
    assert not stats.is_full, stats.full_reason
    for table, rows in (scopes or {}).items():
        assert w.con.execute(f"select * from {table} order by all").fetchall() == rows, table
    incremental = snapshot(w)
    full = w.build(now, full=True, **kw)
    assert full.is_full and full.full_reason == "asked for (--full)"
    rebuilt = snapshot(w)
    for table in COMPARED:
        assert incremental[table] == rebuilt[table], table
    return stats


def history(w: World) -> dict[str, str]:
    """Four months of posts, comments, answers and duplicates over two brands."""
    ids = {}
    day = NOW.date() - timedelta(days=120)
    for i in range(120):
        d = day + timedelta(days=i)
        label = ("positive", "neutral", "negative")[i % 3]
        post = w.doc(d, f"Auteur {i % 7}", title=f"Titre {i}", site=f"blog{i % 2}.fr")
        w.mention(post, "Acme", label, aspects={"prix": 0.4} if i % 4 == 0 else None)
        if i % 5 == 0:
            w.mention(post, "Globex", "negative", aspects={"livraison": -0.5})
        thread = w.url(post)
        comment = w.doc(d, f"Lectrice {i % 11}", kind="comment", thread=thread, parent=post)
        if i % 2:
            w.mention(comment, "Acme", ("negative", "positive")[i % 4 == 1])
        if i % 6 == 0:
            w.doc(d, "Service client Acme", kind="comment", thread=thread, parent=comment)
        ids[f"post{i}"] = post
        ids[f"thread{i}"] = thread
    w.mention(w.doc(day, "Copie", duplicate_of=ids["post0"]), "Acme", "positive")
    return ids


def test_a_new_day_rebuilds_only_what_changed_and_equals_a_full_rebuild():
    w = World()
    ids = history(w)
    first = w.build()
    assert first.is_full and first.full_reason == "first build"
    # The next day: new posts, a comment on a two-month-old thread by a regular, an official
    # answer, an unscored (English) mention.
    tomorrow = NOW + timedelta(days=1)
    new = w.doc(tomorrow, "Auteur 3", title="Nouveau", site="blog1.fr")
    w.mention(new, "Acme", "negative", aspects={"service client": -0.7})
    late = w.doc(tomorrow, "Lectrice 4", kind="comment", thread=ids["thread60"])
    w.mention(late, "Globex", "positive")
    w.doc(tomorrow, "Service client Acme", kind="comment", thread=ids["thread60"], parent=late)
    w.mention(w.doc(tomorrow, "Reader"), "Acme", None)
    # Only the new day's rows were recomputed in staging, and the per-day rows of its brands
    # and its week
    stats = assert_same_as_full(
        w,
        tomorrow,
        scopes={
            "scope_brand_day": [("Acme", tomorrow.date()), ("Globex", tomorrow.date())],
            "scope_week": [(tomorrow.date() - timedelta(days=tomorrow.weekday()),)],
        },
    )
    assert (stats.n_documents, stats.n_mentions) == (4, 3)
    assert w.one("select count(*) from threads where thread_url = ?", [ids["thread60"]]) == 1
    assert w.one("select n_comments from threads where thread_url = ?", [ids["thread60"]]) == 4


def test_rescoring_overrides_edits_duplicates_and_deletions_equal_a_full_rebuild():
    w = World()
    ids = history(w)
    w.build()
    # analyze re-scores a mention (delete + insert, new analyzed_at), an analyst corrects one
    m = f"m-{ids['post30']}-Acme"
    w.con.execute("delete from raw.mentions where mention_id = ?", [m])
    w.mention(ids["post30"], "Acme", "negative")
    w.con.execute(
        "update raw.mentions set analyzed_at = analyzed_at + interval 1 day where mention_id = ?",
        [m],
    )
    w.con.execute(
        "insert into raw.sentiment_overrides values (?, 'positive', null, 'test', ?)",
        [f"m-{ids['post40']}-Acme", NOW],
    )
    # load marks a near duplicate, a person renames (each with a new change number, as the
    # load gives), a post loses its mention
    renumber = "change_seq = nextval('raw.document_changes')"
    w.con.execute(
        f"update raw.documents set duplicate_of = ?, {renumber} where document_id = ?",
        [ids["post1"], ids["post2"]],
    )
    w.con.execute(
        f"update raw.documents set author = 'Auteur 9', {renumber} where document_id = ?",
        [ids["post3"]],
    )
    w.con.execute("delete from raw.mentions where document_id = ?", [ids["post5"]])
    stats = assert_same_as_full(w)
    assert 0 < stats.n_mentions < 10
    assert stats.n_documents == 2 and not stats.documents_compared


def test_changes_the_numbers_cannot_tell_are_found_by_the_fingerprints():
    """A document deleted, or added with an old change number, by a writer that does not
    number its changes, and a configured source that changes channel (the documents view
    joins it): the build compares every document's fingerprint, and equals a full rebuild."""
    w = World()
    ids = history(w)
    w.build()
    w.doc(NOW, "Auteur 2", title="Nouveau")
    assert not assert_same_as_full(w).documents_compared  # numbered: only what changed
    w.con.execute("delete from raw.mentions where document_id = ?", [ids["post7"]])
    w.con.execute("delete from raw.documents where document_id = ?", [ids["post7"]])
    stats = assert_same_as_full(w)
    assert stats.documents_compared and stats.n_documents == 1
    copy = w.doc(NOW, "Auteur 4", title="Copie")
    w.con.execute("update raw.documents set change_seq = 1 where document_id = ?", [copy])
    stats = assert_same_as_full(w)
    assert stats.documents_compared and stats.n_documents == 1
    w.con.execute(
        "insert into raw.sources (source_id, name, url, kind, channel, is_configured, "
        "created_at, updated_at) values ('s-blog', 'Blog', 'https://www.blog.fr/', 'rss', "
        "'forum', true, ?, ?)",
        [NOW, NOW],
    )
    stats = assert_same_as_full(w)
    assert stats.documents_compared and stats.n_documents > 10
    assert not w.build().documents_compared  # the next build: numbered again


def test_a_changed_day_rebuilds_the_weeks_it_is_in():
    """A conversation seen on day 60 and again on day 63: the later sighting adds it to fewer
    weeks (stg_brand_days.week_conversations). When day 60's mention goes, day 63's row changes
    too: the 6 days after a changed day are rebuilt, each from the 6 days before it."""
    w = World()
    ids = history(w)
    day60 = NOW.date() - timedelta(days=60)
    late = w.doc(day60 + timedelta(days=3), "Lectrice 2", kind="comment", thread=ids["thread60"])
    w.mention(late, "Globex", "negative")
    w.mention(w.doc(day60, "Lectrice 3", kind="comment", thread=ids["thread60"]), "Globex", None)
    w.build()
    weeks = "select week_conversations from stg_brand_days where brand = 'Globex' and day = ?"
    assert w.one(weeks, [day60 + timedelta(days=3)]) == [0, 0, 0, 0, 1, 1, 1]
    # a new mention on day 63: its row is rebuilt, still knowing day 60's sighting
    w.mention(w.doc(day60 + timedelta(days=3), "Auteur 5"), "Globex", "positive")
    assert_same_as_full(w)
    assert w.one(weeks, [day60 + timedelta(days=3)]) == [1, 1, 1, 1, 2, 2, 2]
    w.con.execute(
        "delete from raw.mentions where brand = 'Globex' and document_id in "
        "(select document_id from raw.documents where thread_url = ? and published_at < ?)",
        [ids["thread60"], day60 + timedelta(days=1)],
    )
    assert_same_as_full(w)
    assert w.one(weeks, [day60 + timedelta(days=3)]) == [2] * 7


def test_as_of_moving_on_without_new_data_equals_a_full_rebuild():
    """The authors' 90-day trend and the days after the last as_of move with as_of alone."""
    w = World()
    history(w)
    w.doc(NOW + timedelta(days=3), "Auteur 1")  # after as_of: left out until as_of reaches it
    w.build(as_of=NOW.date())
    stats = assert_same_as_full(w, as_of=NOW.date() + timedelta(days=5))
    assert stats.n_mentions == 0


def test_what_forces_a_full_build():
    w = World()
    history(w)
    assert w.build().full_reason == "first build"
    assert w.build().full_reason is None
    assert w.build(as_of=NOW.date() - timedelta(days=1)).full_reason.startswith("as_of")
    w.build()
    w.config = type(w.config)(
        w.config.path,
        type(w.config.settings)(reputation_half_life_days=60),
        w.config.brands,
        w.config.sources,
    )
    changed = w.build()
    assert changed.full_reason == "settings, config or SQL changed"
    # most rows may differ: written whole, not compared row by row
    assert build.rewritten(changed) == "every relation written whole"
    assert not changed.keys_rewritten and not changed.replaced
    # every relation rebuilt by its keys must be there (the list comes from the SQL headers)
    w.con.execute("drop table stg_brand_days")
    assert w.build().full_reason == "no stg_brand_days from an earlier build"
    w.con.execute("insert into raw.erasures values (?, 'forget', 1, 1, 0, 0, 0, 0, 0)", [NOW])
    assert w.build().full_reason.startswith("an erasure")
    assert w.build(full=True).full_reason == "asked for (--full)"
    kinds = w.con.execute("select list(is_full order by rowid) from raw.builds").fetchone()[0]
    assert kinds == [True, False, True, False, True, True, True, True]


def test_a_full_build_rewrites_only_the_rows_that_differ():
    """A full build computes every relation whole, but writes only the rows that differ from
    the stored ones: a wrong row is corrected, a stray row removed, a lost row restored, each
    counted for the build's log; the rows that were right stay where they are."""
    w = World()
    ids = history(w)
    w.build()
    right = snapshot(w)
    same = w.build(full=True)
    assert snapshot(w) == right
    assert same.keys_rewritten and not any(same.keys_rewritten.values())
    assert build.rewritten(same) == "every stored row was the same"
    assert build.summary(same) == (
        f"{len(same.relations)} relations rebuilt "
        "(full: asked for (--full); every stored row was the same)"
    )

    wrong = ids["post3"]
    w.con.execute("update stg_documents set site = 'faux.fr' where document_id = ?", [wrong])
    w.con.execute("delete from threads where thread_url = ?", [ids["thread5"]])
    w.con.execute(
        "insert into authors select * replace ('inconnu' as author_id) from authors limit 1"
    )
    places = dict(w.con.execute("select document_id, rowid from stg_documents").fetchall())
    stats = w.build(full=True)
    assert snapshot(w) == right
    assert {t: n for t, n in stats.keys_rewritten.items() if n} == {
        "stg_documents": 1,
        "threads": 1,
        "authors": 1,
    }
    assert build.rewritten(stats) == (
        "rows rewritten: stg_documents 1 key, authors 1 key, threads 1 key"
    )
    now = dict(w.con.execute("select document_id, rowid from stg_documents").fetchall())
    assert {d: r for d, r in now.items() if d != wrong} == {
        d: r for d, r in places.items() if d != wrong
    }
    assert now[wrong] > max(places.values())  # deleted and written again, at the end


def full_after(*tampering: str) -> tuple[World, build.BuildStats, dict]:
    """Build the history, run ``tampering`` on the built relations, then build in full: the
    relations must be as built before."""
    w = World()
    history(w)
    w.build()
    right = snapshot(w)
    for statement in tampering:
        w.con.execute(statement)
    stats = w.build(full=True)
    assert snapshot(w) == right
    return w, stats, right


def test_a_full_build_replaces_a_relation_whose_columns_changed_and_keeps_the_query_order():
    """A relation whose stored columns are not the query's (an older SQL) is replaced whole;
    rows rewritten are stored in the query's order (mention_search: by day and brand, which
    the pages' scans skip by)."""
    w, stats, right = full_after(
        "alter table threads add column old_column integer",
        "create or replace table mention_search as "
        "select * replace ('xx' as lang) from mention_search order by day desc, brand desc",
    )
    assert "threads" not in stats.keys_rewritten and stats.replaced == ["threads"]
    assert build.rewritten(stats).endswith("; replaced whole: threads")
    assert stats.keys_rewritten["mention_search"] == len(right["mention_search"])
    stored = w.con.execute(
        "select day, brand, published_at from mention_search order by rowid"
    ).fetchall()
    assert stored == sorted(stored)


def test_a_full_build_rewrites_every_row_of_a_key_that_has_several():
    """aspects_daily has a row per aspect of a brand's day, share_of_voice a row per brand of
    a week: when one of them changes, the key's other rows are kept too (a full build after
    a data change equals one that creates every relation anew)."""
    w = World()
    ids = history(w)
    day = NOW.date() - timedelta(days=120)  # post0's day: Acme's mention there has 'prix'
    w.mention(w.doc(day, "Autre", site="blog9.fr"), "Acme", "positive", aspects={"service": 0.5})
    w.build()
    w.con.execute(
        "update raw.mentions set aspect_sentiment = '{\"prix\": -0.9}' "
        "where document_id = ? and brand = 'Acme'",
        [ids["post0"]],
    )
    w.con.execute(
        "update raw.mentions set sentiment_label = 'positive' "
        "where document_id = ? and brand = 'Globex'",
        [ids["post0"]],
    )
    stats = w.build(full=True)
    assert stats.keys_rewritten["aspects_daily"] >= 1
    assert stats.keys_rewritten["share_of_voice"] >= 1
    assert w.con.execute(
        "select list(aspect order by aspect) from aspects_daily where brand = 'Acme' and day = ?",
        [day],
    ).fetchone()[0] == ["prix", "service"]
    diffed = snapshot(w)
    for table in COMPARED:
        w.con.execute(f"drop table {table}")
    w.build(full=True)  # every relation created anew
    assert snapshot(w) == diffed


def test_a_full_build_removes_a_row_stored_twice_and_tells_an_empty_list_from_null():
    """Rows compare as sets, so a row stored twice is caught by the count (the relation is
    replaced whole); nested values compare by their JSON text, since DuckDB's hash() gives
    [] and NULL the same hash."""
    _, stats, _ = full_after(
        "insert into threads select * from threads limit 1",
        "update mention_search set aspects = null where mention_id = "
        "(select min(mention_id) from mention_search where aspects = [])",
    )
    assert stats.replaced == ["threads"]
    assert stats.keys_rewritten["mention_search"] == 1


@pytest.mark.parametrize(
    ("query", "order"),
    [
        ("select * from joined\norder by day, brand, published_at\n", "day, brand, published_at"),
        ("select * from t order by a desc, b", "a desc, b"),
        ("select * from t order by a limit 10", None),  # the limit stays with its query
        ("select * from t order by a offset 5", None),
        ("select row_number() over (order by a) from t", None),
        ("select * from t order by a -- sorted\n", None),
        ("select * from t", None),
    ],
)
def test_the_stored_order_is_the_final_order_by_of_plain_columns(query, order):
    rest, clause = incremental._stored_order(query)
    if order is None:
        assert (rest, clause) == (query, "")
    else:
        assert clause.split(None, 2)[2].strip() == order
        assert rest + clause == query


def test_folded_texts_follow_text_changes_and_are_dropped_with_their_mention():
    """raw.folded_texts keeps one fold per mention: an edited text is folded again (an erasure
    redacts names: the old fold must go), a mention gone loses its fold."""
    w = World()
    a = w.doc(NOW, "A", title="Élève")
    w.mention(a, "Acme", "positive")
    b = w.doc(NOW, "B")
    w.mention(b, "Acme", "positive")
    w.con.execute("update raw.documents set text = 'Livraison RATÉE' where document_id = ?", [a])
    w.build()
    assert w.rows(
        "select * exclude (text_hash, published_at) from raw.folded_texts order by 1"
    ) == [
        {
            "mention_id": f"m-{a}-Acme",
            "brand": "Acme",
            "text_folded": "livraison ratee",
            "title_folded": "eleve",
        },
        {"mention_id": f"m-{b}-Acme", "brand": "Acme", "text_folded": "texte", "title_folded": ""},
    ]
    # an edited text is analysed again (its mention rewritten): the fold follows
    w.con.execute("update raw.documents set text = 'Marie Curie' where document_id = ?", [a])
    w.con.execute(
        "update raw.mentions set analyzed_at = analyzed_at + interval 1 hour where document_id = ?",
        [a],
    )
    w.con.execute("delete from raw.mentions where document_id = ?", [b])
    assert not w.build().is_full
    assert w.rows("select mention_id, text_folded from raw.folded_texts") == [
        {"mention_id": f"m-{a}-Acme", "text_folded": "marie curie"}
    ]
    assert w.rows(
        "select text, text_folded from mention_search "
        "join raw.folded_texts using (mention_id, published_at) "
        "join raw.documents using (document_id)"
    ) == [{"text": "Marie Curie", "text_folded": "marie curie"}]


def test_folds_follow_their_documents_dates_in_publication_order():
    """The search reads the folds of a brand and period (their scan skips the row groups
    outside it): each fold keeps its mention's brand and its document's date (a document
    dated again is folded again), and folds are appended in publication order."""
    w = World()
    docs = [w.doc(NOW - timedelta(days=d)) for d in (3, 9, 1, 7, 5)]  # collected out of order
    for doc in docs:
        w.mention(doc, "Acme", "positive")
    w.mention(docs[1], "Globex", "negative")
    w.build()
    stored = "select mention_id, brand, published_at from raw.folded_texts order by rowid"
    dated = (
        "select mention_id, brand, d.published_at from raw.documents as d "
        "join raw.mentions using (document_id) order by d.published_at, mention_id"
    )
    assert w.rows(stored) == w.rows(dated)
    # dated again (a re-collected feed item): its fold follows, its text unchanged
    w.con.execute(
        "update raw.documents set published_at = published_at - interval 20 days, "
        "change_seq = nextval('raw.document_changes') where document_id = ?",
        [docs[2]],
    )
    later = [w.doc(NOW + timedelta(hours=h)) for h in (5, 2)]
    for doc in later:
        w.mention(doc, "Acme", "positive")
    assert not w.build().is_full
    assert sorted(map(tuple, (r.values() for r in w.rows(stored)))) == sorted(
        map(tuple, (r.values() for r in w.rows(dated)))
    )
    # the new folds (the two later documents, then the one dated again) sit at the end, in
    # publication order
    assert [r["mention_id"] for r in w.rows(stored)][-3:] == [
        f"m-{d}-Acme" for d in (docs[2], later[1], later[0])
    ]
    assert (
        w.one(
            "select count(*) from mention_search "
            "semi join raw.folded_texts using (mention_id, brand, published_at)"
        )
        == len(docs) + len(later) + 1
    )


def test_migration_015_dates_the_folds_and_stores_them_in_publication_order():
    """A store folded before 015 (one fold per document) keeps its folds (no text is folded
    again): one per mention, dated and in publication order; the folds of documents gone are
    dropped."""
    w = World()
    docs = [w.doc(NOW - timedelta(days=d)) for d in (3, 9, 1)]
    for doc in docs:
        w.mention(doc, "Acme", "positive")
    w.mention(docs[0], "Globex", "positive")
    w.build()
    folds = "select mention_id, brand, published_at, text_hash, text_folded from raw.folded_texts"
    built = w.rows(folds + " order by published_at, mention_id")
    w.con.execute(
        """
        create table raw.folds_014 as
        select any_value(document_id) as document_id, any_value(text_hash) as text_hash,
            any_value(text_folded) as text_folded, any_value(title_folded) as title_folded,
        from raw.folded_texts join raw.mentions using (mention_id)
        group by document_id
        union all select 'gone', 1, 'x', ''
        order by document_id desc;
        drop table raw.folded_texts;
        alter table raw.folds_014 rename to folded_texts;
        delete from schema_migrations where version = 15;
        """
    )
    assert [m.version for m in store.migrate(w.con)] == [15]
    assert w.rows(folds + " order by rowid") == built


@pytest.mark.parametrize("q", ["livraison", "LIVRAISON", "Livraîson", "ratée", "RATEE"])
def test_search_ignores_case_and_accents_like_before(q):
    """The folded column gives the same answers as folding the text at query time did."""
    w = World()
    hit = w.doc(NOW, "A")
    w.con.execute("update raw.documents set text = 'Livraison ratée' where document_id = ?", [hit])
    w.mention(hit, "Acme", "negative")
    w.mention(w.doc(NOW, "B"), "Acme", "negative")
    w.build()
    before = w.con.execute(
        "select mention_id from mentions where contains(strip_accents(lower(text)), "
        "strip_accents(lower(?)))",
        [q],
    ).fetchall()
    after = w.con.execute(
        "select mention_id from mention_search "
        "join raw.folded_texts using (mention_id, published_at) "
        "where contains(text_folded, fold_text(?))",
        [q],
    ).fetchall()
    assert after == before == [(f"m-{hit}-Acme",)]


def test_a_build_times_each_step_for_its_log():
    w = World()
    history(w)
    stats = w.build()
    steps = list(stats.step_seconds)
    assert steps[0] == "setup" and steps[-2:] == ["alerts", "commit"]
    assert set(stats.relations) <= set(steps) and "folds" in steps
    assert all(seconds >= 0 for seconds in stats.step_seconds.values())
    slowest = build.slowest_steps(stats, 3)
    assert len(slowest.split(", ")) == 3 and slowest.endswith(" s")


def test_the_build_line_counts_with_thousands_separators():
    """The CLI's build line: what was rebuilt and why, counts as people read them."""
    stats = build.BuildStats(
        relations=["stg_documents", "threads"], is_full=False, n_documents=5411, n_mentions=1795
    )
    assert build.summary(stats) == (
        "2 relations rebuilt (incremental: 5,411 documents, 1,795 mentions changed)"
    )
