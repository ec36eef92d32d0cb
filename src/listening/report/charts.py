"""The report's charts: Altair specs rendered to PNG by vl-convert (no browser, no network)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from listening.report.data import BUZZ_PEAK, ReportData

WIDTH = 640
SCALE = 2  # pixels per CSS pixel: sharp in print


def to_png(chart: alt.TopLevelMixin) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_png(
        chart.to_dict(),
        scale=SCALE,
        format_locale="fr-FR",
        time_format_locale="fr-FR",
        allowed_base_urls=[],  # the data is inline: never fetch anything
    )


def buzz_and_reputation(data: ReportData) -> alt.VConcatChart | None:
    """Réalité (index and 95 % bounds) above Hype (daily mentions, buzz peaks in orange),
    over the five weeks, the reported one shaded."""
    if not data.days:
        return None
    days = pd.DataFrame(data.days)
    days["day"] = pd.to_datetime(days["day"])
    days["is_peak"] = days["buzz_ratio"].fillna(0) >= BUZZ_PEAK
    week = pd.DataFrame(
        {
            "start": [pd.Timestamp(data.week.monday)],
            "end": [pd.Timestamp(data.week.sunday) + pd.Timedelta(days=1)],
        }
    )
    x = alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", tickCount="week"))
    shade = alt.Chart(week).mark_rect(color="#fde9c9", opacity=0.6).encode(x="start:T", x2="end:T")
    band = (
        alt.Chart(days)
        .mark_area(opacity=0.25, color="#1f77b4")
        .encode(x=x, y="reputation_lower:Q", y2="reputation_upper:Q")
    )
    line = (
        alt.Chart(days)
        .mark_line(color="#1f77b4", strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y(
                "reputation_index:Q", title="Indice de réputation", scale=alt.Scale(zero=False)
            ),
        )
    )
    top = alt.layer(shade, band, line).properties(
        width=WIDTH, height=190, title="Réalité : indice de réputation et fourchette à 95 %"
    )
    bars = (
        alt.Chart(days)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("n_mentions:Q", title="Mentions par jour"),
            color=alt.Color(
                "is_peak:N",
                scale=alt.Scale(domain=[False, True], range=["#9ecae1", "#ff7f0e"]),
                legend=alt.Legend(
                    title=None, orient="top", labelExpr="datum.value ? 'jour de buzz' : 'jour'"
                ),
            ),
        )
    )
    bottom = alt.layer(shade, bars).properties(
        width=WIDTH, height=120, title="Hype : mentions par jour (orange : buzz × 2 ou plus)"
    )
    return alt.vconcat(top, bottom).resolve_scale(x="shared").configure_view(stroke=None)


def competitors(data: ReportData) -> alt.LayerChart | None:
    """The week's index of the brand and its competitors, with their bounds."""
    cur = data.current
    rows = ([cur] if cur else []) + data.competitors
    if len(rows) < 2:
        return None
    frame = pd.DataFrame(
        [
            {
                "brand": r["brand"],
                "index": r["reputation_index"],
                "lower": r["reputation_lower"],
                "upper": r["reputation_upper"],
                "is_reported": r["brand"] == data.brand,
            }
            for r in rows
        ]
    )
    y = alt.Y("brand:N", title=None, sort=None)
    color = alt.Color(
        "is_reported:N",
        scale=alt.Scale(domain=[True, False], range=["#1f77b4", "#8c8c8c"]),
        legend=None,
    )
    rule = (
        alt.Chart(frame)
        .mark_rule(strokeWidth=2)
        .encode(
            y=y,
            x=alt.X("lower:Q", title="Indice de réputation (fourchette à 95 %)"),
            x2="upper:Q",
            color=color,
        )
    )
    point = alt.Chart(frame).mark_point(filled=True, size=90).encode(y=y, x="index:Q", color=color)
    return alt.layer(rule, point).properties(width=WIDTH - 120, height=28 * len(rows) + 10)
