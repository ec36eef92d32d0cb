"""The dashboards end to end: a real store, `streamlit run`, headless Chromium through every page.

The store is small but shaped like real data (two brands, competitors, threads with replies and
a brand's answers, a campaign, a failing source, a comment that tries to inject HTML); the marts
are built by ``listening.marts.build`` when the SQL is there, then the snapshot is published.
Figures on the pages are compared with SQL on the same snapshot. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from listening import store

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "dashboards"
CHROMIUM = "/usr/bin/chromium"
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
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
DAYS = 150
XSS = "Acme ? <script>alert('xss')</script> <img src=x onerror=\"alert('img')\"> nul !"
PAGES = [
    ("reputation", "Réputation : hype ou réalité ?"),
    ("mentions", "Mentions"),
    ("voix", "Voix"),
    ("conversations", "Conversations"),
    ("sujets", "Sujets"),
    ("part-de-voix", "Part de voix"),
    ("alertes", "Alertes"),
    ("sources", "Sources"),
]

CONFIG = """
[settings]
store = "listening.duckdb"
timezone = "UTC"

[[brands]]
name = "Acme"
query = '"Acme"'
competitors = ["Globex"]
official_authors = ["Service client Acme"]

[[brands]]
name = "Globex"
query = '"Globex"'

[[sources]]
name = "Blog de Greg"
url = "https://blog.example.fr/feed/"
kind = "feed"
channel = "blog"

[[sources]]
name = "Forum Conso"
url = "https://forum.example.fr/feed/"
kind = "feed"
channel = "forum"

