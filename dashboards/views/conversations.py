"""Conversations: threads as a post and its comments, the brand's answers highlighted."""

from __future__ import annotations

import streamlit as st

import data
import ui

ALL = "Toutes"
LIMIT = 200

t0 = ui.start_page("Conversations")


if ui.require("threads", "documents", "mentions"):
    brands = data.query("brands")
    brand = st.sidebar.selectbox("Marque", [ALL, *brands["brand"]], key="c_brand")
    period = data.query("mention_period")
    start, end = ui.period_filter(
        period["first_day"].iloc[0], period["last_day"].iloc[0], key="c_period"
    )
    params = {"brand": None if brand == ALL else brand, "start": start, "end": end}
    res = data.fetch(
        {
            "summary": ("threads_summary", params),
            "threads": ("threads_list", {**params, "limit": LIMIT}),
        }
    )
    threads = res["threads"]
    summary = res["summary"].iloc[0]
    if threads.empty:
        st.info("Aucun fil de discussion sur la période : élargissez-la ou lancez `listening run`.")
        ui.done(t0)
        st.stop()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Fils sur la période", int(summary["n_threads"]))
    c2.metric("Négatifs sans réponse de la marque", int(summary["n_unanswered_negative"]))
    c3.metric("Fils où la marque a répondu", int(summary["n_answered"]))
    c4.metric(
        "Délai médian de première réponse",
        f"{ui.fmt_num(summary['median_hours_to_first_answer'], 1)} h"
        if int(summary["n_answered"])
        else "—",
    )
    if int(summary["n_threads"]) > LIMIT:
        st.caption(f"Le tableau montre les {LIMIT} premiers fils dans cet ordre.")
    st.caption(
        "Les fils négatifs sans réponse de la marque viennent en premier. "
        "Cliquez sur un fil pour le lire."
    )
    table = threads.drop(columns=["thread_url", "is_unanswered_negative"]).copy()
    table["final_tone"] = table["final_tone"].map(lambda x: ui.LABELS_FR.get(x, "—"))
    picked = ui.pick_row(
        table,
        key="c_table",
        rename={
            "title": "titre",
            "brands": "marques",
            "posted_at": "publié",
            "n_comments": "commentaires",
            "n_voices": "voix",
            "post_sentiment": "ton du post",
            "comments_sentiment": "ton des commentaires",
            "is_answered": "répondu",
            "hours_to_first_answer": "délai (h)",
            "final_tone": "ton final",
            "last_comment_at": "dernier commentaire",
        },
        datetimes={"publié": "DD/MM/YYYY HH:mm", "dernier commentaire": "DD/MM/YYYY HH:mm"},
    )
    if picked is not None:
        t = threads.iloc[picked]
        st.divider()
        st.subheader(ui.md(t["title"]) or "(sans titre)")
        docs = data.query("thread_conversation", thread_url=t["thread_url"])
        for depth, r in ui.thread_tree(docs):
            _, body = st.columns([min(depth, 6) * 0.04 + 0.001, 1])
            with body, st.container(border=True):
                who = ui.md(r["author"] or "anonyme")
                if r["is_official"]:
                    st.markdown(
                        f":blue-background[**Réponse de la marque · {who}**] · "
                        f"{r['published_at']:%d/%m/%Y %H:%M}"
                    )
                else:
                    st.markdown(
                        f"{'↳ ' if depth else ''}**{who}** · {r['published_at']:%d/%m/%Y %H:%M}"
                    )
                ui.show_text(r["text"])
        tone = ui.LABELS_FR.get(t["final_tone"], "non évalué")
        st.markdown(
            f"**Ton à la fin du fil : {tone}**"
            + ("" if t["is_answered"] else " · la marque n'a pas répondu")
        )

ui.done(t0)
