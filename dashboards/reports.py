"""The weekly reports beside the store, offered for download on the pages."""

from __future__ import annotations

import streamlit as st

import data


def download_button(brand: str) -> None:
    """« Télécharger le rapport de la semaine »: the newest weekly PDF of the brand that the
    listening_report DAG (or `listening report`) wrote beside the store, in the sidebar."""
    from listening.report import latest_report

    path = latest_report(data.db_path(), brand)
    if path is None:
        st.sidebar.caption(
            f"Pas encore de rapport hebdomadaire : `listening report --brand '{brand}'`."
        )
        return
    st.sidebar.download_button(
        "Télécharger le rapport de la semaine",
        path.read_bytes(),
        file_name=f"rapport-{path.parent.name}-{path.stem}.pdf",
        mime="application/pdf",
        help=f"Semaine {path.stem} (PDF)",
        icon=":material/download:",
    )
