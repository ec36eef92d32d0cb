"""Language detection on the texts we actually see: short French comments, English spam, news."""

from __future__ import annotations

import pytest

from listening.analyze.lang import detect_language

FRENCH_COMMENTS = [
    "Trop bien cette poussette, on l'a aussi et on l'adore 😍",
    "mdr les roues avant c'est grave, les miennes ont lâché en 2 mois 😂",
    "Merci pour l'astuce !",
    "jsp pk mais chui déçue 😭😭",
    "Franchement la livraison c'était nul, jamais reçu ma commande",
    "ptdr le SAV 🤡🤡🤡",
    "Je confirme, pas terrible du tout.",
    "Ouais bof, trop cher pour ce que c'est",
    "Super article, merci beaucoup !",
    "Qu'est-ce qu'on attend pour boycotter cette marque ?",
    "J'ai acheté la crème hier, elle sent super bon",
    "tkt c'est normal au début",
    "Bonjour, est-ce que le produit est dispo en magasin ?",
    "Le goût est ouf 🔥",
    "Encore 40 minutes de retard sur le TER ce matin 😤 #sncf",
    "Moi je trouve qu'elle est un peu lourde pour les escaliers du métro.",
    "wesh le prix 💸",
    "Bravo à toute l'équipe, vous êtes au top !",
    "Commande passée lundi, reçue mercredi. Nickel.",
    "C'est une honte, le service client ne répond jamais",
]

ENGLISH_SPAM = [
    "Great post! Buy cheap followers online, click here for the best price.",
    "Nice article, thanks for sharing. Visit my website for more info.",
    "I really like this blog, check out my site",
    "Wow, awesome content! Get free followers now",
    "This is a very informative post, keep it up",
    "Hi, I'm John from SEO Experts. We can get your website on the first page of Google.",
    "Thanks for the useful information, it was really helpful",
    "Amazing! I love it. Where can I buy it?",
]

OTHERS = [
    ("es", "¿Dónde puedo comprar este producto? Gracias"),
    ("es", "La entrega fue muy rápida y el producto es de buena calidad."),
    ("es", "No me gusta nada, es muy caro para lo que es"),
    ("de", "Das ist sehr gut, danke für den Artikel!"),
    ("de", "Ich habe das Produkt gekauft und bin nicht zufrieden."),
    ("de", "Die Lieferung war schnell, aber die Qualität ist schlecht."),
    ("it", "Questo prodotto è molto bello, grazie"),
    ("it", "La consegna è stata veloce ma la qualità non è buona."),
    ("it", "Non mi piace per niente, è troppo caro"),
]

FRENCH_PROSE = (
    "La marque a annoncé mercredi le rappel d'un lot de crèmes hydratantes vendues en pharmacie "
    "depuis le mois de septembre, selon un communiqué publié sur son site."
)


@pytest.mark.parametrize("text", FRENCH_COMMENTS)
def test_french_comments(text: str) -> None:
    assert detect_language(text) == "fr"


@pytest.mark.parametrize("text", ENGLISH_SPAM)
def test_english_spam(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(("lang", "text"), OTHERS)
def test_other_languages(lang: str, text: str) -> None:
    assert detect_language(text) == lang


def test_french_prose_and_title() -> None:
    assert detect_language(FRENCH_PROSE) == "fr"
    assert detect_language("Poussette Baladeo : mon avis après six mois\n" + FRENCH_PROSE) == "fr"


@pytest.mark.parametrize("text", ["", "   ", "😂😂😂", "ok", "123 456", "!!!", "Hydra+", "lol"])
def test_too_short_or_unclear_is_none(text: str) -> None:
    assert detect_language(text) is None


def test_elisions_found_at_apostrophes_are_those_of_a_full_scan() -> None:
    import random

    from listening.analyze.lang import _ELISION, _elisions

    def by_finditer(lowered: str) -> list[float]:  # the pattern tried at every position
        return [0.4 if m.group(1) in ("l", "d") else 1.0 for m in _ELISION.finditer(lowered)]

    pieces = [*"cjmnstldqu'’ é_1-", "qu'", "l’", "ſ'", "K'", "aujourd'hui", "''", "’’", "\n"]
    rng = random.Random(3)
    for _ in range(50000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 12)))
        assert _elisions(text) == by_finditer(text), repr(text)


