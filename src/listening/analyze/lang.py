"""Fast, dependency-free language guess for fr / en / es / de / it.

Comments on French blogs are short, full of slang, elisions and emoji, so a statistical model
trained on news prose does poorly on them; a weighted stop-word vote catches almost all of them,
and a handful of character n-grams (accents, digraphs, suffixes) break ties and cover texts
without stop-words. It is deliberately cheap: a dictionary lookup per space-separated piece
of the text, cached, and no regex pass over the whole text.
"""

from __future__ import annotations

import re
from typing import TypeVar

# Words that are frequent in one language and rare in the others. Words shared by two
# languages ("de", "la", "a", "die"…) get a lower weight in each or are left out.
_WORDS: dict[str, str] = {
    "fr": (
        "le les des du un une et est sont pas ne je tu il elle nous vous ils elles ce cet cette "
        "ces mon ma mes ton ta tes son sa ses notre votre leur leurs qui que quoi dont où au aux "
        "avec pour sur dans par mais ou donc car très trop bien tout tous toute toutes rien "
        "plus moins aussi encore déjà jamais toujours été être avoir ai as avons avez ont fait "
        "faire comme chez oui non merci bonjour bonsoir salut voilà ça cela ceci quand comment "
        "pourquoi parce alors même autre peu beaucoup vraiment super génial nul moi toi lui eux "
        "était c'est j'ai n'est qu'il mdr ptdr jsp chui chuis tkt stp svp bcp pk pcq jpp "
        "ouf wesh grave frère franchement bref perso ya nan ouais sinon après avant depuis "
        "entre sans sous vers chose fois jour ans produit marque service client commande "
        "livraison prix qualité acheté reçu de la à en se sera seront peut doit faut va vont "
        "suis es sommes êtes avait semaine mois année pendant jusqu puis cet bof arnaque beau "
        "belle déçu déçue nickel kiffe recommande"
    ),
    "en": (
        "the and is are was were be been being have has had do does did not no yes you your "
        "i me my we our they them their he she his her it its this that these those what which "
        "who whom whose where when why how of to in on at by for with from about as into "
        "through than then there here just only also very really can could would should will "
        "shall may might must an or but if so because while thanks thank great nice good best "
        "post article blog website site click visit free cheap buy online now get more please "
        "check out love like awesome amazing wow info information really lot lots product "
        "delivery price quality"
    ),
    "es": (
        "el los las un una unos unas y es son está están no sí pero por para con sin sobre "
        "entre del al lo que qué como cómo cuando cuándo donde dónde muy más menos también "
        "ya yo tú él ella nosotros vosotros ellos ellas mi mis tu tus su sus nuestro este esta "
        "estos estas ese esa eso hay ser estar tener hace gracias hola bueno buena todo todos "
        "nada siempre nunca pues aquí allí porque hasta desde cuenta ahora mucho muchos de la "
        "en se producto entrega precio calidad"
    ),
    "de": (
        "der die das den dem des ein eine einen einem einer und ist sind war waren nicht kein "
        "keine ich du er sie es wir ihr mit für auf aus bei nach von zu zum zur über unter "
        "auch noch schon nur sehr mehr wie was wer wo wann warum dass aber oder wenn weil "
        "hat haben habe wird werden kann können danke bitte gut toll super ja nein hier dort "
        "jetzt heute mein dein sein unser euer diese dieser dieses man sich nicht mal doch "
        "produkt lieferung preis qualität"
    ),
    "it": (
        "il lo gli la le un uno una e è sono non di da in con su per tra fra del dello della "
        "dei degli delle al allo alla ai agli alle che chi cosa come quando dove perché anche "
        "ancora già sempre mai molto troppo più meno io tu lui lei noi voi loro mio mia tuo "
        "tua suo sua questo questa quello quella ci ne si ho hai ha abbiamo avete hanno "
        "essere avere fatto grazie ciao buongiorno bene bello bella tutto tutti niente sì "
        "allora però quindi proprio de ma stata stato stati buona buono veloce prodotto "
        "consegna prezzo qualità"
    ),
}

# Weight 1 for words in one list only, 0.3 for words present in several lists.
_OWNERS: dict[str, list[str]] = {}
for _lang, _words in _WORDS.items():
    for _w in set(_words.split()):
        _OWNERS.setdefault(_w, []).append(_lang)
_WEIGHTS: dict[str, tuple[tuple[str, float], ...]] = {
    w: tuple((lang, 1.0 if len(langs) == 1 else 0.3) for lang in langs)
    for w, langs in _OWNERS.items()
}

