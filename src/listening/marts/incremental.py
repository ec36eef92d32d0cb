"""Incremental builds: what changed since the last build, and the rows rebuilt for it.

A file whose header says ``-- incremental key: <column>[, <column>]`` can rebuild only the rows
of the keys listed in the temp table ``scope_<columns>`` (``scope_table``): the build runs its
query into ``<name>__delta`` (``getvariable('is_full')`` false), deletes the scoped keys from
the table and inserts the delta. The scopes come from what changed since the last build
(``raw.builds``): documents numbered (``raw.documents.change_seq``, migration 014) after the
last build's ``document_seq``, read by zone maps without the others, unless counts or the
configured sources show a change the numbers miss (``fill_numbered_changes``); then, and for
mentions always, the rows whose fingerprint (``raw.document_fingerprints``,
``raw.mention_fingerprints``) differs from the one stored in ``stg_documents`` /
``stg_mentions``; the mentions of changed documents; then the people, threads and
brand-days (``brand, day``: ``stg_brand_days``, ``aspects_daily``) those rows belong to (before
and after the change; brand-days also the 6 days after, whose weeks they are in), plus the ones
whose window moved with ``as_of``, and the ISO weeks of those brand-days (``week``:
``share_of_voice``). The other marts (per brand and day or week, a few thousand rows) are
rebuilt whole, ``reputation_daily`` from ``stg_brand_days``. A full rebuild runs every file
whole; it happens with ``full=True`` (``listening build --full``), on the first build, when the
settings, config tables or SQL changed, when ``as_of`` went back, and after an erasure (texts
may be redacted, which no fingerprint covers). Both give the same rows
(tests/test_build_incremental.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import duckdb

from listening.errors import ListeningError

# Keys of the incremental files (one column, or several), in the order their scopes are
# computed, with the columns of their scope tables.
SCOPE_KEYS = {
    "document_id": "document_id varchar",
    "mention_id": "mention_id varchar",
    "author_id": "author_id varchar",
    "thread_url": "thread_url varchar",
    "brand, day": "brand varchar, day date",
    "week": "week date",
}


# The relations whose rows before the change fill_scope reads (``<name>__old``): the people,
# threads and days a changed row left. Copying the old rows of the others would be wasted:
# the filter reads every column of the table (mention_search, when it kept the folded texts
# and the texts as written: about 1 s at 3M documents).
KEEPS_OLD_ROWS = ("stg_documents", "stg_mentions")


def scope_table(key: str) -> str:
    """The temp table listing the keys to rebuild: ``scope_document_id``, ``scope_brand_day``."""
    return "scope_" + "_".join(re.findall(r"\w+", key))


def incremental_key(sql: str) -> str | None:
    """The ``-- incremental key: <column>[, <column>]`` a relation file declares, if any."""
    m = re.search(r"(?m)^-- incremental key: (\w+(?:, \w+)*)\s*$", sql)
    if m and m.group(1) not in SCOPE_KEYS:
        raise ListeningError(
            f"unknown incremental key {m.group(1)!r} (known: {', '.join(SCOPE_KEYS)})"
        )
    return m.group(1) if m else None


def settings_hash(con: duckdb.DuckDBPyConnection, variables: dict, files: list[Path]) -> str:
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


def previous_build(con: duckdb.DuckDBPyConnection) -> tuple[date, str] | None:
    """(as_of, settings_hash) of the last build, if there was one."""
    return con.execute(
        "select as_of, settings_hash from raw.builds order by built_at desc, rowid desc limit 1"
    ).fetchone()


def full_reason(
    con: duckdb.DuckDBPyConnection,
    previous: tuple | None,
    settings_hash: str,
    as_of: date,
    full: bool,
    n_expired: int,
    incremental_tables: list[str],
) -> str | None:
    """Why this build must rebuild everything, or None when only changes may be rebuilt
    (``n_expired``: the documents retention deleted before this build;
    ``incremental_tables``: the relations rebuilt by their keys, which must exist)."""
    if full:
        return "asked for (--full)"
    if previous is None:
        return "first build"
    missing = [t for t in incremental_tables if not _exists(con, t)]
    if missing:
        return f"no {', '.join(missing)} from an earlier build"
    prev_as_of, prev_hash = previous
    if prev_hash != settings_hash:
        return "settings, config or SQL changed"
    if as_of < prev_as_of:
        return f"as_of {as_of} is before the last build's ({prev_as_of})"
    if n_expired:
        return "documents expired (retention)"
    erased = con.execute(
        "select count(*) from raw.erasures where erased_at >= "
        "(select max(built_at) from raw.builds)"
    ).fetchone()[0]
    if erased:
        return "an erasure since the last build (texts may have been redacted)"
    return None


def fill_scope(con: duckdb.DuckDBPyConnection, key: str, numbered: bool = False) -> int | None:
    """Fill ``scope_table(key)`` with the keys to rebuild (see the module's docstring); return how
    many documents or mentions are to be rebuilt (None for people and threads). ``numbered``:
    ``scope_document_id`` already holds the changed documents (``fill_numbered_changes``)."""
    if key in ("document_id", "mention_id") and not (key == "document_id" and numbered):
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
            # The oldest collection among the mentions to rebuild: refresh_folds, which reads
            # their texts, skips by the zone maps of raw.documents the blocks collected before
            # it (most of the store: documents are appended as they are collected).
            con.execute(
                "set variable scope_since = (select min(collected_at) from raw.documents "
                "where document_id in (select document_id from raw.mentions "
                "where mention_id in (select mention_id from scope_mention_id)))"
            )
    if key in ("document_id", "mention_id"):
        return con.execute(f"select count(*) from scope_{key}").fetchone()[0]
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
    elif key == "brand, day":
        con.execute(
            """
            insert into scope_brand_day
            with changed as (
                select brand, day from stg_mentions__old
                union
                select brand, day from stg_mentions__delta
            )
            -- and the 6 days after (the weeks a changed day is in: stg_brand_days'
            -- week_conversations)
            select distinct brand, day + later::integer as day
            from changed, range(7) as r(later)
            where day + later::integer <= getvariable('as_of')
            union
            -- the days the new as_of brings in
            select brand, day from stg_mentions
            where day > getvariable('previous_as_of') and day <= getvariable('as_of')
            """
        )
    elif key == "week":  # the weeks (Monday) of the brand-days rebuilt: filled before it
        con.execute(
            "insert into scope_week select distinct cast(date_trunc('week', day) as date) "
            "from scope_brand_day"
        )
    return None


def sources_hash(con: duckdb.DuckDBPyConnection) -> int:
    """Hash of the configured sources' names and channels (the documents view's join)."""
    return con.execute(
        "select hash(coalesce(list([name, channel] order by name, channel), [])) "
        "from raw.sources where is_configured"
    ).fetchone()[0]


def document_seq(con: duckdb.DuckDBPyConnection) -> int | None:
    """The highest ``raw.documents.change_seq``: what a build records as seen."""
    return con.execute("select max(change_seq) from raw.documents").fetchone()[0]


def fill_numbered_changes(con: duckdb.DuckDBPyConnection) -> bool:
    """Fill ``scope_document_id`` with the documents numbered (``change_seq``, migration 014)
    after the last build's ``document_seq``: the ones added or changed since, read without
    reading the others. True when that is the whole change: the configured sources are as
    then, and by counts every document the last build staged is still there, the same or
    numbered anew. Else (a build before migration 014, a writer that deleted a document or
    inserted one without a new number, a source's channel changed) the scope stays empty and
    False: compare the fingerprints (``fill_scope``)."""
    last = con.execute(
        "select document_seq, sources_hash from raw.builds "
        "order by built_at desc, rowid desc limit 1"
    ).fetchone()
    if last is None or last[0] is None or last[1] != sources_hash(con):
        return False
    seq = int(last[0])  # a literal, not a parameter: the zone maps of change_seq skip blocks
    con.execute(
        f"insert into scope_document_id select document_id from raw.documents "
        f"where change_seq > {seq}"
    )
    n_staged, n_same, n_renumbered = con.execute(
        f"""
        select
            (select count(*) from stg_documents),
            (select count(*) from raw.documents where change_seq <= {seq}),
            (select count(*) from stg_documents semi join scope_document_id using (document_id))
        """
    ).fetchone()
    if n_staged == n_same + n_renumbered:
        return True
    con.execute("delete from scope_document_id")
    return False


def refresh_folds(con: duckdb.DuckDBPyConnection, is_full: bool) -> None:
    """Bring ``raw.folded_texts`` in line with the mentions: fold the texts of new mentions and
    of changed documents (``fold_text``), delete the folds of mentions gone or whose text
    changed. A full build checks every mention; an incremental one those in
    ``scope_mention_id`` (a changed text is analysed again, so its mentions are in the scope).

    Each fold keeps its mention's brand and its document's ``published_at`` (a document dated
    again is folded again), and new folds are appended in publication order: the text search
    reads the folds of one brand and period (the scan skips the other row groups by their
    min/max of ``published_at``, then reads the texts of that brand's rows only) and joins them
    to the mart's rows by ``mention_id`` (migration 015)."""
    checked = (
        "select mention_id from raw.folded_texts union select mention_id from raw.mentions"
        if is_full
        else "select mention_id from stg_mentions__old "
        "union select mention_id from stg_mentions__delta"
    )
    con.execute(f"create or replace temp table fold_checked as {checked}")
    con.execute(
        """
        create or replace temp table fold_current as
        select m.mention_id, m.brand, d.document_id, d.published_at,
            hash(d.text, d.title) as text_hash,
        from raw.documents as d
        inner join raw.mentions as m using (document_id)
        semi join fold_checked using (mention_id)
        where getvariable('is_full') or d.collected_at >= getvariable('scope_since')
        """
    )
    con.execute(
        """
        delete from raw.folded_texts as f
        where mention_id in (select mention_id from fold_checked)
            and not exists (
                select 1 from fold_current as c
                where c.mention_id = f.mention_id and c.text_hash = f.text_hash
                    and c.published_at = f.published_at and c.brand = f.brand
            )
        """
    )
    con.execute(
        """
        insert into raw.folded_texts
            (mention_id, brand, published_at, text_hash, text_folded, title_folded)
        select c.mention_id, c.brand, c.published_at, c.text_hash,
            fold_text(d.text), fold_text(coalesce(d.title, '')),
        from fold_current as c
        join raw.documents as d using (document_id)
        anti join raw.folded_texts as f using (mention_id)
        order by c.published_at, c.mention_id
        """
    )


def rebuild_changed(con: duckdb.DuckDBPyConnection, name: str, sql: str, key: str) -> int | None:
    """A full rebuild of ``name`` that writes only the keys whose rows changed. The file's
    query runs whole, and one statement keeps what differs from the stored table, by a
    64-bit hash of every column (``_row_hash``): the keys that have a row on one side that
    the other side lacks, and every new row of those keys. Those keys are deleted and their
    rows inserted, in the order of the query's final ``order by`` if it has one. The table
    then holds the query's rows, as if replaced, at a fraction of the cost: writing and
    compressing 3M rows of stg_documents took half of its step, and a table rewritten is
    rewritten in the snapshot too (checkpoint and publish). A key may have several rows
    (aspects_daily: one per aspect; share_of_voice: one per brand), so all of a changed key's
    rows are written again; keys compare NULL equal to NULL, as a table holds them. Rows
    compare as sets: if the table then counts another number of rows than the query (a row
    stored twice), it is replaced whole. The query's rows are held only by that statement: a
    temp table of them would stay in memory until the build's commit (a dropped table can
    come back on rollback), and they add up past the build's memory limit. The table is
    also replaced whole when it does not exist yet or its columns changed. Return how many
    keys were rewritten, or None when the table was replaced whole."""
    statement, comments = _split_comments(sql)
    if not _exists(con, name):
        con.execute(sql)
        return None
    # Sorted once, at the insert: the statement's threads would write the sorted rows back in
    # runs (3M documents: two runs of mention_search when every row changed).
    query, order = _stored_order(_query(name, statement))
    # the query's columns, without running it (DuckDB plans a limit 0 as an empty result)
    con.execute(
        f"create or replace temp table {name}__columns as select * from ({query}\n) limit 0"
    )
    columns = _columns(con, f"{name}__columns", temp=True)
    con.execute(f"drop table {name}__columns")
    if _columns(con, name, temp=False) != columns:
        con.execute(sql)
        return None
    keys = [c.strip() for c in key.split(",")]

    def same(a: str, b: str, *extra: str) -> str:
        return " and ".join(f"{a}.{c} is not distinct from {b}.{c}" for c in [*keys, *extra])

    row_hash = _row_hash(columns)
    con.execute(
        f"""
        create or replace temp table {name}__diff as
        with
        new as materialized (
            select *, {row_hash} as _row_hash from ({query}
            )
        ),
        stored as (
            select {key}, {row_hash} as _row_hash from {name}
        ),
        changed as (
            select {key} from new as n
            anti join stored as s on {same("n", "s", "_row_hash")}
            union
            select {key} from stored as s
            anti join new as n on {same("s", "n", "_row_hash")}
        )
        select false as _is_new, {key} from changed
        union all by name
        select true as _is_new, n.* exclude (_row_hash)
        from new as n semi join changed as c on {same("n", "c")}
        union all by name
        select count(*) as _n_rows from new
        """
    )
    con.execute(
        f"delete from {name} as t using (select {key} from {name}__diff where not _is_new) "
        f"as d where {same('t', 'd')}"
    )
    con.execute(
        f"insert into {name} by name select * exclude (_is_new, _n_rows) from {name}__diff "
        f"where _is_new {order}"
    )
    n_keys, n_rows = con.execute(
        f"select count(*) filter (where not _is_new), max(_n_rows) from {name}__diff"
    ).fetchone()
    con.execute(f"drop table {name}__diff")
    if con.execute(f"select count(*) from {name}").fetchone()[0] != n_rows:
        con.execute(sql)
        return None
    if comments:
        con.execute(comments)
    return n_keys


def _row_hash(columns: list[tuple]) -> str:
    """SQL hashing a row's columns (``_columns``), nested values through their JSON text:
    DuckDB's ``hash()`` gives ``[]`` and NULL the same hash, and ``[[1], [2]]`` and
    ``[[1, 2]]``."""
    nested = ("[", "STRUCT", "MAP", "UNION")
    return (
        "hash("
        + ", ".join(
            f'to_json("{c}")' if any(n in t for n in nested) else f'"{c}"' for c, t in columns
        )
        + ")"
    )


def _query(name: str, statement: str) -> str:
    """The query of a relation file's ``create or replace table <name> as <query>``."""
    m = re.search(rf"(?is)create or replace table {name} as(.*?);?\s*$", statement)
    if m is None:
        raise ListeningError(
            f"{name}.sql: an incremental file starts with `create or replace table {name} as`"
        )
    return m.group(1)


def _stored_order(query: str) -> tuple[str, str]:
    """A query without its final ``order by <columns>`` (the order its table is stored in,
    which the rows rewritten by ``rebuild_changed`` must follow), and that ``order by``
    clause ('' when it has none). Only plain column lists are taken: a query ending in
    ``limit`` or ``offset``, or in a comment, stays whole (its rows are then not sorted)."""
    m = re.search(r"(?is)\border\s+by\s+([\w\s,]+?)\s*$", query)
    if m is None or re.search(r"(?i)\b(limit|offset)\b", m.group(1)):
        return query, ""
    return query[: m.start()], m.group(0)


def _split_comments(sql: str) -> tuple[str, str]:
    """A relation file's statement, and its trailing ``comment on`` statements."""
    parts = re.split(r"(?im)^(?=comment on )", sql, maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _into_temp(name: str, statement: str, suffix: str) -> str:
    """The file's statement writing into the temp table ``<name>__<suffix>`` instead."""
    into, n = re.subn(
        rf"(?i)create or replace table {name} as",
        f"create or replace temp table {name}__{suffix} as",
        statement,
        count=1,
    )
    if n != 1:
        raise ListeningError(
            f"{name}.sql: an incremental file starts with `create or replace table {name} as`"
        )
    return into


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main' "
            "and table_name = ? and not temporary",
            [name],
        ).fetchone()[0]
    )


def _columns(con: duckdb.DuckDBPyConnection, name: str, *, temp: bool) -> list[tuple]:
    where = "database_name = 'temp'" if temp else "schema_name = 'main' and database_name <> 'temp'"
    return con.execute(
        f"select column_name, data_type from duckdb_columns() where table_name = ? and {where} "
        "order by column_index",
        [name],
    ).fetchall()


def apply_delta(con: duckdb.DuckDBPyConnection, name: str, sql: str, key: str) -> None:
    """Rebuild the rows of ``name`` whose ``key`` is in ``scope_table(key)`` (comments kept)."""
    delta = _into_temp(name, _split_comments(sql)[0], "delta")
    scoped = f"({key}) in (select {key} from {scope_table(key)})"
    if name in KEEPS_OLD_ROWS:
        con.execute(
            f"create or replace temp table {name}__old as select * from {name} where {scoped}"
        )
    con.execute(delta)
    con.execute(f"delete from {name} where {scoped}")
    con.execute(f"insert into {name} by name select * from {name}__delta")
