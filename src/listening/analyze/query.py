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

How words are cut and compared (the same for queries and texts) is told in
:mod:`listening.analyze.matching`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from listening.analyze.folding import INVISIBLE_CHARS, fold_unicode
from listening.analyze.matching import And, Match, Near, Node, Not, Or, Term, TextIndex
from listening.errors import QuerySyntaxError

__all__ = ["MAX_DEPTH", "MAX_NEAR", "BrandQuery", "explain", "parse_query"]

MAX_NEAR = 50  # the largest n of NEAR/n, in words
MAX_DEPTH = 50  # the deepest nesting of parentheses and NOT

_INVISIBLE = re.escape(INVISIBLE_CHARS)
_QUERY_WORD = re.compile(rf"[^\W_](?:[^\W_]|[\u0300-\u036f{_INVISIBLE}])*\*?")
_WORD_CHAR = re.compile(r"[^\W_]|[\u0300-\u036f]")
_NEAR = re.compile(r"NEAR/([0-9]+)")


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


def _make_term(token: _Token, query: str) -> Term:
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
    return Term(
        written=token.text,
        position=token.position,
        words=tuple(fold_unicode(w.rstrip("*")) for w in words),
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

    def parse(self) -> Node:
        if self.tok.kind == "EOF":
            raise QuerySyntaxError(
                'empty query: write at least one term, e.g. "Acme"', self.query, 0
            )
        node = self.parse_or()
        if self.tok.kind == "RPAREN":
            raise self.error("unbalanced parenthesis: this ) has no matching (", self.tok)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.tok.kind == "OR":
            self.advance_over(self.tok)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(children)

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while self.tok.kind in ("AND", *_OPERAND_START):
            if self.tok.kind == "AND":
                self.advance_over(self.tok)
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(children)

    def deeper(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"nested too deeply: more than {MAX_DEPTH} levels of parentheses and NOT; "
                "simplify the query",
                token,
            )

    def parse_unary(self) -> Node:
        if self.tok.kind == "NOT":
            token = self.tok
            self.deeper(token)
            self.advance_over(token)
            node = Not(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_near()

    def parse_near(self) -> Node:
        left = self.parse_primary()
        if self.tok.kind != "NEAR":
            return left
        near = self.tok
        if not isinstance(left, Term):
            raise self.error(f"{near.text} joins two words or phrases, not a group", near)
        self.advance_over(near, ("WORD", "PHRASE", "LPAREN", "NOT"))
        if self.tok.kind not in ("WORD", "PHRASE"):
            raise self.error(f"{near.text} joins two words or phrases, not a group", near)
        right = _make_term(self.tok, self.query)
        self.i += 1
        if self.tok.kind == "NEAR":
            raise self.error("NEAR/n does not chain: write a NEAR/2 b AND b NEAR/2 c", self.tok)
        return Near(left, right, near.distance)

    def parse_primary(self) -> Node:
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
        found: dict[Term, set[int]] = {}
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


def _negated_terms(node: Node, negated: bool = False) -> list[tuple[Term, bool]]:
    if isinstance(node, Not):
        return _negated_terms(node.child, not negated)
    if isinstance(node, (And, Or)):
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
