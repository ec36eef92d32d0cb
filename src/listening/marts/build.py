"""Build: run ``sql/staging`` then ``sql/marts`` (one relation per file), in name order.

Settings reach the SQL as DuckDB variables (``getvariable('half_life_days')``), so each file
is plain SQL an analyst can read and run by hand after a ``set variable``. The parts of the
config the marts need (brands, competitive sets, official authors) arrive as temp tables.
Alerts are evaluated after the marts, in the same transaction; webhook delivery happens after
the commit, so a slow or failing receiver never holds back the build.

Incremental builds (``listening.marts.incremental``): a file whose header says
``-- incremental key: <column>`` rebuilds only the rows of the keys that changed since the last
build, unless a full rebuild is needed; both give the same rows.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from listening import store
from listening.config import Config
from listening.days import local_date
from listening.errors import ListeningError
from listening.marts import incremental
from listening.store import sql_dir

# 2^(2 t / h) must stay far below the double maximum (2^1023): see reputation_daily.sql.
MAX_EXPONENT = 900

# DuckDB's buffer pool may grow to 80 % of the host's memory; the build shares its host with
# the collectors, the dashboards and Airflow, so it spills to disk (the store's .tmp folder)
# past this instead (3M documents: 6.7 GB resident without it).
BUILD_MEMORY_LIMIT = "1536MB"


@dataclass
class BuildStats:
    relations: list[str] = field(default_factory=list)
    n_alerts: int = 0
    n_new_alerts: int = 0
    n_sent: int = 0
    n_failed: int = 0
    n_expired: int = 0  # documents deleted by settings.retention_days
    is_full: bool = True
    full_reason: str | None = None  # why this build was a full one
    n_documents: int = 0  # documents whose staging rows were rebuilt
    n_mentions: int = 0  # mentions whose staging rows were rebuilt
    # an incremental build that compared every document's fingerprint, because the change
    # numbers could not tell what changed (incremental.fill_numbered_changes)
    documents_compared: bool = False
    # a full build over the last build's SQL and settings: per relation rebuilt by its keys,
    # the keys whose stored rows differed from the query's and were rewritten
    # (incremental.rebuild_changed); those replaced whole (new, their columns changed, or a
    # row stored twice) are in ``replaced``
    keys_rewritten: dict[str, int] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)
    # seconds each step took, in order: "setup", each relation by name ("folds" before
    # mention_search), "alerts" (evaluate and store), "commit", "delivery" (webhook); then
    # "checkpoint and publish" when pipeline.build_stage ran it
    step_seconds: dict[str, float] = field(default_factory=dict)


def sql_files() -> list[Path]:
    """Staging files, then mart files; each layer in name order, except that a file naming
    another relation of its layer (``from reputation_daily``) runs after it."""
    root = sql_dir()
    return [*_ordered(root / "staging"), *_ordered(root / "marts")]


def _ordered(folder: Path) -> list[Path]:
    paths = sorted(folder.glob("*.sql"))
    texts = {p.stem: p.read_text("utf-8") for p in paths}
    needs = {
        name: {
            other
            for other in texts
            if other != name and re.search(rf"\b{re.escape(other)}\b", _strip_comments(text))
        }
        for name, text in texts.items()
    }
    out: list[Path] = []
    done: set[str] = set()
    while len(out) < len(paths):
        ready = [p for p in paths if p.stem not in done and needs[p.stem] <= done]
        if not ready:
            cycle = sorted(set(texts) - done)
            raise ListeningError(f"{folder}: these files depend on each other in a cycle: {cycle}")
        out.append(ready[0])
        done.add(ready[0].stem)
    return out


def _strip_comments(sql: str) -> str:
    """The SQL without ``--`` comments and without the trailing ``comment on`` statements."""
    body = re.split(r"(?im)^comment on ", sql, maxsplit=1)[0]
    return re.sub(r"--[^\n]*", "", body)


def sql_variables(config: Config, as_of: date) -> dict[str, object]:
    """The DuckDB variables every staging and mart file may read with ``getvariable``."""
    s = config.settings
    return {
        "half_life_days": float(s.reputation_half_life_days),
        "as_of": as_of,
        "timezone": s.timezone,
        "prior_weight": float(s.reputation_prior_weight),
        "campaign_window_days": int(s.campaign_window_days),
        "unanswered_hours": int(s.unanswered_hours),
    }


def load_config_tables(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Tables ``brands``, ``competitors`` (each brand's set, itself included) and
    ``official_authors`` (the brands' own accounts, name normalised as in stg_documents),
    copied from the config at each build so SQL users and dashboards see them too."""
    con.execute("create or replace table brands (brand varchar primary key)")
    con.execute(
        "create or replace table competitors (brand varchar, competitor varchar, "
        "primary key (brand, competitor))"
    )
    con.execute(
        "create or replace table official_authors (brand varchar, author varchar, "
        "author_key varchar)"
    )
    brands = [b.name for b in config.brands]
    if brands:
        con.executemany("insert into brands values (?)", [(b,) for b in brands])
    pairs = {(b.name, b.name) for b in config.brands}
    pairs |= {(b.name, c) for b in config.brands for c in b.competitors}
    if pairs:
        con.executemany("insert into competitors values (?, ?)", sorted(pairs))
    official = [(b.name, a) for b in config.brands for a in b.official_authors]
    if official:
        con.executemany(
            "insert into official_authors select ?, ?, author_key(?)",
            [(b, a, a) for b, a in official],
        )
    for statement in _CONFIG_TABLE_COMMENTS:
        con.execute(statement)


