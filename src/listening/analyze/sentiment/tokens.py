"""Tokenising for the sentiment scorer: a text becomes sentences of units.

A unit is a word, a multi-word idiom or booster from the lexicon, an emoji or emoticon, a review
grade ("4/5", ★★★☆☆), a number or a punctuation mark. Links and ``@user`` are skipped; hashtags
are read as words (camel case split, each unit marked ``tag``); sentences end at ``. ! ? …`` and
line breaks, and keep their count of ``!`` and ``?``. Variation selectors and skin tones are
stripped before emoji are looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from listening.analyze.folding import fold_word
from listening.analyze.sentiment.lexicon import Lexicon

# variation selectors, zero-width joiner, skin tones (a character class: str.translate with a
# dict looked up every character of every text, 5.6 us a tweet, most of them with none)
_STRIP = re.compile("[\ufe0f\ufe0e\u200d\U0001f3fb-\U0001f3ff]")
# The words of a hashtag: capitalised runs ("EELV"), camel-case words, numbers.
_CAMEL = re.compile(r"[A-ZÀ-ÖØ-Þ]+(?![a-zß-öø-ÿ])|[^\W\d_][^\W\d_A-ZÀ-ÖØ-Þ]*|\d+")


@dataclass(slots=True)
class Unit:
    """A word, a multi-word idiom, an emoji or a punctuation mark inside one sentence."""

    surface: str
    key: str  # folded form
    kind: str  # 'word' | 'phrase' | 'wait' | 'emo' | 'num' | 'punct'
    valence: float = 0.0  # lexicon valence, 0 when none
    negated_valence: float = 0.0  # for neutral words whose negation is an opinion ("répond")
    tag: bool = False  # part of a hashtag


def rating_valence(text: str) -> float | None:
    """A review grade ("1/5", "8/10", "★★☆☆☆", "⭐⭐⭐⭐") as a valence on VADER's scale.

    3/5 (60%) is the neutral point of French review sites ("correct sans plus"); each step of
    20% is worth about 1.3, so 5/5 is +2.6 and 1/5 -2.6, like "excellent" and "déplorable".
    """
    if "/" in text:
        grade, top = text.replace(" ", "").replace(",", ".").split("/")
        fraction = float(grade) / float(top)
    elif "⭐" in text:
        fraction = text.count("⭐") / 5
    else:
        fraction = text.count("★") / len(text)
    if fraction > 1:
        return None  # "12/10" is a date, not a grade
    return max(-3.0, round(6.5 * (fraction - 0.6), 2))


class Tokeniser:
    """Cuts texts into sentences of units, with the emoticons and idioms of ``lexicon``."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        emoticons = sorted((e for e in lexicon.emoji if len(e) > 1 or e.isascii()), key=len)
        emo_re = "|".join(re.escape(e) for e in reversed(emoticons))
        # the emoticons' first characters, tested before their alternatives at every position
        # (re tries each alternative in turn: most positions start a word, no emoticon)
        firsts = "".join(sorted({re.escape(e[0]) for e in emoticons}))
        self._token_re = re.compile(
            r"(?P<skip>https?://\S+|www\.\S+|@\w+|\bhttps?\b)"
            rf"|(?<![\w:])(?=[{firsts}])(?P<emo>{emo_re})(?![\w])"
            r"|(?<![\d/.,])(?P<rating>\d+(?:[.,]\d)?\s?/\s?(?:5|10|20)(?![\d/])|[★☆]{2,}|⭐{2,})"
            r"|#(?P<tag>[^\W_]+)"
            r"|(?P<word>[^\W\d_]+)"
            r"|(?P<num>\d+(?:[.,]\d+)?)"
            r"|(?P<end>[.!?…]+|\n)"
            r"|(?P<punct>[,;:()\[\]\"«»/–—-])"
            r"|(?P<other>[^\s'’#*_&%$€+=<>|~^`])"
        )

    def sentences(self, text: str) -> list[tuple[list[Unit], int, int]]:
        """Split into sentences of units; each with its count of '!' and '?'."""
        sentences: list[tuple[list[Unit], int, int]] = []
        units: list[Unit] = []
        emoji = self.lexicon.emoji
        for m in self._token_re.finditer(_STRIP.sub("", text)):
            kind = m.lastgroup
            s = m.group()
            if kind == "word":  # most tokens: tested first
                units.append(Unit(s, fold_word(s), "word"))
            elif kind == "skip":
                continue
            elif kind == "end":
                if units:
                    sentences.append((units, s.count("!"), s.count("?")))
                    units = []
            elif kind == "tag":
                body = m.group("tag")
                for part in _CAMEL.findall(body):
                    if part.isdigit():
                        units.append(Unit(part, part, "num", tag=True))
                    else:
                        units.append(Unit(part, fold_word(part), "word", tag=True))
            elif kind == "rating":
                value = rating_valence(s)
                if value is not None:
                    units.append(Unit(s, s, "emo", value))
            elif kind == "emo" or (kind == "other" and s in emoji):
                units.append(Unit(s, s, "emo", emoji[s]))
            elif kind == "num":
                units.append(Unit(s, s, "num"))
            elif kind == "punct":
                units.append(Unit(s, s, "punct"))
        if units:
            sentences.append((units, 0, 0))
        return sentences

    def _match_phrase(self, units: list[Unit], i: int) -> tuple[Unit, int] | None:
        """The longest idiom or multi-word booster starting at ``units[i]``, and its length."""
        if i + 1 >= len(units):
            return None
        for key, value in self.lexicon.phrases.get((units[i].key, units[i + 1].key), ()):
            k = len(key)
            if i + k <= len(units) and all(units[i + j].key == key[j] for j in range(2, k)):
                surface = " ".join(x.surface for x in units[i : i + k])
                if value is None:  # a multi-word booster such as "un peu"
                    return Unit(surface, " ".join(key), "word"), k
                return Unit(surface, " ".join(key), "phrase", value, tag=units[i].tag), k
        return None

    def merge_phrases(self, units: list[Unit]) -> list[Unit]:
        out: list[Unit] = []
        i, n = 0, len(units)
        phrases, lookup = self.lexicon.phrases, self.lexicon.lookup
        negated_only = self.lexicon.negated_only
        while i < n:
            u = units[i]
            kind = u.kind
            # most positions start no idiom: one dict test before the search
            if (
                (kind == "word" or kind == "num")
                and i + 1 < n
                and (u.key, units[i + 1].key) in phrases
            ):
                match = self._match_phrase(units, i)
                if match is not None:
                    out.append(match[0])
                    i += match[1]
                    continue
            if kind == "word":
                hit = lookup(u.key)
                if hit is not None:
                    u.valence = hit[1]
                elif u.key in negated_only:
                    u.negated_valence = negated_only[u.key]
            out.append(u)
            i += 1
        return out
