"""Where a document talks about a target: sentences, segments, and who each segment is about.

The first two steps of target scoring (:mod:`listening.analyze.target` tells the whole):

1. :func:`sentences` cuts the text at ``. ! ? …`` and line breaks; :func:`segments` cuts a
   sentence at punctuation (``, ; : ( ) =``) and before French connectors (``mais``, ``alors
   que``, ``contrairement à``, ``que`` after a comparative, ``pour`` after ``quitter``…), matched
   on accent-folded text of the same length, so that offsets stay valid.
2. :func:`assign` gives each segment an owner (the target, another brand found by the caller or
   guessed from a capitalised word by :func:`guessed_entities`, or the owner of the segment
   before it) and a role (``head``, the ``opposite`` or ``same`` side of a comparison, or
   ``quit_to``, the brand someone switched to).

:func:`contrasted` and :func:`light` then tell the scorer how the target's segments stand.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from listening.analyze.folding import fold_same_length

_NON_SPACE = re.compile(r"\S")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)|\n+")
# Punctuation that ends a segment; "0,4" is a number, not two segments.
_PUNCT = re.compile(r",(?!\d)|[;:()=]|\s[-–—]\s")
# Connectors that open a new segment, matched on accent-folded lower-case text (same length).
_CONNECTOR = re.compile(
    r"\b(?:mais|alors qu(?:e\b|')|tandis qu(?:e\b|')|pendant qu(?:e\b|')|quant aux?\b"
    r"|contrairement aux?\b|contrairement a\b|par rapport aux?\b|par rapport a\b"
    r"|plutot qu(?:e\b|')|(?:n'(?:a|ont|avait|avaient) )?rien a voir avec\b"
    r"|a la difference d(?:e\b|u\b|es\b|')"
    r"|au contraire d(?:e\b|u\b|es\b|')|pas comme\b|tout comme\b|comme\b|ainsi que\b"
    r"|de son cote\b|heureusement\b|par contre\b|en revanche\b|cependant\b|pourtant\b"
    r"|et\b|ni\b|qu(?:e\b|')|pour\b|a\b)"
)
_OPPOSITE = ("contrairement", "par rapport", "plutot qu", "rien a voir", "a la difference",
             "au contraire", "pas comme")  # fmt: skip
_SAME = ("comme", "tout comme", "ainsi que")
# "que" closes a comparison after these words ("plus fiable que", "meilleur que", "mieux que").
_COMPARATIVE = re.compile(
    r"\b(?:plus|moins|mieux|meilleure?s?|pire?s?|davantage|superieure?s?|inferieure?s?|plutot)\b"
)
QUIT = re.compile(
    r"\b(?:quitt\w*|resili\w*|lach\w*|abandonn\w*|fui|fuir|fuyez|adieu|passee? de|partie? de)\b"
)
_WORD = re.compile(r"[^\W\d_]+(?:'|’)?", re.UNICODE)
_CAPITAL = re.compile(r"(?<![\w'’])[A-ZÀ-ÖØ-Þ][\w+&'’-]*")
# Capitalised words that do not name another entity.
_NOT_ENTITIES = frozenset(
    {"je", "j", "il", "elle", "on", "nous", "vous", "ils", "elles", "le", "la", "les", "l", "un",
     "une", "des", "ce", "c", "ça", "mon", "ma", "mes", "sav", "tgv", "ter", "adsl", "ok",
     "franchement", "merci", "bravo", "honte", "super", "très", "trop", "perso", "chez", "mais",
     "et"}
)  # fmt: skip
# A sentence's first word is a name unless it is one of these.
_FUNCTION_WORDS = frozenset(
    {"je", "j'", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "le", "la", "les",
     "l'", "un", "une", "des", "du", "de", "d'", "ce", "c'", "cet", "cette", "ces", "ca", "mon",
     "ma", "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "votre", "leur", "leurs",
     "quelqu'un", "apres", "avant", "chez", "par", "pour", "avec", "sans", "selon", "depuis",
     "contrairement", "comme", "tout", "toute", "tous", "rien", "ni", "et", "mais", "ou", "si",
     "quand", "plutot", "merci", "bravo", "franchement", "heureusement", "perso", "enfin",
     "bref", "bon", "tres", "trop", "super", "vraiment", "adieu", "passe", "mieux", "en",
     "au", "aux", "a", "y", "quel", "quelle", "quant", "dans", "sur", "sous", "entre"}
)  # fmt: skip
# Words that do not make a segment "say" something (a target only listed: "Free et SFR …").
_LIGHT = frozenset(
    {"et", "ni", "ou", "comme", "chez", "avec", "a", "au", "aux", "de", "du", "des", "d", "le",
     "la", "les", "l", "un", "une", "que", "qu", "pour", "par", "tout", "ainsi", "j", "je", "ai",
     "mon", "ma", "mes", "son", "sa", "ses", "leur", "leurs", "en", "y"}
)  # fmt: skip


@dataclass(slots=True)
class Segment:
    start: int
    end: int
    opener: str  # the connector that opens it, folded ('' when punctuation or sentence start)
    owner: str | None = None  # 'target', 'other:<start>', or None before inheritance
    role: str = "head"  # 'head' | 'opposite' | 'same' | 'quit_to'
    folded: str = ""


def guessed_entities(
    text: str, start: int, end: int, target: Spans, known: Spans
) -> list[tuple[int, int]]:
    """Capitalised words inside a sentence (not its first word): probably other names.

    Only looked for in the sentences naming the target, so that a name in passing ("à Paris")
    does not take the following sentences away from the target."""
    found: list[tuple[int, int]] = []
    for m in _CAPITAL.finditer(text, start, end):
        s, e = m.span()
        i = s - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        first = i < start or text[i] in '.!?…:«"(\n'
        key = fold_same_length(m.group()).replace("’", "'")
        if first and (key[: key.find("'") + 1 or None] in _FUNCTION_WORDS or len(key) < 2):
            continue  # a sentence's first word is capitalised anyway
        word = m.group().rstrip("'’").lower()
        if word in _NOT_ENTITIES or target.hit(s, e) or known.hit(s, e):
            continue
        found.append((s, e))
    return found


class Spans:
    """Character spans, sorted once, to ask which one overlaps a range in log time."""

    def __init__(self, spans) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.max_end: list[int] = []
        for _, e in self.spans:
            self.max_end.append(max(e, self.max_end[-1]) if self.max_end else e)

    def hit(self, start: int, end: int) -> tuple[int, int] | None:
        """A span overlapping [start, end), or None."""
        i = bisect_left(self.starts, end) - 1  # the spans from 0 to i start before `end`
        while i >= 0 and self.max_end[i] > start:
            if self.spans[i][1] > start:
                return self.spans[i]
            i -= 1
        return None

    def __add__(self, other: Spans) -> Spans:
        return Spans(self.spans + other.spans)


def sentences(text: str) -> list[tuple[int, int]]:
    out, last = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[last : m.end()].strip():
            out.append((last, m.end()))
        last = m.end()
    if text[last:].strip():
        out.append((last, len(text)))
    return out


def segments(text: str, folded: str, start: int, end: int) -> list[Segment]:
    """Cut one sentence at punctuation and before connectors."""
    cuts: dict[int, str] = {}
    first_opener = ""
    for m in _PUNCT.finditer(text, start, end):
        cuts[m.end()] = ""
    punct = sorted(cuts)
    last_connector = start
    lead = _NON_SPACE.search(folded, start, end)
    first_char = lead.start() if lead else end

    def last_cut(at: int) -> int:
        i = bisect_right(punct, at) - 1
        return max(punct[i] if i >= 0 else start, last_connector)

    for m in _CONNECTOR.finditer(folded, start, end):
        word = m.group().rstrip("'")
        if word.startswith("n'"):  # "X n'a rien à voir avec Y": the "ne" goes with the idiom
            word = word.split(" ", 1)[1]
        if word in ("que", "qu"):
            # only the "que" of a comparison, not a relative or a completive
            if not _COMPARATIVE.search(folded, last_cut(m.start()), m.start()):
                continue
        elif word in ("pour", "a"):
            if not QUIT.search(folded, last_cut(m.start()), m.start()):
                continue
            word = "pour"
        if m.start() <= first_char:
            first_opener = first_opener or word  # "Contrairement à SFR, …"
            continue
        cuts[m.start()] = word
        last_connector = m.start()
    points = sorted(cuts.items())
    segs: list[Segment] = []
    prev, opener = start, first_opener
    for at, word in points:
        if at > prev and folded[prev:at].strip(" ,;:()=-–—\n"):
            segs.append(Segment(prev, at, opener))
            prev, opener = at, word
        else:  # nothing before this cut yet: a connector after a comma ("…, mais")
            opener = word or opener
    if folded[prev:end].strip():
        segs.append(Segment(prev, end, opener))
    return segs


def assign(segs: list[Segment], target: Spans, others: Spans, carry: str | None) -> str | None:
    """Give each segment an owner and a role; return the owner carried to the next sentence."""
    for s in segs:
        if target.hit(s.start, s.end):
            s.owner = "target"
        else:
            hit = others.hit(s.start, s.end)
            s.owner = f"other:{hit[0]}" if hit else None
        if s.opener.startswith(_OPPOSITE) or s.opener in ("que", "qu"):
            s.role = "opposite"
        elif s.opener in _SAME:
            s.role = "same"
        elif s.opener == "pour":
            s.role = "quit_to"
    quit_seen = False
    for s in segs:
        if quit_seen and s.role == "head" and _TO.match(s.folded):
            s.role = "quit_to"  # "J'ai quitté SFR après trois pannes, chez Bouygues …"
        quit_seen = quit_seen or bool(QUIT.search(s.folded))
    # Segments naming nobody continue the previous one; after a comparison's reference they
    # return to its other side ("… rien à voir avec celui de Darty : réponse en une heure"),
    # unless they open with a relative pronoun ("…que GOG, qui est rapide").
    head_owner = carry
    last = carry
    for s in segs:
        if s.owner is None:
            relative = s.role == "head" and s.opener == "" and _starts_relative(s)
            s.owner = last if relative or s.role != "head" else (head_owner or last)
        if s.owner is not None and s.role in ("head", "quit_to"):
            head_owner = s.owner
        last = s.owner
    first = next((s.owner for s in segs if s.owner), None)
    for s in segs:  # "Franchement, allez chez Decathlon …": a lead-in joins what follows
        if s.owner is None:
            s.owner = first
    return head_owner or last


_TO = re.compile(r"[\s,;:]*(?:chez|pour|au|a la)\b")
_RELATIVE = re.compile(r"[\s,;:()=-]*(?:qui|ou|dont|lequel|laquelle)\b")


def _starts_relative(seg: Segment) -> bool:
    return bool(_RELATIVE.match(seg.folded))


_CONTRASTS = ("mais", "alors qu", "tandis qu", "pendant qu", "quant a", "de son cote",
              "par contre", "en revanche", "heureusement", "cependant", "pourtant")  # fmt: skip


def contrasted(segs: list[Segment]) -> bool:
    """Two entities on either side of a contrast ("X …, alors que Y …", "chez X …; chez Y …")."""
    owners = [s.owner for s in segs]
    for i, s in enumerate(segs[1:], 1):
        if owners[i] != owners[i - 1] and owners[i - 1] and s.opener.startswith(_CONTRASTS):
            return True
    chez = {s.owner for s in segs if _CHEZ.match(s.folded)}
    return len(chez) > 1


_CHEZ = re.compile(r"[\s,;:]*chez\b")


def light(own: list[Segment]) -> bool:
    """True when the target's segments only list it ("Free et SFR …", "Chez Darty")."""
    words = [w.rstrip("'’") for s in own for w in _WORD.findall(s.folded)]
    return len([w for w in words if w not in _LIGHT]) <= 2


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the spaces and separators at its ends."""
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


_EDGE = frozenset(" \t\n,;:=-–—(")


def merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans, joined when only spaces and separators lie between them."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and (s <= out[-1][1] or set(text[out[-1][1] : s]) <= _EDGE):
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]
