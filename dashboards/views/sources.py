"""Sources: fetch health for ops (failing and disabled sources first)."""

from __future__ import annotations

import streamlit as st

import data
import ui

STATE_FR = {
    "active": "active",
    "backoff": "en attente (échecs)",
    "disabled": "désactivée",
    "removed": "retirée de la configuration",
}

t0 = ui.start_page("Sources")

if ui.require("source_health"):
    health = data.query("source_health").copy()
    if health.empty:
        st.info(
            "Aucune source configurée : ajoutez-en dans listening.toml ([[sources]]), puis "
            "lancez `listening init`."
        )
    else:
        # A source removed from the config is history, not a failure.
        n_bad = int((~health["state"].isin(["active", "removed"])).sum())
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Sources", len(health))
        c2.metric("Actives", int((health["state"] == "active").sum()))
        c3.metric("En échec ou désactivées", n_bad)
        c4.metric("Documents collectés", f"{int(health['n_documents'].sum()):,}".replace(",", " "))
        if n_bad:
            st.warning(
                "Des sources échouent : lisez la dernière erreur ; une source désactivée se "
                "réactive avec `listening sources --enable NOM`."
            )
        health["state"] = health["state"].map(lambda s: STATE_FR.get(s, s))
        health["last_error"] = health["last_error"].fillna("")
        st.dataframe(
            health.rename(
                columns={
                    "name": "source",
                    "state": "état",
                    "kind": "type",
                    "channel": "canal",
                    "last_status": "dernier statut HTTP",
                    "last_fetch_at": "dernière collecte",
                    "next_fetch_at": "prochaine collecte",
                    "consecutive_failures": "échecs de suite",
                    "n_documents": "documents",
                    "last_error": "dernière erreur",
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "dernière collecte": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
                "prochaine collecte": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
            },
        )

ui.done(t0)
