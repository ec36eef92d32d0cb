"""The store side of collection: sync configured sources, plan due fetches, load staging files.

Everything here runs inside the single writer (see ``listening.store.open_writer``).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from listening import store
from listening.collect.crawl import FeedState, Unit, source_id
from listening.config import Config

_STATE_COLUMNS = [
    f.name for f in fields(FeedState) if f.name not in ("source_id", "kind", "is_due")
]

# Texts shorter than this are too generic ("Merci !", "Top") to call near-duplicates.
NEAR_DUP_MIN_CHARS = 280
# A 64-bit simhash differing in at most 3 bits: the usual threshold for near-duplicate web
# pages (Manku, Jain & Das Sarma, "Detecting near-duplicates for web crawling", WWW 2007).
NEAR_DUP_MAX_BITS = 3


def sync_sources(con: duckdb.DuckDBPyConnection, config: Config, now: datetime) -> None:
    """Make ``raw.sources`` hold every configured source; a changed URL restarts its state.

    A source no longer in the config is marked ``removed`` (never fetched, its documents and
    history kept); put it back and it is active again.
    """
    srcs = config.sources
    # One set-based statement per case instead of two point queries per source.
    con.execute(
        "create or replace temp table configured as select unnest(?::varchar[]) as source_id, "
        "unnest(?::varchar[]) as name, unnest(?::varchar[]) as url, "
        "unnest(?::varchar[]) as kind, unnest(?::varchar[]) as channel",
        [
            [source_id(s) for s in srcs],
            [s.name for s in srcs],
            [s.url for s in srcs],
            [s.kind for s in srcs],
            [s.channel for s in srcs],
        ],
    )
    con.execute(
        "update raw.sources as s set url = c.url, configured_url = c.url, etag = null, "
        "last_modified = null, pending_redirect = null, redirect_count = 0, "
        "consecutive_failures = 0, state = 'active', disabled_reason = null, "
        "next_fetch_at = null, feed_url = null, kind = c.kind, channel = c.channel, "
        "updated_at = ? from configured as c "
        "where s.source_id = c.source_id and s.configured_url is distinct from c.url",
        [now],
    )
    con.execute(
        "update raw.sources as s set kind = c.kind, channel = c.channel from configured as c "
        "where s.source_id = c.source_id "
        "and (s.kind is distinct from c.kind or s.channel is distinct from c.channel)"
    )
    con.execute(
        "update raw.sources set state = case when source_id in "
        "(select source_id from configured) then 'active' else 'removed' end, "
        "disabled_reason = case when source_id in (select source_id from configured) "
        "then null else 'no longer in the config; its documents are kept; add it back to "
        "fetch it again' end, next_fetch_at = null, updated_at = ? "
        "where is_configured and parent_source_id is null and "
        "(state = 'removed') = (source_id in (select source_id from configured))",
        [now],
    )
    con.execute(
        "insert into raw.sources (source_id, name, url, configured_url, kind, channel, "
        "is_configured, state, created_at, updated_at) "
        "select source_id, name, url, url, kind, channel, true, 'active', ?, ? "
        "from configured where source_id not in (select source_id from raw.sources)",
        [now, now],
    )


def plan(con: duckdb.DuckDBPyConnection, config: Config, now: datetime) -> list[Unit]:
    """The units with something due now (a source disabled in the config is skipped)."""
    quiet = config.settings.thread_quiet_days
    cols = ", ".join(["source_id", "kind", *_STATE_COLUMNS])
    wanted = {source_id(src): src for src in config.sources if src.enabled}
    if not wanted:
        return []
    # Two queries in all (mains, then their children) instead of two per source.
    ids = list(wanted)
    cur = con.execute(
        f"select {cols} from raw.sources where source_id in (select unnest(?::varchar[]))",
        [ids],
    )
    desc = cur.description
    mains = {r[0]: r for r in cur.fetchall()}
    cur = con.execute(
        f"select parent_source_id, {cols} from raw.sources "
        "where parent_source_id in (select unnest(?::varchar[])) order by parent_source_id, url",
        [ids],
    )
    child_desc = cur.description[1:]
    children: dict[str, list] = {}
    for r in cur.fetchall():
        children.setdefault(r[0], []).append(r[1:])
    units = []
    for sid, src in wanted.items():
        main = _feed_state(mains[sid], desc, now, quiet_days=None)
        kids = [_feed_state(r, child_desc, now, quiet_days=quiet) for r in children.get(sid, [])]
        unit = Unit(
            {"name": src.name, "url": src.url, "kind": src.kind, "channel": src.channel},
            main,
            kids,
        )
        if unit.is_due:
            units.append(unit)
    return units


def _feed_state(row, description, now: datetime, quiet_days: int | None) -> FeedState:
    d = {c[0]: v for c, v in zip(description, row, strict=True)}
    for k, v in d.items():
        if isinstance(v, datetime):
            d[k] = v.isoformat()
    fs = FeedState(**d)
    nxt = datetime.fromisoformat(fs.next_fetch_at) if fs.next_fetch_at else None
    fs.is_due = fs.state != "disabled" and (nxt is None or nxt <= now)
    if quiet_days is not None and fs.last_new_document_at:
        # A thread quiet for long stops being polled; a new comment count on its post
        # (slash:comments / thr:total) wakes it up again (see collect._discover_children).
        age = now - datetime.fromisoformat(fs.last_new_document_at)
        if age.days >= quiet_days:
            fs.is_due = False
    return fs


# -- loading ------------------------------------------------------------------------------------


@dataclass
class LoadStats:
    n_units: int = 0
    n_documents_new: int = 0
    n_documents_updated: int = 0
    n_duplicates_linked: int = 0


def pending_units(staging: Path, con: duckdb.DuckDBPyConnection) -> list[Path]:
    """Complete, not yet loaded units (``*.state.json``), oldest run first."""
    if not staging.is_dir():
        return []
    loaded = {r[0] for r in con.execute("select staged_file from raw.staged_files").fetchall()}
    out = []
    for path in sorted(staging.glob("*/*.state.json")):
        key = f"{path.parent.name}/{path.name}"
        if key not in loaded:
            out.append(path)
    return out


_DOC_COLUMNS = {
    "document_id": "varchar",
    "kind": "varchar",
    "url": "varchar",
    "thread_url": "varchar",
    "parent_id": "varchar",
    "source": "varchar",
    "author": "varchar",
    "published_at": "timestamptz",
    "collected_at": "timestamptz",
    "title": "varchar",
    "text": "varchar",
    "lang": "varchar",
    "is_date_estimated": "boolean",
    "guid": "varchar",
    "content_hash": "varchar",
}


def load_staged(
    con: duckdb.DuckDBPyConnection, staging: Path, now: datetime, config: Config | None = None
) -> LoadStats:
    """Move every complete staged unit into the store in ONE transaction (upsert).

    Re-loading is impossible (``raw.staged_files`` records each file in the same transaction),
    and loading the same document twice updates it in place, so nothing is ever duplicated.
    People who asked to be forgotten are dropped on the way in, and with the config's privacy
    settings too-old documents and authors' names (``listening.store.privacy.apply_at_load``).
    """
    from listening.store.privacy import apply_at_load

    units = pending_units(staging, con)
    stats = LoadStats(n_units=len(units))
    if not units:
        _cleanup(staging, con)
        return stats
    with store.transaction(con):
        _read_documents(con, units)
        apply_at_load(con, config, now)
        stats.n_documents_new, stats.n_documents_updated = _upsert_documents(con)
        states = [json.loads(state_path.read_text("utf-8")) for state_path in units]
        latest = _apply_states(con, states, now)  # source_id -> its newest state, in run order
        con.execute(
            "insert into raw.staged_files select unnest(?::varchar[]), unnest(?::varchar[]), "
            "?, unnest(?::bigint[])",
            [
                [f"{p.parent.name}/{p.name}" for p in units],
                [p.parent.name for p in units],
                now,
                [state.get("n_documents", 0) for state in states],
            ],
        )
        _write_states(con, list(latest.values()), now)
        stats.n_duplicates_linked = _link_near_duplicates(con)
    _cleanup(staging, con)
    return stats


def _upsert_documents(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    # The newest staged copy of each document wins; the first collected_at is kept.
    # Older copies are deleted in place rather than the newest copied aside: a copy of every
    # incoming text would cost as much memory again.
    con.execute(
        "delete from incoming as i using (select document_id, max(seq) as newest from incoming "
        "group by document_id having count(*) > 1) as d "
        "where i.document_id = d.document_id and i.seq < d.newest"
    )
    con.execute("create or replace temp view latest as select * from incoming")
    n_new = con.execute(
        "select count(*) from latest where document_id not in "
        "(select document_id from raw.documents)"
    ).fetchone()[0]
    changed = con.execute(
        "select count(*) from latest l join raw.documents d using (document_id) "
        "where d.text is distinct from l.text or d.title is distinct from l.title"
    ).fetchone()[0]
    # Changed texts are analysed again.
    con.execute(
        "delete from raw.document_analysis where document_id in (select l.document_id from "
        "latest l join raw.documents d using (document_id) "
        "where d.text is distinct from l.text or d.title is distinct from l.title)"
    )
    con.execute(
        """
        insert into raw.documents (document_id, kind, url, thread_url, parent_id, source,
            author, published_at, collected_at, title, text, lang, is_date_estimated, guid,
            content_hash, run_id)
        select document_id, kind, url, thread_url, parent_id, source, author, published_at,
            collected_at, title, text, lang, coalesce(is_date_estimated, false), guid,
            content_hash, run_id
        from latest
        on conflict (document_id) do update set
            title = excluded.title, text = excluded.text, lang = excluded.lang,
            author = coalesce(excluded.author, author),
            parent_id = coalesce(excluded.parent_id, parent_id),
            content_hash = excluded.content_hash,
            published_at = case when is_date_estimated then excluded.published_at
                                else published_at end,
            is_date_estimated = is_date_estimated and excluded.is_date_estimated
        """
    )
    return n_new, changed


def _link_near_duplicates(con: duckdb.DuckDBPyConnection) -> int:
    """Mark near-identical copies (syndication, whole-post quotes) of an earlier document.

    64-bit simhashes within 3 bits share at least one of four 16-bit bands exactly
    (pigeonhole), so only documents sharing a band are compared.
    """
    before = con.execute(
        "select count(*) from raw.documents where duplicate_of is not null"
    ).fetchone()[0]
    con.execute(
        f"""
        update raw.documents as d set duplicate_of = pairs.original
        from (
            with fp as (
                select document_id, published_at,
                    ('0x' || content_hash)::ubigint as h
                from raw.documents
                where content_hash is not null and length(content_hash) = 16
                    and length(text) >= {NEAR_DUP_MIN_CHARS} and duplicate_of is null
            ),
            bands as (
                select document_id, published_at, h, b,
                    (h >> (16 * b)) & 65535 as band
                from fp, range(4) as t(b)
            ),
            candidates as (
                select distinct a.document_id as copy, o.document_id as original,
                    o.published_at as o_at
                from bands a join bands o on a.b = o.b and a.band = o.band
                    and a.document_id <> o.document_id
                    and (o.published_at, o.document_id) < (a.published_at, a.document_id)
                where bit_count(xor(a.h, o.h)) <= {NEAR_DUP_MAX_BITS}
                  and a.document_id in (select document_id from incoming)
            )
            select copy, arg_min(original, o_at) as original from candidates group by copy
        ) as pairs
        where d.document_id = pairs.copy
        """
    )
    after = con.execute(
        "select count(*) from raw.documents where duplicate_of is not null"
    ).fetchone()[0]
    return after - before


def _read_documents(con: duckdb.DuckDBPyConnection, units: list[Path]) -> None:
    """Every unit's documents into the temp table ``incoming``, in ONE ``read_json`` over all
    their files, each row tagged with its run and its unit's place in the loading order."""
    ddl = ", ".join(f"{c} {t}" for c, t in _DOC_COLUMNS.items())
    con.execute(f"create or replace temp table incoming ({ddl}, run_id varchar, seq bigint)")
    files: list[str] = []
    runs: list[str] = []
    seqs: list[int] = []
    for seq, state_path in enumerate(units):
        docs_path = state_path.with_name(state_path.name.replace(".state.json", ".documents.jsonl"))
        if docs_path.exists() and docs_path.stat().st_size:
            files.append(str(docs_path))
            runs.append(state_path.parent.name)
            seqs.append(seq)
    if not files:
        return
    con.execute(
        "create or replace temp table staged_units as select unnest(?::varchar[]) as filename, "
        "unnest(?::varchar[]) as run_id, unnest(?::bigint[]) as seq",
        [files, runs, seqs],
    )
    cols = ", ".join(f"'{c}': '{t}'" for c, t in _DOC_COLUMNS.items())
    # One reader thread: each thread of the JSON reader holds buffers of up to
    # maximum_object_size (16 MB), which doubled the loading process's memory for no gain on
    # files this small (bench/collect.py: 76 MB with 2 threads, 19 MB with one).
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    con.execute("set threads = 1")
    try:
        con.execute(
            "insert into incoming select j.* exclude (filename), u.run_id, u.seq from read_json("
            f"?, format = 'newline_delimited', columns = {{{cols}}}, filename = true) as j "
            "join staged_units as u using (filename)",
            [files],
        )
    finally:
        con.execute(f"set threads = {int(threads)}")


