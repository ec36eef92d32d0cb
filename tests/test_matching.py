"""Boolean brand queries: grammar, tokenisation, terms and spans, syntax errors, explain()."""

import dataclasses

import pytest

from listening.analyze.folding import fold_unicode
from listening.analyze.matching import Match, TextIndex
from listening.analyze.query import BrandQuery, explain, parse_query
from listening.errors import ListeningError, QuerySyntaxError

# (query, text, expected match)
MATCH_CASES = [
    # single words and phrases
    ("Acme", "J'aime Acme.", True),
    ("Acme", "Rien à voir.", False),
    ('"Acme Corp"', "Le groupe Acme Corp rachète", True),
    ('"Acme Corp"', "Corp Acme", False),
    ('"Acme Corp"', "Acme, Corp", True),  # punctuation only separates words
    ('"Acme Corp"', "Acme la Corp", False),
    # AND, explicit and implicit
    ("Acme AND Corp", "Corp et Acme", True),
    ("Acme AND Corp", "Acme seul", False),
    ("Acme Corp", "Corp puis Acme", True),
    ("Acme Corp", "Acme seul", False),
    # OR
    ("Acme OR Corp", "Corp seul", True),
    ("Acme OR Corp", "ni l'un ni l'autre", False),
    # NOT: binary (= AND NOT) and unary at the start
    ("Acme NOT Anvil", "Acme", True),
    ("Acme NOT Anvil", "Acme Anvil", False),
    ("Acme AND NOT Anvil", "Acme Anvil", False),
    ("NOT Anvil Acme", "Acme", True),
    ("NOT Anvil Acme", "Acme Anvil", False),
    ('Free NOT "Free mobile"', "Free-mobile", False),
    ("Acme NOT (Anvil OR Roadrunner)", "Acme et Roadrunner", False),
    ("Acme NOT (Anvil OR Roadrunner)", "Acme et Coyote", True),
    # precedence: NOT > AND > OR
    ('"Acme" OR "Acme Corp" NOT "Acme Anvil"', "Acme Anvil", True),  # "Acme" OR (… NOT …)
    ('("Acme" OR "Acme Corp") NOT "Acme Anvil"', "Acme Anvil", False),
    ("a b OR c", "c", True),  # (a AND b) OR c
    ("a b OR c", "a", False),
    ("a OR b c", "a", True),  # a OR (b AND c)
    ("a OR b c", "b", False),
    ("(a OR b) c", "a", False),
    ("(a OR b) c", "a c", True),
    ("a OR b NOT c", "b c", False),  # a OR (b AND NOT c)
    ("a OR b NOT c", "a c", True),
    ("NOT (a OR b) c", "c", True),
    ("NOT (a OR b) c", "a c", False),
    ("a AND b OR c AND d", "a d", False),
    ("a AND b OR c AND d", "c d", True),
    # operators are uppercase only: lowercase ones are plain words
    ("Acme or Corp", "Acme", False),
    ("Acme or Corp", "Acme or Corp", True),
    # NEAR/n: both orders, boundary n, phrases, wildcards
    ("Acme NEAR/2 rachat", "Acme annonce rachat", True),
    ("Acme NEAR/2 rachat", "rachat annoncé par Acme", False),
    ("Acme NEAR/3 rachat", "rachat annoncé par Acme", True),
    ("Acme NEAR/2 rachat", "Acme annonce le rachat", False),
    ("Acme NEAR/1 rachat", "Acme rachat", True),
    ("Acme NEAR/1 rachat", "rachat Acme", True),
    ("Acme NEAR/1 rachat", "Acme, le rachat", False),
    ("Acme NEAR/1 rachat", "Acme", False),
    ('"Acme Corp" NEAR/1 rachat', "rachat Acme Corp", True),
    ('"Acme Corp" NEAR/1 rachat', "Acme Corp rachat", True),
    ('"Acme Corp" NEAR/1 rachat', "Acme rachat Corp", False),
    ("acme NEAR/3 acme", "acme", False),  # two distinct occurrences are needed
    ("acme NEAR/3 acme", "acme et acme", True),
    ("boulang* NEAR/2 Paul", "Paul, la boulangerie", True),
    ("(Acme NEAR/2 rachat) OR Corp", "Corp", True),
    ("NOT Anvil Acme NEAR/2 rachat", "rachat d'Acme", True),
    # trailing wildcard
    ("boulang*", "la boulangerie", True),
    ("boulang*", "un boulanger", True),
    ("boulang*", "boulang", True),
    ("boulang*", "boulan", False),
    ("boulang*", "la Boulangère", True),
    ("médi*", "les MEDIAS", True),
    ('"pain* au chocolat"', "deux pains au chocolat", True),
    ('"pain* au chocolat"', "deux pains aux chocolats", False),
    ('"Acme Co*"', "Acme Corporation", True),
    # case and accents, ligatures, typographic apostrophes
    ("médias", "MÉDIAS", True),
    ("médias", "medias", True),
    ("MEDIAS", "Les médias", True),
    ("médias", "me\u0301dias en NFD", True),
    ("Œuvre", "une oeuvre", True),
    ("oeuvre", "une Œuvre", True),
    ("Lætitia", "Laetitia", True),
    ("Ca", "ça", True),
    # whole words only
    ("Acme", "Acmeville", False),
    ("Acme", "SuperAcme", False),
    ("Acme", "Acme2", False),
    ("Acme", "#Acme", True),
    ("Acme", "@acme_fr", True),
    ("Acme", "acme.fr", True),
    ("acme.fr", "sur acme.fr !", True),
    ("acme.fr", "Acme fr", True),
    # apostrophes split words
    ("Acme", "l'Acme", True),
    ("Acme", "l’Acme", True),
    ("l'Acme", "l’acme", True),
    ("aujourd'hui", "aujourd’hui", True),
    ('"l\'Acme"', "la Acme", False),
    # hyphens split words
    ("Free-mobile", "Free mobile", True),
    ("Free-mobile", "free-mobile", True),
    ("Free-mobile", "free–mobile", True),
    ('"Free mobile"', "Free-mobile", True),
    ("Free", "Free-mobile", True),
    ("Freemobile", "Free mobile", False),
    ("Free-mobile", "Freemobile", False),
]


