"""The sentiment lexicons, loaded and merged once: words, idioms, boosters, emoji.

The base is vaderSentiment-fr's ``fr_lexicon.txt`` (read as data, its code is never imported);
then, later wins, ``additions.tsv``, the optional ``topic_<name>.tsv``, ``corrections.tsv`` and
``idioms.tsv`` from ``listening/analyze/lexicon/`` (its README says where each list comes from).
Keys are folded (:func:`~listening.analyze.folding.fold`), so files may be written with or
without accents. :meth:`Lexicon.lookup` also finds a word's de-elongated ("trooop") and inflected
(plural, feminine, conjugated) forms.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from listening.analyze.folding import fold
from listening.errors import ListeningError

_LEXICON_ENTRY = re.compile(r"^[^\W\d_]+(?:[ '’-][^\W\d_]+)*$")
_REPEATS = re.compile(r"(.)\1{2,}")
# (suffix, replacement) tried in order when a word is not in the lexicon: plurals, feminines.
_SUFFIXES = (
    ("euses", "eux"), ("euse", "eux"), ("ives", "if"), ("ive", "if"), ("aux", "al"),
    ("ees", "e"), ("ee", "e"), ("es", ""), ("es", "e"), ("s", ""), ("x", ""), ("e", ""),
    # verbs: "ils protègent", "elle menaçait", "nous aimons", "détruit" → the lexicon's forms
    ("aient", "er"), ("ait", "er"), ("ent", "e"), ("ent", "er"), ("ons", "er"), ("ez", "er"),
    ("e", "er"), ("it", "ire"), ("is", "ir"), ("it", "ir"),
)  # fmt: skip
# The same, by their last letter, in the same order: a word is tried against the few that
# can end it (most words of a text are in no lexicon, and each tried all 22)
_SUFFIXES_BY_LAST: dict[str, tuple[tuple[str, str], ...]] = {
    last: tuple(e for e in _SUFFIXES if e[0][-1] == last) for last in {s[-1] for s, _ in _SUFFIXES}
}


def _read(package: str, name: str) -> str:
    return files(package).joinpath(name).read_text(encoding="utf-8")


def _tsv(name: str) -> list[list[str]]:
    rows = []
    for line in _read("listening.analyze.lexicon", name).splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def words_of(text: str) -> list[str]:
    """The folded words of a lexicon entry: ``"À fuir"`` → ``["a", "fuir"]``."""
    return re.findall(r"[^\W_]+", fold(text))


class Lexicon:
    """The merged lexicons of one scorer.

    ``topics`` adds optional topic lexicons (``lexicon/topic_<name>.tsv``): words that carry an
    opinion only in one field's news (``pollution``, ``canicule`` for climate and energy), off by
    default because brand talk rarely means them that way.
    """

    def __init__(self, topics: tuple[str, ...] = ()) -> None:
        for t in topics:
            if not files("listening.analyze.lexicon").joinpath(f"topic_{t}.tsv").is_file():
                known = sorted(
                    p.name.removeprefix("topic_").removesuffix(".tsv")
                    for p in files("listening.analyze.lexicon").iterdir()
                    if p.name.startswith("topic_")
                )
                raise ListeningError(
                    f"no topic lexicon topic_{t}.tsv in listening/lexicon (topics: "
                    f"{', '.join(known) or 'none'})"
                )
        lexicon: dict[str, float] = {}
        phrases: dict[tuple[str, ...], float] = {}
        for line in _read("vaderSentiment_fr", "fr_lexicon.txt").splitlines():
            if "->" not in line:
                continue
            word, value = line.rsplit("->", 1)
            if not _LEXICON_ENTRY.match(word) or len(word) < 2:
                continue  # emoticons are ours (emoji.tsv); letters left from them are noise
            key = tuple(words_of(word))
            if len(key) == 1:
                lexicon[key[0]] = float(value)
            elif key:
                phrases[key] = float(value)
        for name in ("additions.tsv", *(f"topic_{t}.tsv" for t in topics), "corrections.tsv"):
            for row in _tsv(name):
                key = tuple(words_of(row[0]))
                if len(key) == 1:
                    lexicon[key[0]] = float(row[1])
                elif key:
                    phrases[key] = float(row[1])
        for row in _tsv("idioms.tsv"):
            key = tuple(words_of(row[0]))
            if len(key) == 1:
                lexicon[key[0]] = float(row[1])
            elif key:
                phrases[key] = float(row[1])
        for key, value in list(phrases.items()):  # hashtags: "#changementclimatique"
            lexicon.setdefault("".join(key), value)
        self.words = lexicon
        self.boosters: dict[tuple[str, ...], float] = {}
        for row in _tsv("boosters.tsv"):
            self.boosters[tuple(words_of(row[0]))] = float(row[1])
        # Multi-word boosters ("un peu") are matched like idioms, with a zero valence.
        # Indexed by their first two words: most positions then fail with one dict lookup.
        self.phrases: dict[tuple[str, str], list[tuple[tuple[str, ...], float | None]]] = {}
        for key, value in phrases.items():
            self.phrases.setdefault(key[:2], []).append((key, value))
        for key in self.boosters:
            if len(key) > 1:
                self.phrases.setdefault(key[:2], []).append((key, None))
        for entries in self.phrases.values():
            entries.sort(key=lambda e: -len(e[0]))
        self.negated_only = {fold(row[0]): float(row[1]) for row in _tsv("negated_only.tsv")}
        self.emoji: dict[str, float] = {row[0]: float(row[1]) for row in _tsv("emoji.tsv")}
        self.lookup = lru_cache(maxsize=1 << 16)(self._lookup)
        self.booster = lru_cache(maxsize=1 << 16)(self._booster)

    def _lookup(self, key: str) -> tuple[str, float] | None:
        """The lexicon entry for a folded word, trying de-elongated and inflected forms."""
        candidates = [key]
        if _REPEATS.search(key):
            candidates += [_REPEATS.sub(r"\1", key), _REPEATS.sub(r"\1\1", key)]
        for cand in candidates:
            if cand in self.words:
                return cand, self.words[cand]
        for cand in candidates:
            for suffix, repl in _SUFFIXES_BY_LAST.get(cand[-1:], ()):
                if cand.endswith(suffix) and len(cand) - len(suffix) >= 3:
                    base = cand[: -len(suffix)] + repl
                    if base in self.words:
                        return base, self.words[base]
        return None

    def _booster(self, key: str) -> float | None:
        b = self.boosters.get((key,))
        if b is None and _REPEATS.search(key):
            b = self.boosters.get((_REPEATS.sub(r"\1", key),))
        return b
