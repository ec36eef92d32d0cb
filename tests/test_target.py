"""Sentiment toward a target: the clauses about each brand, French contrast and comparison."""

import hashlib
import json
from pathlib import Path

import pytest

from listening.analyze.sentiment import label_for
from listening.analyze.target import score_target, score_text, target_label, target_spans
from tests.test_cli import run_cli

DATA = Path(__file__).parent / "data" / "sentiment_targets.tsv"
# sha256 of the test split's rows as first written (104 sentences), tab- and newline-joined
TEST_SPLIT_SHA256 = "1cd57fc826f884f4a0f754be329c89a45479f17d44d3183e2a057d38639171e5"


def toward(text: str, name: str, *others: str, **kw):
    spans = [s for o in others for s in target_spans(text, o)]
    return score_target(text, target_spans(text, name), "fr", others=spans, **kw)


def labels(text: str, a: str, b: str) -> tuple[str | None, str | None]:
    return toward(text, a, b).label, toward(text, b, a).label


# --- the evaluation set --------------------------------------------------------------------------


def _rows():
    for line in DATA.read_text("utf-8").splitlines():
        if line and not line.startswith("#") and not line.startswith("id\t"):
            yield line.split("\t")


def test_target_set_is_big_enough_and_its_split_is_the_fixed_hash():
    rows = list(_rows())
    assert len(rows) >= 300
    for sid, split, voice, _construction, text, targets in rows:
        # decided before any rule: sha256 of the id, first 8 hex digits mod 100 < 30 → test
        is_test = int(hashlib.sha256(sid.encode()).hexdigest()[:8], 16) % 100 < 30
        assert split == ("test" if is_test else "dev"), sid
        assert voice in ("client", "journaliste", "forum"), sid
        for item in targets.split(";"):
            name, label = item.rsplit("=", 1)
            assert label in ("positive", "neutral", "negative"), sid
            assert target_spans(text, name), (sid, name)  # the matcher finds every target
    share = sum(r[1] == "test" for r in rows) / len(rows)
    assert 0.25 < share < 0.35
    for construction in (
        "plain", "mais", "alors_que", "tandis_que", "contrairement_a", "par_rapport_a",
        "plutot_que", "plus_que", "moins_que", "meilleur_que", "pire_que", "rien_a_voir",
        "ni_ni", "comme", "tous_les_deux", "quitte_pour", "chez_chez",
    ):  # fmt: skip
        assert sum(r[3] == construction for r in rows) >= 10, construction
    assert {r[2] for r in rows} == {"client", "journaliste", "forum"}


# --- constructions -------------------------------------------------------------------------------


def test_the_issue_example_gives_each_brand_its_own_label_and_clause():
    text = "J'ai quitté SFR après trois pannes, chez Bouygues tout marche parfaitement."
    sfr, bouygues = toward(text, "SFR", "Bouygues"), toward(text, "Bouygues", "SFR")
    assert (sfr.label, bouygues.label) == ("negative", "positive")
    assert sfr.scope == bouygues.scope == "clause"
    assert [text[a:b] for a, b in sfr.spans] == ["J'ai quitté SFR après trois pannes"]
    assert [text[a:b] for a, b in bouygues.spans] == ["chez Bouygues tout marche parfaitement."]