@pytest.mark.parametrize(("query", "text", "expected"), MATCH_CASES)
def test_match(query, text, expected):
    assert BrandQuery(query).match(text).matched is expected


@pytest.mark.parametrize(("query", "text", "expected"), MATCH_CASES)
def test_match_on_a_shared_index_gives_the_same_result(query, text, expected):
    index = TextIndex(text)
    assert parse_query(query).match(index) == BrandQuery(query).match(text)
    assert parse_query(query).match(index).matched is expected


# (query, text, terms, spans)
TERMS_CASES = [
    (
        '"Acme" OR "Acme Corp" NOT "Acme Anvil"',
        "Acme Corp et l’ACME",
        ['"Acme"', '"Acme Corp"'],
        [(0, 4), (0, 9), (15, 19)],
    ),
    ("Acme NOT Anvil", "Acme sans Anvil ? Non, Acme.", [], []),
    ("Acme NOT Anvil", "Acme seul, Acme", ["Acme"], [(0, 4), (11, 15)]),
    ("Acme OR Corp", "Corp", ["Corp"], [(0, 4)]),
    ("Corp OR Acme", "Acme Corp", ["Corp", "Acme"], [(0, 4), (5, 9)]),  # query order
    ("Acme OR (Acme Corp)", "Acme Corp", ["Acme", "Corp"], [(0, 4), (5, 9)]),  # deduplicated
    ("Acme OR acme", "ACME", ["Acme", "acme"], [(0, 4)]),  # as written
    ("boulang*", "Boulangerie et boulanger", ["boulang*"], [(0, 11), (15, 24)]),
    ("médias", "Les MÉDIAS", ["médias"], [(4, 10)]),
    ("médias", "Les me\u0301dias", ["médias"], [(4, 11)]),  # spans in the original NFD text
    ("Free-mobile", "J'ai Free-mobile.", ["Free-mobile"], [(5, 16)]),
    ("Acme", "l’Acme", ["Acme"], [(2, 6)]),
    # NEAR reports only the occurrences that are close enough
    ("Acme NEAR/1 rachat", "Acme a b c Acme rachat", ["Acme", "rachat"], [(11, 15), (16, 22)]),
    ("Acme NOT (Acme NEAR/1 Anvil)", "Acme", ["Acme"], [(0, 4)]),
    ("Acme", "Rien", [], []),
]


