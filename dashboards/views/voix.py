"""Voix: promoters, detractors, people who turned, regulars; one person's timeline."""

from __future__ import annotations

import altair as alt
import streamlit as st

import data
import ui

ALL = "Toutes"
LIMIT = 500
GROUPS = {
    "promoter": "Promoteurs",
    "detractor": "Détracteurs",
    "turned": "Retournés",
    "regulars": "Habitués",
    "neutral": "Neutres",
}

t0 = ui.start_page("Voix")

if ui.require("authors", "mentions"):
    brands = data.query("brands")
    brand = st.sidebar.selectbox("Marque", [ALL, *brands["brand"]], key="v_brand")
    b = None if brand == ALL else brand
    summary = data.query("authors_summary", brand=b)
    if summary.empty:
        st.info("Aucune voix encore : lancez `listening run` pour collecter des mentions.")
        ui.done(t0)
        st.stop()
    counts = dict(zip(summary["status"], summary["n_authors"], strict=True))
    cols = st.columns(4)
    for col, key in zip(cols, ["promoter", "detractor", "turned", "regulars"], strict=True):
        n = int(summary["n_regulars"].sum()) if key == "regulars" else int(counts.get(key, 0))
        col.metric(GROUPS[key], n)
    group = (
        st.segmented_control(
            "Groupe", list(GROUPS), format_func=GROUPS.get, default="detractor", key="v_group"
        )
        or "detractor"
    )
    people = data.query(
        "authors_list",
        brand=b,
        status=None if group == "regulars" else group,
        regulars_only=group == "regulars",
        limit=LIMIT,
    )
    st.caption(
        "Une voix = un nom sur un site. Tendance : sentiment moyen des 90 derniers jours moins "
        "celui d'avant. Cliquez sur une ligne pour voir la chronologie de la personne."
    )
    shown = people.drop(columns=["author_id"]).assign(
        status=people["status"].map(lambda s: GROUPS.get(s, s).lower().rstrip("s"))
    )
    picked = ui.pick_row(
        shown,
        key="v_table",
        rename={
            "author": "auteur",
            "status": "statut",
            "is_regular": "habitué",
            "n_mentions": "mentions",
            "n_threads": "fils",
            "mean_sentiment": "sentiment moyen",
            "trend": "tendance",
            "first_seen": "première",
            "last_seen": "dernière",
            "brands": "marques",
        },
        datetimes={"première": "DD/MM/YYYY", "dernière": "DD/MM/YYYY"},
    )
    if picked is not None:
        person = people.iloc[picked]
        st.subheader(
            "Chronologie de " + ui.md(person["author"]) + " (" + ui.md(person["site"]) + ")"
        )
        timeline = data.query("author_mentions", author=person["author"], site=person["site"])
        if timeline.empty:
            st.caption("Aucune mention retrouvée pour cette personne.")
        else:
            tl = timeline.copy()
            tl["label"] = tl["sentiment_label"].fillna("unscored").map(ui.LABELS_FR)
            tl["score"] = tl["sentiment_label"].map({"positive": 1, "neutral": 0, "negative": -1})
            chart = (
                alt.Chart(tl)
                .mark_circle(size=90)
                .encode(
                    x=ui.time_x("published_at:T"),
                    y=alt.Y(
                        "score:Q",
                        title="étiquette",
                        scale=alt.Scale(domain=[-1.3, 1.3]),
                        axis=alt.Axis(values=[-1, 0, 1]),
                    ),
                    color=alt.Color(
                        "label:N",
                        title="Sentiment",
                        scale=alt.Scale(
                            domain=["positif", "neutre", "négatif", "non évalué"],
                            range=["#2ca02c", "#9e9e9e", "#d62728", "#dddddd"],
                        ),
                    ),
                    tooltip=[
                        alt.Tooltip("published_at:T", title="Date", format="%d/%m/%Y"),
                        alt.Tooltip("brand:N", title="Marque"),
                        alt.Tooltip("source:N", title="Source"),
                        alt.Tooltip("label:N", title="Sentiment"),
                    ],
                )
                .properties(height=160)
            )
            st.altair_chart(chart, width="stretch")
            for r in tl.sort_values("published_at", ascending=False).head(30).itertuples():
                with st.container(border=True):
                    st.markdown(
                        f"**{r.published_at:%d/%m/%Y}** · {ui.md(r.brand)} · {ui.md(r.source)} · "
                        f"{r.label}"
                    )
                    st.text(r.text if len(r.text) < 1500 else r.text[:1500] + "…")
            if len(tl) > 30:
                st.caption(f"{len(tl) - 30} mentions plus anciennes non affichées.")
    elif people.empty:
        st.info("Personne dans ce groupe pour l'instant.")

ui.done(t0)
