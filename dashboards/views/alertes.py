"""Alertes: open alerts, their history and whether the webhook delivered them."""

from __future__ import annotations

import streamlit as st

import data
import ui

ALL = "Toutes"
LIMIT = 1000
DELIVERY_FR = {
    "sent": "envoyée",
    "failed": "échec (réessai au prochain build)",
    "pending": "en attente",
    "stored": "enregistrée (pas de webhook)",
}

t0 = ui.start_page("Alertes")

if ui.require("alerts"):
    summary = data.query("alerts_summary")
    if summary.empty:
        st.info(
            "Aucune alerte : les règles sont évaluées à chaque `listening build` "
            "(pic négatif, dérive de réputation, habitué devenu détracteur, fil négatif "
            "sans réponse)."
        )
        ui.done(t0)
        st.stop()
    brand = st.sidebar.selectbox("Marque", [ALL, *summary["brand"]], key="a_brand")
    if brand != ALL:
        summary = summary[summary["brand"] == brand]
    alerts = data.query("alerts_list", brand=None if brand == ALL else brand, limit=LIMIT)
    c1, c2, c3 = st.columns(3)
    c1.metric("Alertes ouvertes", int(summary["n_open"].sum()))
    c2.metric("Critiques ouvertes", int(summary["n_open_critical"].sum()))
    c3.metric("Livraisons en échec", int(summary["n_failed"].sum()))
    if int(summary["n_alerts"].sum()) > LIMIT:
        st.caption(f"Les tableaux montrent les {LIMIT} premières alertes (ouvertes d'abord).")
    open_ = alerts[alerts["is_open"]]
    view = alerts.assign(
        severity=alerts["severity"].map(lambda s: ui.SEVERITY_FR.get(s, s)),
        delivery_status=alerts["delivery_status"].map(lambda s: DELIVERY_FR.get(s, s)),
        rule=alerts["rule"].map(lambda r: ui.RULES_FR.get(r, r)),
        evidence=alerts["evidence"].map(lambda e: len(e) if e is not None else 0),
    ).rename(
        columns={
            "opened_at": "ouverte",
            "closed_at": "close",
            "severity": "gravité",
            "brand": "marque",
            "rule": "règle",
            "summary": "résumé",
            "delivery_status": "livraison",
            "delivered_at": "livrée",
            "attempts": "essais",
            "last_error": "erreur de livraison",
            "evidence": "preuves",
        }
    )
    cfg = {
        "ouverte": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
        "close": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
        "livrée": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
    }
    st.subheader("Ouvertes")
    if open_.empty:
        st.caption("Aucune alerte ouverte.")
    else:
        st.dataframe(
            view[alerts["is_open"]].drop(columns=["alert_id", "is_open", "close"]),
            hide_index=True,
            width="stretch",
            column_config=cfg,
        )
    st.subheader("Historique")
    st.dataframe(
        view[~alerts["is_open"]].drop(columns=["alert_id", "is_open"]),
        hide_index=True,
        width="stretch",
        column_config=cfg,
    )
    st.subheader("Preuves d'une alerte")
    labels = {
        r.alert_id: f"{r.brand} · {ui.RULES_FR.get(r.rule, r.rule)} · {r.opened_at:%d/%m/%Y}"
        for r in alerts.itertuples()
    }
    pick = st.selectbox("Alerte", list(labels), format_func=labels.get, key="a_pick")
    evidence = alerts.loc[alerts["alert_id"] == pick, "evidence"].iloc[0]
    if evidence is None or not len(evidence):
        st.caption("Pas de preuve attachée.")
    else:
        for mention_id in list(evidence)[:20]:
            st.page_link(
                "views/mentions.py",
                label=f"Ouvrir la mention {mention_id}",
                query_params={"mention": str(mention_id)},
            )

ui.done(t0)