@pytest.mark.parametrize(("query", "text", "terms", "spans"), TERMS_CASES)
def test_matched_terms_and_spans(query, text, terms, spans):
    result = BrandQuery(query).match(text)
    assert result == Match(matched=bool(terms), terms=terms, spans=spans)
    for start, end in result.spans:
        assert fold_unicode(text[start:end])  # spans cover words of the original text


# (query, position, words in the message)
SYNTAX_ERRORS = [
    ("", 0, "empty query"),
    ("   ", 0, "empty query"),
    ('"Acme', 0, "unterminated quote"),
    ('Acme OR "Corp', 8, "unterminated quote"),
    ("(Acme OR Corp", 0, "unbalanced parenthesis: this ( is never closed"),
    ("Acme OR (Corp", 8, "unbalanced parenthesis: this ( is never closed"),
    ("((Acme) OR Corp", 0, "never closed"),
    ("Acme)", 4, "unbalanced parenthesis: this ) has no matching ("),
    (") Acme", 0, "has no matching ("),
    ("(Acme))", 6, "has no matching ("),
    ("()", 0, "empty parentheses"),
    ("(", 0, "never closed"),
    ("Acme OR", 5, "dangling operator: OR has no term after it"),
    ("OR Acme", 0, "dangling operator: OR has no term before it"),
    ("Acme AND", 5, "AND has no term after it"),
    ("AND Acme", 0, "AND has no term before it"),
    ("Acme NOT", 5, "NOT has no term after it"),
    ("NOT", 0, "NOT has no term after it"),
    ("Acme AND OR Corp", 5, "AND has no term after it"),
    ("Acme OR OR Corp", 5, "OR has no term after it"),
    ("(Acme OR) Corp", 6, "OR has no term after it"),
    ("Acme NEAR/0 Corp", 5, "bad NEAR/n"),
    ("Acme NEAR Corp", 5, "bad NEAR/n"),
    ("Acme NEAR/x Corp", 5, "bad NEAR/n"),
    ("Acme NEAR/ Corp", 5, "bad NEAR/n"),
    ("Acme NEAR/-1 Corp", 5, "bad NEAR/n"),
    ("Acme NEAR/3", 5, "NEAR/3 has no term after it"),
    ("NEAR/3 Acme", 0, "NEAR/3 has no term before it"),
    ("(Acme OR Corp) NEAR/3 rachat", 15, "joins two words or phrases"),
    ("Acme NEAR/3 (rachat OR vente)", 5, "joins two words or phrases"),
    ("Acme NEAR/3 NOT rachat", 5, "joins two words or phrases"),
    ("a NEAR/2 b NEAR/2 c", 11, "does not chain"),
    ("bou*ang", 3, "wildcard * must end a word"),
    ("acme**", 4, "wildcard * must end a word"),
    ("*acme", 0, "wildcard * must follow a word"),
    ("Acme *", 5, "wildcard * must follow a word"),
    ('"pain *"', 6, "wildcard * must follow a word"),
    ('"bou*ang"', 4, "wildcard * must end a word"),
    ('Acme ""', 5, "empty phrase"),
    ("Acme &", 5, "term has no letters or digits"),
    ("NOT Acme", 0, "none of its terms"),
    ("Acme OR NOT Corp", 0, "none of its terms"),
]