[[sources]]
name = "Avis Express"
url = "https://avis.example.fr/feed/"
kind = "feed"
channel = "review"
"""

POSITIVE = [
    ("Franchement {b} m'a bluffé, le produit est top.", ["produit"], "top", 0.6),
    ("Livraison rapide chez {b}, très contente.", ["livraison"], "contente", 0.5),
    ("Le service client de {b} a été parfait.", ["service client"], "parfait", 0.7),
]
NEGATIVE = [
    ("{b} : colis jamais arrivé, honteux.", ["livraison"], "honteux", -0.7),
    ("Trop cher pour ce que c'est, {b} abuse.", ["prix"], "abuse", -0.5),
    ("Le produit {b} est tombé en panne au bout d'un mois.", ["produit"], "panne", -0.6),
]
NEUTRAL = [
    ("Quelqu'un a testé le nouveau modèle {b} ?", ["produit"], None, 0.0),
    ("Vu la pub {b} à la télé hier soir.", ["communication"], None, 0.0),
]
PEOPLE = [
    "Aurélie C.",
    "Mehdi",
    "Guillaume B.",
    "Nathan de Tours",
    "Lulu4459",
    "zoé98",
    "Chloé N.",
    "Youssef",
    "Martine",
    "Paul_R",
    "Inès",
    "Kevin L.",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sentence(rng: random.Random, brand: str, mood: str) -> tuple[str, list, list[str], float]:
    text, aspects, term, score = rng.choice(
        {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}[mood]
    )
    expl = [] if term is None else [{"term": term, "weight": score * 3, "negated": False}]
    return text.format(b=brand), expl, aspects, score


def fill_store(con: duckdb.DuckDBPyConnection, seed: int = 7, now: datetime = NOW) -> dict:
    """Insert a realistic little world, collected until ``now``, into the raw tables; return
    what the test needs."""
    rng = random.Random(seed)
    sources = [
        ("Blog de Greg", "blog", "https://blog.example.fr"),
        ("Forum Conso", "forum", "https://forum.example.fr"),
        ("Avis Express", "review", "https://avis.example.fr"),
    ]
    for i, (name, channel, base) in enumerate(sources):
        failing = name == "Avis Express"
        con.execute(
            "insert into raw.sources (source_id, name, url, configured_url, kind, channel, "
            "is_configured, state, consecutive_failures, last_fetch_at, last_status, "
            "last_error, next_fetch_at, created_at, updated_at) "
            "values (?, ?, ?, ?, 'feed', ?, true, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                f"s{i}",
                name,
                f"{base}/feed/",
                f"{base}/feed/",
                channel,
                "backoff" if failing else "active",
                3 if failing else 0,
                now - timedelta(minutes=20),
                503 if failing else 200,
                "HTTP 503: le serveur est indisponible, nouvel essai plus tard"
                if failing
                else None,
                now + timedelta(minutes=30),
                now - timedelta(days=DAYS),
                now,
            ],
        )
    docs, mentions = [], []
    start = now - timedelta(days=DAYS)
    campaign = (now.date() - timedelta(days=49), now.date() - timedelta(days=35))
    n_post = 0
    for day in range(DAYS):
        d0 = start + timedelta(days=day)
        in_campaign = campaign[0] <= d0.date() <= campaign[1]
        n_today = 1 + (4 if in_campaign else 0) + (1 if rng.random() < 0.5 else 0)
        for _ in range(n_today):
            n_post += 1
            brand = "Acme" if rng.random() < 0.6 else "Globex"
            src_name, _, base = sources[n_post % 3]
            url = f"{base}/{d0:%Y/%m}/post-{n_post}"
            at = d0 + timedelta(hours=rng.randint(6, 20), minutes=rng.randint(0, 59))
            mood = (
                "neutral"
                if in_campaign and rng.random() < 0.7
                else rng.choice(["positive", "positive", "neutral", "negative"])
            )
            text, expl, aspects, score = _sentence(rng, brand, mood)
            title = f"{brand} : mon avis n°{n_post}"
            pid = f"doc-{n_post}"
            docs.append(
                (pid, "post", url, url, None, src_name, rng.choice(PEOPLE), at, title, text)
            )
            mentions.append((f"m-{pid}-{brand}", pid, brand, mood, score, expl, aspects, at))
            parent = None
            for c in range(rng.choice([0, 1, 2, 3])):
                cid = f"doc-{n_post}-c{c}"
                cat = at + timedelta(hours=2 * (c + 1))
                who = rng.choice(PEOPLE)
                cmood = rng.choice(["positive", "neutral", "negative", "negative"])
                ctext, cexpl, caspects, cscore = _sentence(rng, brand, cmood)
                docs.append(
                    (cid, "comment", f"{url}#c{c}", url, parent, src_name, who, cat, None, ctext)
                )
                mentions.append(
                    (f"m-{cid}-{brand}", cid, brand, cmood, cscore, cexpl, caspects, cat)
                )
                parent = cid if rng.random() < 0.5 else None
            if brand == "Acme" and mood == "negative" and rng.random() < 0.5:
                oid = f"doc-{n_post}-official"
                oat = at + timedelta(hours=9)
                docs.append(
                    (
                        oid,
                        "comment",
                        f"{url}#official",
                        url,
                        pid,
                        src_name,
                        "Service client Acme",
                        oat,
                        None,
                        "Bonjour, Acme est désolé : écrivez-nous en message privé.",
                    )
                )
    # The comment that tries to inject HTML, in a thread of its own.
    xurl = "https://forum.example.fr/2026/03/xss"
    xat = now - timedelta(days=2)
    docs.append(
        (
            "doc-xss-post",
            "post",
            xurl,
            xurl,
            None,
            "Forum Conso",
            "Martine",
            xat,
            "<b>Acme</b> en question",
            "Que pensez-vous d'Acme ?",
        )
    )
    docs.append(
        (
            "doc-xss",
            "comment",
            f"{xurl}#c1",
            xurl,
            "doc-xss-post",
            "Forum Conso",
            "<img src=y onerror=alert(3)>",
            xat + timedelta(hours=1),
            None,
            XSS,
        )
    )
    mentions.append(
        ("m-doc-xss-post-Acme", "doc-xss-post", "Acme", "neutral", 0.0, [], ["produit"], xat)
    )
    mentions.append(
        (
            "m-doc-xss-Acme",
            "doc-xss",
            "Acme",
            "negative",
            -0.4,
            [{"term": "nul", "weight": -1.2, "negated": False}],
            ["produit"],
            xat + timedelta(hours=1),
        )
    )
    con.executemany(
        "insert into raw.documents (document_id, kind, url, thread_url, parent_id, source, "
        "author, published_at, collected_at, title, text, lang, run_id) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'fr', 'run-1')",
        [(*d[:8], d[7], *d[8:]) for d in docs],
    )
    con.executemany(
        "insert into raw.mentions (mention_id, document_id, brand, matched_terms, sentiment, "
        "sentiment_label, sentiment_explanation, sentiment_version, aspects, "
        "aspect_sentiment, analyzed_at) values (?, ?, ?, [lower(?)], ?, ?, ?, 'test-1', ?, "
        "?, ?)",
        [
            (
                mid,
                did,
                brand,
                brand,
                score,
                mood,
                json.dumps(expl),
                aspects,
                json.dumps({a: score for a in aspects}),
                at,
            )
            for mid, did, brand, mood, score, expl, aspects, at in mentions
        ],
    )
    # The part of the text scored for the brand (listening.analyze.target), highlighted on the page.
    con.execute(
        "update raw.mentions set sentiment_scope = 'clause', sentiment_spans = [[?, ?]], "
        "sentiment_scope_note = 'contraste' where mention_id = 'm-doc-xss-Acme'",
        [XSS.index("<script>"), XSS.index("</script>") + len("</script>")],
    )
    con.execute(
        "insert into raw.campaigns values ('c1', 'Printemps en lin', 'Acme', 'tv', ?, ?, ?)",
        [campaign[0], campaign[1], now],
    )
    return {"xss_mention": "m-doc-xss-Acme", "n_documents": len(docs)}


def make_store(
    folder: Path, until: datetime = NOW, built_at: datetime | None = None, config: str = CONFIG
) -> Path:
    """The little world collected until ``until``, built (marts, alerts) at ``built_at``."""
    from listening.configfile import load_config

    (folder / "listening.toml").write_text(config, "utf-8")
    db = folder / "listening.duckdb"
    con = duckdb.connect(str(db))
    store.migrate(con)
    fill_store(con, now=until)
    built_at = built_at or until
    if store.mart_names():
        from listening.marts.build import build

        build(con, load_config(folder / "listening.toml"), built_at, webhook_url="")
    if not con.execute("select count(*) from raw.alerts").fetchone()[0]:
        con.execute(
            "insert into raw.alerts (alert_id, rule, brand, opened_at, severity, summary, "
            "delivery_status, created_at, updated_at) values ('a1', 'negative_spike', "
            "'Acme', ?, 'warning', 'Pic de mentions négatives pour Acme', 'stored', ?, ?)",
            [built_at - timedelta(days=3), built_at, built_at],
        )
    con.execute("checkpoint")
    con.close()
    store.publish(db)
    return db


@contextmanager
def dashboard(db: Path):
    port = _free_port()
    env = {**os.environ, "LISTENING_DB": str(db), "PYTHONUNBUFFERED": "1"}
    log = open(db.parent / "streamlit.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboards" / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=db.parent,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                log.flush()
                raise RuntimeError((db.parent / "streamlit.log").read_text())
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def sql(db: Path, query: str, params=None):
    con = store.open_reader(db)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def wait_ready(page, timeout: float = 60_000) -> None:
    """The completion marker every page writes last, and no Python exception shown."""
    try:
        page.get_by_text("Page prête").wait_for(timeout=timeout)
    except Exception:
        snap(page, "failure")
        raise
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def snap(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # No silent skip: `make test` installs Debian's chromium (make browser).
    assert Path(CHROMIUM).exists(), "no /usr/bin/chromium: run `make browser`"
    db = make_store(tmp_path_factory.mktemp("dash"))
    with dashboard(db) as url:
        yield db, url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def watch_requests(ctx) -> list[str]:
    """Every URL the browser asks for that leaves this machine (a self-hosted tool must not
    leak its users to a third party, and must work offline)."""
    away: list[str] = []

    def seen(request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("data", "blob", "about"):
            return
        if url.hostname not in LOOPBACK:
            away.append(request.url)

    ctx.on("request", seen)
    return away


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    away = watch_requests(ctx)
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()
    assert dialogs == [], f"a web text ran as script: {dialogs}"
    assert away == [], f"the dashboards asked a third party for: {sorted(set(away))}"


def click_first_row(page) -> None:
    """Select the first row of the first data grid (a canvas: click by position)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 18)


