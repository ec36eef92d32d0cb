"""French sentiment scoring: VADER's algorithm on vaderSentiment-fr's lexicon, plus a French layer.

The lexicon (about 9,000 rated words) comes unmodified from the pinned ``vaderSentiment_fr``
package; the rules are reimplemented here because the package's French handling misses negation
after the verb (``je n'aime pas``), negates on every ``plus``, ignores ``aucun``, keeps English
idioms and turns neutral text with ``!!`` or ``...`` negative. Our corrections and additions live in
``listening/analyze/lexicon/`` (see its README for where each list comes from).

Tweet conventions: links and ``@user`` are skipped, hashtags are read as words (camel case split,
at half weight, see ``TAG_SCALE``), elongations ("trooop") are looked up de-elongated.

Brand talk reports facts: a moving word takes the sign of what moves (prices down good, sales
down bad), durations are service speed or waiting, words after ``malgré`` are granted, not
scored, and a negation reaches the first opinion word after it only.

Scoring is done per sentence, as VADER's authors recommend, and sentence scores are averaged
(weighted by ``mais``-style contrast), so long comments do not saturate towards ±1.

The package: this module holds what a score is (the version, the labels, the result);
``lexicon`` loads and merges the word lists, ``tokens`` cuts a text into sentences of units,
``rules`` holds the French layer (negation scope, moving words, durations, concessions) and
``scorer`` puts them together (``get_scorer().score(text)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "SENTIMENT_VERSION",
    "SentimentResult",
    "label_for",
]

SENTIMENT_VERSION = "fr-1.3"

# Labels: a compound strictly above/below these is positive/negative. VADER documents ±0.05; the
# positive side is raised to 0.15 because the base lexicon, translated from English, rates many
# neutral French words mildly positive. Re-chosen for fr-1.2 (topic entries moved out) on the
# development splits only: 5-fold cross-validation on the DEFT 2017 training tweets picks a
# negative threshold of 0 in 4 folds of 5 (-0.05 in one), and on the training tweets, the
# reviews' dev split and the team's sentences (+0.15, 0) beats the old (+0.15, -0.05) on all
# three; +0.10 would gain 0.008 on tweets and lose 0.009 on reviews, so +0.15 stays.
POSITIVE_THRESHOLD = 0.15
NEGATIVE_THRESHOLD = 0.0


@dataclass(frozen=True)
class SentimentResult:
    compound: float | None  # -1..1; None when not scored (not French)
    label: str | None  # 'positive' | 'neutral' | 'negative' | None
    explanation: list[dict] = field(default_factory=list)
    version: str = SENTIMENT_VERSION


def label_for(compound: float) -> str:
    if compound > POSITIVE_THRESHOLD:
        return "positive"
    if compound < NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"
