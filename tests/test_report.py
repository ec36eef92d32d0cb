"""Weekly French reports (issue 15): weeks in local days, what the report says on the demo
world, escaping of web text, a page that makes no request, the CLI, the dashboard's button."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from listening.configfile import load_config
from listening.errors import ListeningError
from listening.report import brand_slug, latest_report, write_report
from listening.report.data import ReportData
from listening.report.render import render_html, render_pdf
from listening.report.weeks import (
    Week,
    french_date,
    last_complete_week,
    last_week_through,
    parse_week,
)

HOSTILE = "<script>window.pwned=1;alert(1)</script><img src=x onerror=alert(2)>"
CAMPAIGN_WEEK = "2026-W10"  # the demo's TV campaign for Ambrelle starts Monday 2 March 2026


def pdf_text(payload: bytes) -> tuple[str, int, int]:
    """(text of every page, number of pages, number of images)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(payload))
    text = "\n".join(page.extract_text() for page in reader.pages)
    images = sum(len(page.images) for page in reader.pages)
    return text, len(reader.pages), images


def parsed_tags(html: str) -> list[tuple[str, dict]]:
    from html.parser import HTMLParser

    tags = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Collect().feed(html)
    return tags


# -- weeks ----------------------------------------------------------------------------------


def test_iso_weeks_parse_and_read_in_french():
    week = parse_week("2026-W44")
    assert (week.monday, week.sunday) == (date(2026, 10, 26), date(2026, 11, 1))
    assert str(week) == "2026-W44" and str(week.shifted(-4)) == "2026-W40"
    assert week.label() == "semaine 44, du 26 octobre au 1er novembre 2026"
    assert french_date(date(2026, 3, 2), date(2026, 3, 8)) == "2 au 8 mars 2026"
    assert str(parse_week("2026w9")) == "2026-W09"
    for bad in ("2026-W54", "44", "2026-10-26", "W44"):
        with pytest.raises(ListeningError, match="2026-W44"):
            parse_week(bad)


def test_last_complete_week_is_counted_in_local_days():
    # Sunday 1 November, 23:30 in Paris: that week is not over yet.
    assert str(last_complete_week(datetime(2026, 11, 1, 22, 30, tzinfo=UTC), "Europe/Paris")) == (
        "2026-W43"
    )
    # Monday 2 November, 00:30 in Paris (still Sunday in UTC): it is.
    assert str(last_complete_week(datetime(2026, 11, 1, 23, 30, tzinfo=UTC), "Europe/Paris")) == (
        "2026-W44"
    )
    assert str(last_complete_week(datetime(2026, 11, 1, 23, 30, tzinfo=UTC), "UTC")) == "2026-W43"
    assert str(last_week_through(date(2026, 10, 31))) == "2026-W43"  # a Saturday
    assert str(last_week_through(date(2026, 11, 1))) == "2026-W44"  # a Sunday


def test_brand_folder_names_are_safe():
    assert brand_slug("Orvéa") == "orvea"
    assert brand_slug("Fournil Dupré") == "fournil-dupre"
    assert brand_slug("../../etc/passwd") == "etc-passwd"
    assert brand_slug("///") == "marque"


# -- escaping and a page that requests nothing ------------------------------------------------