@pytest.mark.parametrize(("query", "position", "message"), SYNTAX_ERRORS)
def test_syntax_errors(query, position, message):
    with pytest.raises(QuerySyntaxError) as info:
        BrandQuery(query)
    error = info.value
    assert (error.query, error.position) == (query, position)
    assert message in error.reason
    assert f"at position {position}" in str(error)
    assert isinstance(error, ListeningError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MÉDIAS", "medias"),
        ("Médias", "medias"),
        ("Œuvre", "oeuvre"),
        ("Lætitia", "laetitia"),
        ("l’Acme", "l'acme"),
        ("me\u0301dias", "medias"),
        ("Ça coûte", "ca coute"),
        ("plain ASCII", "plain ascii"),
    ],
)
def test_fold_unicode(text, expected):
    assert fold_unicode(text) == expected


def test_api_shape():
    query = parse_query('"Acme" OR "Acme Corp" NOT "Acme Anvil" OR acme*')
    assert isinstance(query, BrandQuery)
    assert query.query == '"Acme" OR "Acme Corp" NOT "Acme Anvil" OR acme*'
    assert query.terms == ['"Acme"', '"Acme Corp"', '"Acme Anvil"', "acme*"]
    result = query.match("Acme")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.matched = False  # type: ignore[misc]


def test_text_index_is_reused_across_queries():
    index = TextIndex("Acme rachète la boulangerie Paul")
    queries = [BrandQuery(q) for q in ("Acme", "boulang* NEAR/1 Paul", "Corp", "Acme NOT Paul")]
    assert [q.match(index).matched for q in queries] == [True, True, False, False]
    assert index.tokens == ["acme", "rachete", "la", "boulangerie", "paul"]


def test_long_text():
    text = " ".join(["mot"] * 5000 + ["l’Acme", "Corp"] + ["mot"] * 5000)
    result = BrandQuery('"Acme Corp" NOT boulang*').match(text)
    assert result.terms == ['"Acme Corp"']
    assert [text[s:e] for s, e in result.spans] == ["Acme Corp"]


EXPLAIN_CASES = [
    (
        '"Acme" OR "Acme Corp" NOT "Acme Anvil"',
        "J'adore Acme Corp et l’ACME",
        """\
query: "Acme" OR "Acme Corp" NOT "Acme Anvil"
match: yes
terms: "Acme", "Acme Corp"
text:  J'adore [[Acme Corp]] et l’[[ACME]]""",
    ),
    (
        '"Acme" NOT "Acme Anvil"',
        "Un Acme Anvil",
        """\
query: "Acme" NOT "Acme Anvil"
match: no
found: "Acme", "Acme Anvil" (under NOT)
text:  Un [[Acme Anvil]]""",
    ),
    (
        "Acme NEAR/1 rachat",
        "Acme annonce un rachat",
        """\
query: Acme NEAR/1 rachat
match: no
found: Acme, rachat
text:  [[Acme]] annonce un [[rachat]]""",
    ),
    (
        "Acme",
        "Rien",
        """\
query: Acme
match: no
found: none of the query's terms
text:  Rien""",
    ),
    (
        '("Acme" OR Corp',
        "Acme",
        """\
syntax error: unbalanced parenthesis: this ( is never closed
  ("Acme" OR Corp
  ^""",
    ),
    (
        "Acme OR",
        "Acme",
        """\
syntax error: dangling operator: OR has no term after it
  Acme OR
       ^""",
    ),
]


@pytest.mark.parametrize(("query", "text", "expected"), EXPLAIN_CASES)
def test_explain(query, text, expected):
    assert explain(query, text) == expected