def default_period(db: Path) -> list[date]:
    """What every page opens on: the 90 days that end on the store's last mention day."""
    (last,) = sql(db, "select max(published_at)::date from mentions")[0]
    return [last - timedelta(days=89), last]


def period_shown(page) -> list[date]:
    """The sidebar's period picker, read back as dates."""
    out = []
    for end in ("start", "end"):
        text = page.get_by_role("group", name=f"Période {end} date").inner_text()
        day, month, year = (int(n) for n in re.findall(r"\d+", text))
        out.append(date(year, month, day))
    return out


def metric(page, label: str) -> int:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return int(box.inner_text().split("\n")[-1].replace(" ", "").replace("\u202f", ""))


def assert_charts_fit(page, where: str) -> None:
    """Every chart drawn within the page's width: a legend past it is cut off, unseen."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.vega-embed')].every(e => e.querySelector('svg'))"
    )
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('.vega-embed')].map(e => "
        "[e.querySelector('svg').getBoundingClientRect().width, "
        "e.parentElement.getBoundingClientRect().width])"
    )
    assert all(drawn <= room + 1 for drawn, room in sizes), (where, sizes)


def _marts(db: Path) -> set[str]:
    return {r[0] for r in sql(db, "select table_name from duckdb_tables()")}


@pytest.mark.slow
def test_every_page_renders(world, page):
    _db, url = world
    for path, title in PAGES:
        page.goto(f"{url}/{path}")
        wait_ready(page)
        page.get_by_role("heading", name=title).first.wait_for()
        assert_charts_fit(page, path)
        snap(page, path)
    # Third-party requests are checked by the `page` fixture (watch_requests).


@pytest.mark.slow
def test_every_page_opens_by_its_url(world, page):
    """Analysts share links: each page's URL opens that page, and "/" becomes /reputation."""
    _db, url = world
    for path, title in [*PAGES, ("", PAGES[0][1])]:
        page.goto(f"{url}/{path}")
        wait_ready(page)
        page.get_by_role("heading", name=title).first.wait_for()
        assert page.get_by_text("Page not found").count() == 0, path
        assert urlsplit(page.url).path == f"/{path or PAGES[0][0]}", (path, page.url)
        # The page is the one selected in the navigation, under its own URL.
        current = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
        assert current.get_attribute("href").endswith(f"/{path or PAGES[0][0]}"), path
    page.goto(f"{url}/mentions?mention=m-doc-xss-Acme")
    page.get_by_text("Texte intégral").wait_for()
    wait_ready(page)
    snap(page, "deep-link-mention")
    # Two pages open a detail from their table.
    page.goto(f"{url}/voix")
    wait_ready(page)
    click_first_row(page)
    page.get_by_text("Chronologie de").wait_for()
    snap(page, "voix-person")
    page.goto(f"{url}/conversations")
    wait_ready(page)
    click_first_row(page)
    page.get_by_text("Ton à la fin du fil").wait_for()
    snap(page, "conversation-open")


