"""Accent folding: how the analyze stage compares words across case and accents, in one place.

Two foldings, different on purpose (each one's results are pinned by its tests):

* :func:`fold` (and :func:`fold_same_length`, :func:`fold_word`): lower case, then the French
  accents, œ/æ and ’ by a fixed table. For the sentiment lexicon and its tokens, aspects, the
  adapter's vocabulary and target scoring. Letters outside the table stay as they are (``ã``,
  ``ß``, ``ﬁ``, full-width letters, invisible characters).
* :func:`fold_unicode` (and :func:`fold_unicode_words`): brand queries and the texts they are
  matched against. Any script's accents (Unicode decomposition, NFKD), case folding (``ß`` →
  ``ss``), compatibility forms (``ﬁ`` → ``fi``, full-width ``Ａ`` → ``a``), every kind of
  apostrophe → ``'``, and invisible format characters (:data:`INVISIBLE_CHARS`) removed: a brand
  name must match however a web page spells it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = [
    "INVISIBLE_CHARS",
    "fold",
    "fold_same_length",
    "fold_unicode",
    "fold_unicode_words",
    "fold_word",
]

_FOLD = str.maketrans(
    {"à": "a", "â": "a", "ä": "a", "á": "a", "é": "e", "è": "e", "ê": "e", "ë": "e", "î": "i",
     "ï": "i", "í": "i", "ô": "o", "ö": "o", "ó": "o", "ù": "u", "û": "u", "ü": "u", "ú": "u",
     "ÿ": "y", "ç": "c", "ñ": "n", "œ": "oe", "æ": "ae", "’": "'"}
)  # fmt: skip


def fold(text: str) -> str:
    """Lower-case and strip French accents (``Très`` → ``tres``)."""
    if text.isascii():  # nothing to strip: translate looks up every character in a dict
        return text.lower()
    return text.lower().translate(_FOLD)


# the same folding, one character for one (œ stays): offsets into the folded text stay valid
_FOLD_SAME_LENGTH = str.maketrans({k: v for k, v in _FOLD.items() if len(v) == 1})


def fold_same_length(text: str) -> str:
    """:func:`fold` without the letters it widens (``œ`` → ``oe``): same length as ``text``."""
    return text.lower().translate(_FOLD_SAME_LENGTH)


fold_word = lru_cache(maxsize=1 << 16)(fold)  # tokens repeat a lot; whole texts do not


# Invisible format characters (Unicode category Cf) that web text carries inside words: soft
# hyphen, zero-width space/joiners, word joiner, BOM, and the bidi marks, embeddings, overrides
# and isolates (UAX #9). They are part of the word they sit in and vanish when it is folded, so
# "Ac\u200bme" is the word "acme" (spammers use them to dodge filters) and character spans
# still point into the original text.
_INVISIBLE_RANGES = (
    (0xAD, 0xAD), (0x61C, 0x61C), (0x180E, 0x180E), (0x200B, 0x200F),
    (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF),
)  # fmt: skip
INVISIBLE_CHARS = "".join(chr(c) for lo, hi in _INVISIBLE_RANGES for c in range(lo, hi + 1))
_FOLD_UNICODE = str.maketrans(
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "‘": "'", "ʼ": "'", "‛": "'"}
    | dict.fromkeys(INVISIBLE_CHARS)
)


def fold_unicode(text: str) -> str:
    """Fold ``text`` for comparison: lowercase, accents removed, œ/æ spelled out, ’ → '.

    ``fold_unicode("MÉDIAS") == fold_unicode("médias") == "medias"``;
    ``fold_unicode("Œuvre") == "oeuvre"``.
    """
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD_UNICODE).casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


# Vocabulary repeats across documents; caching keeps fold_unicode() off the hot path.
_folded: dict[str, str] = {}
_FOLDED_MAX = 200_000


def fold_unicode_words(words: list[str]) -> list[str]:
    """:func:`fold_unicode` of each word, cached (a text's words, many texts)."""
    get = _folded.get
    return [get(w) or _fold_unicode_word(w) for w in words]


def _fold_unicode_word(word: str) -> str:
    if len(_folded) >= _FOLDED_MAX:
        _folded.clear()
    folded = _folded[word] = fold_unicode(word)
    return folded