def _apply_states(
    con: duckdb.DuckDBPyConnection, states: list[dict[str, Any]], now: datetime
) -> dict[str, dict[str, Any]]:
    """Register comment threads seen for the first time; each source's newest state."""
    latest: dict[str, dict[str, Any]] = {}
    new: dict[str, tuple] = {}
    for state in states:
        latest[state["main"]["source_id"]] = state["main"]
        for child in state["children"]:
            latest[child["source_id"]] = child
            new.setdefault(
                child["source_id"],
                (
                    child["source_id"],
                    state["source"]["name"],
                    state["source_id"],
                    child["url"],
                    child["kind"],
                    state["source"]["channel"],
                    child["thread_url"],
                    child["post_id"],
                ),
            )
    if new:
        columns = list(zip(*new.values(), strict=True))
        con.execute(
            "insert into raw.sources (source_id, name, parent_source_id, url, kind, channel, "
            "thread_url, post_id, is_configured, state, created_at, updated_at) "
            "select *, false, 'active', $now, $now from (select "
            + ", ".join(f"unnest($c{i}::varchar[])" for i in range(len(columns)))
            + ") as n(source_id) where source_id not in (select source_id from raw.sources)",
            {"now": now, **{f"c{i}": list(c) for i, c in enumerate(columns)}},
        )
    return latest