@pytest.mark.slow
def test_demo_store_every_page_shows_its_brands(demo_store, page):
    """The dashboards on the demo world's store (the one `make demo` builds)."""
    db, _ = demo_store
    brands = [r[0] for r in sql(db, "select brand from brands order by brand")]
    assert len(brands) == 6
    with dashboard(db) as url:
        for path, title in PAGES:
            page.goto(f"{url}/{path}")
            wait_ready(page)
            page.get_by_role("heading", name=title).first.wait_for()
            snap(page, f"demo-{path or 'reputation'}")
        page.goto(f"{url}/")
        wait_ready(page)
        body = page.locator("body").inner_text()
        assert any(b in body for b in brands), body[:500]
        page.goto(f"{url}/sources")
        wait_ready(page)
        (n_sources, n_docs) = sql(db, "select count(*), sum(n_documents) from source_health")[0]
        metrics = {
            m.split("\n")[0]: m.split("\n")[-1].replace(" ", "").replace("\u202f", "")
            for m in page.locator('[data-testid="stMetric"]').all_inner_texts()
        }
        assert metrics["Sources"] == str(n_sources) == "22"
        assert metrics["Documents collectés"] == str(n_docs)


@pytest.mark.slow
def test_reputation_figures_match_sql(world, page):
    db, url = world
    assert "reputation_daily" in _marts(db)
    page.goto(f"{url}/")
    wait_ready(page)
    (n,) = sql(
        db,
        "select sum(n_mentions) from reputation_daily where brand = 'Acme' and day between ? and ?",
        default_period(db),
    )[0]
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Mentions sur la période")
    assert metric.inner_text().split("\n")[-1].replace(" ", "").replace("\u202f", "") == str(n)
    assert page.locator(".vega-embed").count() >= 1
    # The campaign's verdict: hype or a real move.
    assert page.get_by_text("Campagne « Printemps en lin » (tv").is_visible()
    # A competitor is overlaid by default (share_of_voice names Globex as Acme's competitor).
    assert page.get_by_text("Globex").first.is_visible()