def hostile_report() -> ReportData:
    """Every field that comes from the web or the config set to markup."""
    week = Week(2026, 44)
    monday, sunday = week.monday, week.sunday
    row = {
        "brand": HOSTILE,
        "week": monday,
        "reputation_index": 10.0,
        "reputation_lower": 2.0,
        "reputation_upper": 18.0,
        "n_mentions": 12,
        "n_negative": 3,
        "peak_buzz": 3.0,
        "peak_day": sunday,
    }
    quote = {
        "mention_id": "m1",
        "day": monday,
        "published_at": datetime(2026, 10, 26, 9, tzinfo=UTC),
        "author": HOSTILE,
        "source": HOSTILE,
        "url": "javascript:alert(3)",
        "title": HOSTILE,
        "text": HOSTILE,
        "sentiment": -0.6,
        "sentiment_label": "negative",
    }
    data = ReportData(HOSTILE, week, "Europe/Paris", datetime(2026, 11, 2, 6, tzinfo=UTC))
    data.weeks = [{**row, "week": week.shifted(-1).monday}, row]
    data.competitors = [{**row, "brand": HOSTILE + "2"}]
    data.days = [
        {
            "day": monday,
            "n_mentions": 5,
            "n_negative": 1,
            "buzz_ratio": 3.0,
            "reputation_index": 10.0,
            "reputation_lower": 2.0,
            "reputation_upper": 18.0,
        }
    ]
    data.reading = HOSTILE
    data.campaigns = [
        {
            "name": HOSTILE,
            "channel": HOSTILE,
            "start_date": monday,
            "end_date": sunday,
            "buzz_lift": 2.0,
            "reputation_start": 1.0,
            "reputation_end": 2.0,
            "measured_until": sunday,
            "is_complete": False,
            "has_moved": False,
        }
    ]
    data.aspects = [
        {
            "aspect": HOSTILE,
            "n_week": 4,
            "tone_week": -0.2,
            "n_before_weekly": 1.0,
            "tone_before": 0.1,
            "change": -30.0,
            "quotes": [quote],
        }
    ]
    voice = {"author": HOSTILE, "site": HOSTILE, "status": HOSTILE, "n_mentions": 2}
    data.promoters = [{**voice, "week_score": 1.0}]
    data.detractors = [{**voice, "week_score": -1.0}]
    data.threads = [
        {
            "thread_url": "javascript:alert(4)",
            "title": HOSTILE,
            "source": HOSTILE,
            "n_comments": 3,
            "last_activity_at": datetime(2026, 10, 27, tzinfo=UTC),
        }
    ]
    data.alerts = [
        {
            "rule": HOSTILE,
            "severity": HOSTILE,
            "opened_at": datetime(2026, 10, 27, tzinfo=UTC),
            "closed_at": None,
            "summary": HOSTILE,
            "n_evidence": 4,
            "quotes": [quote],
        }
    ]
    data.sources = [
        {
            "name": HOSTILE,
            "state": HOSTILE,
            "consecutive_failures": 2,
            "last_error": HOSTILE,
            "disabled_reason": None,
        }
    ]
    return data


def test_web_text_is_escaped_in_html_and_shown_as_text_in_pdf():
    html = render_html(hostile_report())
    tags = parsed_tags(html)
    assert "script" not in {t for t, _ in tags}
    for tag, attrs in tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,"), attrs
        if tag == "a":
            assert attrs["href"].startswith(("https://", "http://")), attrs
    # Each hostile field is there, as text (the report hides nothing).
    assert html.count("&lt;script&gt;window.pwned=1;") >= 15
    text, _, _ = pdf_text(render_pdf(html))
    assert "<script>window.pwned=1;alert(1)</script>" in text.replace("\n", "")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.test_dashboards import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "no /usr/bin/chromium: run `make browser`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_offline(browser, path: Path) -> tuple[list[str], list[str], object]:
    """Open a file in Chromium; return the URLs it requested, the dialogs, and the page."""
    ctx = browser.new_context()
    page = ctx.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("networkidle")
    return requests, dialogs, page


def test_hostile_html_report_runs_nothing_in_a_browser(browser, tmp_path):
    path = tmp_path / "hostile.html"
    path.write_text(render_html(hostile_report()), "utf-8")
    requests, dialogs, page = open_offline(browser, path)
    assert dialogs == []
    assert page.evaluate("window.pwned") is None
    assert page.get_by_text("<script>window.pwned=1;").first.is_visible()
    assert [u for u in requests if not u.startswith(("data:", path.as_uri()))] == []


# -- the demo world's reports -----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_store):
    db, lines = demo_store
    return db, load_config(db.parent / "listening.toml"), lines


def test_make_demo_writes_last_weeks_report_of_each_brand(demo):
    db, config, lines = demo
    printed = [line for line in lines if line.startswith("rapport 2026-W43 : ")]
    assert len(printed) == len(config.brands) == 6
    for brand in config.brands:
        path = db.parent / "reports" / brand_slug(brand.name) / "2026-W43.pdf"
        assert f"rapport 2026-W43 : {path}" in printed
        assert path.read_bytes().startswith(b"%PDF-")
        assert latest_report(db, brand.name) == path


def test_campaign_week_report_reads_hype_in_french(demo, tmp_path):
    db, config, _ = demo
    out = tmp_path / "ambrelle.pdf"
    report = write_report(config, db, "Ambrelle", parse_week(CAMPAIGN_WEEK), out=out)
    text, pages, images = pdf_text(out.read_bytes())
    flat = " ".join(text.split())
    assert 2 <= pages <= 8, pages
    assert images >= 2  # the buzz/reputation chart and the competitors chart
    for title in (
        "Rapport hebdomadaire : Ambrelle",
        "Semaine 10, du 2 au 8 mars 2026",
        "Réputation de la semaine",
        "Face aux concurrents",
        "Buzz ou réputation : hype ou réalité ?",
        "Campagnes en cours",
        "Sujets qui ont bougé",
        "Voix : promoteurs et détracteurs",
        "Discussions négatives sans réponse",
        "Alertes de la semaine",
        "Santé des sources",
    ):
        assert title in flat, title
    # The TV campaign made buzz but not reputation: the report says so, twice.
    assert report.reading.startswith("Hype : pic de buzz")
    assert "Printemps en lin" in flat and "de la hype, pas de changement de fond" in flat
    assert "Tissandre" in flat  # Ambrelle's competitor
    assert flat.count("« ") >= 4  # aspects that moved, quoted


