"""Mentions: filter, search, open one (whole text, explanation, thread), correct its label."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

import data
import ui
from listening.config import ASPECTS
from listening.store.overrides import OverrideError, pending_overrides, record_override

PAGE_SIZE = 50
EXPORT_MAX = 100_000
ALL = "Toutes"

t0 = ui.start_page("Mentions")


def label_fr(label: str | None, pending: str | None) -> str:
    if pending:
        return f"{ui.LABELS_FR[pending]} (en attente)"
    return ui.LABELS_FR.get(label or "unscored", "non évalué")


SCOPES_FR = {"clause": "proposition", "sentence": "phrase", "document": "document entier"}


def _piece(s: str) -> str:
    """Escaped text keeping the spaces at its ends (md() trims them)."""
    return (" " if s[:1].isspace() else "") + ui.md(s) + (" " if s[-1:].isspace() else "")


def show_scored_text(text: str | None, spans) -> None:
    """The whole text, paragraphs kept, the parts scored for the brand highlighted."""
    text = text or ""
    try:
        marks = sorted((int(p[0]), int(p[1])) for p in spans)
    except TypeError:  # no spans (NULL)
        marks = []
    paragraphs = []
    for par in re.finditer(r"[^\n]+", text):
        start, end = par.span()
        out, last = [], start
        for a, b in marks:
            a, b = max(a, start), min(b, end)
            if a < b:
                out += [_piece(text[last:a]), f":orange-background[{ui.md(text[a:b])}]"]
                last = b
        out.append(_piece(text[last:end]))
        if "".join(out).strip():
            paragraphs.append("".join(out).strip())
    st.markdown("\n\n".join(paragraphs) or "*(texte vide)*")


def scored_by_fr(version: str | None, adapter_id: str | None) -> str:
    """Which model set the label: the base scorer, or the adapter learned from corrections."""
    if adapter_id:
        return (
            f"Évaluée par l'adaptateur {adapter_id[:8]}, appris des corrections des analystes "
            f"(sur le score de base {version})"
        )
    return f"Évaluée par le score de base {version} (lexique et règles)"


MODEL_FR = {"base": "base", "adapter": "adaptateur", "unscored": "—"}


def safe_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("https://", "http://")) else None


def show_mention(mention_id: str, db, pending: dict[str, str]) -> None:
    detail = data.query("mention_detail", mention_id=mention_id)
    if detail.empty:
        st.warning("Cette mention n'est pas (ou plus) dans l'instantané.")
        return
    m = detail.iloc[0]
    st.divider()
    kind = "Commentaire" if m["kind"] == "comment" else "Post"
    st.subheader(
        ui.md(m["title"]) if m["title"] else f"{kind} de {ui.md(m['author'] or 'anonyme')}"
    )
    st.markdown(
        f"**{ui.md(m['brand'])}** · {ui.md(m['source'])} ({ui.md(m['channel'])}) · "
        f"{ui.md(m['author'] or 'anonyme')} · {m['published_at']:%d/%m/%Y %H:%M} · "
        f"langue {ui.md(m['lang'] or '?')} · {'commentaire' if m['kind'] == 'comment' else 'post'}"
    )
    url = safe_url(m["url"])
    if url:
        st.link_button("Ouvrir l'original ↗", url)
    left, right = st.columns([3, 2])
    with left:
        st.markdown("##### Texte intégral")
        scope = m["sentiment_scope"] if pd.notna(m["sentiment_scope"]) else None
        with st.container(border=True):
            if scope in ("clause", "sentence"):
                show_scored_text(m["text"], m["sentiment_spans"])
            else:
                ui.show_text(m["text"])
    with right:
        st.markdown("##### Sentiment")
        current = pending.get(mention_id)
        st.markdown(
            f"Étiquette : **{label_fr(m['sentiment_label'], current)}**"
            + (" (corrigée par un analyste)" if m["is_overridden"] and not current else "")
            + (f" · score {m['sentiment']:+.2f}" if pd.notna(m["sentiment"]) else "")
        )
        if scope:
            note = m["sentiment_scope_note"] if pd.notna(m["sentiment_scope_note"]) else ""
            st.markdown(
                f"Portée : **{SCOPES_FR.get(scope, ui.md(scope))}**"
                + (f" · {ui.md(note)}" if note else "")
            )
            if scope != "document":
                st.caption(
                    f"Surligné dans le texte : ce qui a été évalué pour {ui.md(m['brand'])}."
                )
        if pd.notna(m["sentiment"]):
            st.caption(scored_by_fr(m["sentiment_version"], m["sentiment_adapter_id"]))
        try:
            terms = json.loads(m["sentiment_explanation"] or "[]")
        except ValueError:
            terms = []
        if terms:
            expl = pd.DataFrame(terms)
            if "source" in expl:  # words the adapter weighed follow the base scorer's
                expl["source"] = expl["source"].map({"adapter": "adaptateur"}).fillna("base")
            expl = expl.rename(
                columns={
                    "term": "terme",
                    "weight": "poids",
                    "negated": "nié",
                    "contrast": "dit de l'autre marque",
                    "source": "origine",
                }
            )
            st.dataframe(expl, hide_index=True, width="stretch")
        else:
            st.caption("Aucun terme n'a pesé sur le score.")
        if m["aspects"] is not None and len(m["aspects"]):
            st.caption("Sujets : " + ", ".join(ui.md(a) for a in m["aspects"]))
        with st.form(f"fix_{mention_id}"):
            st.markdown("Corriger l'étiquette")
            options = list(ui.LABELS_FR)[:3]
            label = st.radio(
                "Étiquette juste",
                options,
                format_func=lambda x: ui.LABELS_FR[x],
                index=options.index(m["sentiment_label"]) if m["sentiment_label"] in options else 1,
                horizontal=True,
                key=f"fix_label_{mention_id}",
            )
            note = st.text_input("Note (facultative)", key=f"fix_note_{mention_id}")
            by = st.text_input("Votre nom (facultatif)", key="fix_by")
            if st.form_submit_button("Enregistrer la correction"):
                try:
                    record_override(db, mention_id, label, note, by, datetime.now(UTC))
                except (OverrideError, OSError) as exc:
                    st.error(f"Correction non enregistrée : {exc}")
                else:
                    st.success(
                        f"Correction enregistrée ({ui.LABELS_FR[label]}), en attente : elle "
                        "entrera dans le store à la prochaine étape du pipeline."
                    )
    st.markdown("##### Fil de discussion")
    docs = data.query("thread_documents", thread_url=m["thread_url"])
    for depth, r in ui.thread_tree(docs):
        _, body = st.columns([min(depth, 6) * 0.04 + 0.001, 1])
        with body, st.container(border=True):
            here = " :orange-badge[cette mention]" if r["document_id"] == m["document_id"] else ""
            arrow = "↳ " if depth else ""
            st.markdown(
                f"{arrow}**{ui.md(r['author'] or 'anonyme')}** · "
                f"{r['published_at']:%d/%m/%Y %H:%M}{here}"
            )
            if r["kind"] == "post" and r["title"]:
                st.markdown(f"**{ui.md(r['title'])}**")
            ui.show_text(r["text"])


try:
    db = data.db_path()
except data.NoSnapshot as exc:
    st.info(str(exc))
    ui.done(t0)
    st.stop()

if ui.require("mentions"):
    # The reputation mart lists the brands in a blink; the mentions view needs a full scan.
    brands_query = "reputation_brands" if data.has("reputation_daily") else "brands"
    res = data.fetch(
        {
            "brands": (brands_query, {}),
            "facets": ("mention_facets", {}),
            "period": ("mention_period", {}),
        }
    )
    if res["brands"].empty:
        st.info(
            "Aucune mention encore : vérifiez les sources et les marques dans listening.toml, "
            "puis lancez `listening run`."
        )
        ui.done(t0)
        st.stop()
    if not ui.require("mention_search"):  # searched and listed from the build's mart
        ui.done(t0)
        st.stop()
    facets = res["facets"]

    def facet(name: str) -> list[str]:
        return [v for v in facets.loc[facets["facet"] == name, "value"] if v is not None]

    sb = st.sidebar
    brand = sb.selectbox("Marque", [ALL, *res["brands"]["brand"]], key="m_brand")
    start, end = ui.period_filter(
        res["period"]["first_day"].iloc[0], res["period"]["last_day"].iloc[0], key="m_period"
    )
    q = sb.text_input("Rechercher dans le texte", key="m_q").strip()
    sources = sb.multiselect("Sources", facet("source"), key="m_sources", placeholder="Toutes")
    channels = sb.multiselect("Canaux", facet("channel"), key="m_channels", placeholder="Tous")
    sentiment = sb.selectbox(
        "Sentiment",
        [ALL, *ui.LABELS_FR],
        format_func=lambda x: ui.LABELS_FR.get(x, x),
        key="m_sentiment",
    )
    aspect = sb.selectbox("Sujet", [ALL, *ASPECTS], key="m_aspect")
    author = sb.text_input("Auteur contient", key="m_author").strip()
    lang = sb.selectbox("Langue", [ALL, *facet("lang")], key="m_lang")
    params = {
        "brand": None if brand == ALL else brand,
        "start": start,
        "end": end,
        "sources": sources,
        "channels": channels,
        "sentiment": None if sentiment == ALL else sentiment,
        "aspect": None if aspect == ALL else aspect,
        "author": author or None,
        "lang": None if lang == ALL else lang,
        "q": q or None,
    }
    page_no_before = page_no = int(st.session_state.get("m_page", 1))
    found = data.fetch(
        {
            "count": ("mentions_count", params),
            "rows": (
                "mentions_search",
                {**params, "limit": PAGE_SIZE, "offset": (page_no - 1) * PAGE_SIZE},
            ),
        }
    )
    total = int(found["count"]["n_mentions"].iloc[0])
    n_pages = max(1, -(-total // PAGE_SIZE))
    top = st.columns([2, 1, 1])
    noun = "mention correspond" if total == 1 else "mentions correspondent"
    top[0].markdown(f"**{total:,}** {noun} aux filtres".replace(",", " "))
    if page_no > n_pages:
        st.session_state["m_page"] = 1  # the filters changed: back to the first page
    page_no = top[1].number_input(
        f"Page (sur {n_pages})", min_value=1, max_value=n_pages, step=1, key="m_page"
    )
    if int(page_no) != page_no_before:
        found["rows"] = data.query(
            "mentions_search", **params, limit=PAGE_SIZE, offset=(int(page_no) - 1) * PAGE_SIZE
        )
    rows = found["rows"].copy()
    pending = pending_overrides(db)
    with top[2]:
        if st.button("Préparer l'export CSV", key="m_export_prep"):
            export = data.csv_export("mentions_export", **params, limit=EXPORT_MAX)
            st.session_state["m_export"] = (repr(params), export)
        prepared = st.session_state.get("m_export")
        if prepared and prepared[0] == repr(params):  # only the export of these filters
            st.download_button(
                "Télécharger le CSV",
                prepared[1],
                file_name="mentions.csv",
                mime="text/csv",
                key="m_export_dl",
            )
    if total > EXPORT_MAX:
        st.caption(f"L'export CSV s'arrête aux {EXPORT_MAX:,} mentions les plus récentes.")

    rows["étiquette"] = [
        label_fr(lbl, pending.get(mid))
        for lbl, mid in zip(rows["sentiment_label"], rows["mention_id"], strict=True)
    ]
    rows["modèle"] = [
        "analyste" if fixed else MODEL_FR.get(by, "—")
        for by, fixed in zip(rows["scored_by"], rows["is_overridden"], strict=True)
    ]
    table = rows[
        ["published_at", "brand", "étiquette", "modèle", "source", "channel", "author", "excerpt"]
    ].rename(
        columns={
            "published_at": "date",
            "brand": "marque",
            "channel": "canal",
            "author": "auteur",
            "excerpt": "extrait",
        }
    )
    st.caption("Cliquez sur une ligne pour lire la mention entière, son fil et son explication.")
    picked = ui.pick_row(
        table,
        key="m_table",
        datetimes={"date": "DD/MM/YYYY HH:mm"},
        column_config={"extrait": st.column_config.TextColumn("extrait", width="large")},
    )
    selected = None
    if picked is not None and picked < len(rows):
        selected = rows["mention_id"].iloc[picked]
        st.query_params["mention"] = selected
    elif "mention" in st.query_params:
        selected = st.query_params["mention"]
    if selected:
        show_mention(selected, db, pending)

ui.done(t0)
