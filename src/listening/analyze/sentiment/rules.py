"""The French layer's rules over one sentence's units: negation scope, moving words, durations.

* Negation: ``ne … pas``, ``jamais``, ``aucun``, ``sans``, colloquial ``j'aime pas``, ``personne
  ne``, ``peu``; a negation reaches the first opinion word after it only ("ils ne m'ont pas
  remboursé le produit défectueux" negates "remboursé", not "défectueux").
* Moving words take the sign of what moves: prices down is good news for the customer, sales
  down bad news for the brand ("Leclerc baisse ses prix", "les ventes chutent").
* Durations: a short time is service speed ("livré en 24 h"), a long one since or until is
  waiting ("depuis trois semaines", "au bout de deux mois").
* Concessions: the words after ``malgré`` / ``en dépit de`` are granted, not scored
  (:func:`clause_after` finds them).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from listening.analyze.sentiment.tokens import Unit

# Constants from VADER (Hutto & Gilbert 2014), empirically derived by its authors.
N_SCALAR = -0.74  # a negated opinion word
N_SCALAR_STRONG = -1.0  # "pas du tout": at least as strong as the opposite word
N_SCALAR_WEAK = -0.5  # "peu aimable"

_ELIDED = frozenset({"n", "ne"})
# Second halves of "ne … X"; some negate on their own too (see negation_scope).
_PARTICLES = frozenset(
    {"pas", "plus", "jamais", "rien", "guere", "point", "aucun", "aucune", "aucuns", "aucunes",
     "personne", "nullement", "aucunement", "nul", "nulle"}
)  # fmt: skip
_ALONE_NEGATORS = frozenset(
    {"pas", "jamais", "rien", "aucun", "aucune", "aucuns", "aucunes", "nullement", "aucunement",
     "sans", "ni", "de moins en moins"}
)  # fmt: skip
_SUBJECT_NEGATORS = frozenset(
    {"personne", "rien", "aucun", "aucune", "nul", "nulle", "jamais", "ni"}
)
# Words that do not use up the negation window: articles, auxiliaries, "du tout".
_FILLERS = frozenset(
    {"du", "tout", "de", "d", "le", "la", "les", "l", "un", "une", "des", "ce", "cet", "cette",
     "ca", "c", "est", "etait", "ete", "etre", "ai", "a", "as", "avons", "avez", "ont", "avait",
     "suis", "es", "sommes", "etes", "sont", "fut", "m", "me", "t", "te", "s", "se", "y", "en",
     "lui", "leur", "vous", "nous", "j", "je", "il", "elle", "on", "ils", "elles", "tu", "vraiment",
     "tres", "si", "trop", "assez", "aussi", "franchement", "encore", "vu", "fait"}
)  # fmt: skip
_CLAUSE_BREAKERS = frozenset({"mais", "car", "parce", "donc", "puis", "sinon", "et", "ou", "or"})
# "jamais" after these is comparative ("plus beau que jamais") or "forever" ("à jamais").
_NOT_NEGATING_BEFORE_JAMAIS = frozenset({"que", "qu", "a", "pour", "toujours"})
# "je n'ai jamais vu aussi bien": a superlative, not a negation.
_SUPERLATIVE_AFTER_JAMAIS = frozenset({"aussi", "autant", "si", "tant", "mieux", "meilleur"})

# Which way a quantity moves matters only with what moves: prices going up are bad news for the
# customer, sales going up good news for the brand ("Leclerc baisse ses prix", "les ventes
# chutent", "hausse des tarifs"). Word beginnings, matched on folded words.
# Size words count the same way: "des frais énormes", "des prix bas", "de faibles ventes".
_UP = ("augment", "hausse", "grimp", "flamb", "explos", "bondi", "progress", "envol", "record",
       "gagn", "repart", "relev", "enorme", "exorbitant", "astronomique", "eleve")  # fmt: skip
_DOWN = ("baiss", "diminu", "chut", "recul", "fondent", "fondu", "fondre", "effondr", "plong",
         "degringol", "perd", "perte", "faible", "modique", "inexistant", "supprim")  # fmt: skip
# What the customer pays, and what a brand wants more of.
_COSTS = frozenset(
    {"prix", "tarif", "tarifs", "frais", "facture", "factures", "abonnement", "abonnements",
     "loyer", "loyers", "cotisation", "cotisations", "mensualite", "mensualites", "commission",
     "commissions", "cout", "couts", "forfait", "forfaits", "franchise", "agios"}
)  # fmt: skip
_GAINS = frozenset(
    {"vente", "ventes", "benefice", "benefices", "chiffre", "clients", "clientele", "abonnes",
     "resultats", "marge", "marges", "commandes", "frequentation", "audience", "embauches",
     "effectifs", "profits", "emplois", "postes"}
)  # fmt: skip
_LOW = frozenset({"bas", "basse", "basses"})  # not a prefix: "base", "bassin"
_MARKET = ["de", "marche"]  # "part de marché"
# What stands for a noun of the sentence before a moving word.
_PRONOUNS = frozenset({"les", "ils", "elles", "en", "celui", "celle", "ceux", "celles", "leur"})
MOVE_VALENCE = 1.8  # a price cut or a sales rise: like "bien" (1.9) on VADER's scale
_MOVE_WINDOW = 6  # words between the moving word and what moves, in one clause
# "malgré l'inflation", "en dépit des grèves": the concession's words are granted, not asserted.
CONCESSIONS = frozenset({"malgre"})
# Durations: service speed ("livré en 24 h", "répond en cinq minutes") and waiting ("j'attends
# depuis trois semaines", "au bout de deux mois"), the core of customer talk.
_NUMBER_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
                 "sept": 7, "huit": 8, "dix": 10, "quinze": 15, "vingt": 20, "trente": 30,
                 "quarante": 40, "quelques": 3}  # fmt: skip
_SHORT_UNITS = frozenset({"minute", "minutes", "min", "mn", "heure", "heures", "h", "secondes"})
_DAYS = frozenset({"jour", "jours", "j"})
_LONG_UNITS = frozenset({"jour", "jours", "semaine", "semaines", "mois"})
SPEED_VALENCE = 1.5  # "en 48 h": like "rapide" said with conviction
WAIT_VALENCE = -1.5  # "depuis trois semaines": like "lent"


def negation_scope(units: list[Unit], booster: Callable[[str], float | None]) -> list[float]:
    """A multiplier per unit: 1.0, or a negative scalar when the unit is negated.

    A negation reaches the first opinion word after it, not the ones beyond: "ils ne m'ont
    pas remboursé le produit défectueux" negates "remboursé", not "défectueux"."""
    n = len(units)

    def boosts(j: int) -> bool:  # "pas super bon": "super" leads to the opinion word
        return units[j].kind == "word" and booster(units[j].key) is not None

    scale = [1.0] * n
    keys = [u.key if u.kind != "punct" else "," for u in units]
    pending_ne: int | None = None

    def forward(start: int, scalar: float, only_negative: bool = False) -> None:
        counted = 0
        for j in range(start, min(n, start + 7)):
            if keys[j] == "," or keys[j] in _CLAUSE_BREAKERS or keys[j] in ("que", "qu"):
                break
            if (
                scale[j] == 1.0
                and units[j].kind != "emo"
                and (not only_negative or units[j].valence < 0)
            ):
                scale[j] = scalar
                if (units[j].valence or units[j].negated_valence) and not boosts(j):
                    break  # "ne m'a pas remboursé le produit défectueux": one opinion
            if keys[j] not in _FILLERS:
                counted += 1
                if counted >= 3:
                    break

    for i, k in enumerate(keys):
        if k == "," or k in _CLAUSE_BREAKERS:
            pending_ne = None
            continue
        if k in _ELIDED and units[i].kind == "word":
            if i > 0 and keys[i - 1] in _SUBJECT_NEGATORS:  # "personne ne répond"
                forward(i + 1, N_SCALAR)
            else:
                pending_ne = i
            continue
        if pending_ne is not None and k in ("que", "qu"):  # "ne … que": restriction
            pending_ne = None
            continue
        negates = (
            (k in _PARTICLES and pending_ne is not None)
            or (k == "plus" and i + 1 < n and keys[i + 1] == "jamais")
            or k in _ALONE_NEGATORS
        )
        if k == "peu" and (i == 0 or keys[i - 1] != "un"):
            forward(i + 1, N_SCALAR_WEAK)
            continue
        if k == "contre" and i > 0:  # "lutter contre la pollution" is a good thing
            forward(i + 1, N_SCALAR, only_negative=True)
            continue
        if not negates:
            continue
        if i + 1 < n and keys[i + 1] in ("que", "qu"):  # "ne … plus que": restriction
            pending_ne = None
            continue
        if k == "jamais":
            # "à jamais", not "il n'a jamais": after "ne", "a" is the verb
            if (
                i > 0
                and keys[i - 1] in _NOT_NEGATING_BEFORE_JAMAIS
                and not (keys[i - 1] == "a" and pending_ne is not None)
            ):
                continue
            if any(x in _SUPERLATIVE_AFTER_JAMAIS for x in keys[i + 1 : i + 6]):
                pending_ne = None
                continue
        scalar = N_SCALAR
        if keys[i + 1 : i + 3] == ["du", "tout"]:
            scalar = N_SCALAR_STRONG
        if pending_ne is not None:  # the verb between "ne" and the particle
            for j in range(pending_ne + 1, i):
                scale[j] = scalar
        elif k == "pas":  # colloquial "j'aime pas": the word just before
            for j in range(i - 1, max(-1, i - 3), -1):
                if keys[j] == "," or keys[j] in _CLAUSE_BREAKERS:
                    break
                if units[j].valence:
                    scale[j] = scalar
                    break
        pending_ne = None
        forward(i + 1, scalar)
    return scale


