"""Part de voix: a brand's share of the conversation against its competitors."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import data
import ui

t0 = ui.start_page("Part de voix")

if ui.require("share_of_voice"):
    spans = data.query("share_of_voice_brands")
    if spans.empty:
        st.info(
            "Aucune part de voix : déclarez des concurrents (competitors) dans listening.toml, "
            "puis lancez `listening build`."
        )
        ui.done(t0)
        st.stop()
    brand = st.sidebar.selectbox("Marque", list(spans["brand"]), key="p_brand")
    # The mart has one row per week (its Monday): the period runs to the last week's Sunday.
    start, end = ui.period_filter(
        spans["first_week"].min(),
        spans["last_week"].max() + pd.Timedelta(days=6),
        key="p_period",
    )
    measure = st.radio(
        "Mesure",
        ["share_of_mentions", "share_of_voices"],
        format_func={
            "share_of_mentions": "part des mentions",
            "share_of_voices": "part des voix (personnes)",
        }.get,
        horizontal=True,
        key="p_measure",
    )
    sov = data.query("share_of_voice", brand=brand, start=start, end=end).copy()
    if sov.empty:
        st.info("Pas de données sur la période : élargissez-la.")
    else:
        sov["week"] = pd.to_datetime(sov["week"])
        totals = sov.groupby("competitor").agg(
            n_mentions=("n_mentions", "sum"), n_voices=("n_voices", "sum")
        )
        totals["part des mentions"] = totals["n_mentions"] / totals["n_mentions"].sum()
        net = (
            sov.assign(w=sov["net_sentiment"] * sov["n_mentions"])
            .groupby("competitor")[["w", "n_mentions"]]
            .sum()
        )
        totals["sentiment net"] = net["w"] / net["n_mentions"].where(net["n_mentions"] > 0)
        cols = st.columns(min(len(totals), 4))
        for col, (name, r) in zip(
            cols, totals.sort_values("n_mentions", ascending=False).iterrows(), strict=False
        ):
            col.metric(
                name,
                ui.fmt_pct(r["part des mentions"]),
                help=f"{int(r['n_mentions'])} mentions sur la période",
            )
        order = [brand, *[c for c in totals.index if c != brand]]
        chart = (
            alt.Chart(sov)
            .mark_area()
            .encode(
                x=ui.time_x("week:T"),
                y=alt.Y(f"{measure}:Q", stack="normalize", title="Part", axis=alt.Axis(format="%")),
                color=alt.Color("competitor:N", title="Marque", sort=order),
                order=alt.Order("competitor:N"),
                tooltip=[
                    alt.Tooltip("week:T", title="Semaine du", format="%d/%m/%Y"),
                    alt.Tooltip("competitor:N", title="Marque"),
                    alt.Tooltip("n_mentions:Q", title="Mentions"),
                    alt.Tooltip("share_of_mentions:Q", title="Part des mentions", format=".0%"),
                    alt.Tooltip("share_of_voices:Q", title="Part des voix", format=".0%"),
                    alt.Tooltip("net_sentiment:Q", title="Sentiment net", format=".2f"),
                ],
            )
            .properties(height=300, title=f"Part de voix de {brand} et de ses concurrents")
        )
        st.altair_chart(chart, width="stretch")
        st.dataframe(
            totals.rename(columns={"n_mentions": "mentions", "n_voices": "voix"})
            .rename_axis("marque")
            .round(3),
            width="stretch",
        )

ui.done(t0)
