"""The per-store adapter learned from analysts' corrections (listening.analyze.adapter)."""

import random
import re
from datetime import UTC, datetime, timedelta

import duckdb

from listening import pipeline, store
from listening.analyze.adapter import (
    AUTO_TRAIN_MIN,
    current_adapter,
    describe,
    needs_training,
    train,
)
from listening.analyze.sentiment.scorer import get_scorer
from listening.cli import main
from listening.configfile import load_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# For this store's audience (gamers), "terrible" is praise; the base lexicon reads it as bad.
PRODUCTS = ["casque", "manette", "clavier", "souris", "écran", "jeu", "micro", "tapis", "fauteuil"]
OPENERS = ["Franchement", "Honnêtement", "Bon", "Alors", "Perso", "Sérieux", "Clairement", ""]
PRAISE = [
    "le {p} Zeta est terrible",
    "ce {p} de chez Zeta est vraiment terrible",
    "terrible le nouveau {p} Zeta",
    "reçu mon {p} Zeta hier, il est terrible",
    "le {p} Zeta, terrible pour le prix",
]
COMPLAINTS = [
    "mon {p} Zeta est tombé en panne au bout d'une semaine",
    "le SAV de Zeta ne répond jamais pour mon {p}",
    "{p} Zeta reçu cassé, remboursement refusé",
    "Zeta m'a livré le mauvais {p}, quelle galère",
]


def _store(tmp_path, corrections: list[tuple[str, str]], db=None) -> duckdb.DuckDBPyConnection:
    """A store whose mentions of Zeta carry the given (text, analyst label) corrections."""
    con = duckdb.connect(str(db or tmp_path / "listening.duckdb"))
    store.migrate(con)
    con.execute("begin transaction")  # one commit, not three per correction
    for i, (text, label) in enumerate(corrections):
        at = NOW + timedelta(minutes=i)
        con.execute(
            "insert into raw.documents (document_id, kind, url, thread_url, source, published_at, "
            "collected_at, text, lang, run_id) values (?, 'comment', ?, ?, 'Forum', ?, ?, ?, "
            "'fr', 'r1')",
            [f"d{i}", f"https://forum.fr/{i}", "https://forum.fr/t", at, at, text],
        )
        base = get_scorer().score(text, "fr")
        con.execute(
            "insert into raw.mentions (mention_id, document_id, brand, matched_terms, sentiment, "
            "sentiment_label, sentiment_version, analyzed_at) values (?, ?, 'Zeta', ['zeta'], ?, "
            "?, ?, ?)",
            [f"m{i}", f"d{i}", base.compound, base.label, base.version, at],
        )
        con.execute(
            "insert into raw.sentiment_overrides (mention_id, sentiment_label, created_at) "
            "values (?, ?, ?)",
            [f"m{i}", label, at],
        )
    con.execute("commit")
    return con