def _write_states(con: duckdb.DuckDBPyConnection, states: list[dict[str, Any]], now) -> None:
    """One UPDATE for every source's new state instead of one per source."""
    if not states:
        return
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'sources'"
        ).fetchall()
    )
    cols = ["source_id", *_STATE_COLUMNS]
    select = ", ".join(f"unnest(?::varchar[])::{types[c]} as {c}" for c in cols)
    con.execute(
        f"create or replace temp table new_states as select {select}",
        [[None if fs.get(c) is None else str(fs[c]) for fs in states] for c in cols],
    )
    sets = ", ".join(f"{c} = n.{c}" for c in _STATE_COLUMNS)
    con.execute(
        f"update raw.sources as s set {sets}, updated_at = ? from new_states as n "
        "where s.source_id = n.source_id "
        # A late unit of an older run never overwrites what a newer run already stored.
        "and (s.last_fetch_at is null or n.last_fetch_at is null "
        "or n.last_fetch_at >= s.last_fetch_at)",
        [now],
    )


def _write_state(con: duckdb.DuckDBPyConnection, fs: dict[str, Any], now: datetime) -> None:
    cols = [c for c in _STATE_COLUMNS if c in fs]
    sets = ", ".join(f"{c} = ?" for c in cols)
    con.execute(
        f"update raw.sources set {sets}, updated_at = ? where source_id = ?",
        [fs[c] for c in cols] + [now, fs["source_id"]],
    )


