"""Build: run ``sql/staging`` then ``sql/marts`` (one relation per file), in name order.

Settings reach the SQL as DuckDB variables (``getvariable('half_life_days')``), so each file
is plain SQL an analyst can read and run by hand after a ``set variable``. The parts of the
config the marts need (brands, competitive sets, official authors) arrive as temp tables.
Alerts are evaluated after the marts, in the same transaction; webhook delivery happens after
the commit, so a slow or failing receiver never holds back the build.

Incremental builds. A file whose header says ``-- incremental key: <column>`` can rebuild only
the rows of that key listed in the temp table ``scope_<column>``: the build runs its query into
``<name>__delta`` (``getvariable('is_full')`` false), deletes the scoped keys from the table and
inserts the delta. The scopes come from what changed since the last build (``raw.builds``):
documents and mentions whose fingerprint (``raw.document_fingerprints``,
``raw.mention_fingerprints``) differs from the one stored in ``stg_documents`` / ``stg_mentions``,
(and the mentions of changed documents), then the people and threads those rows belong to
(before and after the change), plus the ones
whose window moved with ``as_of``. The other marts (per brand and day or week, a few thousand
rows) are rebuilt whole from ``stg_mentions``. A full rebuild runs every file whole; it happens
with ``full=True`` (``listening build --full``), on the first build, when the settings, config
tables or SQL changed, when ``as_of`` went back, and after an erasure (texts may be redacted,
which no fingerprint covers). Both give the same rows (tests/test_build_incremental.py).
"""

from __future__ import annotations

