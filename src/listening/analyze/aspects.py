"""Aspect tagging: which parts of a brand (product, price, delivery…) a document talks about.

Each sentence naming an aspect term contributes its sentiment to that aspect, so
"Le pain est bon mais la livraison a traîné." gives produit > 0 and livraison < 0.
Terms live in ``listening/lexicon/aspects.tsv``; callers may add their own per brand.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from listening.analyze.folding import fold
from listening.analyze.sentiment.scorer import Scorer, get_scorer

_WORD = re.compile(r"[^\W_]+")
# Split at sentence ends (. ! ? … line break, as the scorer does) and before contrast markers, so
# "le pain est bon mais la livraison a traîné" gives each aspect its own clause.
_CLAUSE_END = re.compile(
    r"(?<=[.!?…;])\s+|\n+|\s(?=(?:mais|par contre|cependant|pourtant|alors que|tandis que)\b)",
    re.IGNORECASE,
)

Matcher = dict[str, list[tuple[tuple[str, ...], str]]]


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _singular(word: str) -> str:
    """A crude French singular: "tarifs" → "tarif", "réseaux" → "reseau"; "colis", "prix" stay."""
    if len(word) > 3 and word[-1] in "sx" and not word.endswith(("is", "ix", "us")):
        return word[:-1]
    return word


def _matcher(terms: dict[str, list[str]]) -> Matcher:
    matcher: Matcher = {}
    for aspect, words in terms.items():
        for term in words:
            key = tuple(_singular(w) for w in _words(term))
            if key:
                matcher.setdefault(key[0], []).append((key, aspect))
    for entries in matcher.values():
        entries.sort(key=lambda e: -len(e[0]))
    return matcher


@lru_cache(maxsize=1)
def default_terms() -> dict[str, list[str]]:
    """Aspect → terms, from the packaged lexicon."""
    terms: dict[str, list[str]] = {}
    text = files("listening.analyze.lexicon").joinpath("aspects.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            aspect, term = line.split("\t")[:2]
            terms.setdefault(aspect, []).append(term)
    return terms


@lru_cache(maxsize=1)
def _default_matcher() -> Matcher:
    return _matcher(default_terms())


def aspects_in(sentence: str, matcher: Matcher) -> set[str]:
    words = [_singular(w) for w in _words(sentence)]
    found: set[str] = set()
    i = 0
    while i < len(words):
        for key, aspect in matcher.get(words[i], ()):
            if tuple(words[i : i + len(key)]) == key:
                found.add(aspect)
                i += len(key) - 1
                break
        i += 1
    return found


def tag_aspects(
    text: str,
    extra_terms: dict[str, list[str]] | None = None,
    scorer: Scorer | None = None,
    french: bool | None = None,
) -> dict[str, float | None]:
    """Aspect → mean sentiment compound of the sentences naming it (None when not scored).

    ``french``: whether the text is French, when the caller knows (a clause cut out of a
    document is too short to guess its language)."""
    if extra_terms:
        terms = {a: list(ws) for a, ws in default_terms().items()}
        for aspect, words in extra_terms.items():
            terms.setdefault(aspect, []).extend(words)
        matcher = _matcher(terms)
    else:
        matcher = _default_matcher()
    scorer = scorer or get_scorer()
    # Language is judged on the whole text: single sentences are too short to guess reliably.
    if french is None:
        french = scorer.score(text, lang=None).compound is not None
    found: dict[str, list[float]] = {}
    seen: set[str] = set()
    for sentence in _CLAUSE_END.split(text):
        aspects = aspects_in(sentence, matcher)
        if not aspects:
            continue
        seen |= aspects
        if french:
            compound = scorer.score(sentence, lang="fr").compound
            for aspect in aspects:
                found.setdefault(aspect, []).append(compound or 0.0)
    return {
        aspect: round(sum(found[aspect]) / len(found[aspect]), 4) if aspect in found else None
        for aspect in sorted(seen)
    }