def _texts_to_compare() -> list[str]:
    """Fixture feeds (raw, so markup, entities and every charset's text), the collect bench's
    generated entries, and random texts of letters, accents, apostrophes, digits, cues and
    every kind of whitespace."""
    import importlib.util
    import random
    import sys
    from pathlib import Path

    root = Path(__file__).parent
    texts = []
    for path in sorted((root / "fixtures" / "feeds").iterdir()):
        raw = path.read_bytes().decode("utf-8", "replace")
        texts += [raw[i : i + 700] for i in range(0, min(len(raw), 60000), 350)]
    spec = importlib.util.spec_from_file_location(
        "bench_collect", root.parent / "bench" / "collect.py"
    )
    bench = sys.modules["bench_collect"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sentences = bench.french_sentences()
    rng = random.Random(5)
    texts += [" ".join(rng.choices(sentences, k=rng.randint(1, 12))) for _ in range(400)]
    pieces = [
        *"abcdeiosty'’ éèàçœñ¿¡ßüòì_1-.,!?«»\n\t\r\u00a0\u2009\u3000\x1c\x85",
        "ing ", "tion", "zione", "ción", "n't", "'s ", "qu'", "l’", "c'est", "aujourd'hui",
        "the ", "der ", "le ", "che ", "ly ", "eux ", "  ", "İ", "ſ", "ﬁ", "😂", "٣",
    ]  # fmt: skip
    texts += ["".join(rng.choices(pieces, k=rng.randint(0, 40))) for _ in range(20000)]
    return texts


def _scores_by_full_scans(lowered: str) -> list[float] | None:
    """The scores as computed before the per-piece cache: one token findall over the text,
    the elision pattern at every position, and a substring test per cue on the padded text."""
    from listening.analyze.lang import _APOSTROPHE, _CUES, _ELISION, _INDEX, _TOKEN, _WEIGHTS

    tokens = _TOKEN.findall(lowered)
    if not tokens:
        return None
    scores = [0.0] * 5
    for token in tokens:
        hits = _WEIGHTS.get(token)
        if hits is None and ("'" in token or "’" in token):
            hits = _WEIGHTS.get(_APOSTROPHE.split(token, maxsplit=1)[1])
        for lang, weight in hits or ():
            scores[_INDEX[lang]] += weight
    for m in _ELISION.finditer(lowered):
        scores[_INDEX["fr"]] += 0.4 if m.group(1) in ("l", "d") else 1.0
    padded = lowered + " "
    for cue, lang, weight in _CUES:
        if cue in padded:
            scores[lang] += weight
    return scores


def test_scores_read_piece_by_piece_are_those_of_full_scans() -> None:
    """The same floats (so the same labels) from the per-piece cache as from scans of the
    whole text, on fixture feeds, bench entries and random unicode-heavy texts; twice, the
    second time from the cache."""
    import re

    from listening.analyze.lang import _CHUNKS, _PIECES, _scores

    # str.split(" ") cuts at spaces only, and no whitespace is a letter or an apostrophe.
    assert not [c for c in map(chr, range(0x110000)) if c.isspace() and re.match(r"[\w'’]", c)]
    texts = _texts_to_compare()
    for _ in range(2):
        for text in texts:
            lowered = text[:2000].lower()
            assert _scores(lowered) == _scores_by_full_scans(lowered), repr(text)
    _PIECES.clear()
    _CHUNKS.clear()
    assert len({detect_language(text) for text in texts}) == 6  # every label, and None
