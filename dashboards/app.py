"""The `listening` dashboards: `listening dashboard` runs this with LISTENING_DB set.

Every page reads the published snapshot through `data.py` and named queries in `queries/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data

HERE = Path(__file__).resolve().parent
# The favicon is a file we ship: a ":material/…:" page icon makes every browser fetch an SVG from
# a public font host, and a self-hosted dashboard must work offline and leak to no one. (Icons in
# the page body are drawn with the Material Symbols font Streamlit itself serves.)
st.set_page_config(page_title="listening", page_icon=str(HERE / "favicon.svg"), layout="wide")

# Not "pages/": Streamlit would then route a first visit to a page URL through its old
# folder-based navigation, skipping this script (PagesManager.uses_pages_directory).
PAGES = HERE / "views"
reputation = st.Page(
    PAGES / "reputation.py", title="Réputation", icon=":material/monitoring:", url_path="reputation"
)


def home() -> None:
    # Streamlit serves its default page at "/" only, so a shared /reputation link would say
    # "Page not found": the landing page is a hidden redirect and every page has its own URL.
    st.switch_page(reputation)


pages = [
    st.Page(home, title="listening", url_path="accueil", default=True, visibility="hidden"),
    reputation,
    st.Page(PAGES / "mentions.py", title="Mentions", icon=":material/forum:", url_path="mentions"),
    st.Page(PAGES / "voix.py", title="Voix", icon=":material/record_voice_over:", url_path="voix"),
    st.Page(
        PAGES / "conversations.py",
        title="Conversations",
        icon=":material/chat:",
        url_path="conversations",
    ),
    st.Page(PAGES / "sujets.py", title="Sujets", icon=":material/label:", url_path="sujets"),
    st.Page(
        PAGES / "part_de_voix.py",
        title="Part de voix",
        icon=":material/balance:",
        url_path="part-de-voix",
    ),
    st.Page(
        PAGES / "alertes.py",
        title="Alertes",
        icon=":material/notifications_active:",
        url_path="alertes",
    ),
    st.Page(PAGES / "sources.py", title="Sources", icon=":material/rss_feed:", url_path="sources"),
]


@st.fragment(run_every=5)
def snapshot_watch() -> None:
    """Rerun the page when the pipeline publishes a new snapshot (no restart needed).

    Only the fragment's own timed reruns compare: a whole-app run (a page opened, a widget, the
    redirect from "/") reads the newest snapshot anyway, and rerunning it because a publish
    came since the previous run would loop while the pipeline publishes.
    """
    try:
        key = data.current().key
    except data.NoSnapshot:
        key = None
    app_run = st.session_state["_app_run"]
    if st.session_state.get("_watch_run") != app_run:  # called by the whole-app run
        st.session_state["_watch_run"] = app_run
        st.session_state["_snapshot_key"] = key
        return
    seen = st.session_state.get("_snapshot_key")
    st.session_state["_snapshot_key"] = key
    if seen is not None and key is not None and seen != key:
        st.rerun(scope="app")


st.session_state["_app_run"] = st.session_state.get("_app_run", 0) + 1
with st.sidebar:
    snapshot_watch()

st.navigation(pages).run()