def clause_after(keys: list[str], i: int) -> range:
    """The units after ``keys[i]`` up to the end of its clause (a comma or a connector)."""
    j = i + 1
    while j < len(keys) and keys[j] not in (",", ";", ":") and keys[j] not in _CLAUSE_BREAKERS:
        j += 1
    return range(i + 1, j)


def what_moves(keys: list[str]) -> int:
    """-1 when a sentence speaks of costs only, 1 of sales only, else 0: what a moving word with
    a pronoun moves ("Leclerc a baissé ses prix alors que Carrefour les a augmentés")."""
    kinds = {-1 if k in _COSTS else 1 for k in keys if k in _COSTS or k in _GAINS}
    return kinds.pop() if len(kinds) == 1 else 0


def _moved(keys: list[str], steps: range) -> tuple[int, int]:
    """(sign, index) of the first cost (-1) or gain (1) along ``steps``, within the clause."""
    for j in steps:
        if keys[j] in (",", ";", ":") or keys[j] in _CLAUSE_BREAKERS:
            break
        noun = keys[j].partition(" ")[0]  # idioms too: "frais de livraison"
        if noun in _COSTS:
            return -1, j
        if noun in _GAINS or (noun in ("part", "parts") and keys[j + 1 : j + 3] == _MARKET):
            return 1, j
    return 0, -1