# A store whose data stopped long ago, built (marts, alerts) more than a year later: the marts
# run on to the build day, the data does not.
OLD_UNTIL = datetime(2024, 6, 30, 18, 0, tzinfo=UTC)
OLD_BUILT = OLD_UNTIL + timedelta(days=400)


@pytest.fixture(scope="module")
def old_world(tmp_path_factory):
    db = make_store(tmp_path_factory.mktemp("old"), until=OLD_UNTIL, built_at=OLD_BUILT)
    with dashboard(db) as url:
        yield db, url


@pytest.mark.slow
def test_store_of_old_data_opens_on_its_data(old_world, page):
    """Every page with a period opens on the 90 days ending on the last mention day."""
    db, url = old_world
    assert sql(db, "select max(day) from reputation_daily")[0][0] == OLD_BUILT.date()
    start, end = default_period(db)
    assert end <= OLD_UNTIL.date()
    page.goto(f"{url}/reputation")
    wait_ready(page)
    assert period_shown(page) == [start, end]
    (n,) = sql(
        db,
        "select sum(n_mentions) from reputation_daily where brand = 'Acme' and day between ? and ?",
        [start, end],
    )[0]
    assert metric(page, "Mentions sur la période") == n > 100
    snap(page, "old-reputation")
    page.goto(f"{url}/mentions")
    wait_ready(page)
    assert period_shown(page) == [start, end]
    (total,) = sql(
        db, "select count(*) from mentions where published_at::date between ? and ?", [start, end]
    )[0]
    page.get_by_text(f"{total:,} mentions correspondent".replace(",", " ")).wait_for()
    page.goto(f"{url}/conversations")
    wait_ready(page)
    assert period_shown(page) == [start, end]
    (n_threads,) = sql(
        db,
        "select count(*) from threads "
        "where coalesce(last_comment_at, posted_at)::date between ? and ?",
        [start, end],
    )[0]
    assert metric(page, "Fils sur la période") == n_threads > 50
    page.goto(f"{url}/sujets")
    wait_ready(page)
    assert period_shown(page) == [start, end]
    assert len(heat_cells(page)) > 20
    page.goto(f"{url}/part-de-voix")
    wait_ready(page)
    assert period_shown(page) == [start, end]
    assert page.get_by_text("Pas de données sur la période").count() == 0
    assert page.locator(".vega-embed").count() == 1