_CONFIG_TABLE_COMMENTS = [
    "comment on table brands is 'The brands of the config (rebuilt by each build).'",
    "comment on column brands.brand is 'Brand name from the config.'",
    "comment on table competitors is "
    "'Each brand''s competitive set from the config, the brand itself included.'",
    "comment on column competitors.brand is 'The focal brand.'",
    "comment on column competitors.competitor is 'A brand of its set (itself included).'",
    "comment on table official_authors is "
    "'The brands'' own accounts (config official_authors): their comments are answers.'",
    "comment on column official_authors.brand is 'Brand name.'",
    "comment on column official_authors.author is 'Account name as written in the config.'",
    "comment on column official_authors.author_key is "
    "'Lower-cased, space-folded name, as documents'' authors are matched.'",
]


def check_range(con: duckdb.DuckDBPyConnection, config: Config, as_of: date) -> None:
    first = con.execute("select min(published_at)::date from raw.documents").fetchone()[0]
    if first is None:
        return
    span = (as_of - first).days
    h = config.settings.reputation_half_life_days
    if 2 * span / h > MAX_EXPONENT:
        raise ListeningError(
            f"the store spans {span} days, too long for reputation_half_life_days = {h} "
            f"(the decayed sums would overflow): raise settings.reputation_half_life_days to "
            f"at least {2 * span // MAX_EXPONENT + 1}"
        )


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    now: datetime,
    *,
    as_of: date | None = None,
    on_progress: Callable[[str], None] | None = None,
    webhook_url: str | None = None,
    delivery_options: dict | None = None,
    full: bool = False,
) -> BuildStats:
    """Build the relations (only what changed since the last build, unless ``full`` or a
    full rebuild is needed: see ``listening.marts.incremental``) and evaluate alerts in one
    transaction: readers never see half a build. Then deliver new (and previously failed)
    alerts to the webhook, if one is set (``webhook_url`` or the ``LISTENING_WEBHOOK_URL``
    environment variable); ``delivery_options`` go to ``listening.notify.post_json`` (tries,
    backoff, timeout). ``as_of`` is the last local day built, by default today in
    ``settings.timezone``."""
    from listening.marts.alerts import delivery, episodes, rules
    from listening.store import erasure

    started = time.perf_counter()
    as_of = as_of or local_date(now, config.settings.timezone)
    stats = BuildStats()
    clock = _StepClock(stats)
    stats.n_expired = erasure.before_build(con, config, now).n_documents
    check_range(con, config, as_of)
    con.execute(f"set memory_limit = '{BUILD_MEMORY_LIMIT}'")
    with store.transaction(con):
        variables = sql_variables(config, as_of)
        for name, value in variables.items():
            con.execute(f"set variable {name} = ?", [value])
        load_config_tables(con, config)
        files = sql_files()
        settings_hash = incremental.settings_hash(con, variables, files)
        previous = incremental.previous_build(con)
        stats.full_reason = incremental.full_reason(
            con,
            previous,
            settings_hash,
            as_of,
            full,
            stats.n_expired,
            [p.stem for p in files if incremental.incremental_key(p.read_text("utf-8"))],
        )
        stats.is_full = stats.full_reason is not None
        # A full build over the same SQL and settings (--full, an erasure, retention, as_of
        # back) changes few rows: it writes only those (incremental.rebuild_changed). After a
        # change of SQL or settings, most rows of a relation may change: writing it whole is
        # then cheaper (3M documents, every row changed: 38 s against 20 s).
        by_diff = stats.is_full and previous is not None and previous[1] == settings_hash
        con.execute("set variable is_full = ?", [stats.is_full])
        con.execute("set variable previous_as_of = ?", [previous[0] if previous else as_of])
        con.execute("set variable scope_since = null::timestamptz")
        for key, columns in incremental.SCOPE_KEYS.items():
            con.execute(f"create or replace temp table {incremental.scope_table(key)} ({columns})")
        filled: set[str] = set()
        clock.step("setup")  # retention, settings, config tables, why full
        for path in files:
            if on_progress:
                on_progress(path.stem)
            sql = path.read_text("utf-8")
            key = incremental.incremental_key(sql)
            if path.stem == "mention_search":
                incremental.refresh_folds(con, stats.is_full)
                clock.step("folds")
            if key is None or (stats.is_full and not by_diff):
                con.execute(sql)
            elif stats.is_full:
                n = incremental.rebuild_changed(con, path.stem, sql, key)
                if n is None:
                    stats.replaced.append(path.stem)
                else:
                    stats.keys_rewritten[path.stem] = n
            else:
                if key not in filled:
                    numbered = key == "document_id" and incremental.fill_numbered_changes(con)
                    if key == "document_id":
                        stats.documents_compared = not numbered
                    n = incremental.fill_scope(con, key, numbered)
                    if key == "document_id":
                        stats.n_documents = n
                    elif key == "mention_id":
                        stats.n_mentions = n
                    filled.add(key)
                incremental.apply_delta(con, path.stem, sql, key)
            stats.relations.append(path.stem)
            clock.step(path.stem)
        if stats.is_full:
            stats.n_documents, stats.n_mentions = con.execute(
                "select (select count(*) from stg_documents), (select count(*) from stg_mentions)"
            ).fetchone()
        if on_progress:
            on_progress("alerts")
        found = rules.evaluate(con, config, now, as_of)
        url = webhook_url if webhook_url is not None else os.environ.get(delivery.ENV_WEBHOOK)
        stats.n_alerts, stats.n_new_alerts = episodes.store_alerts(
            con, found, now, config, has_webhook=bool(url), as_of=as_of
        )
        clock.step("alerts")
        con.execute(
            "insert into raw.builds (built_at, as_of, is_full, settings_hash, n_documents, "
            "n_mentions, seconds, timezone, document_seq, sources_hash) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                now,
                as_of,
                stats.is_full,
                settings_hash,
                stats.n_documents,
                stats.n_mentions,
                time.perf_counter() - started,
                config.settings.timezone,
                incremental.document_seq(con),
                incremental.sources_hash(con),
            ],
        )
    clock.step("commit")
    if url:
        stats.n_sent, stats.n_failed = delivery.deliver_pending(
            con, config, now, url, **(delivery_options or {})
        )
        clock.step("delivery")
    return stats


