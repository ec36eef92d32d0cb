"""Weekly French reports of a brand: `listening report`, the `listening_report` DAG.

The report reads the published snapshot only (readers never open the live store); the files
go to ``reports/<brand>/<week>.pdf`` beside the store.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from listening.config import Config
from listening.errors import ListeningError
from listening.report.weeks import Week
from listening.store import reports_dir

FORMATS = ("pdf", "html")


@dataclass(frozen=True)
class Report:
    brand: str
    week: Week
    path: Path
    n_bytes: int
    reading: str = ""  # the « hype ou réalité » sentence, for the e-mail's body


def brand_slug(brand: str) -> str:
    """A brand name as a folder name: accents folded, anything else than letters, digits
    and dashes replaced (a name may hold a slash)."""
    folded = unicodedata.normalize("NFKD", brand).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-").lower()
    return slug or "marque"


def report_path(db: Path, brand: str, week: Week, fmt: str = "pdf") -> Path:
    """``reports/<brand>/<week>.<fmt>`` beside the store."""
    return reports_dir(db) / brand_slug(brand) / f"{week}.{fmt}"


def latest_report(db: Path, brand: str) -> Path | None:
    """The newest PDF of ``reports/<brand>/`` (ISO week names sort in time order)."""
    reports = sorted((reports_dir(db) / brand_slug(brand)).glob("*-W[0-9][0-9].pdf"))
    return reports[-1] if reports else None


def reputation_built_through(db: Path):
    """The last day of ``reputation_daily`` in the published snapshot (None: not built yet)."""
    import duckdb

    from listening.store import open_reader

    con = open_reader(db)
    try:
        return con.execute("select max(day) from reputation_daily").fetchone()[0]
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def brands_to_report(config: Config, brand: str | None) -> list[str]:
    """``None`` or ``all``: every brand of the config; else the one named (checked)."""
    names = [b.name for b in config.brands]
    if brand in (None, "all"):
        return names
    if brand not in names:
        raise ListeningError(
            f"--brand {brand!r} is not a brand of {config.path} "
            f"(brands: {', '.join(names) or 'none'}; or --brand all)"
        )
    return [brand]


def write_report(
    config: Config,
    db: Path,
    brand: str,
    week: Week,
    *,
    fmt: str = "pdf",
    out: Path | None = None,
    now: datetime | None = None,
) -> Report:
    """Render one report from the published snapshot and write it whole (temp file, rename)."""
    from listening.report import data as report_data
    from listening.report.render import render_html, render_pdf
    from listening.store import open_reader

    if fmt not in FORMATS:
        raise ListeningError(f"--format {fmt!r}: expected pdf or html")
    con = open_reader(db)
    try:
        facts = report_data.collect(con, config, brand, week, now or datetime.now(UTC))
    finally:
        con.close()
    html = render_html(facts)
    payload = render_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    path = out or report_path(db, brand, week, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return Report(brand, week, path, len(payload), facts.reading)