def heat_cells(page) -> list[tuple[str, date, float, float, float]]:
    """The Sujets heat map as the browser drew it (Vega's SVG): for each rect, its aspect and
    week (from the tooltip's label) and its x, y and width in pixels."""
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('.vega-embed svg g.mark-rect.role-mark > path')]"
        ".map(p => [p.getAttribute('aria-label'), p.getAttribute('d')])"
    )
    cells = []
    for label, d in drawn:
        week, aspect = re.search(r"Semaine du: (\d\d/\d\d/\d{4}); Sujet: ([^;]+)", label).groups()
        x, y, w = (float(v) for v in re.match(r"M([-\d.]+),([-\d.]+)h([-\d.]+)", d).groups())
        cells.append((aspect, datetime.strptime(week, "%d/%m/%Y").date(), x, y, w))
    return cells


@pytest.mark.slow
def test_sujets_heat_map_has_one_cell_per_aspect_and_week(world, page):
    db, url = world
    page.goto(f"{url}/sujets")
    wait_ready(page)
    start, end = default_period(db)
    assert period_shown(page) == [start, end]
    (brand,) = sql(
        db,
        "select brand from aspects_daily group by brand order by sum(n_mentions) desc limit 1",
    )[0]
    expected = set(
        sql(
            db,
            "select aspect, date_trunc('week', day)::date from aspects_daily "
            "where brand = ? and day between ? and ? group by all",
            [brand, start, end],
        )
    )
    cells = heat_cells(page)
    assert sorted((a, w) for a, w, *_ in cells) == sorted(expected)
    # One cell per week, side by side: a rect spanning the whole axis would paint its row
    # in one colour.
    weeks = {w for _, w in expected}
    assert len({round(x) for _, _, x, _, _ in cells}) == len(weeks) > 10
    widths = [w for *_, w in cells]
    assert max(widths) - min(widths) < 1
    rows: dict[float, list[tuple[float, float]]] = {}
    for _, _, x, y, w in cells:
        rows.setdefault(y, []).append((x, w))
    for row in rows.values():
        row.sort()
        assert all(b[0] >= a[0] + a[1] - 0.5 for a, b in pairwise(row))
    snap(page, "sujets-heat-map")