def test_cli_html_report_while_a_writer_holds_the_store(demo, tmp_path):
    """The report reads the snapshot: a writer holding the live store does not stop it."""
    db, config, _ = demo
    out = tmp_path / "rapport.html"
    writer = duckdb.connect(str(db))  # another process can no longer open the live store
    try:
        proc = subprocess.run(
            [
                str(Path(sys.executable).with_name("listening")),
                "report",
                "--config",
                str(config.path),
                "--brand",
                "Ambrelle",
                "--week",
                CAMPAIGN_WEEK,
                "--format",
                "html",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        writer.close()
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    html = out.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="fr"' in html
    assert html.count('src="data:image/png;base64,') == 2
    assert "Hype : pic de buzz" in html


def test_demo_html_report_requests_nothing(demo, browser, tmp_path):
    db, config, _ = demo
    out = tmp_path / "orvea.html"
    write_report(config, db, "Orvéa", parse_week("2026-W43"), fmt="html", out=out)
    requests, dialogs, page = open_offline(browser, out)
    assert [u for u in requests if not u.startswith(("data:", out.as_uri()))] == []
    assert dialogs == []
    assert page.locator("img.chart").count() == 2
    widths = page.eval_on_selector_all("img.chart", "imgs => imgs.map(i => i.naturalWidth)")
    assert all(w > 0 for w in widths), widths  # the inline charts decode


def test_cli_names_the_bad_brand_and_week(demo, capsys):
    from listening.cli import main

    _, config, _ = demo
    assert main(["report", "--config", str(config.path), "--brand", "Nope"]) == 1
    err = capsys.readouterr().err
    assert "'Nope' is not a brand" in err and "Ambrelle" in err
    assert main(["report", "--config", str(config.path), "--week", "2026-W99"]) == 1
    assert "expected an ISO week such as 2026-W44" in capsys.readouterr().err


def test_reputation_page_offers_the_weeks_report(demo, browser):
    from tests.test_dashboards import dashboard, sql, wait_ready

    db, _, _ = demo
    with dashboard(db) as url:
        ctx = browser.new_context(accept_downloads=True)
        page = ctx.new_page()
        page.goto(f"{url}/")
        wait_ready(page)
        button = page.get_by_role("button", name="Télécharger le rapport de la semaine")
        with page.expect_download() as info:
            button.click()
        download = info.value
        # The page opens on the most mentioned brand; its newest report is the demo's last week.
        first = sql(
            db,
            "select brand from reputation_daily group by brand "
            "order by sum(n_mentions) desc, brand limit 1",
        )[0][0]
        expected = latest_report(db, first)
        assert download.suggested_filename == f"rapport-{brand_slug(first)}-2026-W43.pdf"
        assert Path(download.path()).read_bytes() == expected.read_bytes()
        ctx.close()


def test_report_recipients_must_be_addresses(tmp_path):
    from listening.configfile import parse_config
    from listening.errors import ConfigError

    text = (
        '[[brands]]\nname = "Acme"\nquery = \'"Acme"\'\n'
        'report_recipients = ["equipe@acme.fr", "pas une adresse"]\n'
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text, tmp_path / "listening.toml")
    assert "line 4: brands[0] (Acme).report_recipients: 'pas une adresse' is not an e-mail" in str(
        err.value
    )
    ok = parse_config(text.replace(', "pas une adresse"', ""), tmp_path / "listening.toml")
    assert ok.brand("Acme").report_recipients == ("equipe@acme.fr",)


def test_alert_evidence_quoted_is_from_the_reported_week_or_before(demo):
    from listening.report.data import collect, local_bounds
    from listening.store import open_reader

    db, config, _ = demo
    week = parse_week("2026-W43")
    con = open_reader(db)
    try:
        data = collect(con, config, "Fournil Dupré", week, datetime(2026, 11, 2, tzinfo=UTC))
    finally:
        con.close()
    _, end = local_bounds(week, config.settings.timezone)
    quotes = [q for a in data.alerts for q in a["quotes"]]
    assert quotes, "the demo's Fournil Dupré alerts carry evidence"
    assert all(q["published_at"] < end for q in quotes)
    # Alerts open at some time of the week only.
    assert all(a["opened_at"] < end for a in data.alerts)