import hashlib
import json
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
    full rebuild is needed: see the module's docstring) and evaluate alerts in one
    transaction: readers never see half a build. Then deliver new (and previously failed)
    alerts to the webhook, if one is set (``webhook_url`` or the ``LISTENING_WEBHOOK_URL``
    environment variable); ``delivery_options`` go to ``listening.notify.post_json`` (tries,
    backoff, timeout). ``as_of`` is the last local day built, by default today in
    ``settings.timezone``."""
    from listening.build import alerts
    from listening.store import privacy

    started = time.perf_counter()
    as_of = as_of or local_date(now, config.settings.timezone)
    stats = BuildStats()
    stats.n_expired = privacy.before_build(con, config, now).n_documents
    check_range(con, config, as_of)
    con.execute(f"set memory_limit = '{BUILD_MEMORY_LIMIT}'")
    with store.transaction(con):
        variables = sql_variables(config, as_of)
        for name, value in variables.items():
            con.execute(f"set variable {name} = ?", [value])
        load_config_tables(con, config)
        files = sql_files()
        settings_hash = _settings_hash(con, variables, files)
        previous = _previous_build(con)
        stats.full_reason = _full_reason(con, previous, settings_hash, as_of, full, stats)
        stats.is_full = stats.full_reason is not None
        con.execute("set variable is_full = ?", [stats.is_full])
        con.execute("set variable previous_as_of = ?", [previous[0] if previous else as_of])
        con.execute("set variable scope_since = null::timestamptz")
        for key in SCOPE_KEYS:
            con.execute(f"create or replace temp table scope_{key} ({key} varchar)")
        filled: set[str] = set()
        for path in files:
            if on_progress:
                on_progress(path.stem)
            sql = path.read_text("utf-8")
            key = incremental_key(sql)
            if path.stem == "mention_search":
                refresh_folds(con, stats.is_full)
            if stats.is_full or key is None:
                con.execute(sql)
            else:
                if key not in filled:
                    _fill_scope(con, key, stats)
                    filled.add(key)
                _apply_delta(con, path.stem, sql, key)
            stats.relations.append(path.stem)
        if stats.is_full:
            stats.n_documents, stats.n_mentions = con.execute(
                "select (select count(*) from stg_documents), (select count(*) from stg_mentions)"
            ).fetchone()
        if on_progress:
            on_progress("alerts")
        found = alerts.evaluate(con, config, now, as_of)
        url = webhook_url if webhook_url is not None else os.environ.get(alerts.ENV_WEBHOOK)
        stats.n_alerts, stats.n_new_alerts = alerts.store_alerts(
            con, found, now, config, has_webhook=bool(url), as_of=as_of
        )
        con.execute(
            "insert into raw.builds values (?, ?, ?, ?, ?, ?, ?)",
            [
                now,
                as_of,
                stats.is_full,
                settings_hash,
                stats.n_documents,
                stats.n_mentions,
                time.perf_counter() - started,
            ],
        )
    if url:
        stats.n_sent, stats.n_failed = alerts.deliver_pending(
            con, config, now, url, **(delivery_options or {})
        )
    return stats


# Keys of the incremental files, in the order their scopes are computed.
SCOPE_KEYS = ("document_id", "mention_id", "author_id", "thread_url")


def incremental_key(sql: str) -> str | None:
    """The ``-- incremental key: <column>`` a relation file declares, if any."""
    m = re.search(r"(?m)^-- incremental key: (\w+)\s*$", sql)
    if m and m.group(1) not in SCOPE_KEYS:
        raise ListeningError(f"unknown incremental key {m.group(1)!r} (known: {SCOPE_KEYS})")
    return m.group(1) if m else None


def _settings_hash(con: duckdb.DuckDBPyConnection, variables: dict, files: list[Path]) -> str:
    """What a build's result depends on besides the data: settings (as_of aside), the config
    tables, the SQL of every relation and the applied migrations."""
    digest = hashlib.sha256()
    settings = {k: str(v) for k, v in variables.items() if k != "as_of"}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for table in ("brands", "competitors", "official_authors", "schema_migrations"):
        rows = con.execute(
            f"select * exclude (applied_at) from {table} order by all"
            if table == "schema_migrations"
            else f"select * from {table} order by all"
        ).fetchall()
        digest.update(repr((table, rows)).encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def _previous_build(con: duckdb.DuckDBPyConnection) -> tuple[date, str] | None:
    """(as_of, settings_hash) of the last build, if there was one."""
    return con.execute(
        "select as_of, settings_hash from raw.builds order by built_at desc, rowid desc limit 1"
    ).fetchone()


def _full_reason(
    con: duckdb.DuckDBPyConnection,
    previous: tuple | None,
    settings_hash: str,
    as_of: date,
    full: bool,
    stats: BuildStats,
) -> str | None:
    """Why this build must rebuild everything, or None when only changes may be rebuilt."""
    if full:
        return "asked for (--full)"
    if previous is None:
        return "first build"
    missing = [
        t
        for t in ("stg_documents", "stg_mentions", "authors", "threads", "mention_search")
        if not con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main' "
            "and table_name = ? and not temporary",
            [t],
        ).fetchone()[0]
    ]
    if missing:
        return f"no {', '.join(missing)} from an earlier build"
    prev_as_of, prev_hash = previous
    if prev_hash != settings_hash:
        return "settings, config or SQL changed"
    if as_of < prev_as_of:
        return f"as_of {as_of} is before the last build's ({prev_as_of})"
    if stats.n_expired:
        return "documents expired (retention)"
    erased = con.execute(
        "select count(*) from raw.erasures where erased_at >= "
        "(select max(built_at) from raw.builds)"
    ).fetchone()[0]
    if erased:
        return "an erasure since the last build (texts may have been redacted)"
    return None


def _fill_scope(con: duckdb.DuckDBPyConnection, key: str, stats: BuildStats) -> None:
    """Fill ``scope_<key>`` with the keys to rebuild: see the module's docstring."""
    if key in ("document_id", "mention_id"):
        stg, fp = (
            ("stg_documents", "raw.document_fingerprints")
            if key == "document_id"
            else ("stg_mentions", "raw.mention_fingerprints")
        )
        con.execute(
            f"""
            insert into scope_{key}
            select coalesce(f.{key}, s.{key})
            from {fp} as f
            full join (select {key}, input_hash from {stg}) as s using ({key})
            where f.input_hash is distinct from s.input_hash
            """
        )
        if key == "mention_id":  # and the mentions of the documents rebuilt
            con.execute(
                "insert into scope_mention_id select mention_id from raw.mentions "
                "where document_id in (select document_id from scope_document_id) "
                "except select mention_id from scope_mention_id"
            )
            # The oldest collection among the mentions to rebuild: the files that read texts
            # skip, by the zone maps of raw.documents, the blocks collected before it (most
            # of the store: documents are appended as they are collected).
            con.execute(
                "set variable scope_since = (select min(collected_at) from raw.documents "
                "where document_id in (select document_id from raw.mentions "
                "where mention_id in (select mention_id from scope_mention_id)))"
            )
        n = con.execute(f"select count(*) from scope_{key}").fetchone()[0]
        if key == "document_id":
            stats.n_documents = n
        else:
            stats.n_mentions = n
    elif key == "author_id":
        con.execute(
            """
            insert into scope_author_id
            select author_id from stg_mentions__old
            union
            select author_id from stg_mentions__delta
            union
            -- days the new as_of brings in, and those crossing the 90-day window
            select author_id from stg_mentions
            where day > getvariable('previous_as_of') and day <= getvariable('as_of')
                or day > getvariable('previous_as_of') - 90
                and day <= getvariable('as_of') - 90
            """
        )
        con.execute("delete from scope_author_id where author_id is null")
    elif key == "thread_url":
        con.execute(
            """
            insert into scope_thread_url
            select thread_url from stg_documents__old
            union
            select thread_url from stg_documents__delta
            union
            select thread_url from stg_mentions__old
            union
            select thread_url from stg_mentions__delta
            union
            select thread_url from stg_documents
            where day > getvariable('previous_as_of') and day <= getvariable('as_of')
            """
        )