@pytest.mark.slow
def test_mentions_filter_open_correct_export(world, page, tmp_path):
    from listening.store.overrides import ingest_overrides, overrides_dir

    db, url = world
    page.goto(f"{url}/mentions")
    wait_ready(page)
    (total,) = sql(
        db,
        "select count(*) from mentions where published_at::date between ? and ?",
        default_period(db),
    )[0]
    assert page.get_by_text(f"{total:,} mentions".replace(",", " ")).count() >= 1
    # Filter: full-text search finds the injection attempt, and only it.
    box = page.get_by_label("Rechercher dans le texte")
    box.fill("onerror")
    box.press("Enter")
    page.get_by_text("1 mention correspond").wait_for()
    wait_ready(page)
    snap(page, "mentions-filtered")
    # Open it: click its row in the data grid (a canvas: click by position), else deep link.
    click_first_row(page)
    try:
        page.get_by_text("Texte intégral").wait_for(timeout=5000)
    except Exception:
        page.goto(f"{url}/mentions?mention=m-doc-xss-Acme")
    page.get_by_text("Texte intégral").wait_for()
    wait_ready(page)
    # The whole text is shown as text: the tags are visible, none became an element.
    assert page.get_by_text("<script>alert('xss')</script>", exact=False).count() >= 1
    assert page.locator("img[src='x'], img[src='y']").count() == 0
    assert page.locator("script", has_text="xss").count() == 0
    # The span scored for the brand is highlighted (still as text), and its scope is shown.
    mark = page.locator(".stMarkdownColoredBackground", has_text="<script>alert('xss')</script>")
    assert mark.count() == 1
    assert page.get_by_text("Portée : proposition · contraste").is_visible()
    assert page.get_by_text("Fil de discussion").is_visible()
    assert page.get_by_text("Que pensez-vous d'Acme ?").is_visible()
    assert page.get_by_role("link", name="Ouvrir l'original ↗").get_attribute("href") == (
        "https://forum.example.fr/2026/03/xss#c1"
    )
    snap(page, "mention-open")
    # Correct its label: a pending file, shown at once as "en attente".
    page.get_by_text("positif", exact=True).last.click()
    page.get_by_label("Note (facultative)").fill("ironie")
    page.get_by_role("button", name="Enregistrer la correction").click()
    page.get_by_text("Correction enregistrée").wait_for()
    files = list(overrides_dir(db).glob("*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text())["mention_id"] == "m-doc-xss-Acme"
    page.get_by_role("button", name="Préparer l'export CSV").click()
    # In the mention's detail (the data grid's own copy of the cell is hidden: a canvas).
    page.locator('[data-testid="stMarkdownContainer"]').get_by_text(
        "positif (en attente)"
    ).first.wait_for()
    # Export the current filter.
    with page.expect_download() as dl:
        page.get_by_role("button", name="Télécharger le CSV").click()
    path = tmp_path / "export.csv"
    dl.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert [r["mention_id"] for r in rows] == ["m-doc-xss-Acme"]
    assert rows[0]["text"] == XSS
    # The next writer stage ingests the correction; the mentions view shows it.
    with store.open_writer(db) as con:
        assert ingest_overrides(con, db, datetime.now(UTC)) == 1
    assert sql(
        db,
        "select sentiment_label, is_overridden from mentions where mention_id = 'm-doc-xss-Acme'",
    ) == [("positive", True)]
    assert list(overrides_dir(db).glob("*.json")) == []


@pytest.mark.slow
def test_sources_and_alerts_figures(world, page):
    db, url = world
    page.goto(f"{url}/sources")
    wait_ready(page)
    n_sources = sql(db, "select count(*) from source_health")[0][0]
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Sources").first
    assert metric.inner_text().split("\n")[-1] == str(n_sources)
    assert page.get_by_text("Des sources échouent").is_visible()
    page.goto(f"{url}/alertes")
    wait_ready(page)
    n_open = sql(db, "select count(*) from alerts where closed_at is null")[0][0]
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Alertes ouvertes")
    assert metric.inner_text().split("\n")[-1] == str(n_open)


@pytest.mark.slow
def test_alerts_show_in_the_brand_teams_zone(tmp_path, page):
    """Timestamps are shown in settings.timezone (kept by the build in raw.builds), not UTC:
    an alert opened at 22:00 UTC on 1 June opens on 2 June at midnight in Paris."""
    paris = CONFIG.replace('timezone = "UTC"', 'timezone = "Europe/Paris"')
    assert paris != CONFIG
    db = make_store(tmp_path, config=paris)
    opened = datetime(2026, 6, 1, 22, 0, tzinfo=UTC)
    with store.open_writer(db) as con:  # publishes a new snapshot on exit
        con.execute(
            "insert into raw.alerts (alert_id, rule, brand, opened_at, severity, summary, "
            "delivery_status, created_at, updated_at) values ('a-paris', 'reputation_drift', "
            "'Globex', ?, 'critical', 'Dérive de réputation de Globex', 'stored', ?, ?)",
            [opened, opened, opened],
        )
    assert sql(db, "select timezone from builds") == [("Europe/Paris",)]
    with dashboard(db) as url:
        page.goto(f"{url}/alertes")
        wait_ready(page)
        snap(page, "alertes-paris")
        # The open alerts' grid (a canvas) draws "02/06/2026 00:00" (see the screenshot); its
        # accessibility table holds the same cell's value, in the zone the grid formats it in.
        cells = page.locator('[data-testid="data-grid-canvas"]').first.locator("td")
        cells.first.wait_for(state="attached")
        texts = cells.all_inner_texts()
        assert texts[:2] == ["2026-06-02 00:00:00+02:00", "critique"], texts
        assert not any(t.startswith("2026-06-01 22:00") for t in texts), texts
        # The evidence picker names the alert by its local day.
        picked = page.get_by_role("combobox", name="Alerte").input_value()
        assert picked == "Globex · dérive de réputation · 02/06/2026", picked


@pytest.mark.slow
def test_pages_never_block_writers_and_survive_publishes(world, page):
    db, url = world
    stop = threading.Event()
    n_publish = 0

    def republish():
        nonlocal n_publish
        with store.writer_lock(db):
            while not stop.is_set():
                store.publish(db, locked=True)
                n_publish += 1
                time.sleep(0.05)

    t = threading.Thread(target=republish)
    t.start()
    try:
        for path in ("", "mentions", "voix", "sources"):
            page.goto(f"{url}/{path}")
            wait_ready(page)
    finally:
        stop.set()
        t.join()
    assert n_publish > 5
    # A writer holds the live store while pages load; the pages read the snapshot.
    with store.open_writer(db, publish_after=False) as con:
        for path in ("", "mentions", "sources"):
            page.goto(f"{url}/{path}")
            wait_ready(page)
        con.execute("select 1")
    # And the page holding the snapshot never stops a publish (rename over an open file).
    page.goto(f"{url}/mentions")
    wait_ready(page)
    store.publish(db)


@pytest.mark.slow
def test_open_page_follows_a_new_snapshot_without_reload(tmp_path, page):
    """The sidebar's watch reruns an open page when a snapshot is published (it looks every
    5 s). That it does not loop while the pipeline publishes: the test just above."""
    db = make_store(tmp_path)
    with dashboard(db) as url:
        page.goto(f"{url}/")
        wait_ready(page)
        page.goto(f"{url}/alertes")
        wait_ready(page)
        before = metric(page, "Alertes ouvertes")
        with store.open_writer(db) as con:  # publishes a new snapshot on exit
            con.execute(
                "insert into raw.alerts (alert_id, rule, brand, opened_at, severity, summary, "
                "delivery_status, created_at, updated_at) values ('a-new', 'negative_spike', "
                "'Globex', ?, 'warning', 'Pic de mentions négatives pour Globex', 'stored', "
                "?, ?)",
                [NOW, NOW, NOW],
            )
        deadline = time.monotonic() + 30
        while metric(page, "Alertes ouvertes") != before + 1:
            assert time.monotonic() < deadline, "the page did not follow the new snapshot"
            page.wait_for_timeout(500)


@pytest.mark.slow
def test_empty_store_says_what_to_do(tmp_path, browser):
    """Migrated but never collected nor built: every page names the command to run."""
    db = tmp_path / "listening.duckdb"
    con = duckdb.connect(str(db))
    store.migrate(con)
    con.close()
    store.publish(db)
    expected = {
        "": "lancez `listening build`",
        "mentions": "Aucune mention encore",
        "voix": "lancez `listening build`",
        "conversations": "lancez `listening build`",
        "sujets": "lancez `listening build`",
        "part-de-voix": "lancez `listening build`",
        "alertes": "Aucune alerte",
        "sources": "aucune source configurée",
    }
    ctx = browser.new_context()
    away = watch_requests(ctx)
    page = ctx.new_page()
    try:
        with dashboard(db) as url:
            for path, text in expected.items():
                page.goto(f"{url}/{path}")
                wait_ready(page)
                alert = page.locator('[data-testid="stAlert"]').first
                assert text.replace("`", "").lower() in alert.inner_text().lower(), path
            snap(page, "empty-sources")
    finally:
        ctx.close()
    assert away == [], f"the dashboards asked a third party for: {sorted(set(away))}"


@pytest.mark.slow
def test_listening_dashboard_command_serves_on_loopback(demo_store):
    db, _ = demo_store
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "listening.cli", "dashboard", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "dashboard did not start in 60 s"
                time.sleep(0.5)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