# A run whose planned units never all arrive (its fetch died) is kept this long for a look.
ABANDONED_RUN_SECONDS = 24 * 3600


def _cleanup(staging: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Remove run folders whose every PLANNED unit is loaded (they are in the store now).

    Another collect may still be fetching into a run whose first units are already loaded
    (fetching holds no lock): its folder stays until its plan is complete, or abandoned.
    """
    if not staging.is_dir():
        return
    loaded = {r[0] for r in con.execute("select staged_file from raw.staged_files").fetchall()}
    for run in staging.iterdir():
        if not run.is_dir():
            continue
        plan_file = run / "plan.json"
        try:
            planned = [u["main"]["source_id"] for u in json.loads(plan_file.read_text("utf-8"))]
        except (OSError, ValueError, KeyError, TypeError):
            planned = [p.name.removesuffix(".state.json") for p in run.glob("*.state.json")]
        done = all(f"{run.name}/{sid}.state.json" in loaded for sid in planned)
        try:
            abandoned = time.time() - run.stat().st_mtime > ABANDONED_RUN_SECONDS
        except OSError:
            continue
        if done or abandoned:
            shutil.rmtree(run, ignore_errors=True)


def unit_to_plan_file(units: list[Unit], path: Path) -> None:
    path.write_text(json.dumps([u.to_json() for u in units], ensure_ascii=False), "utf-8")


def units_from_plan_file(path: Path) -> list[Unit]:
    return [Unit.from_json(d) for d in json.loads(path.read_text("utf-8"))]
