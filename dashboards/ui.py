"""Shared bits of the pages: empty states, escaping, filters, the completion marker.

Text from the web (titles, comments, author names) is shown with ``st.text``, in dataframes, or
through :func:`md` which escapes every Markdown and HTML character: no page ever passes web text
to ``unsafe_allow_html``.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

import data
from listening.store import mart_names

LABELS_FR = {
    "positive": "positif",
    "neutral": "neutre",
    "negative": "négatif",
    "unscored": "non évalué",
}
STATUS_FR = {
    "promoter": "promoteurs",
    "detractor": "détracteurs",
    "turned": "retournés",
    "neutral": "neutres",
}


def time_x(field: str = "day:T", **kw) -> alt.X:
    """A time axis with French-readable numeric dates (Vega's month names are English)."""
    return alt.X(field, title=None, axis=alt.Axis(format="%d/%m/%y", labelOverlap=True), **kw)


SEVERITY_FR = {"critical": "critique", "warning": "attention", "info": "info"}
RULES_FR = {
    "negative_spike": "pic négatif",
    "buzz_spike": "pic de buzz",
    "reputation_drift": "dérive de réputation",
    "regular_turned_detractor": "habitué devenu détracteur",
    "unanswered_negative_thread": "fil négatif sans réponse",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~$:=\"'])")


def md(text: object) -> str:
    """Web text made inert for ``st.markdown``: every Markdown/HTML character escaped."""
    s = "" if text is None else str(text)
    s = " ".join(s.split())
    return _MD_SPECIAL.sub(r"\\\1", s)


def start_page(title: str) -> float:
    st.title(title)
    st.session_state["_page_title"] = title
    return time.perf_counter()


def done(t0: float) -> None:
    """The completion marker the tests and the bench wait for, with the snapshot's date."""
    try:
        snap = data.current()
        stamp = time.strftime("%d/%m/%Y %H:%M:%S", time.localtime(snap.mtime_ns / 1e9))
        where = f"instantané du {stamp}"
    except data.NoSnapshot:
        where = "pas d'instantané"
    title = st.session_state.get("_page_title", "")
    st.caption(f"Page prête · {title} · {where} · rendue en {time.perf_counter() - t0:.2f} s")


def require(*relations: str) -> bool:
    """True when the snapshot has these relations; else an empty state saying what to do."""
    try:
        have = data.relations()
    except data.NoSnapshot as exc:
        st.info(str(exc))
        return False
    missing = [r for r in relations if r not in have]
    if not missing:
        return True
    if set(missing) & set(mart_names()):
        st.info(
            f"Pas encore de marts ({', '.join(missing)}) : lancez `listening build` "
            "(ou `listening run`) pour les construire et publier l'instantané."
        )
    else:
        st.info(
            f"L'instantané n'a pas {', '.join(missing)} : lancez `listening init` pour "
            "mettre le store à jour."
        )
    return False


DEFAULT_DAYS = 90  # the default period: the last 90 days of data, or all of it when shorter


def default_period(first: date, last: date, anchor: date | None) -> tuple[date, date]:
    """The period a page opens on: DEFAULT_DAYS ending on the store's last mention day
    (``anchor``), kept inside the page's own bounds ``first``..``last``."""
    end = min(max(anchor or last, first), last)
    return max(first, end - timedelta(days=DEFAULT_DAYS - 1)), end


def _day(value: object) -> date | None:
    """A date from what a query returns for a DATE (a pandas Timestamp, NaT when empty)."""
    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, datetime) else value


def period_filter(first: date | None, last: date | None, key: str = "period") -> tuple[date, date]:
    """A period picker in the sidebar; the page's data spans ``first``..``last``.

    It opens on the store's last mention day, never on today: a mart may run on to the day of
    the build (reputation_daily does), and a store of older data must still open on its data.
    """
    anchor = _day(data.query("last_mention_day")["last_day"].iloc[0])
    first, last = _day(first), _day(last)
    last = last or anchor or date.today()
    first = first or (last - timedelta(days=DEFAULT_DAYS - 1))
    default = default_period(first, last, anchor)
    value = st.sidebar.date_input(
        "Période",
        value=default,
        min_value=first,
        max_value=last,
        key=key,
        format="DD/MM/YYYY",
    )
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, tuple | list) and len(value) == 1:
        return value[0], value[0]
    return default


def fmt_pct(x: float | None) -> str:
    if x is None or x != x:
        return "—"
    return f"{x * 100:.0f} %"


def fmt_num(x: float | None, digits: int = 2) -> str:
    if x is None or x != x:
        return "—"
    return f"{x:.{digits}f}".replace(".", ",")


def pick_row(
    table: pd.DataFrame,
    *,
    key: str,
    rename: dict[str, str] | None = None,
    datetimes: dict[str, str] | None = None,
    column_config: dict | None = None,
) -> int | None:
    """A table the analyst clicks a row of; returns the clicked row's position, or None.

    ``rename`` gives the French headers, ``datetimes`` maps a (French) column to its display
    format. Text from the web in a dataframe cell is shown as text, never as HTML.
    """
    config = {c: st.column_config.DatetimeColumn(format=f) for c, f in (datetimes or {}).items()}
    config.update(column_config or {})
    event = st.dataframe(
        table.rename(columns=rename or {}),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        column_config=config,
    )
    rows = event.selection.rows if event and event.selection else []
    return rows[0] if rows and rows[0] < len(table) else None


def show_text(text: str | None) -> None:
    """Web text, paragraphs kept, every Markdown/HTML character escaped."""
    paragraphs = [p for p in (text or "").split("\n") if p.strip()]
    st.markdown("\n\n".join(md(p) for p in paragraphs) or "*(texte vide)*")


def thread_tree(docs: pd.DataFrame) -> list[tuple[int, dict]]:
    """Documents in reading order with their reply depth (parent_id), orphans at depth 1."""
    rows = docs.to_dict("records")
    ids = {r["document_id"] for r in rows}
    children: dict[str | None, list[dict]] = {}
    for r in rows:
        parent = r["parent_id"] if r["parent_id"] in ids else None
        if r["kind"] == "post":
            parent = "__root__"
        children.setdefault(parent, []).append(r)
    out: list[tuple[int, dict]] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in children.get(parent, []):
            out.append((depth, r))
            walk(r["document_id"], depth + 1)

    walk("__root__", 0)
    walk(None, 1)
    return out