# Elided articles and pronouns: "j'ai", "c'est", "l'avis", "qu'on" are French; Italian has
# "l'", "un'", "dell'", "c'è" too, so "l'"/"d'" get a smaller weight than the unambiguous ones.
_ELISION = re.compile(r"\b(qu|[cjmnst]|[ld])['’]", re.IGNORECASE)
_QUOTE = re.compile("['’]")

# Character cues, counted once each: (substring, language, weight).
_CHARS: tuple[tuple[str, str, float], ...] = (
    ("é", "fr", 0.5), ("è", "fr", 0.8), ("ê", "fr", 0.8), ("ç", "fr", 0.8), ("œ", "fr", 1.0),
    ("à ", "fr", 0.3), ("ù", "fr", 0.8), ("û", "fr", 0.8), ("ë", "fr", 0.3), ("î", "fr", 0.8),
    ("eux ", "fr", 0.5), ("ais ", "fr", 0.5), ("ait ", "fr", 0.5), ("tion", "fr", 0.2),
    ("th", "en", 0.5), ("ing ", "en", 0.8), ("ght", "en", 0.8), ("wh", "en", 0.6),
    ("ly ", "en", 0.4), ("'s ", "en", 0.5), ("n't", "en", 1.0),
    ("ñ", "es", 1.2), ("¿", "es", 1.5), ("¡", "es", 1.5), ("ción", "es", 1.0),
    ("á", "es", 0.5), ("í", "es", 0.4), ("ó", "es", 0.4), ("ú", "es", 0.3), ("os ", "es", 0.3),
    ("ß", "de", 1.2), ("ä", "de", 1.0), ("ö", "de", 0.8), ("ü", "de", 0.8), ("sch", "de", 0.8),
    ("ung", "de", 0.6), ("ich", "de", 0.4), ("ei", "de", 0.2),
    ("zione", "it", 1.0), ("gli", "it", 0.8), ("ò", "it", 0.8), ("ì", "it", 0.8),
    ("zz", "it", 0.6), ("cc", "it", 0.3), ("tt", "it", 0.3), ("che ", "it", 0.3),
)  # fmt: skip

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_APOSTROPHE = re.compile(r"['’]")
_MIN_SCORE = 1.0
_MIN_MARGIN = 1.5  # best must beat the runner-up by this factor
_LANGS = ("fr", "en", "es", "de", "it")
_INDEX = {lang: i for i, lang in enumerate(_LANGS)}
_FR = _INDEX["fr"]
# Per token, the (language index, weight) pairs it scores; computed once per distinct token
# (a language's words recur) and kept up to _MAX_CACHED tokens.
_HITS: dict[str, tuple[tuple[int, float], ...]] = {}
_MAX_CACHED = 1 << 16

# Character cues as (substring, language index, weight), in _CHARS order.
_CUES = tuple((cue, _INDEX[lang], weight) for cue, lang, weight in _CHARS)
_CUE_BITS = tuple((1 << bit, lang, weight) for bit, (_, lang, weight) in enumerate(_CUES))


def _token_hits(token: str) -> tuple[tuple[int, float], ...]:
    hits = _WEIGHTS.get(token)
    if hits is None and ("'" in token or "’" in token):
        # "c'est" is listed; otherwise score the word after the elision.
        hits = _WEIGHTS.get(_APOSTROPHE.split(token, maxsplit=1)[1])
    found = tuple((_INDEX[lang], weight) for lang, weight in hits or ())
    return keep_bounded(_HITS, token, found, _MAX_CACHED)


def _elisions(lowered: str) -> list[float]:
    """The weight of each ``_ELISION`` match, in order: the matches ``finditer`` gives, found
    at the apostrophes instead of trying the pattern at every position (5 times faster).

    Every match ends with an apostrophe and starts one or two characters before it, and no
    two matches can share characters, so trying the pattern just before each apostrophe
    (``match`` sees the character before its start for ``\\b``) finds the same matches."""
    weights = []
    for quote in _QUOTE.finditer(lowered):
        end = quote.end()
        for start in (end - 3, end - 2):
            m = _ELISION.match(lowered, start) if start >= 0 else None
            if m is not None and m.end() == end:
                weights.append(0.4 if m.group(1) in ("l", "d") else 1.0)
                break
    return weights


_Hits = tuple[tuple[int, float], ...]
_V = TypeVar("_V")