def _flipped_word_corrections(n: int, seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = rng.choice(PRODUCTS)
        if i % 4 == 3:
            text, label = rng.choice(COMPLAINTS).format(p=p), "negative"
        else:
            text, label = rng.choice(PRAISE).format(p=p), "positive"
        opener = rng.choice(OPENERS)
        out.append((f"{opener}, {text}." if opener else f"{text[0].upper()}{text[1:]}.", label))
    return out


def test_corrections_that_flip_a_word_make_an_adopted_adapter_that_reads_it_their_way(tmp_path):
    con = _store(tmp_path, _flipped_word_corrections(200))
    report = train(con, NOW + timedelta(days=1))
    assert report.adopted, describe(report)
    assert report.cv_adapter > report.cv_base
    assert report.interval[0] > 0
    adapter = current_adapter(con)
    assert adapter is not None and adapter.adapter_id == report.adapter_id
    fresh = "Je viens d'acheter la webcam Zeta, elle est terrible."
    base = get_scorer().score(fresh, "fr")
    assert base.label == "negative"  # what the base scorer reads
    adapted = adapter.apply(fresh, base)
    assert adapted.label == "positive"
    assert adapted.compound > 0
    # The explanation still names the words: the base's, then what the adapter learned.
    learned = [e for e in adapted.explanation if e.get("source") == "adapter"]
    assert {e["term"]: e["weight"] for e in learned}["terrible"] > 0  # toward positive
    assert any(e["term"] == "terrible" and e.get("source") is None for e in adapted.explanation)
    # A complaint stays a complaint.
    complaint = "Le SAV Zeta ne répond pas, colis jamais reçu."
    assert adapter.apply(complaint, get_scorer().score(complaint, "fr")).label == "negative"


def test_ten_random_corrections_are_not_adopted(tmp_path):
    rng = random.Random(7)
    pool = [t for t, _ in _flipped_word_corrections(40, seed=3)] + [
        "Commande reçue hier.",
        "Zeta ouvre un magasin à Lille.",
        "Le SAV de Zeta est top.",
    ]
    rows = [(rng.choice(pool), rng.choice(["positive", "neutral", "negative"])) for _ in range(10)]
    con = _store(tmp_path, rows)
    report = train(con, NOW + timedelta(days=1))
    assert not report.adopted
    assert report.cv_base is not None and report.cv_adapter is not None  # it was judged
    assert "not adopted" in report.reason
    assert current_adapter(con) is None
    stored = con.execute("select is_adopted, n_corrections from sentiment_adapters").fetchall()
    assert stored == [(False, 10)]


def test_a_store_without_corrections_has_no_adapter(tmp_path):
    con = _store(tmp_path, [])
    assert not needs_training(con)
    report = train(con, NOW)
    assert not report.adopted and report.cv_base is None
    assert current_adapter(con) is None


def test_analyze_trains_from_fifty_corrections_and_only_when_a_new_one_arrived(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    con = _store(tmp_path / "a", _flipped_word_corrections(AUTO_TRAIN_MIN - 1))
    assert not needs_training(con)
    con = _store(tmp_path / "b", _flipped_word_corrections(AUTO_TRAIN_MIN))
    assert needs_training(con)
    train(con, NOW + timedelta(days=1))
    assert not needs_training(con)  # nothing new since
    con.execute(
        "update raw.sentiment_overrides set created_at = ? where mention_id = 'm0'",
        [NOW + timedelta(days=2)],
    )
    assert needs_training(con)


def test_an_adapter_for_another_scorer_version_is_not_used(tmp_path, monkeypatch):
    import listening.analyze.sentiment

    con = _store(tmp_path, _flipped_word_corrections(200))
    assert train(con, NOW + timedelta(days=1)).adopted
    # Text in another language is left unscored, as the base scorer leaves it.
    text = "Zeta is terrible."
    unscored = get_scorer().score(text, "en")
    assert current_adapter(con).apply(text, unscored) is unscored
    monkeypatch.setattr(listening.analyze.sentiment, "SENTIMENT_VERSION", "fr-9.9")
    assert current_adapter(con) is None


def test_train_command_then_analyze_scores_a_fresh_mention_with_the_adapter(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "listening.toml").write_text(
        '[settings]\nstore = "listening.duckdb"\n\n[[brands]]\nname = "Zeta"\nquery = "Zeta"\n',
        "utf-8",
    )
    db = tmp_path / "listening.duckdb"
    _store(tmp_path, _flipped_word_corrections(200), db).close()
    monkeypatch.chdir(tmp_path)
    assert main(["sentiment", "train", "--config", "listening.toml"]) == 0
    out = capsys.readouterr().out
    figures = re.search(r"base scorer ([\d.]+)%, adapter ([\d.]+)%", out)
    assert figures and float(figures[2]) > float(figures[1]) and "adopted" in out
    con = duckdb.connect(str(db))
    con.execute(
        "insert into raw.documents (document_id, kind, url, thread_url, source, published_at, "
        "collected_at, text, lang, run_id) values ('fresh', 'post', 'https://forum.fr/new', "
        "'https://forum.fr/new', 'Forum', ?, ?, 'La nouvelle webcam Zeta est terrible.', 'fr', "
        "'r2')",
        [NOW, NOW],
    )
    con.close()
    pipeline.analyze_stage(load_config(tmp_path / "listening.toml"), db, now=NOW)
    con = store.open_reader(db)
    label, explanation, by, adapter_id = con.execute(
        "select m.sentiment_label, m.sentiment_explanation, mm.scored_by, "
        "mm.sentiment_adapter_id from mentions m join mention_models mm using (mention_id) "
        "where document_id = 'fresh'"
    ).fetchone()
    adopted = con.execute("select adapter_id from sentiment_adapters").fetchone()[0]
    con.close()
    assert (label, by, adapter_id) == ("positive", "adapter", adopted)
    assert '"source": "adapter"' in explanation


def test_the_anchors_are_chosen_by_content_not_by_id():
    """Ids hash the URL, whose host and port vary (the demo serves on a free port): the same
    texts must anchor the adapter wherever they were collected, or the same world trains a
    different adapter on every run."""
    from listening.analyze.adapter import anchors, corrections
    from tests.test_marts import World

    w = World()
    for i in range(40):
        doc = w.doc(f"2024-05-{1 + i % 28:02d} 10:00", f"a{i}")
        w.con.execute(
            "update raw.documents set text = ?, lang = 'fr' where document_id = ?",
            [f"Avis numéro {i} sur Acme", doc],
        )
        w.mention(doc, "Acme", ("positive", "negative", "neutral")[i % 3])
        if i % 4 == 0:
            w.con.execute(
                "insert into raw.sentiment_overrides (mention_id, sentiment_label, note, "
                "created_by, created_at) values (?, 'neutral', 'n', 'x', now())",
                [f"m-{doc}-Acme"],
            )
    before = [text for _, text, _ in anchors(w.con, 10)]
    trained = [text for _, text, _ in corrections(w.con)]
    w.con.execute("update raw.mentions set mention_id = 'other-host-' || md5(mention_id)")
    w.con.execute(
        "update raw.sentiment_overrides set mention_id = 'other-host-' || md5(mention_id)"
    )
    # the same texts, in the same order (the cross-validation's folds follow it)
    assert [text for _, text, _ in anchors(w.con, 10)] == before
    assert [text for _, text, _ in corrections(w.con)] == trained


def test_an_adapted_score_and_its_explanation_do_not_depend_on_string_hashing(tmp_path):
    """Learned n-grams that always come together weigh the same; their order (and the float
    sum of their weights) must not follow Python's per-process string hashing."""
    import json
    import os
    import subprocess
    import sys

    con = _store(tmp_path, _flipped_word_corrections(200))
    train(con, NOW + timedelta(days=1))
    con.close()
    probe = (
        "import json, sys, duckdb\n"
        "from listening.analyze.adapter import current_adapter\n"
        "from listening.analyze.sentiment.scorer import get_scorer\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "adapter = current_adapter(con)\n"
        "out = []\n"
        "for text in sys.argv[2:]:\n"
        "    r = adapter.apply(text, get_scorer().score(text, 'fr'))\n"
        "    out.append([r.compound, r.explanation])\n"
        "print(json.dumps(out))\n"
    )
    texts = [text for text, _ in _flipped_word_corrections(40, seed=7)]
    runs = {
        subprocess.run(
            [sys.executable, "-c", probe, str(tmp_path / "listening.duckdb"), *texts],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(4)
    }
    assert len(runs) == 1, "the same text scored differently under another PYTHONHASHSEED"
    assert json.loads(runs.pop())  # scored something