@pytest.mark.parametrize(
    ("text", "a", "b", "expected"),
    [
        (
            "Le réseau est nul chez Orange mais Free est génial.",
            "Orange",
            "Free",
            ("negative", "positive"),
        ),
        (
            "Free m'a tout remboursé alors que SFR est injoignable.",
            "Free",
            "SFR",
            ("positive", "negative"),
        ),
        (
            "Darty est nul, tandis que Boulanger est parfait.",
            "Darty",
            "Boulanger",
            ("negative", "positive"),
        ),
        ("Contrairement à Axa, la Maif est formidable.", "Axa", "Maif", ("negative", "positive")),
        (
            "Par rapport à Lidl, Monoprix est vraiment cher.",
            "Lidl",
            "Monoprix",
            ("positive", "negative"),
        ),
        (
            "Prenez Decathlon plutôt que Go Sport.",
            "Decathlon",
            "Go Sport",
            ("positive", "negative"),
        ),
        ("Sosh est plus fiable que Bouygues.", "Sosh", "Bouygues", ("positive", "negative")),
        ("Sosh est moins fiable que Bouygues.", "Sosh", "Bouygues", ("negative", "positive")),
        ("Picard est meilleur que Thiriet.", "Picard", "Thiriet", ("positive", "negative")),
        ("Ryanair est pire que Easyjet.", "Ryanair", "Easyjet", ("negative", "positive")),
        (
            "Decathlon, c'est génial, rien à voir avec Intersport.",
            "Decathlon",
            "Intersport",
            ("positive", "negative"),
        ),
        (
            "Ni SFR ni Orange ne proposent un bon forfait.",
            "SFR",
            "Orange",
            ("negative", "negative"),
        ),
        (
            "Chez Darty comme chez Boulanger, le SAV est injoignable.",
            "Darty",
            "Boulanger",
            ("negative", "negative"),
        ),
        (
            "Netflix et Deezer sont tous les deux excellents.",
            "Netflix",
            "Deezer",
            ("positive", "positive"),
        ),
        (
            "J'ai quitté Orange pour Free et je ne regrette rien.",
            "Orange",
            "Free",
            ("negative", "positive"),
        ),
        (
            "Chez Ikea, accueil parfait ; chez Conforama, personnel désagréable.",
            "Ikea",
            "Conforama",
            ("positive", "negative"),
        ),
    ],
)
def test_contrast_and_comparison(text, a, b, expected):
    assert labels(text, a, b) == expected


@pytest.mark.parametrize(
    ("text", "a", "b", "expected"),
    [
        (
            "Chez Sosh les tarifs baissent ; chez Orange les tarifs augmentent.",
            "Sosh",
            "Orange",
            ("positive", "negative"),
        ),
        (
            "Leclerc a baissé ses prix alors que Carrefour les a encore augmentés.",
            "Leclerc",
            "Carrefour",
            ("positive", "negative"),
        ),
        (
            "Zalando a remboursé en trois jours alors que Asos garde mon argent depuis un mois.",
            "Zalando",
            "Asos",
            ("positive", "negative"),
        ),
        (
            "Contrairement à Axa, la Maif a réglé le sinistre malgré un dossier incomplet et des "
            "factures perdues.",
            "Axa",
            "Maif",
            ("negative", "positive"),
        ),
    ],
)
def test_customer_facts_without_opinion_words(text, a, b, expected):
    # prices that move, service speed, waiting, a concession: the facts customers report
    assert labels(text, a, b) == expected


def test_a_clause_about_the_target_is_positive_from_plus_0_05():
    # a clause is a few words: one mild positive word is what it says ("propre" gives 0.13,
    # under the document threshold of 0.15)
    text = "Chez Ibis la chambre était propre ; chez Novotel, rien de spécial."
    r = toward(text, "Ibis", "Novotel")
    assert 0.05 < r.compound < 0.15
    assert r.label == "positive"
    assert target_label(0.1) == "positive" and label_for(0.1) == "neutral"


def test_a_negation_does_not_cross_into_the_next_clause_of_the_target():
    # the target's clauses around the comparison's reference are scored side by side: "moins
    # lent" must not negate "excellent choix"
    assert toward("Free est moins lent que SFR, excellent choix.", "Free", "SFR").label == (
        "positive"
    )


def test_the_held_aside_split_is_unchanged():
    # the test split is only read to report: no sentence or label of it may change, and new
    # sentences may only be added to dev (ids whose hash falls in dev)
    test = "\n".join("\t".join(r) for r in _rows() if r[1] == "test")
    assert sum(1 for r in _rows() if r[1] == "test") == 104
    assert hashlib.sha256(test.encode()).hexdigest() == TEST_SPLIT_SHA256


