"""Aspect tagging: which aspects a text names, and the sentiment of the sentences naming them."""

from __future__ import annotations

from listening.analyze.aspects import default_terms, tag_aspects


def test_default_aspects_exist():
    assert set(default_terms()) >= {
        "produit", "service", "prix", "service client", "livraison", "communication",
    }  # fmt: skip


def test_each_aspect_gets_its_own_sentence_sentiment():
    tags = tag_aspects(
        "Les croissants sont délicieux. La livraison a pris trois semaines, inadmissible !"
    )
    assert set(tags) == {"produit", "livraison"}
    assert tags["produit"] > 0
    assert tags["livraison"] < 0


def test_contrast_splits_a_sentence():
    tags = tag_aspects("Le pain est excellent mais les prix sont délirants.")
    assert tags["produit"] > 0
    assert tags["prix"] < 0


def test_longest_term_wins():
    tags = tag_aspects("Le service client est injoignable.")
    assert set(tags) == {"service client"}
    assert tags["service client"] < 0


def test_accents_case_and_plurals():
    tags = tag_aspects("LIVRAISONS rapides, TARIFS corrects, Réseaux sociaux drôles.")
    assert set(tags) == {"livraison", "prix", "communication"}


def test_whole_words_only():
    assert tag_aspects("Un prixfixe et des colisées.") == {}


def test_mean_over_sentences():
    tags = tag_aspects("Le colis est arrivé cassé. Le colis suivant était parfait.")
    assert set(tags) == {"livraison"}
    parts = [
        tag_aspects(s)["livraison"]
        for s in ("Le colis est arrivé cassé.", "Le colis suivant était parfait.")
    ]
    assert abs(tags["livraison"] - sum(parts) / 2) < 1e-3


def test_extra_terms_extend_and_add_aspects():
    tags = tag_aspects(
        "L'appli de paiement plante sans arrêt.", extra_terms={"paiement": ["paiement"]}
    )
    assert "paiement" in tags and "produit" in tags
    assert tags["paiement"] < 0


def test_not_french_is_unscored():
    tags = tag_aspects(
        "The delivery was late and the price is too high.",
        extra_terms={"livraison": ["delivery"], "prix": ["price"]},
    )
    assert tags == {"livraison": None, "prix": None}