# A word that starts like a moving word, or is one of _LOW, somewhere in the sentence's keys
_MAY_MOVE = re.compile(
    r"(?:^| )(?:"
    + "|".join(map(re.escape, _UP + _DOWN))
    + r"|(?:"
    + "|".join(map(re.escape, sorted(_LOW)))
    + r")(?= |$))"
)


def moves(units: list[Unit], keys: list[str], fallback: int = 0) -> None:
    """Give a moving word ("baisse", "augmente", "chutent") the valence of what moves with it:
    down is good for costs and bad for sales, up the opposite. Nothing moving in its clause:
    what the sentence speaks of (``fallback``) after a pronoun, or left alone."""
    if not _MAY_MOVE.search(" ".join(keys)):
        return  # most sentences: one scan instead of two prefix tests a word
    for i, k in enumerate(keys):
        if units[i].kind != "word":
            continue
        up = k.startswith(_UP)
        if not up and not k.startswith(_DOWN) and k not in _LOW:
            continue
        lo, hi = max(0, i - _MOVE_WINDOW), min(len(keys), i + _MOVE_WINDOW + 1)
        sign, j = _moved(keys, range(i + 1, hi))
        if not sign:
            sign, j = _moved(keys, range(i - 1, lo - 1, -1))
        if sign:
            units[j].valence = 0.0  # "bénéfice" (0.4) is what moves, not an opinion
        elif any(keys[j] in _PRONOUNS for j in range(lo, i)):
            sign = fallback  # "Carrefour les a augmentés", "celui d'Auchan chute"
        if sign:
            units[i].valence = MOVE_VALENCE * sign * (1 if up else -1)


def _number(key: str) -> int | None:
    if key.isdecimal():  # not isdigit(): "③" and "²" are digits int() refuses
        return int(key)
    return _NUMBER_WORDS.get(key)


_DURATION_STARTS = frozenset(("en", "depuis", "bout"))


def durations(units: list[Unit]) -> list[Unit]:
    """Join "en 48 h", "depuis trois semaines", "au bout de deux mois" into one unit with a
    valence: a short time is service speed, a long one since or until is waiting (kind 'wait')."""
    if _DURATION_STARTS.isdisjoint([u.key for u in units]):
        return units  # most sentences: nothing to join
    out: list[Unit] = []
    i, n = 0, len(units)
    while i < n:
        u = units[i]
        k = 2 if u.key == "bout" and i + 1 < n and units[i + 1].key in ("de", "d") else 1
        if u.key in _DURATION_STARTS and i + k + 1 < n:
            count, unit = _number(units[i + k].key), units[i + k + 1].key
            value = 0.0
            if count is not None and u.key == "en":
                if unit in _SHORT_UNITS or (unit in _DAYS and count <= 3):
                    value = SPEED_VALENCE
            elif count is not None and unit in _LONG_UNITS and (u.key == "depuis" or (
                    u.key == "bout" and i and units[i - 1].key == "au")):  # fmt: skip
                value = WAIT_VALENCE
            if value:
                surface = " ".join(x.surface for x in units[i : i + k + 2])
                kind = "phrase" if value > 0 else "wait"
                out.append(Unit(surface, surface.lower(), kind, value))
                i += k + 2
                continue
        out.append(u)
        i += 1
    return out