def test_sentences_naming_nobody_belong_to_the_brand_before_them():
    text = "Commande chez Darty. Livrée en retard, technicien injoignable. Boulanger, lui, est parfait."  # noqa: E501
    darty, boulanger = toward(text, "Darty", "Boulanger"), toward(text, "Boulanger", "Darty")
    assert (darty.label, boulanger.label) == ("negative", "positive")
    assert darty.scope == "sentence"
    assert [text[a:b] for a, b in darty.spans] == [text[: text.index(" Boulanger")]]


def test_a_brand_only_in_the_title_is_scored_on_the_whole_document():
    title, body = "Ma nouvelle box Free", "Le débit est excellent, installation parfaite."
    text = f"{title}\n{body}"
    r = score_target(text, target_spans(text, "Free"), "fr", title_end=len(title) + 1)
    assert r.scope == "document"
    assert r.label == "positive"
    assert "titre" in r.note
    assert r.spans == [(0, len(body))]  # offsets into the body, the text the page shows


def test_without_the_target_in_the_text_the_document_is_scored_and_says_so():
    r = score_text("Service impeccable, je recommande.", "Darty")
    assert r["scope"] == "document" and r["label"] == "positive"
    assert "pas dans le texte" in r["scope_note"]


def test_other_brands_are_guessed_when_only_the_target_is_given():
    # no other spans given: "Bouygues", capitalised inside the sentence, takes its clause
    text = "J'ai quitté SFR après trois pannes, chez Bouygues tout marche parfaitement."
    assert score_target(text, target_spans(text, "SFR"), "fr").label == "negative"
    assert score_target(text, target_spans(text, "Bouygues"), "fr").label == "positive"


def test_text_not_in_french_is_not_scored():
    text = "Free is great but Orange is terrible."
    r = score_target(text, target_spans(text, "Free"), "en")
    assert (r.compound, r.label) == (None, None)


def test_explanation_lists_the_words_of_the_clause_and_marks_the_contrast():
    text = "Free est plus fiable que SFR."
    sfr = toward(text, "SFR", "Free")
    assert sfr.label == "negative"
    assert [(e["term"], e["weight"] < 0, e.get("contrast")) for e in sfr.explanation] == [
        ("fiable", True, True)
    ]


def test_n_a_jamais_negates_like_ne_jamais():
    # sentiment.py fix found on this set: "n'a jamais" was read as "à jamais" (no negation)
    from listening.analyze.sentiment.scorer import get_scorer

    scorer = get_scorer()
    assert scorer.score("Free n'a jamais eu de panne chez moi.").label == "positive"
    assert scorer.score("Fidèle à jamais.").label == "positive"


# --- the command ---------------------------------------------------------------------------------


def test_sentiment_command_scores_toward_a_target():
    text = "J'ai quitté SFR après trois pannes, chez Bouygues tout marche parfaitement."
    proc = run_cli("sentiment", "--target", "Bouygues", input=text + "\n")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["target"] == "Bouygues"
    assert (out["label"], out["scope"], out["lang"]) == ("positive", "clause", "fr")
    assert [text[a:b] for a, b in out["span"]] == ["chez Bouygues tout marche parfaitement."]
    assert {"compound", "explanation", "version", "scope_note"} <= set(out)
    assert out == score_text(text, "Bouygues")  # one function for the command and the pipeline


def test_sentiment_command_reads_json_lines_and_names_bad_ones():
    text = "J'ai quitté SFR après trois pannes, chez Bouygues tout marche parfaitement."
    lines = [
        json.dumps({"text": text, "target": "SFR"}),
        "pas du JSON",
        json.dumps({"text": text}),
    ]
    proc = run_cli("sentiment", "--jsonl", input="\n".join(lines) + "\n")
    outs = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [(o.get("target"), o["scope"]) for o in outs] == [("SFR", "clause"), (None, "document")]
    assert outs[0]["label"] == "negative"
    assert "stdin line 2" in proc.stderr and '"text"' in proc.stderr
    assert proc.returncode == 1


