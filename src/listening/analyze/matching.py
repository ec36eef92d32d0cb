"""Matching brand queries against texts: a text's words indexed once, the query tree run on it.

:class:`TextIndex` tokenises a text once so that many queries run on it; the query tree
(:class:`Term`, :class:`Near`, :class:`Not`, :class:`And`, :class:`Or`, built by
:mod:`listening.analyze.query`) tests it and collects where each term matched.

Tokenisation (the same for queries and texts). A word is a run of letters and digits; every other
character separates words. Words are compared after
:func:`~listening.analyze.folding.fold_unicode` (case, accents, ligatures folded), and only whole
words match: ``Acme`` does not match ``Acmeville`` (use ``Acme*``).
Consequences, chosen on purpose:

* Apostrophes split: ``l'Acme`` and ``l’Acme`` contain the word ``acme``; the query word
  ``aujourd'hui`` is the phrase ``aujourd hui`` and matches ``aujourd’hui``.
* Hyphens, dots, ``_``, ``@``, ``#`` split too: the text ``Free-mobile`` is the two words
  ``free mobile``, so both ``Free-mobile`` and ``"Free mobile"`` in a query match
  ``Free-mobile``, ``Free mobile`` and ``free–mobile``; ``Free`` alone matches all three
  (exclude with ``NOT "Free mobile"``); ``@acme_fr`` and ``#Acme`` contain ``acme``.
  ``Freemobile`` is one word and matches neither.
* A query word with inner punctuation (``acme.fr``, ``M&M``) is the phrase of its words.
* ``"`` opens and closes a phrase; there is no escape for a ``"`` inside a phrase.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from listening.analyze.folding import INVISIBLE_CHARS, fold_unicode_words

__all__ = ["And", "Match", "Near", "Node", "Not", "Or", "Term", "TextIndex"]

_INVISIBLE = re.escape(INVISIBLE_CHARS)
# A word starts with a letter or digit and may carry combining accents (text in NFD form).
_WORD = re.compile(rf"[^\W_](?:[^\W_]|[\u0300-\u036f{_INVISIBLE}])*")
_WORD_FAST = re.compile(r"[^\W_]+")
_COMBINING = re.compile(rf"[\u0300-\u036f{_INVISIBLE}]")


class TextIndex:
    """A text tokenised once, to run many queries on it: ``query.match(TextIndex(text))``."""

    __slots__ = ("_cache", "_pattern", "_spans", "text", "token_set", "tokens")

    def __init__(self, text: str):
        self.text = text
        # The simpler pattern is twice as fast; words only carry combining marks in NFD text.
        self._pattern = _WORD if _COMBINING.search(text) else _WORD_FAST
        self.tokens: list[str] = fold_unicode_words(self._pattern.findall(text))
        self.token_set = frozenset(self.tokens)
        self._spans: list[tuple[int, int]] | None = None
        self._cache: dict[object, list[int]] = {}

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Character span in ``text`` of each token; computed only for texts that match."""
        if self._spans is None:
            self._spans = [m.span() for m in self._pattern.finditer(self.text)]
        return self._spans

    def _positions_of(self, word: str) -> list[int]:
        found = self._cache.get(word)
        if found is None:
            found, tokens, i = [], self.tokens, -1
            if word in self.token_set:
                try:
                    while True:
                        i = tokens.index(word, i + 1)
                        found.append(i)
                except ValueError:
                    pass
            self._cache[word] = found
        return found

    def _starts_with(self, prefix: str) -> list[int]:
        words = [w for w in self.token_set if w.startswith(prefix)]
        if len(words) == 1:
            return self._positions_of(words[0])
        return sorted(p for w in words for p in self._positions_of(w))

    def occurrences(self, term: Term) -> list[int]:
        """Sorted token positions where ``term`` starts."""
        found = self._cache.get(term.key)
        if found is not None:
            return found
        words, prefix = term.words, term.prefix
        first = self._starts_with(words[0]) if prefix[0] else self._positions_of(words[0])
        if len(words) > 1:
            tokens, n = self.tokens, len(words)
            found = [
                p
                for p in first
                if p + n <= len(tokens)
                and all(
                    tokens[p + k].startswith(words[k]) if prefix[k] else tokens[p + k] == words[k]
                    for k in range(1, n)
                )
            ]
        else:
            found = first
        self._cache[term.key] = found
        return found


