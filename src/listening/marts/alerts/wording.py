"""The French of alert summaries: dates as French writes them, *de* elided, plurals."""

from __future__ import annotations

from datetime import date

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(d: date, today: date | None = None) -> str:
    """``3 mars`` (``1er mars`` for the first of the month, as French writes it), with the year
    when it is not the year of ``today``: ``3 mars 2025``."""
    day = "1er" if d.day == 1 else str(d.day)
    year = "" if today is not None and today.year == d.year else f" {d.year}"
    return f"{day} {MONTHS[d.month - 1]}{year}"


def de(name: str) -> str:
    """``de Fournil Dupré``, ``d'Orvéa``: French elides *de* before a vowel."""
    return f"d'{name}" if name[:1].lower() in "aeiouyàâéèêëîïôöùûü" else f"de {name}"


def plural(n: int, word: str) -> str:
    """``1 mention négative``, ``3 mentions négatives`` (each word of ``word`` takes an s)."""
    return f"{n} " + (word if n == 1 else " ".join(w + "s" for w in word.split()))


def points(x: float) -> str:
    """``+3 points``, ``−12 points``: a change of the reputation index, rounded."""
    return f"{'+' if x >= 0 else '−'}{abs(round(x))} points"
