"""Render time of each dashboard page on a given store (headless Chromium, loopback only).

    .venv/bin/python bench/dashboards.py --db data/demo/listening.duckdb
    .venv/bin/python bench/dashboards.py --db bench/out/marts-1m.duckdb --runs 3

For each page: load it in a fresh tab on a running `streamlit run dashboards/app.py`, wait for
the completion marker every page writes last ("Page prête") and for the charts to be drawn.
"cold" is the first load after the server started (queries run), "warm" the median of the
next loads (results cached for this snapshot). Targets: <= 2 s per page on the demo store,
Réputation and Mentions < 3 s on a 1M-mention store.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TITLES = {"Réputation": "Réputation : hype ou réalité ?"}
PAGES = {
    "Réputation": "",
    "Mentions": "mentions",
    "Voix": "voix",
    "Conversations": "conversations",
    "Sujets": "sujets",
    "Part de voix": "part-de-voix",
    "Alertes": "alertes",
    "Sources": "sources",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(db: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "LISTENING_DB": str(db.resolve())}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboards" / "app.py"),
            "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("streamlit did not start within 30 s")


def load(browser, url: str, timeout_ms: int) -> float:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        t = time.perf_counter()
        page.goto(url)
        page.get_by_text("Page prête").wait_for(timeout=timeout_ms)
        # Charts draw after the script ends: wait until every vega-embed has its canvas/svg.
        page.wait_for_function(
            "() => [...document.querySelectorAll('.vega-embed')]"
            ".every(e => e.querySelector('canvas, svg'))",
            timeout=timeout_ms,
        )
        elapsed = time.perf_counter() - t
        if page.locator('[data-testid="stException"]').count():
            raise SystemExit(f"{url}: the page shows an exception")
        return elapsed
    finally:
        page.close()


def navigate(page, name: str, timeout_ms: int) -> float:
    """In-app navigation (sidebar link) from the page already open: what an analyst feels."""
    t = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.get_by_text(f"Page prête · {TITLES.get(name, name)} ·").wait_for(timeout=timeout_ms)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.vega-embed')]"
        ".every(e => e.querySelector('canvas, svg'))",
        timeout=timeout_ms,
    )
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, type=Path, help="live store path (its snapshot is read)")
    ap.add_argument("--runs", type=int, default=3, help="warm loads per page (default 3)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per page load")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start(args.db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            load(browser, f"{base}/sources", int(args.timeout * 1000))  # server warm-up
            print(f"store {args.db} — seconds to 'Page prête' and charts drawn")
            print("cold: first load (new tab); warm: median of reloads (new tab, cached);")
            print("menu: median of in-app navigations from the Sources page (cached)")
            print(f"{'page':<15}{'cold':>8}{'warm':>8}{'menu':>8}")
            ms = int(args.timeout * 1000)
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name, path in PAGES.items():
                cold = load(browser, f"{base}/{path}", ms)
                warm = [load(browser, f"{base}/{path}", ms) for _ in range(args.runs)]
                menu = []
                for _ in range(args.runs):
                    tab.goto(f"{base}/sources")
                    tab.get_by_text("Page prête · Sources").wait_for(timeout=ms)
                    menu.append(navigate(tab, name, ms))
                print(
                    f"{name:<15}{cold:>8.2f}{statistics.median(warm):>8.2f}"
                    f"{statistics.median(menu):>8.2f}",
                    flush=True,
                )
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