class _Chunks(dict[str, tuple[_Hits, tuple[float, ...], int, int]]):
    """Per whitespace-free chunk of a lowered text ("l'avis,", "super"): the hits of its tokens
    in order, the weights of its elisions in order, the bit mask (bit i for ``_CUES[i]``) of
    the cues without a space it holds, and that of the cues ending with a space ("ing ") it
    ends with but for the space. Computed once per distinct chunk, up to _MAX_CACHED chunks."""

    def __missing__(self, chunk: str) -> tuple[_Hits, tuple[float, ...], int, int]:
        hits: list[tuple[int, float]] = []
        for token in _TOKEN.findall(chunk):
            known = _HITS.get(token)
            hits.extend(_token_hits(token) if known is None else known)
        elided = tuple(_elisions(chunk)) if "'" in chunk or "’" in chunk else ()
        inner = ending = 0
        for bit, (cue, _, _) in enumerate(_CUES):
            if cue[-1] == " ":
                ending |= chunk.endswith(cue[:-1]) << bit
            else:
                inner |= (cue in chunk) << bit
        return keep_bounded(self, chunk, (tuple(hits), elided, inner, ending), _MAX_CACHED)


class _Pieces(dict[str, tuple[_Hits, tuple[float, ...], int]]):
    """Per piece of a lowered text between two spaces ("l'avis,", "fin.\n\nle"), what it adds
    to the scores: the hits of its tokens in order, the weights of its elisions in order, and
    the bit mask of the character cues it holds. Computed from its chunks, once per distinct
    piece, up to _MAX_CACHED pieces.

    The text's tokens, elisions and cues are those of its pieces, and a piece's those of its
    chunks:
    - no token or elision holds whitespace, and ``\\b`` before a chunk sees whitespace or
      nothing, both non-word characters, so each chunk's matches, in order, are the text's;
    - a cue holds no whitespace, or ends with its only space ("ing "); in the text padded
      with a space every piece is followed by a space, so "ing " is in it when a piece ends
      with "ing", that is when its last chunk does and it does not end with whitespace.
    """

    def __missing__(self, piece: str) -> tuple[_Hits, tuple[float, ...], int]:
        hits: _Hits = ()
        elided: tuple[float, ...] = ()
        cues = ending = 0
        for chunk_hits, chunk_elided, inner, chunk_ending in map(
            _CHUNKS.__getitem__, piece.split()
        ):
            hits += chunk_hits
            elided += chunk_elided
            cues |= inner
            ending = chunk_ending
        if piece and not piece[-1].isspace():
            cues |= ending  # the last chunk's
        return keep_bounded(self, piece, (hits, elided, cues), _MAX_CACHED)


def keep_bounded(cache: dict[str, _V], key: str, value: _V, max_entries: int) -> _V:
    """``value``, kept as ``cache[key]`` unless the key is longer than 64 characters (a long
    run without spaces, CJK or base64, would make the cache big); a full cache is emptied."""
    if len(key) <= 64:
        if len(cache) >= max_entries:
            cache.clear()
        cache[key] = value
    return value


_CHUNKS = _Chunks()
_PIECES = _Pieces()
assert not [c for cue, _, _ in _CUES for c in cue.removesuffix(" ") if c.isspace()]


def _scores(lowered: str) -> list[float] | None:
    """The five languages' scores of a lowered text, or None when it has no token."""
    if _TOKEN.search(lowered) is None:
        return None
    # Scores are summed in the same order as ever (token by token, then elisions, then
    # character cues), so every float, hence every label, is the same. They are read piece
    # by piece from the cache: no pass over the whole text but one split.
    scores = [0.0, 0.0, 0.0, 0.0, 0.0]
    elided: list[float] = []
    cues = 0
    for hits, elisions, piece_cues in map(_PIECES.__getitem__, lowered.split(" ")):
        for lang, weight in hits:
            scores[lang] += weight
        if elisions:
            elided += elisions
        cues |= piece_cues
    for weight in elided:
        scores[_FR] += weight
    if cues:
        for bit, lang, weight in _CUE_BITS:
            if cues & bit:
                scores[lang] += weight
    return scores


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` among fr/en/es/de/it, or None when too short or unclear."""
    if not text:
        return None
    # Comment-length texts decide quickly; long ones need no more than their opening.
    lowered = text[:2000].lower()
    scores = _scores(lowered)
    if scores is None:
        return None
    ranked = sorted(zip(_LANGS, scores, strict=True), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < _MIN_SCORE or top < second * _MIN_MARGIN:
        return None
    return best
