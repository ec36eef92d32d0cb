"""Boolean brand queries: parse ``'"Acme" OR "Acme Corp" NOT "Acme Anvil"'`` once, match many texts.

Grammar. Operators are UPPERCASE; lowercase ``and``/``or``/``not``/``near`` are ordinary words::

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (["AND"] unary)*        -- adjacent terms are ANDed
    unary    := "NOT" unary | near
    near     := primary ["NEAR/n" primary]    -- both sides a word or a phrase, not a group
    primary  := WORD | '"' PHRASE '"' | "(" or_expr ")"

Precedence, tightest first: ``NEAR/n`` > ``NOT`` > ``AND`` (explicit or implicit) > ``OR``. So
``a b OR c`` is ``(a AND b) OR c``, and ``a OR b NOT c`` is ``a OR (b AND NOT c)``. A binary
``a NOT b`` is ``a AND NOT b``; a unary ``NOT`` may start the query or a group. A query that
would match a text containing none of its terms (``NOT a``, ``a OR NOT b``) is rejected: it would
turn every document into a mention.

``a NEAR/n b`` matches when an occurrence of ``a`` and one of ``b`` (in either order, not
overlapping) are at most ``n`` words apart: ``NEAR/1`` means adjacent, ``NEAR/3`` allows up to two
words in between. Phrases count from their nearest ends. ``n`` is a whole number from 1 to
``MAX_NEAR`` (50: a paragraph; further apart, two words are no longer about each other), and
``NEAR/n`` does not chain: ``a NEAR/2 b NEAR/2 c`` is an error, write ``a NEAR/2 b AND b NEAR/2 c``.

Parentheses and ``NOT`` nest at most ``MAX_DEPTH`` (50) levels deep: deeper is a syntax error,
not a crash.

A trailing ``*`` makes a word a prefix: ``boulang*`` matches ``boulangerie`` and ``boulanger``
(and ``boulang``), also inside phrases (``"pain* au chocolat"``). ``*`` only ends a word.

Tokenisation (the same for queries and texts). A word is a run of letters and digits; every other
character separates words. Words are compared after :func:`normalise` (case, accents, ligatures
folded), and only whole words match: ``Acme`` does not match ``Acmeville`` (use ``Acme*``).
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
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

from listening.errors import QuerySyntaxError

__all__ = [
    "MAX_DEPTH",
    "MAX_NEAR",
    "BrandQuery",
    "Match",
    "TextIndex",
    "explain",
    "normalise",
    "parse_query",
]

MAX_NEAR = 50  # the largest n of NEAR/n, in words
MAX_DEPTH = 50  # the deepest nesting of parentheses and NOT

# Invisible format characters (Unicode category Cf) that web text carries inside words: soft
# hyphen, zero-width space/joiners, word joiner, BOM, and the bidi marks, embeddings, overrides
# and isolates (UAX #9). They are part of the word they sit in and vanish when it is folded, so
# "Ac\u200bme" is the word "acme" (spammers use them to dodge filters) and character spans
# still point into the original text.
_INVISIBLE_RANGES = (
    (0xAD, 0xAD), (0x61C, 0x61C), (0x180E, 0x180E), (0x200B, 0x200F),
    (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF),
)  # fmt: skip
_INVISIBLE_CHARS = "".join(chr(c) for lo, hi in _INVISIBLE_RANGES for c in range(lo, hi + 1))
_INVISIBLE = re.escape(_INVISIBLE_CHARS)
# A word starts with a letter or digit and may carry combining accents (text in NFD form).
_WORD = re.compile(rf"[^\W_](?:[^\W_]|[\u0300-\u036f{_INVISIBLE}])*")
_WORD_FAST = re.compile(r"[^\W_]+")
_COMBINING = re.compile(rf"[\u0300-\u036f{_INVISIBLE}]")
_QUERY_WORD = re.compile(rf"[^\W_](?:[^\W_]|[\u0300-\u036f{_INVISIBLE}])*\*?")
_WORD_CHAR = re.compile(r"[^\W_]|[\u0300-\u036f]")
_NEAR = re.compile(r"NEAR/([0-9]+)")
_FOLD = str.maketrans(
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "‘": "'", "ʼ": "'", "‛": "'"}
    | dict.fromkeys(_INVISIBLE_CHARS)
)


def normalise(text: str) -> str:
    """Fold ``text`` for comparison: lowercase, accents removed, œ/æ spelled out, ’ → '.

    ``normalise("MÉDIAS") == normalise("médias") == "medias"``; ``normalise("Œuvre") == "oeuvre"``.
    """
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD).casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


# Vocabulary repeats across documents; caching keeps normalise() off the hot path.
_folded: dict[str, str] = {}
_FOLDED_MAX = 200_000


def _fold_words(words: list[str]) -> list[str]:
    get = _folded.get
    return [get(w) or _fold_word(w) for w in words]


def _fold_word(word: str) -> str:
    if len(_folded) >= _FOLDED_MAX:
        _folded.clear()
    folded = _folded[word] = normalise(word)
    return folded


class TextIndex:
    """A text tokenised once, to run many queries on it: ``query.match(TextIndex(text))``."""

    __slots__ = ("_cache", "_pattern", "_spans", "text", "token_set", "tokens")

    def __init__(self, text: str):
        self.text = text
        # The simpler pattern is twice as fast; words only carry combining marks in NFD text.
        self._pattern = _WORD if _COMBINING.search(text) else _WORD_FAST
        self.tokens: list[str] = _fold_words(self._pattern.findall(text))
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

    def occurrences(self, term: _Term) -> list[int]:
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


# Query tree -----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Term:
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

    def collect(self, index: TextIndex, out: dict[_Term, set[int]]) -> None:
        out.setdefault(self, set()).update(index.occurrences(self))

    def terms(self) -> list[_Term]:
        return [self]


@dataclass(eq=False)
class _Near:
    left: _Term
    right: _Term
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

    def collect(self, index: TextIndex, out: dict[_Term, set[int]]) -> None:
        used_left, used_right = self._pairs(index)
        out.setdefault(self.left, set()).update(used_left)
        out.setdefault(self.right, set()).update(used_right)

    def terms(self) -> list[_Term]:
        return [self.left, self.right]


@dataclass(eq=False)
class _Not:
    child: _Node

    def test(self, index: TextIndex) -> bool:
        return not self.child.test(index)

    def collect(self, index: TextIndex, out: dict[_Term, set[int]]) -> None:
        pass  # an excluded term is never reported as matched

    def terms(self) -> list[_Term]:
        return self.child.terms()


@dataclass(eq=False)
class _And:
    children: list[_Node]

    def test(self, index: TextIndex) -> bool:
        return all(child.test(index) for child in self.children)

    def collect(self, index: TextIndex, out: dict[_Term, set[int]]) -> None:
        for child in self.children:
            child.collect(index, out)

    def terms(self) -> list[_Term]:
        return [t for child in self.children for t in child.terms()]


@dataclass(eq=False)
class _Or(_And):
    def test(self, index: TextIndex) -> bool:
        return any(child.test(index) for child in self.children)

    def collect(self, index: TextIndex, out: dict[_Term, set[int]]) -> None:
        for child in self.children:
            if child.test(index):
                child.collect(index, out)


_Node = _Term | _Near | _Not | _And | _Or


def _any_in(positions: list[int], low: int, high: int) -> bool:
    """Whether sorted ``positions`` holds a value in ``[low, high]``."""
    i = bisect_left(positions, low)
    return i < len(positions) and positions[i] <= high


# Parser ---------------------------------------------------------------------------------------


@dataclass
class _Token:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT NEAR EOF
    text: str
    position: int
    distance: int = 0


def _lex(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(_Token("LPAREN" if c == "(" else "RPAREN", c, i))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError('unterminated quote: add the closing "', query, i)
            tokens.append(_Token("PHRASE", query[i : end + 1], i))
            i = end + 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '()"':
                j += 1
            word = query[i:j]
            if word in ("AND", "OR", "NOT"):
                tokens.append(_Token(word, word, i))
            elif word == "NEAR" or word.startswith("NEAR/"):
                m = _NEAR.fullmatch(word)
                if not m or not 1 <= int(m.group(1)) <= MAX_NEAR:
                    raise QuerySyntaxError(
                        f"bad NEAR/n: n must be a whole number of words from 1 to {MAX_NEAR}, "
                        "e.g. NEAR/5",
                        query,
                        i,
                    )
                tokens.append(_Token("NEAR", word, i, int(m.group(1))))
            else:
                tokens.append(_Token("WORD", word, i))
            i = j
    tokens.append(_Token("EOF", "", n))
    return tokens


def _make_term(token: _Token, query: str) -> _Term:
    content, offset = token.text, token.position
    if token.kind == "PHRASE":
        content, offset = content[1:-1], offset + 1
    for i, c in enumerate(content):
        if c != "*":
            continue
        if i == 0 or not _WORD_CHAR.match(content[i - 1]):
            raise QuerySyntaxError(
                "wildcard * must follow a word, e.g. boulang*", query, offset + i
            )
        if i + 1 < len(content) and (content[i + 1] == "*" or _WORD_CHAR.match(content[i + 1])):
            raise QuerySyntaxError(
                "wildcard * must end a word (boulang* works, bou*ang does not)", query, offset + i
            )
    words = _QUERY_WORD.findall(content)
    if not words:
        reason = "empty phrase" if token.kind == "PHRASE" else "term has no letters or digits"
        raise QuerySyntaxError(reason, query, token.position)
    return _Term(
        written=token.text,
        position=token.position,
        words=tuple(normalise(w.rstrip("*")) for w in words),
        prefix=tuple(w.endswith("*") for w in words),
    )


_OPERAND_START = ("WORD", "PHRASE", "LPAREN", "NOT")


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.tokens = _lex(query)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def error(self, message: str, token: _Token) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.query, token.position)

    def advance_over(self, op: _Token, allowed: tuple[str, ...] = _OPERAND_START) -> None:
        """Step past operator ``op``; something it can apply to must follow."""
        self.i += 1
        if self.tok.kind not in allowed:
            raise self.error(f"dangling operator: {op.text} has no term after it", op)

    def parse(self) -> _Node:
        if self.tok.kind == "EOF":
            raise QuerySyntaxError(
                'empty query: write at least one term, e.g. "Acme"', self.query, 0
            )
        node = self.parse_or()
        if self.tok.kind == "RPAREN":
            raise self.error("unbalanced parenthesis: this ) has no matching (", self.tok)
        return node

    def parse_or(self) -> _Node:
        children = [self.parse_and()]
        while self.tok.kind == "OR":
            self.advance_over(self.tok)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else _Or(children)

    def parse_and(self) -> _Node:
        children = [self.parse_unary()]
        while self.tok.kind in ("AND", *_OPERAND_START):
            if self.tok.kind == "AND":
                self.advance_over(self.tok)
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else _And(children)

    def deeper(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"nested too deeply: more than {MAX_DEPTH} levels of parentheses and NOT; "
                "simplify the query",
                token,
            )

    def parse_unary(self) -> _Node:
        if self.tok.kind == "NOT":
            token = self.tok
            self.deeper(token)
            self.advance_over(token)
            node = _Not(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_near()

    def parse_near(self) -> _Node:
        left = self.parse_primary()
        if self.tok.kind != "NEAR":
            return left
        near = self.tok
        if not isinstance(left, _Term):
            raise self.error(f"{near.text} joins two words or phrases, not a group", near)
        self.advance_over(near, ("WORD", "PHRASE", "LPAREN", "NOT"))
        if self.tok.kind not in ("WORD", "PHRASE"):
            raise self.error(f"{near.text} joins two words or phrases, not a group", near)
        right = _make_term(self.tok, self.query)
        self.i += 1
        if self.tok.kind == "NEAR":
            raise self.error("NEAR/n does not chain: write a NEAR/2 b AND b NEAR/2 c", self.tok)
        return _Near(left, right, near.distance)

    def parse_primary(self) -> _Node:
        tok = self.tok
        if tok.kind in ("WORD", "PHRASE"):
            self.i += 1
            return _make_term(tok, self.query)
        if tok.kind == "LPAREN":
            self.deeper(tok)
            self.i += 1
            if self.tok.kind == "RPAREN":
                raise self.error("empty parentheses", tok)
            if self.tok.kind == "EOF":
                raise self.error("unbalanced parenthesis: this ( is never closed", tok)
            node = self.parse_or()
            if self.tok.kind != "RPAREN":
                raise self.error("unbalanced parenthesis: this ( is never closed", tok)
            self.i += 1
            self.depth -= 1
            return node
        if tok.kind == "RPAREN":
            raise self.error("unbalanced parenthesis: this ) has no matching (", tok)
        # AND, OR or NEAR/n where a term should be (EOF is caught by advance_over and parse)
        raise self.error(f"dangling operator: {tok.text} has no term before it", tok)


# Public API -----------------------------------------------------------------------------------


class BrandQuery:
    """A parsed brand query. ``BrandQuery(q).match(text)`` → :class:`Match`.

    Raises :class:`~listening.errors.QuerySyntaxError` when ``query`` does not parse.
    """

    def __init__(self, query: str):
        self.query = query
        self._root = _Parser(query).parse()
        if self._root.test(TextIndex("")):
            raise QuerySyntaxError(
                "the query matches texts that contain none of its terms "
                "(a lone NOT, or OR NOT); add a term to look for",
                query,
                0,
            )
        self._terms = self._root.terms()
        # Pre-check: a text without any term's first word cannot match (the test above rejects
        # queries that would).
        self._anchors = frozenset(t.words[0] for t in self._terms if not t.prefix[0])
        self._prefixes = tuple({t.words[0] for t in self._terms if t.prefix[0]})

    def __repr__(self) -> str:
        return f"BrandQuery({self.query!r})"

    @property
    def terms(self) -> list[str]:
        """Every term of the query as written, deduplicated, in query order."""
        return list(dict.fromkeys(t.written for t in self._terms))

    def _may_match(self, index: TextIndex) -> bool:
        if not index.token_set.isdisjoint(self._anchors):
            return True
        prefixes = self._prefixes
        return bool(prefixes) and any(w.startswith(prefixes) for w in index.token_set)

    def match(self, text: str | TextIndex) -> Match:
        """Match a text, or a :class:`TextIndex` shared by several queries (faster)."""
        index = text if isinstance(text, TextIndex) else TextIndex(text)
        if not self._may_match(index) or not self._root.test(index):
            return Match(False, [], [])
        found: dict[_Term, set[int]] = {}
        self._root.collect(index, found)
        spans = index.spans
        matched = [t for t in self._terms if found.get(t)]
        return Match(
            matched=True,
            terms=list(dict.fromkeys(t.written for t in matched)),
            spans=sorted(
                {(spans[p][0], spans[p + len(t.words) - 1][1]) for t in matched for p in found[t]}
            ),
        )


def parse_query(query: str) -> BrandQuery:
    """Parse ``query``; raises :class:`~listening.errors.QuerySyntaxError`."""
    return BrandQuery(query)


def _mark(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], "[[", text[start:end], "]]"]
        last = end
    out.append(text[last:])
    return "".join(out)


def _negated_terms(node: _Node, negated: bool = False) -> list[tuple[_Term, bool]]:
    if isinstance(node, _Not):
        return _negated_terms(node.child, not negated)
    if isinstance(node, (_And, _Or)):
        return [pair for child in node.children for pair in _negated_terms(child, negated)]
    return [(t, negated) for t in node.terms()]


def explain(query: str, text: str) -> str:
    """Human-readable account of matching ``text`` (for ``listening match QUERY TEXT``).

    On a match: the matched terms and the text with each match marked ``[[like this]]``. On no
    match: the terms present in the text, those under NOT flagged. On a syntax error: the
    reason and the query with a caret under the position.
    """
    try:
        brand_query = BrandQuery(query)
    except QuerySyntaxError as e:
        return f"syntax error: {e.reason}\n  {query}\n  {' ' * e.position}^"
    index = TextIndex(text)
    result = brand_query.match(index)
    lines = [f"query: {query}"]
    if result.matched:
        lines += [
            "match: yes",
            "terms: " + ", ".join(result.terms),
            "text:  " + _mark(text, result.spans),
        ]
        return "\n".join(lines)
    present: dict[str, bool] = {}
    spans: list[tuple[int, int]] = []
    for term, negated in _negated_terms(brand_query._root):
        occurrences = index.occurrences(term)
        if occurrences:
            present[term.written] = present.get(term.written, False) or negated
            n = len(term.words)
            spans += [(index.spans[p][0], index.spans[p + n - 1][1]) for p in occurrences]
    found = [f"{w} (under NOT)" if negated else w for w, negated in present.items()]
    lines += [
        "match: no",
        "found: " + (", ".join(found) if found else "none of the query's terms"),
        "text:  " + _mark(text, spans),
    ]
    return "\n".join(lines)
