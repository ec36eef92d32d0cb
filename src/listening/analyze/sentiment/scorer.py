"""The sentiment scorer: VADER's sentence scoring over the tokens, lexicon and French rules.

Per sentence: idioms and durations are joined, moving words get their sign, the negation scope
is set, boosters modify the opinion word next to them, capitals, hashtags, irony, ``mais``-style
contrast and concessions weigh each opinion word, and ``!``/``?`` add emphasis; the sum is
normalised to -1..1 as VADER does. A text's compound is the mean of its sentences' (a sentence
opening with ``Mais`` outweighs the ones before it).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from listening.analyze import sentiment  # SENTIMENT_VERSION, read when a text is scored
from listening.analyze.folding import fold
from listening.analyze.sentiment import SentimentResult, label_for
from listening.analyze.sentiment.lexicon import Lexicon
from listening.analyze.sentiment.rules import (
    CONCESSIONS,
    clause_after,
    durations,
    moves,
    negation_scope,
    what_moves,
)
from listening.analyze.sentiment.tokens import Tokeniser, Unit

# Constants from VADER (Hutto & Gilbert 2014), empirically derived by its authors.
C_INCR = 0.733  # an opinion word in capitals among lower-case words
EP_INCR = 0.292  # per exclamation mark, up to 4
QM_INCR = 0.18  # per question mark, 2 or 3 of them
ALPHA = 15  # VADER's normalisation constant
# Hashtags are read as words ("#PasÀLaHauteur" → "pas à la hauteur", camel case split), but an
# opinion word inside a hashtag counts half: hashtags mostly label a topic or a campaign rather
# than state the author's opinion. Chosen by 5-fold cross-validation on the DEFT 2017 training
# tweets (0.5 beat 0, 0.7 and 1).
TAG_SCALE = 0.5
IRONY_SCALAR = -0.5  # a positive word next to an eye-roll is sarcasm
_IRONY = frozenset({"🙄", "🙃", "😒"})
_CONTRAST = frozenset(
    {
        "mais",
        "cependant",
        "pourtant",
        "toutefois",
        "neanmoins",
        "sauf",
        "sauf que",
        "par contre",
        "en revanche",
    }
)
_POST_BOOSTERS = frozenset(
    {"grave", "trop", "beaucoup", "enormement", "vraiment", "tellement", "fortement", "nettement"}
)
PRAISE = 0.5  # a positive word at least this strong makes a duration tenure ("garde" 0.1 is not)
_WORDS = re.compile(r"[^\W\d_]+")


def _normalise(score: float) -> float:
    return max(-1.0, min(1.0, score / math.sqrt(score * score + ALPHA)))


class Scorer:
    """Loads the lexicons once; ``score`` is then pure and cheap.

    ``topics`` adds optional topic lexicons (``lexicon/topic_<name>.tsv``), see
    :class:`~listening.analyze.sentiment.lexicon.Lexicon`.
    """

    def __init__(self, topics: tuple[str, ...] = ()) -> None:
        self.lexicon = Lexicon(topics)
        self.tokeniser = Tokeniser(self.lexicon)

    def _score_sentence(
        self,
        units: list[Unit],
        n_excl: int,
        n_quest: int,
        explanation: list[dict],
        moving: int | None = None,
    ) -> float | None:
        units = durations(self.tokeniser.merge_phrases(units))
        n = len(units)
        if not n:
            return None
        keys = [u.key for u in units]
        moves(units, keys, what_moves(keys) if moving is None else moving)
        if not any(u.valence or u.negated_valence for u in units):
            return None  # no opinion word: what follows would sum nothing (most sentences)
        boosters = [
            self.lexicon.booster(k) if u.kind == "word" else None
            for k, u in zip(keys, units, strict=True)
        ]
        scale = negation_scope(units, self.lexicon.booster)
        for u, sc in zip(units, scale, strict=True):
            if u.negated_valence and sc != 1.0:  # "ne répond pas": the negation is the opinion
                u.valence = u.negated_valence / sc
        opinion = [u.valence != 0.0 for u in units]
        # A booster right before an opinion word modifies it and has no valence of its own
        # ("super bon"); otherwise it may be an opinion word itself ("c'est super").
        for i in range(n):
            if boosters[i] is not None and opinion[i]:
                modifies_next = any(
                    opinion[j] and boosters[j] is None for j in range(i + 1, min(n, i + 3))
                )
                modifies_previous = keys[i] in _POST_BOOSTERS and any(
                    opinion[j] and boosters[j] is None for j in range(max(0, i - 2), i)
                )
                if modifies_next or modifies_previous:
                    opinion[i] = False
                else:
                    boosters[i] = None
        words = [u for u in units if u.kind == "word"]
        n_caps = sum(1 for u in words if len(u.surface) > 1 and u.surface.isupper())
        caps_differ = 0 < n_caps < len(words)
        ironic = any(u.kind == "emo" and u.key in _IRONY for u in units)
        contrast = -1
        conceded: set[int] = set()
        # "client depuis trois mois, aucun souci": beside praise, "depuis" is tenure, not waiting
        praised = any(
            u.valence >= PRAISE and sc == 1.0 and u.kind != "wait"
            for u, sc, op in zip(units, scale, opinion, strict=True)
            if op
        )
        for i, k in enumerate(keys):
            if k in _CONTRAST:
                contrast = i
            elif k in CONCESSIONS or (k == "depit" and i and keys[i - 1] == "en"):
                conceded.update(clause_after(keys, i))

        valences = [0.0] * n
        for i in range(n):
            if not opinion[i]:
                continue
            u = units[i]
            v = u.valence
            if u.kind == "wait":
                # "ne tournent pas depuis 5 jours": the negation is the wait, not its opposite;
                # "au bout de deux mois" is late even when the thing finally came
                if not praised or not u.key.startswith("depuis"):
                    valences[i] = v
                    explanation.append({"term": u.surface.lower(), "weight": v, "negated": False})
                continue
            if caps_differ and len(u.surface) > 1 and u.surface.isupper():
                v += C_INCR if v > 0 else -C_INCR
            if u.tag:
                v *= TAG_SCALE
            negated = scale[i] != 1.0
            for dist in range(1, 4):
                j = i - dist
                if j < 0 or keys[j] == "," or opinion[j]:
                    break
                b = boosters[j]
                if b:
                    b *= (1.0, 0.95, 0.9)[dist - 1]
                    if negated and j > 0 and scale[j] != 1.0:
                        b = -abs(b)  # "pas très bon" is milder than "pas bon"
                    v += b if v > 0 else -b
            for j in range(i + 1, min(n, i + 3)):  # "j'aime grave"
                if keys[j] == "," or opinion[j]:
                    break
                if keys[j] in _POST_BOOSTERS and boosters[j] and not (j + 1 < n and opinion[j + 1]):
                    v += boosters[j] if v > 0 else -boosters[j]
                    break
            v *= scale[i]
            if i in conceded:  # "malgré la grève": granted, not the author's point
                v = 0.0
                continue
            if ironic and v > 0:  # "Bravo, trois semaines de retard 🙄"
                v *= IRONY_SCALAR
            if contrast >= 0:
                v *= 0.5 if i < contrast else 1.5 if i > contrast else 1.0
            valences[i] = v
            explanation.append(
                {"term": u.surface.lower(), "weight": round(v, 3), "negated": negated}
            )
        total = sum(valences)
        if total == 0.0:
            return None
        emphasis = min(n_excl, 4) * EP_INCR
        if n_quest > 1:
            emphasis += n_quest * QM_INCR if n_quest <= 3 else 0.96
        total += emphasis if total > 0 else -emphasis
        return _normalise(total)

    def score(
        self, text: str, lang: str | None = "fr", *, context: str | None = None
    ) -> SentimentResult:
        """Score ``text``. ``context``, when ``text`` is a part of a sentence (a clause about one
        brand), is that sentence: "Carrefour les a augmentés" then knows "les" are prices."""
        if lang not in ("fr", None) or (lang is None and not _looks_french(text)):
            return SentimentResult(None, None, [], sentiment.SENTIMENT_VERSION)
        explanation: list[dict] = []
        scores: list[float] = []
        weights: list[float] = []
        moving = None
        if context:
            moving = what_moves([fold(w) for w in _WORDS.findall(context)])
        for units, n_excl, n_quest in self.tokeniser.sentences(text):
            if units[0].kind == "word" and units[0].key in _CONTRAST and weights:
                weights = [w * 0.5 for w in weights]  # "… . Mais …": the later part dominates
                weight = 1.5
            else:
                weight = 1.0
            s = self._score_sentence(units, n_excl, n_quest, explanation, moving)
            if s is not None:
                scores.append(s)
                weights.append(weight)
        compound = 0.0
        if scores:
            compound = sum(s * w for s, w in zip(scores, weights, strict=True)) / sum(weights)
        compound = round(compound, 4)
        return SentimentResult(
            compound, label_for(compound), explanation, sentiment.SENTIMENT_VERSION
        )


def _looks_french(text: str) -> bool:
    """With no language given, refuse texts the language guesser attributes to another language."""
    from listening.analyze.lang import detect_language

    guess = detect_language(text)
    return guess in (None, "fr")


@lru_cache(maxsize=1)
def get_scorer() -> Scorer:
    """The process-wide scorer (loading the lexicons takes a few tens of milliseconds)."""
    return Scorer()