def refresh_folds(con: duckdb.DuckDBPyConnection, is_full: bool) -> None:
    """Bring ``raw.folded_texts`` in line with the documents that name a brand: fold the new
    and changed texts (``fold_text``), delete the folds of texts gone or changed. A full build
    checks every document; an incremental one those of the mentions in ``scope_mention_id``
    (a changed text is analysed again, so its mentions are in the scope)."""
    checked = (
        "select document_id from raw.folded_texts union select document_id from raw.mentions"
        if is_full
        else "select document_id from stg_mentions__old "
        "union select document_id from stg_mentions__delta"
    )
    con.execute(f"create or replace temp table fold_checked as {checked}")
    con.execute(
        """
        create or replace temp table fold_current as
        select document_id, hash(text, title) as text_hash,
        from raw.documents
        semi join raw.mentions using (document_id)
        semi join fold_checked using (document_id)
        where getvariable('is_full') or collected_at >= getvariable('scope_since')
        """
    )
    con.execute(
        """
        delete from raw.folded_texts as f
        where document_id in (select document_id from fold_checked)
            and not exists (
                select 1 from fold_current as c
                where c.document_id = f.document_id and c.text_hash = f.text_hash
            )
        """
    )
    con.execute(
        """
        insert into raw.folded_texts
        select c.document_id, c.text_hash, fold_text(d.text), fold_text(coalesce(d.title, '')),
        from fold_current as c
        join raw.documents as d using (document_id)
        anti join raw.folded_texts as f using (document_id)
        """
    )


def _apply_delta(con: duckdb.DuckDBPyConnection, name: str, sql: str, key: str) -> None:
    """Rebuild the rows of ``name`` whose ``key`` is in ``scope_<key>`` (comments kept)."""
    statement = re.split(r"(?im)^comment on ", sql, maxsplit=1)[0]
    delta, n = re.subn(
        rf"(?i)create or replace table {name} as",
        f"create or replace temp table {name}__delta as",
        statement,
        count=1,
    )
    if n != 1:
        raise ListeningError(
            f"{name}.sql: an incremental file starts with `create or replace table {name} as`"
        )
    scoped = f"{key} in (select {key} from scope_{key})"
    con.execute(f"create or replace temp table {name}__old as select * from {name} where {scoped}")
    con.execute(delta)
    con.execute(f"delete from {name} where {scoped}")
    con.execute(f"insert into {name} by name select * from {name}__delta")


@dataclass
class BrandSummary:
    brand: str
    n_mentions: int
    n_voices: int
    net_sentiment: float | None
    reputation_now: float | None  # reputation_index on the last day with mentions
    reputation_before: float | None  # 90 days earlier

    @property
    def trend(self) -> str:
        """The reputation index over 90 days; 5 points either way is a real move."""
        if self.reputation_now is None or self.reputation_before is None:
            return "—"
        delta = self.reputation_now - self.reputation_before
        word = "en hausse" if delta > 5 else "en baisse" if delta < -5 else "stable"
        return f"{word} ({self.reputation_before:+.0f} → {self.reputation_now:+.0f})"


def summarize(con: duckdb.DuckDBPyConnection) -> list[BrandSummary]:
    """Per brand: mentions, voices (``voice_id``: the marts' one definition, from
    stg_documents), net sentiment, and the reputation index's trend over the last 90 days of
    data (from the ``reputation_daily`` mart)."""
    rows = con.execute(
        """
        with m as (
            select brand, voice_id, sentiment_label as label, published_at
            from stg_mentions
            where not is_duplicate
        ),
        totals as (
            select brand,
                count(*) as n_mentions,
                count(distinct voice_id) as n_voices,
                (count(*) filter (where label = 'positive')
                 - count(*) filter (where label = 'negative'))
                / nullif(count(*) filter (where label in ('positive', 'negative')), 0)
                    as net_sentiment,
            from m
            group by brand
        ),
        last_day as (
            select brand, max(day) as day from reputation_daily
            where n_mentions > 0 group by brand
        ),
        trend as (
            select l.brand,
                max(r.reputation_index) filter (where r.day = l.day) as now,
                max(r.reputation_index) filter (where r.day = l.day - 90) as before,
            from last_day as l
            join reputation_daily as r on r.brand = l.brand
            group by l.brand
        )
        select t.brand, t.n_mentions, t.n_voices, t.net_sentiment, r.now, r.before,
        from totals as t
        left join trend as r using (brand)
        order by t.n_mentions desc, t.brand
        """
    ).fetchall()
    return [BrandSummary(*r) for r in rows]
