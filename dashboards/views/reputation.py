"""Réputation: the slow long-term index against the fast daily buzz, on one time axis."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import data
import reports
import ui

BUZZ_PEAK = 2.0  # a day with twice its usual volume is drawn as a buzz peak

t0 = ui.start_page("Réputation : hype ou réalité ?")

if ui.require("reputation_daily", "campaigns", "alerts"):
    spans = data.query("reputation_brands")
    if spans.empty:
        st.info(
            "Aucune mention encore : vérifiez les marques dans listening.toml puis lancez "
            "`listening run`."
        )
        ui.done(t0)
        st.stop()
    brands = list(spans["brand"])
    brand = st.sidebar.selectbox("Marque", brands, key="rep_brand")
    reports.download_button(brand)
    competitors = []
    if data.has("share_of_voice"):
        competitors = list(data.query("competitors", brand=brand)["competitor"])
    others = [b for b in brands if b != brand]
    overlay = st.sidebar.multiselect(
        "Concurrents superposés",
        others,
        default=[c for c in competitors if c in others],
        key=f"rep_overlay_{brand}",
    )
    first = spans["first_day"].min()
    last = spans["last_day"].max()
    start, end = ui.period_filter(first, last, key="rep_period")
    shown = [brand, *overlay]
    res = data.fetch(
        {
            "daily": ("reputation_daily", {"brands": shown, "start": start, "end": end}),
            "campaigns": ("campaigns", {"brands": [brand], "start": start, "end": end}),
            "alerts": ("alert_markers", {"brands": [brand], "start": start, "end": end}),
        }
    )
    daily = res["daily"].copy()
    daily["day"] = pd.to_datetime(daily["day"])
    mine = daily[daily["brand"] == brand]

    if mine.empty:
        st.info("Pas de données pour cette marque sur la période choisie : élargissez-la.")
    else:
        last_row = mine.iloc[-1]
        first_row = mine.iloc[0]
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(
            "Réputation (fin de période)",
            ui.fmt_num(last_row["reputation_index"], 1),
            delta=ui.fmt_num(last_row["reputation_index"] - first_row["reputation_index"], 1),
            help="Indice de −100 à +100 : ce que les gens pensent sur la durée (mémoire à "
            "demi-vie), fourchette à 95 % : "
            f"{ui.fmt_num(last_row['reputation_lower'], 1)} à "
            f"{ui.fmt_num(last_row['reputation_upper'], 1)}.",
        )
        c2.metric("Mentions sur la période", f"{int(mine['n_mentions'].sum()):,}".replace(",", " "))
        peak = mine.loc[mine["buzz_ratio"].fillna(0).idxmax()]
        c3.metric(
            "Pic de buzz",
            f"× {ui.fmt_num(peak['buzz_ratio'], 1)}",
            help=f"Le {peak['day']:%d/%m/%Y} : {int(peak['n_mentions'])} mentions pour "
            "un volume habituel bien plus bas.",
        )
        c4.metric("Jours de buzz (× 2 ou plus)", int((mine["buzz_ratio"] >= BUZZ_PEAK).sum()))
        if data.has("campaign_impact"):
            impact = data.query("campaign_impact", brand=brand, start=start, end=end)
            for r in impact.itertuples():
                change = r.reputation_end - r.reputation_start
                if r.has_moved:
                    verdict = (
                        f"la réputation a bougé de {ui.fmt_num(change, 1)} points, hors de sa "
                        "fourchette de départ : un effet réel"
                    )
                else:
                    verdict = (
                        f"la réputation a bougé de {ui.fmt_num(change, 1)} points, dans sa "
                        "fourchette de départ : de la hype, pas de changement de fond"
                    )
                suffix = "" if r.is_complete else " (fenêtre d'après-campagne pas finie)"
                st.info(
                    f"Campagne « {ui.md(r.name)} » ({ui.md(r.channel)}, "
                    f"{r.start_date:%d/%m/%Y} – {r.end_date:%d/%m/%Y}) : buzz "
                    f"× {ui.fmt_num(r.buzz_lift, 1)} pendant la campagne ; jusqu'au "
                    f"{r.measured_until:%d/%m/%Y}, {verdict}{suffix}.",
                    icon=":material/campaign:",
                )

        st.caption(
            "**Réalité** (en haut) : l'indice de réputation et sa fourchette bougent lentement, "
            "ils retiennent l'avis des gens sur la durée. **Hype** (en bas) : le volume quotidien "
            "de mentions, en orange les jours de buzz. Un pic de buzz qui ne déplace pas la "
            "réputation, c'est de la hype. Zones grises : campagnes ; triangles : alertes."
        )

        x = ui.time_x("day:T", scale=alt.Scale(domain=[str(start), str(end)]))
        camp = res["campaigns"].copy()
        layers_top = []
        layers_bottom = []
        if not camp.empty:
            camp["start_date"] = pd.to_datetime(camp["start_date"])
            camp["end_date"] = pd.to_datetime(camp["end_date"]) + pd.Timedelta(days=1)
            rect = (
                alt.Chart(camp)
                .mark_rect(opacity=0.15, color="#7f7f7f")
                .encode(
                    x="start_date:T",
                    x2="end_date:T",
                    tooltip=[
                        alt.Tooltip("name:N", title="Campagne"),
                        alt.Tooltip("channel:N", title="Canal"),
                        alt.Tooltip("start_date:T", title="Début", format="%d/%m/%Y"),
                    ],
                )
            )
            layers_top.append(rect)
            layers_bottom.append(rect)
        band = (
            alt.Chart(mine)
            .mark_area(opacity=0.25, color="#1f77b4")
            .encode(x=x, y="reputation_lower:Q", y2="reputation_upper:Q")
        )
        y_rep = alt.Y(
            "reputation_index:Q", title="Indice de réputation", scale=alt.Scale(zero=False)
        )
        line = (
            alt.Chart(daily)
            .mark_line()
            .encode(
                x=x,
                y=y_rep,
                color=alt.Color(
                    "brand:N",
                    title="Marque",
                    scale=alt.Scale(
                        domain=shown,
                        range=["#1f77b4", "#9e9e9e", "#bcbd22", "#8c564b", "#e377c2"][: len(shown)],
                    ),
                ),
                strokeWidth=alt.condition(alt.datum.brand == brand, alt.value(3), alt.value(1.5)),
                tooltip=[
                    alt.Tooltip("brand:N", title="Marque"),
                    alt.Tooltip("day:T", title="Jour", format="%d/%m/%Y"),
                    alt.Tooltip("reputation_index:Q", title="Réputation", format=".1f"),
                    alt.Tooltip("reputation_lower:Q", title="Bas", format=".1f"),
                    alt.Tooltip("reputation_upper:Q", title="Haut", format=".1f"),
                ],
            )
        )
        layers_top += [band, line]
        alerts = res["alerts"].copy()
        if not alerts.empty:
            alerts["day"] = pd.to_datetime(alerts["day"])
            alerts["severity"] = alerts["severity"].map(lambda s: ui.SEVERITY_FR.get(s, s))
            alerts["rule"] = alerts["rule"].map(lambda r: ui.RULES_FR.get(r, r))
            alerts = alerts.merge(mine[["day", "reputation_index"]], on="day", how="left")
            marks = (
                alt.Chart(alerts)
                .mark_point(shape="triangle-down", size=140, filled=True)
                .encode(
                    x=x,
                    y="reputation_index:Q",
                    color=alt.Color(
                        "severity:N",
                        title="Alerte",
                        scale=alt.Scale(
                            domain=[ui.SEVERITY_FR[s] for s in ("info", "warning", "critical")],
                            range=["#17becf", "#ff7f0e", "#d62728"],
                        ),
                    ),
                    tooltip=[
                        alt.Tooltip("rule:N", title="Règle"),
                        alt.Tooltip("opened_at:T", title="Ouverte", format="%d/%m/%Y %H:%M"),
                        alt.Tooltip("severity:N", title="Gravité"),
                        alt.Tooltip("summary:N", title="Résumé"),
                    ],
                )
            )
            layers_top.append(marks)
        top = (
            alt.layer(*layers_top)
            .resolve_scale(color="independent")
            .properties(height=300, title="Réalité : réputation à long terme (fourchette à 95 %)")
        )
        bars = (
            alt.Chart(mine)
            .transform_calculate(is_peak=f"datum.buzz_ratio >= {BUZZ_PEAK}")
            .mark_bar()
            .encode(
                x=x,
                y=alt.Y("n_mentions:Q", title="Mentions par jour"),
                color=alt.condition(
                    f"datum.buzz_ratio >= {BUZZ_PEAK}", alt.value("#ff7f0e"), alt.value("#c6dbef")
                ),
                tooltip=[
                    alt.Tooltip("day:T", title="Jour", format="%d/%m/%Y"),
                    alt.Tooltip("n_mentions:Q", title="Mentions"),
                    alt.Tooltip("n_voices:Q", title="Voix"),
                    alt.Tooltip("buzz_ratio:Q", title="Buzz (× habituel)", format=".1f"),
                    alt.Tooltip("n_negative:Q", title="Négatives"),
                ],
            )
        )
        layers_bottom.append(bars)
        bottom = alt.layer(*layers_bottom).properties(
            height=170, title="Hype : volume quotidien de mentions (orange = buzz)"
        )
        # fit-x: without it the axes and legends came on top of the page's width, and the
        # legends (competitors, alert severity) were cut off on the right.
        chart = (
            alt.vconcat(top, bottom)
            .resolve_scale(x="shared", color="independent")
            .properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
        )
        st.altair_chart(chart, width="stretch")

        if overlay:
            st.subheader("Comparaison en fin de période")
            ends = daily.sort_values("day").groupby("brand").tail(1)
            totals = daily.groupby("brand")["n_mentions"].sum().rename("mentions")
            table = (
                ends.set_index("brand")[
                    ["reputation_index", "reputation_lower", "reputation_upper"]
                ]
                .join(totals)
                .rename_axis("marque")
            )
            table.columns = ["Réputation", "Bas", "Haut", "Mentions"]
            st.dataframe(table.round(1), width="stretch")

        with st.expander("Campagnes et alertes de la période"):
            if camp.empty:
                st.caption(
                    "Aucune campagne sur la période (ajoutez-en avec `listening campaigns`)."
                )
            else:
                st.dataframe(res["campaigns"], hide_index=True, width="stretch")
            if res["alerts"].empty:
                st.caption("Aucune alerte sur la période.")
            else:
                st.dataframe(res["alerts"], hide_index=True, width="stretch")

ui.done(t0)