@dataclass(frozen=True)
class Match:
    """The outcome of matching one text: on a match, the query terms that matched (as written,
    deduplicated, in query order) and their character spans in the original text (sorted).
    Terms under ``NOT`` never appear. On no match, both lists are empty."""

    matched: bool
    terms: list[str]
    spans: list[tuple[int, int]]


@dataclass(eq=False)
class Term:
    written: str  # as in the query, quotes and * included
    position: int
    words: tuple[str, ...]
    prefix: tuple[bool, ...]

    def __post_init__(self) -> None:
        self.key = (self.words, self.prefix)
        # Words that must be in the text's vocabulary: a cheap test before looking for positions.
        self.exact = frozenset(w for w, p in zip(self.words, self.prefix, strict=True) if not p)
        self.is_word = len(self.words) == 1 and not self.prefix[0]

    def test(self, index: TextIndex) -> bool:
        if not self.exact <= index.token_set:
            return False
        return self.is_word or bool(index.occurrences(self))

    def collect(self, index: TextIndex, out: dict[Term, set[int]]) -> None:
        out.setdefault(self, set()).update(index.occurrences(self))

    def terms(self) -> list[Term]:
        return [self]


@dataclass(eq=False)
class Near:
    left: Term
    right: Term
    distance: int

    def _pairs(self, index: TextIndex) -> tuple[set[int], set[int]]:
        """Start positions of the left and right occurrences that have a partner in range.

        Each occurrence asks only "is there a partner in my window?" (two binary searches),
        so the cost is O((L + R) log) in the numbers of occurrences, whatever ``n`` is.
        """
        lefts, rights = index.occurrences(self.left), index.occurrences(self.right)
        n_left, n_right, d = len(self.left.words), len(self.right.words), self.distance
        # right after left: it starts in [a + n_left, a + n_left - 1 + d];
        # right before left: it ends in [a - d, a - 1], i.e. starts in
        # [a - d - n_right + 1, a - n_right]
        used_left = {
            a
            for a in lefts
            if _any_in(rights, a + n_left, a + n_left - 1 + d)
            or _any_in(rights, a - d - n_right + 1, a - n_right)
        }
        # the same windows seen from the right occurrence
        used_right = {
            r
            for r in rights
            if _any_in(lefts, r - n_left - d + 1, r - n_left)
            or _any_in(lefts, r + n_right, r + n_right - 1 + d)
        }
        return used_left, used_right

    def test(self, index: TextIndex) -> bool:
        if not self.left.test(index) or not self.right.test(index):
            return False
        return bool(self._pairs(index)[0])

    def collect(self, index: TextIndex, out: dict[Term, set[int]]) -> None:
        used_left, used_right = self._pairs(index)
        out.setdefault(self.left, set()).update(used_left)
        out.setdefault(self.right, set()).update(used_right)

    def terms(self) -> list[Term]:
        return [self.left, self.right]


@dataclass(eq=False)
class Not:
    child: Node

    def test(self, index: TextIndex) -> bool:
        return not self.child.test(index)

    def collect(self, index: TextIndex, out: dict[Term, set[int]]) -> None:
        pass  # an excluded term is never reported as matched

    def terms(self) -> list[Term]:
        return self.child.terms()


@dataclass(eq=False)
class And:
    children: list[Node]

    def test(self, index: TextIndex) -> bool:
        return all(child.test(index) for child in self.children)

    def collect(self, index: TextIndex, out: dict[Term, set[int]]) -> None:
        for child in self.children:
            child.collect(index, out)

    def terms(self) -> list[Term]:
        return [t for child in self.children for t in child.terms()]


@dataclass(eq=False)
class Or(And):
    def test(self, index: TextIndex) -> bool:
        return any(child.test(index) for child in self.children)

    def collect(self, index: TextIndex, out: dict[Term, set[int]]) -> None:
        for child in self.children:
            if child.test(index):
                child.collect(index, out)


Node = Term | Near | Not | And | Or


def _any_in(positions: list[int], low: int, high: int) -> bool:
    """Whether sorted ``positions`` holds a value in ``[low, high]``."""
    i = bisect_left(positions, low)
    return i < len(positions) and positions[i] <= high