# --- through the pipeline ------------------------------------------------------------------------

TWO_BRANDS = "J'ai quitté Telzio après trois pannes, chez Orbis tout marche parfaitement."
ASPECTS = "Chez Telzio, la livraison a traîné ; chez Orbis, des prix imbattables."


def _feed(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Forum Box</title><link>{base}/forum/</link>
<item><title>Changement d'opérateur</title><link>{base}/forum/1</link>
  <guid isPermaLink="false">{base}/forum/?p=1</guid>
  <pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate>
  <description>{TWO_BRANDS}</description></item>
<item><title>Comparatif</title><link>{base}/forum/3</link>
  <guid isPermaLink="false">{base}/forum/?p=3</guid>
  <pubDate>Mon, 23 Nov 2026 11:00:00 +0000</pubDate>
  <description>{ASPECTS}</description></item>
<item><title>Telzio en panne</title><link>{base}/forum/2</link>
  <guid isPermaLink="false">{base}/forum/?p=2</guid>
  <pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate>
  <description>Encore une journée sans internet, c'est insupportable.</description></item>
</channel></rss>""".encode()


def test_listening_run_gives_each_brand_of_a_document_its_own_label(tmp_path, feed_server):
    from listening import store

    url = feed_server.static("/forum/feed/", _feed(feed_server.base_url))
    (tmp_path / "listening.toml").write_text(
        "\n".join(
            [
                "[settings]",
                'store = "data/listening.duckdb"',
                "allow_private_networks = true",
                "",
                "[[brands]]",
                'name = "Telzio"',
                'query = "Telzio"',
                'competitors = ["Orbis"]',
                "",
                "[[brands]]",
                'name = "Orbis"',
                'query = "Orbis"',
                "",
                "[[sources]]",
                'name = "Forum Box"',
                f'url = "{url}"',
                'channel = "forum"',
            ]
        )
        + "\n",
        "utf-8",
    )
    proc = run_cli("run", cwd=tmp_path, env={"LISTENING_CONFIG": "", "LISTENING_DB": ""})
    assert proc.returncode == 0, proc.stderr
    con = store.open_reader(tmp_path / "data" / "listening.duckdb")
    rows = con.execute(
        "select brand, sentiment_label, sentiment_scope, sentiment_spans, text, "
        "sentiment_scope_note from mentions where text = ? order by brand",
        [TWO_BRANDS],
    ).fetchall()
    got = {r[0]: (r[1], r[2], [r[4][a:b] for a, b in r[3]]) for r in rows}
    assert got == {
        "Orbis": ("positive", "clause", ["chez Orbis tout marche parfaitement."]),
        "Telzio": ("negative", "clause", ["J'ai quitté Telzio après trois pannes"]),
    }
    # aspects are tagged on each brand's own clauses
    aspects = dict(
        con.execute("select brand, aspects from mentions where text = ?", [ASPECTS]).fetchall()
    )
    assert aspects == {"Telzio": ["livraison"], "Orbis": ["prix"]}
    # the brand only in the title: the whole document, and the note says so
    title_only = con.execute(
        "select sentiment_scope, sentiment_scope_note, sentiment_label from mentions "
        "where title = 'Telzio en panne'"
    ).fetchone()
    assert title_only[0] == "document" and "titre" in title_only[1]
    assert title_only[2] == "negative"
    # the marts count each brand's own label
    sov = dict(
        con.execute(
            "select competitor, net_sentiment from share_of_voice where brand = 'Telzio'"
        ).fetchall()
    )
    assert sov == {"Telzio": -1.0, "Orbis": 1.0}  # 2 negative / 2 positive mentions each
    rep = dict(
        con.execute(
            "select brand, sum(n_positive) - sum(n_negative) from reputation_daily group by brand"
        ).fetchall()
    )
    assert rep == {"Telzio": -3, "Orbis": 2}
