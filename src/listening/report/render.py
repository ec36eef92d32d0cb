"""The weekly report as one self-contained HTML page, and as PDF through WeasyPrint.

Every piece of text that comes from the web (mentions, authors, titles, source errors) or
from the config is escaped here, once, by ``e()``; charts are inline PNG data URIs, the style
sheet is inline: opening the page makes no request, and the PDF renderer is given a fetcher
that refuses every URL that is not inline data.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from listening.report import charts
from listening.report.data import ReportData, fmt
from listening.report.weeks import french_day

SEVERITY = {"critical": "critique", "warning": "attention", "info": "information"}
RULES = {
    "negative_spike": "pic de négatif",
    "reputation_drift": "dérive de la réputation",
    "regular_turned_detractor": "habitué devenu détracteur",
    "unanswered_negative_thread": "discussion négative sans réponse",
    "task_failure": "échec d'une tâche",
}
STATUS = {
    "promoter": "promoteur",
    "detractor": "détracteur",
    "neutral": "neutre",
    "turned": "a changé d'avis",
}
STATE = {"active": "active", "backoff": "en attente", "disabled": "désactivée"}
TONE = {"positive": "positif", "negative": "négatif", "neutral": "neutre"}
QUOTE_CHARS = 320

CSS = """
@page { size: A4; margin: 16mm 15mm 18mm;
  @bottom-center { content: "listening · page " counter(page) " / " counter(pages);
    font-size: 8pt; color: #777; } }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 9.5pt;
  color: #222; line-height: 1.4; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 19pt; margin: 0 0 2pt; color: #123; }
h2 { font-size: 13pt; margin: 16pt 0 6pt; color: #1f4e79; border-bottom: 1.5pt solid #1f4e79;
  padding-bottom: 2pt; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 10pt 0 4pt; break-after: avoid; }
.sub { color: #555; margin: 0 0 10pt; }
.kpis { display: flex; gap: 8pt; margin: 6pt 0 8pt; }
.kpi { flex: 1; border: 1pt solid #d6dde5; border-radius: 4pt; padding: 6pt 8pt; }
.kpi b { display: block; font-size: 16pt; color: #1f4e79; }
.kpi span { color: #555; font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 6pt; font-size: 8.5pt; }
th { text-align: left; background: #eef2f6; padding: 3pt 5pt; }
td { border-top: 0.5pt solid #d6dde5; padding: 3pt 5pt; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
img.chart { width: 100%; margin: 4pt 0; }
.reading { background: #fff4e0; border-left: 3pt solid #ff7f0e; padding: 6pt 8pt;
  font-weight: bold; }
blockquote { margin: 4pt 0 6pt; padding: 4pt 8pt; border-left: 2.5pt solid #9ecae1;
  background: #f6f9fc; break-inside: avoid; }
blockquote.negative { border-left-color: #d62728; }
blockquote.positive { border-left-color: #2ca02c; }
blockquote cite { display: block; color: #555; font-style: normal; font-size: 8pt; }
.empty { color: #666; font-style: italic; }
.critical { color: #b00; font-weight: bold; }
.warning { color: #c60; font-weight: bold; }
ul.evidence { margin: 2pt 0 0 12pt; padding: 0; color: #444; font-size: 8pt; }
a { color: #1f4e79; text-decoration: none; }
.foot { color: #777; font-size: 8pt; margin-top: 14pt; }
"""


def e(value) -> str:
    """Escape anything for HTML text and attribute values."""
    return escape("" if value is None else str(value), quote=True)


def link(url, label) -> str:
    """A link only for http(s) URLs: a hostile ``javascript:`` URL stays plain text."""
    text = e(label)
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return f'<a href="{e(url)}">{text}</a>'
    return text


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="chart" alt="{e(alt)}" src="data:image/png;base64,{data}">'


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """A table of already-escaped cells."""
    head = "".join(
        f'<th class="n">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _empty(text: str) -> str:
    return f'<p class="empty">{e(text)}</p>'


def _local(ts: datetime | None, tz: str) -> str:
    if ts is None:
        return "—"
    return ts.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


def _short(text: str | None, limit: int = QUOTE_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_html(data: ReportData) -> str:
    parts = [
        _header(data),
        _reputation(data),
        _hype(data),
        _campaigns(data),
        _aspects(data),
        _voices(data),
        _threads(data),
        _alerts(data),
        _sources(data),
        f'<p class="foot">Rapport produit par listening le '
        f"{_local(data.generated_at, data.timezone)} à partir de l'instantané publié du store "
        f"(heure locale : {e(data.timezone)}).</p>",
    ]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        # No request may leave the page: only inline images and styles.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">\n"
        f"<title>Rapport {e(data.brand)} · {e(data.week)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _header(data: ReportData) -> str:
    return (
        f"<h1>Rapport hebdomadaire : {e(data.brand)}</h1>"
        f'<p class="sub">{e(data.week.label().capitalize())} ({e(data.week)})</p>'
    )


def _reputation(data: ReportData) -> str:
    out = ["<h2>Réputation de la semaine</h2>"]
    cur, prev = data.current, data.previous
    if cur is None:
        out.append(_empty("Aucune mention de la marque cette semaine ni avant : rien à mesurer."))
        return "".join(out)
    change = None if prev is None else cur["reputation_index"] - prev["reputation_index"]
    out.append(
        '<div class="kpis">'
        f'<div class="kpi"><b>{fmt(cur["reputation_index"])}</b><span>indice de réputation '
        f"(−100 à +100) au {e(french_day(data.week.sunday))}</span></div>"
        f'<div class="kpi"><b>{fmt(cur["reputation_lower"])} à {fmt(cur["reputation_upper"])}'
        "</b><span>fourchette à 95 %</span></div>"
        f'<div class="kpi"><b>{fmt(change, sign=True)}</b><span>points depuis la semaine '
        "précédente</span></div>"
        f'<div class="kpi"><b>{int(cur["n_mentions"])}</b><span>mentions dans la semaine'
        "</span></div></div>"
    )
    out.append("<h3>La semaine et les quatre précédentes</h3>")
    rows = [
        [
            e(f"S{w['week'].isocalendar()[1]} (du {w['week']:%d/%m})") + (" ◀" if w is cur else ""),
            fmt(w["reputation_index"]),
            f"{fmt(w['reputation_lower'])} à {fmt(w['reputation_upper'])}",
            str(int(w["n_mentions"])),
            "—" if w["peak_buzz"] is None else f"× {fmt(w['peak_buzz'])}",
        ]
        for w in data.weeks
    ]
    out.append(
        _table(
            ["Semaine", "Indice", "Fourchette à 95 %", "Mentions", "Pic de buzz"],
            rows,
            numeric={1, 3, 4},
        )
    )
    out.append("<h3>Face aux concurrents</h3>")
    if not data.competitors:
        out.append(_empty("Aucun concurrent suivi (clé competitors de la marque) ou sans données."))
    else:
        chart = charts.competitors(data)
        if chart is not None:
            out.append(_img(charts.to_png(chart), "Indice de la marque et de ses concurrents"))
        rows = [
            [
                e(r["brand"]),
                fmt(r["reputation_index"]),
                f"{fmt(r['reputation_lower'])} à {fmt(r['reputation_upper'])}",
                str(int(r["n_mentions"])),
            ]
            for r in [cur, *data.competitors]
        ]
        out.append(_table(["Marque", "Indice", "Fourchette à 95 %", "Mentions"], rows, {1, 3}))
    return "".join(out)


def _hype(data: ReportData) -> str:
    out = ["<h2>Buzz ou réputation : hype ou réalité ?</h2>"]
    out.append(f'<p class="reading">{e(data.reading)}</p>')
    chart = charts.buzz_and_reputation(data)
    if chart is not None:
        out.append(_img(charts.to_png(chart), "Réputation et buzz sur cinq semaines"))
        out.append(
            "<p class=\"sub\">En haut, la réalité : l'indice bouge lentement, il retient l'avis "
            "des gens sur la durée. En bas, la hype : le volume quotidien de mentions. La "
            "semaine du rapport est sur fond orangé.</p>"
        )
    return "".join(out)


def _campaigns(data: ReportData) -> str:
    out = ["<h2>Campagnes en cours</h2>"]
    if not data.campaigns:
        out.append(_empty("Aucune campagne à l'antenne cette semaine (listening campaigns add)."))
        return "".join(out)
    for c in data.campaigns:
        change = c["reputation_end"] - c["reputation_start"]
        verdict = (
            "hors de sa fourchette de départ : un effet réel"
            if c["has_moved"]
            else "dans sa fourchette de départ : de la hype, pas de changement de fond"
        )
        unfinished = "" if c["is_complete"] else " (mesure encore partielle)"
        out.append(
            f"<p><b>« {e(c['name'])} »</b> ({e(c['channel'])}, du "
            f"{c['start_date']:%d/%m/%Y} au {c['end_date']:%d/%m/%Y}) : buzz "
            f"× {fmt(c['buzz_lift'])} pendant la campagne ; jusqu'au "
            f"{c['measured_until']:%d/%m/%Y}, la réputation a bougé de "
            f"{fmt(change, sign=True)} points, {verdict}{unfinished}.</p>"
        )
    return "".join(out)


def _aspects(data: ReportData) -> str:
    out = ["<h2>Sujets qui ont bougé</h2>"]
    if not data.aspects:
        out.append(_empty("Aucun sujet n'a nettement changé de ton cette semaine."))
        return "".join(out)
    for a in data.aspects:
        if a["change"] is None:
            how = "nouveau cette semaine"
        else:
            how = f"ton {fmt(a['change'], sign=True)} points sur −100 à +100"
        out.append(
            f"<h3>{e(a['aspect'].capitalize())} : {e(how)} · {int(a['n_week'])} mentions "
            f"(contre {fmt(a['n_before_weekly'])} par semaine avant)</h3>"
        )
        out += [_quote(q, q["day"]) for q in a["quotes"]]
    return "".join(out)


def _quote(q: dict, day) -> str:
    """A quoted mention: its words, who, where (linked), when, and its tone."""
    label = q["sentiment_label"] or "neutral"
    return (
        f'<blockquote class="{e(label)}">« {e(_short(q["text"]))} »'
        f"<cite>{e(q['author'] or 'anonyme')}, {link(q['url'], q['source'])}, "
        f"{day:%d/%m/%Y} · ton {e(TONE.get(label, label))}</cite></blockquote>"
    )


def _voices(data: ReportData) -> str:
    out = ["<h2>Voix : promoteurs et détracteurs</h2>"]
    for title, rows in (("Promoteurs", data.promoters), ("Détracteurs", data.detractors)):
        out.append(f"<h3>{title} de la semaine</h3>")
        if not rows:
            out.append(_empty("Personne cette semaine."))
            continue
        cells = [
            [
                e(r["author"]),
                e(r["site"]),
                str(int(r["n_mentions"])),
                fmt(r["week_score"], 2, sign=True),
                e(STATUS.get(r["status"], r["status"])),
            ]
            for r in rows
        ]
        out.append(
            _table(
                ["Personne", "Site", "Mentions", "Avis moyen (−1 à +1)", "Sur la durée"],
                cells,
                numeric={2, 3},
            )
        )
    return "".join(out)


def _threads(data: ReportData) -> str:
    out = ["<h2>Discussions négatives sans réponse</h2>"]
    if not data.threads:
        out.append(_empty("Aucune : chaque discussion négative a reçu une réponse de la marque."))
        return "".join(out)
    rows = [
        [
            link(t["thread_url"], t["title"] or t["thread_url"]),
            e(t["source"]),
            str(int(t["n_comments"])),
            e(_local(t["last_activity_at"], data.timezone)),
        ]
        for t in data.threads
    ]
    out.append(_table(["Discussion", "Source", "Commentaires", "Dernière activité"], rows, {2}))
    return "".join(out)


def _alerts(data: ReportData) -> str:
    out = ["<h2>Alertes de la semaine</h2>"]
    if not data.alerts:
        out.append(_empty("Aucune alerte cette semaine."))
        return "".join(out)
    tz = ZoneInfo(data.timezone)
    for a in data.alerts:
        severity = a["severity"]
        state = (
            "en cours"
            if a["closed_at"] is None
            else f"close le {_local(a['closed_at'], data.timezone)}"
        )
        quotes = "".join(_quote(q, q["published_at"].astimezone(tz).date()) for q in a["quotes"])
        others = a["n_evidence"] - len(a["quotes"])
        more = f'<p class="sub">… et {others} autre(s) mention(s) à l\'appui.</p>' if others else ""
        out.append(
            f'<p><span class="{e(severity)}">{e(SEVERITY.get(severity, severity))}</span> · '
            f"<b>{e(RULES.get(a['rule'], a['rule']))}</b> · ouverte le "
            f"{_local(a['opened_at'], data.timezone)}, {e(state)}<br>{e(a['summary'])}</p>"
            f"{quotes}{more}"
        )
    return "".join(out)


def _sources(data: ReportData) -> str:
    out = ["<h2>Santé des sources</h2>"]
    if not data.sources:
        out.append(_empty("Aucune source configurée."))
        return "".join(out)
    ok = [s for s in data.sources if s["state"] == "active" and not s["consecutive_failures"]]
    out.append(
        f"<p>{len(ok)} source(s) sur {len(data.sources)} collectées sans erreur. "
        "Celles qui demandent une action :</p>"
    )
    bad = [s for s in data.sources if s not in ok]
    if not bad:
        out.append(_empty("Aucune : toutes les sources répondent."))
        return "".join(out)
    rows = [
        [
            e(s["name"]),
            e(STATE.get(s["state"], s["state"])),
            str(int(s["consecutive_failures"] or 0)),
            e(_short(s["last_error"] or s["disabled_reason"] or "", 160)),
        ]
        for s in bad
    ]
    out.append(_table(["Source", "État", "Échecs de suite", "Dernière erreur"], rows, {2}))
    return "".join(out)


def render_pdf(html: str) -> bytes:
    import weasyprint
    from weasyprint.urls import URLFetcher

    # Inline data only: never the network, never a local file named by a hostile page.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
