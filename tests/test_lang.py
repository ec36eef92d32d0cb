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