def summary(stats: BuildStats) -> str:
    """What a build rebuilt and why, for its log: ``12 relations rebuilt (incremental: 5,411
    documents, 1,795 mentions changed)``, or ``(full: <why>; <what it rewrote>)``."""
    how = (
        f"full: {stats.full_reason}; {rewritten(stats)}"
        if stats.is_full
        else f"incremental: {stats.n_documents:,} documents, {stats.n_mentions:,} mentions changed"
    )
    return f"{len(stats.relations)} relations rebuilt ({how})"


def rewritten(stats: BuildStats) -> str:
    """What a full build found different from the stored relations, for its log: ``every
    stored row was the same``, or ``rows rewritten: threads 3 keys, authors 1 key``, and
    ``replaced whole: mention_search`` (new, columns changed, a row stored twice); ``every
    relation written whole`` after a change of SQL or settings (nothing compared)."""
    if not stats.keys_rewritten and not stats.replaced:
        return "every relation written whole"  # new SQL or settings: no comparison
    changed = {name: n for name, n in stats.keys_rewritten.items() if n}
    parts = []
    if changed:
        parts.append(
            "rows rewritten: "
            + ", ".join(f"{name} {n:,} key{'s' if n > 1 else ''}" for name, n in changed.items())
        )
    if stats.replaced:
        parts.append("replaced whole: " + ", ".join(stats.replaced))
    return "; ".join(parts) or "every stored row was the same"


def slowest_steps(stats: BuildStats, n: int = 5) -> str:
    """The ``n`` slowest steps of a build with their seconds, for the build's log:
    ``mention_search 25.9 s, stg_documents 16.4 s, …``."""
    steps = sorted(stats.step_seconds.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps)


class _StepClock:
    """Records into ``stats.step_seconds`` the time since the previous step."""

    def __init__(self, stats: BuildStats) -> None:
        self.stats = stats
        self.last = time.perf_counter()

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.stats.step_seconds[name] = self.stats.step_seconds.get(name, 0.0) + now - self.last
        self.last = now
