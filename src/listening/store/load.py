"""The writer side of collection: move complete staged units into the store.

Runs inside the single writer (see ``listening.store.open_writer``). What the staging files are
and how they are named is ``listening.collect.staging``; what is due is ``listening.collect.plan``.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from listening import store
from listening.collect import staging as staged
from listening.collect.staging import StagedUnit
from listening.collect.state import STATE_COLUMNS, SourceState
from listening.config import Config

# Texts shorter than this are too generic ("Merci !", "Top") to call near-duplicates.
NEAR_DUP_MIN_CHARS = 280
# A 64-bit simhash differing in at most 3 bits: the usual threshold for near-duplicate web
# pages (Manku, Jain & Das Sarma, "Detecting near-duplicates for web crawling", WWW 2007).
NEAR_DUP_MAX_BITS = 3


@dataclass
class LoadStats:
    n_units: int = 0
    n_documents_new: int = 0
    n_documents_updated: int = 0
    n_duplicates_linked: int = 0


def pending_units(staging: Path, con: duckdb.DuckDBPyConnection) -> list[Path]:
    """Complete, not yet loaded units (their state files, or the names they would have when
    staged together: ``staging.read_units`` reads both), oldest run first."""
    units = staged.complete_units(staging)
    if not units:
        return []
    loaded = _loaded_keys(con, {path.parent.name for path in units})
    return [path for path in units if staged.unit_key(path) not in loaded]


def _loaded_keys(con: duckdb.DuckDBPyConnection, run_ids: set[str]) -> set[str]:
    """The loaded units (``staging.unit_key``) of these runs only: ``raw.staged_files`` keeps
    every unit ever loaded (5M rows after a year of half-hourly runs of 300 sources: 2.5 s
    to read whole, twice a load, against a few milliseconds for the runs in the folder)."""
    rows = con.execute(
        "select staged_file from raw.staged_files where run_id = any(?::varchar[])",
        [sorted(run_ids)],
    ).fetchall()
    return {r[0] for r in rows}


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
        any_documents = _read_documents(con, units)
        if any_documents:  # else (a re-poll where all was 304) no scan of raw.documents
            apply_at_load(con, config, now)
            stats.n_documents_new, stats.n_documents_updated = _upsert_documents(con)
        states = staged.read_units(units)
        latest = _apply_states(con, states, now)  # source_id -> its newest state, in run order
        con.execute(
            "insert into raw.staged_files select unnest(?::varchar[]), unnest(?::varchar[]), "
            "?, unnest(?::bigint[])",
            [
                [staged.unit_key(p) for p in units],
                [p.parent.name for p in units],
                now,
                [state.n_documents for state in states],
            ],
        )
        _write_states(con, list(latest.values()), now)
        if any_documents:
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
    # New documents by a plain INSERT, known ones by an UPDATE: DuckDB's INSERT ... ON
    # CONFLICT DO UPDATE held about 60 MiB for 12,000 new documents (bench/collect.py), a
    # plain INSERT of the same rows about 25 MiB.
    # A document whose columns the marts read change takes a new change_seq (migration 014).
    con.execute(
        """
        update raw.documents as d set
            title = l.title, text = l.text, lang = l.lang,
            author = coalesce(l.author, d.author),
            parent_id = coalesce(l.parent_id, d.parent_id),
            content_hash = l.content_hash,
            published_at = case when d.is_date_estimated then l.published_at
                                else d.published_at end,
            is_date_estimated = d.is_date_estimated and coalesce(l.is_date_estimated, false),
            change_seq = case
                when (d.title, d.author, d.parent_id, d.published_at) is distinct from (
                    l.title, coalesce(l.author, d.author), coalesce(l.parent_id, d.parent_id),
                    case when d.is_date_estimated then l.published_at else d.published_at end
                ) then nextval('raw.document_changes')
                else d.change_seq end
        from latest as l
        where d.document_id = l.document_id
        """
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
        where document_id not in (select document_id from raw.documents)
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
        update raw.documents as d set duplicate_of = pairs.original,
            change_seq = nextval('raw.document_changes')
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


def _read_documents(con: duckdb.DuckDBPyConnection, units: list[Path]) -> bool:
    """Every unit's documents into the temp table ``incoming``, in ONE ``read_json`` over all
    their files, each row tagged with its run and its unit's place in the loading order;
    whether there were any."""
    ddl = ", ".join(f"{c} {t}" for c, t in _DOC_COLUMNS.items())
    con.execute(f"create or replace temp table incoming ({ddl}, run_id varchar, seq bigint)")
    files: list[str] = []
    runs: list[str] = []
    seqs: list[int] = []
    for seq, state_path in enumerate(units):
        docs_path = staged.documents_path(state_path)
        if docs_path.exists() and docs_path.stat().st_size:
            files.append(str(docs_path))
            runs.append(state_path.parent.name)
            seqs.append(seq)
    if not files:
        return False
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
    return True


def _apply_states(
    con: duckdb.DuckDBPyConnection, states: list[StagedUnit], now: datetime
) -> dict[str, SourceState]:
    """Register comment threads seen for the first time; each source's newest state."""
    latest: dict[str, SourceState] = {}
    new: dict[str, tuple] = {}
    for state in states:
        latest[state.main.source_id] = state.main
        for child in state.children:
            latest[child.source_id] = child
            new.setdefault(
                child.source_id,
                (
                    child.source_id,
                    state.source["name"],
                    state.source_id,
                    child.url,
                    child.kind,
                    state.source["channel"],
                    child.thread_url,
                    child.post_id,
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


def _write_states(con: duckdb.DuckDBPyConnection, states: list[SourceState], now) -> None:
    """One UPDATE for every source's new state instead of one per source."""
    if not states:
        return
    rows = [fs.to_json() for fs in states]  # the staged form: ISO strings, cast by DuckDB
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'sources'"
        ).fetchall()
    )
    cols = ["source_id", *STATE_COLUMNS]
    select = ", ".join(f"unnest(?::varchar[])::{types[c]} as {c}" for c in cols)
    con.execute(
        f"create or replace temp table new_states as select {select}",
        [[None if fs.get(c) is None else str(fs[c]) for fs in rows] for c in cols],
    )
    sets = ", ".join(f"{c} = n.{c}" for c in STATE_COLUMNS)
    con.execute(
        f"update raw.sources as s set {sets}, updated_at = ? from new_states as n "
        "where s.source_id = n.source_id "
        # A late unit of an older run never overwrites what a newer run already stored.
        "and (s.last_fetch_at is null or n.last_fetch_at is null "
        "or n.last_fetch_at >= s.last_fetch_at)",
        [now],
    )


# A run whose planned units never all arrive (its fetch died) is kept this long for a look.
ABANDONED_RUN_SECONDS = 24 * 3600


def _cleanup(staging: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Remove run folders whose every PLANNED unit is loaded (they are in the store now).

    Another collect may still be fetching into a run whose first units are already loaded
    (fetching holds no lock): its folder stays until its plan is complete, or abandoned.
    """
    runs = staged.runs(staging)
    if not runs:
        return
    loaded = _loaded_keys(con, {run.name for run in runs})
    for run in runs:
        planned = staged.planned_source_ids(run)
        done = all(staged.unit_key(staged.unit_path(run, sid)) in loaded for sid in planned)
        try:
            abandoned = time.time() - run.stat().st_mtime > ABANDONED_RUN_SECONDS
        except OSError:
            continue
        if done or abandoned:
            shutil.rmtree(run, ignore_errors=True)
