"""Sujets: what people talk about (aspects) over time, and what they say about each."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import data
import ui

PER_LABEL = 4

t0 = ui.start_page("Sujets")

if ui.require("aspects_daily", "mentions"):
    spans = data.query("aspect_brands")
    if spans.empty:
        st.info("Aucun sujet repéré encore : lancez `listening run` puis `listening build`.")
        ui.done(t0)
        st.stop()
    brand = st.sidebar.selectbox("Marque", list(spans["brand"]), key="s_brand")
    start, end = ui.period_filter(spans["first_day"].min(), spans["last_day"].max(), key="s_period")
    weekly = data.query("aspects_weekly", brand=brand, start=start, end=end).copy()
    if weekly.empty:
        st.info("Aucun sujet sur la période : élargissez-la.")
    else:
        weekly["week"] = pd.to_datetime(weekly["week"])
        # A rect on a time axis needs both edges: without x2 every cell of a row spans the
        # whole axis and the row shows one colour. One cell per (aspect, week), Monday to Monday.
        weekly["week_end"] = weekly["week"] + pd.Timedelta(days=7)
        weekly["mid_week"] = weekly["week"] + pd.Timedelta(days=3.5)  # the area over its cells
        totals = (
            weekly.groupby("aspect")
            .agg(n=("n_mentions", "sum"), pos=("n_positive", "sum"), neg=("n_negative", "sum"))
            .sort_values("n", ascending=False)
        )
        st.caption("Volume hebdomadaire des mentions par sujet, et leur ton (−1 à +1).")
        volume = (
            alt.Chart(weekly)
            .mark_area(opacity=0.8)
            .encode(
                x=ui.time_x("mid_week:T"),
                y=alt.Y("n_mentions:Q", title="Mentions par semaine", stack=True),
                color=alt.Color("aspect:N", title="Sujet"),
                tooltip=[
                    alt.Tooltip("week:T", title="Semaine du", format="%d/%m/%Y"),
                    alt.Tooltip("aspect:N", title="Sujet"),
                    alt.Tooltip("n_mentions:Q", title="Mentions"),
                    alt.Tooltip("mean_sentiment:Q", title="Ton", format=".2f"),
                ],
            )
            .properties(height=220)
        )
        tone = (
            alt.Chart(weekly)
            .mark_rect()
            .encode(
                x=ui.time_x("week:T"),
                x2="week_end:T",
                y=alt.Y("aspect:N", title=None, sort=list(totals.index)),
                color=alt.Color(
                    "mean_sentiment:Q",
                    title="Ton",
                    scale=alt.Scale(scheme="redyellowgreen", domain=[-0.6, 0.6]),
                ),
                tooltip=[
                    alt.Tooltip("week:T", title="Semaine du", format="%d/%m/%Y"),
                    alt.Tooltip("aspect:N", title="Sujet"),
                    alt.Tooltip("mean_sentiment:Q", title="Ton", format=".2f"),
                    alt.Tooltip("n_mentions:Q", title="Mentions"),
                ],
            )
            .properties(height=28 * len(totals))
        )
        st.altair_chart(
            alt.vconcat(volume, tone).resolve_scale(x="shared", color="independent"),
            width="stretch",
        )
        aspect = st.selectbox("Ce que les gens disent de…", list(totals.index), key="s_aspect")
        samples = data.query(
            "aspect_samples",
            brand=brand,
            aspect=aspect,
            start=start,
            end=end,
            per_label=PER_LABEL,
        )
        cols = st.columns(3)
        for col, label in zip(cols, ["negative", "neutral", "positive"], strict=True):
            with col:
                st.markdown(f"**{ui.LABELS_FR[label].capitalize()}**")
                part = samples[samples["sentiment_label"] == label]
                if part.empty:
                    st.caption("Aucune mention.")
                for r in part.itertuples():
                    with st.container(border=True):
                        st.caption(
                            f"{r.published_at:%d/%m/%Y} · {ui.md(r.source)} · "
                            f"{ui.md(r.author or 'anonyme')}"
                        )
                        st.text(r.text if len(r.text) < 600 else r.text[:600] + "…")

ui.done(t0)
