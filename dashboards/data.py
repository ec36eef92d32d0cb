"""Named queries on the published snapshot, cached per snapshot.

The dashboards never open the live store (DuckDB refuses any open while the pipeline writes).
Each batch of queries attaches the snapshot read-only into a fresh in-memory DuckDB: a plain
``duckdb.connect(path)`` would reuse a database instance still open in this process and keep
serving the previous snapshot after ``listening build`` renamed a new one over it. Results are
cached under the snapshot's identity (inode, mtime, size), so a new snapshot is noticed on the
next query, without a restart.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from listening.store import SnapshotHeld, SnapshotMissing, attach_pinned, snapshot_path

QUERIES = Path(__file__).resolve().parent / "queries"
ENV_DB = "LISTENING_DB"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_CACHE_SIZE = 256


class NoSnapshot(Exception):
    """No store configured, or no snapshot published yet; the message says what to do."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    inode: int
    mtime_ns: int
    size: int

    @property
    def key(self) -> tuple[str, int, int, int]:
        return (str(self.path), self.inode, self.mtime_ns, self.size)


def db_path() -> Path:
    value = os.environ.get(ENV_DB)
    if not value:
        raise NoSnapshot(
            "aucun store indiqué : lancez le tableau de bord avec `listening dashboard` "
            "(ou définissez LISTENING_DB)"
        )
    return Path(value).expanduser()


def current() -> Snapshot:
    """The snapshot as it is on disk now."""
    path = snapshot_path(db_path())
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _not_published(path) from None
    return Snapshot(path, st.st_ino, st.st_mtime_ns, st.st_size)


def _not_published(path: Path) -> NoSnapshot:
    return NoSnapshot(
        f"pas encore d'instantané publié ({path.name}) : lancez `listening init` "
        "puis `listening run`"
    )


def sql_text(name: str) -> str:
    """The named query; ``{{other}}`` inside it stands for the named query ``other`` as a
    subquery, so queries that share their filters (Mentions: page, count, export) share
    one file. A name starting with ``_`` is such a shared part, never run alone."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"bad query name {name!r}")
    text = (QUERIES / f"{name}.sql").read_text("utf-8")
    return re.sub(
        r"\{\{([a-z0-9_]+)\}\}", lambda m: f"(\n{sql_text(m.group(1))}\n) as {m.group(1)}", text
    )


def build_timezone(con: duckdb.DuckDBPyConnection) -> str:
    """The zone of the latest build's local days (``settings.timezone``, kept in the
    ``builds`` view); UTC for a store never built, or built before builds kept their zone."""
    has_column = con.execute(
        "select count(*) from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'main' and table_name = 'builds' and column_name = 'timezone'"
    ).fetchone()[0]
    if not has_column:
        return "UTC"
    row = con.execute("select timezone from builds order by built_at desc limit 1").fetchone()
    return row[0] if row and row[0] else "UTC"


_KEYS_LOOKED_UP = 1000


def _open(snap: Snapshot) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # pinned: publish never updates in place a snapshot a page is still reading (see
    # listening.store.pin), even once another connection of this process closed it
    try:
        attach_pinned(con, snap.path, "snap")
    except SnapshotMissing:
        con.close()
        raise _not_published(snap.path) from None
    except SnapshotHeld:
        con.close()
        raise NoSnapshot(
            f"un autre programme a ouvert l'instantané ({snap.path.name}) en écriture : "
            "rouvrez-le en lecture seule (duckdb -readonly, read_only=True)"
        ) from None
    con.execute("use snap")
    # Timestamps (TIMESTAMPTZ) reach pandas in the brand team's zone, the one the marts' days
    # are in, and a timestamp cast to a date gives the local day: the zone of the latest build.
    try:
        con.execute("set TimeZone = ?", [build_timezone(con)])
    except duckdb.Error:
        con.execute("set TimeZone = 'UTC'")  # a zone this DuckDB does not know: stay in UTC
    # A join with up to 1,000 rows on its build side (a person's mentions) hands the other
    # side's scan the list of its keys, not a min/max and Bloom filter: the documents' texts
    # are then read through the primary-key index, not by a scan of every document_id
    # (author_mentions: 430 -> 47 ms at 3M documents). DuckDB's default is 50.
    con.execute(f"set dynamic_or_filter_threshold = {_KEYS_LOOKED_UP}")
    # Read the snapshot and nothing else (no ATTACH of the live store, no COPY to files).
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


class _Cache:
    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: tuple, value: Any) -> None:
        with self.lock:
            # Results of older snapshots are never asked again.
            for k in [k for k in self.items if k[0] != key[0]]:
                del self.items[k]
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_cache = _Cache(_CACHE_SIZE)


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return tuple(_freeze(v) for v in value)
    return value


def _prepare(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    sql = sql_text(name)
    wanted = set(_PARAM.findall(sql))
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"query {name} needs parameters {sorted(missing)}")
    args = {k: (list(v) if isinstance(v, tuple | set) else v) for k, v in params.items()}
    return sql, {k: v for k, v in args.items() if k in wanted}


def _run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pd.DataFrame:
    sql, args = _prepare(name, params)
    return con.execute(sql, args).df()


EXPORT_BATCH_ROWS = 10_240  # lines fetched from DuckDB at a time


def csv_export(name: str, **params: Any) -> bytes:
    """The named query as CSV, byte for byte what ``DataFrame.to_csv(index=False)`` of its
    result writes (a header, the separator ``,``, UTF-8, pandas' formats), but each line is
    written by DuckDB (``csv_lines``) and fetched batch by batch: for 100,000 mentions with
    their texts (94 MB), the frames and pandas' writer (Python's csv module, which goes
    through the text character by character) took 3.8 s, DuckDB 0.6 s. Not cached (an
    export is asked for once)."""
    con = _open(current())
    try:
        return _csv(con, name, params)
    finally:
        con.close()


def _csv(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> bytes:
    sql, args = _prepare(name, params)
    rel = con.sql(sql, params=args)  # bound, not run: its columns and their types
    columns = list(zip(rel.columns, map(str, rel.types), strict=True))
    header = io.StringIO()
    csv.writer(header, lineterminator=os.linesep).writerow(rel.columns)
    out = [header.getvalue().encode()]
    cursor = con.execute(csv_lines(sql, columns), args)
    while rows := cursor.fetchmany(EXPORT_BATCH_ROWS):
        out.append(b"".join(r[0] for r in rows))
    return b"".join(out)


def _quoted(value: str) -> bool:
    out = io.StringIO()
    csv.writer(out, lineterminator=os.linesep).writerow([value, ""])
    return out.getvalue().startswith('"')


# The characters that make Python's csv module (pandas writes with it) quote a field: they
# vary with Python's version (3.11 leaves a lone carriage return unquoted).
_QUOTING = [c for c in ',"\r\n\t ;' if _quoted(f"a{c}b")]

# pandas writes a frame by blocks of 100,000 cells (pandas.io.formats.csvs), and writes the
# fraction of a second of a timestamp column to the precision the block's values need
_PANDAS_BLOCK_CELLS = 100_000

# A value's text as pandas writes it, by DuckDB type; NULL (and NaN) is empty.
_FIELD = {
    "VARCHAR": "coalesce({c}, '')",
    "BOOLEAN": "case when {c} then 'True' when not {c} then 'False' else '' end",
    # DuckDB's shortest round-trip text of a double is Python's repr (40,000 doubles checked)
    "DOUBLE": "case when isnan({c}) then '' else coalesce({c}::varchar, '') end",
    # str(pd.Timestamp) in the connection's zone (the frame's), the fraction to the block's
    # precision ({p}: 0, 3 or 6 digits), then the offset +HH:MM (+HH:MM:SS for the offsets
    # with seconds of old local mean times)
    "TIMESTAMP WITH TIME ZONE": """case when {c} is null then '' else
        strftime({c}, '%Y-%m-%d %H:%M:%S')
        || case {p} when 6 then strftime({c}, '.%f') when 3 then strftime({c}, '.%g') else '' end
        || case when date_part('timezone', {c}) < 0 then '-' else '+' end
        || lpad((abs(date_part('timezone', {c})) // 3600)::varchar, 2, '0') || ':'
        || lpad((abs(date_part('timezone', {c})) % 3600 // 60)::varchar, 2, '0')
        || case when date_part('timezone', {c}) % 60 = 0 then ''
            else ':' || lpad((abs(date_part('timezone', {c})) % 60)::varchar, 2, '0') end
        end""",
}
# The precision a timestamp's fraction of a second needs: 6 digits, 3 or none.
_PRECISION = """case when epoch_us({c}) % 1000 <> 0 then 6
    when epoch_us({c}) % 1000000 <> 0 then 3 else 0 end"""


def csv_lines(sql: str, columns: list[tuple[str, str]]) -> str:
    """A query giving each row of ``sql`` (whose columns and DuckDB types are ``columns``)
    as its CSV line, UTF-8 bytes, in order, as ``DataFrame.to_csv`` writes it.

    The rows are numbered once and kept (a materialized CTE); the precision of each block's
    timestamps is one small aggregate joined back by block: a window partitioned by block
    sorted every row with its texts (100,000 mentions: 0.2 s)."""
    if len(columns) < 2:  # the csv module writes a lone empty field as ""
        raise ValueError("csv_export writes queries of two columns or more")
    block = f"__row // {_PANDAS_BLOCK_CELLS // len(columns)}"
    texts, fields, precisions = [], [], []
    for i, (name, kind) in enumerate(columns):
        if kind not in _FIELD:
            raise TypeError(f"csv_export: column {name} is {kind}, which it cannot write yet")
        column = '"' + name.replace('"', '""') + '"'
        if "{p}" in _FIELD[kind]:
            precisions.append(f"max({_PRECISION.format(c=column)}) as p{i}")
        texts.append(_FIELD[kind].format(c=column, p=f"blocks.p{i}") + f" as f{i}")
        # quoted as the csv module quotes: when needed, its quotes doubled
        needs = " or ".join(f"contains(f{i}, chr({ord(c)}))" for c in _QUOTING)
        fields.append(
            f"case when {needs} then chr(34) || replace(f{i}, chr(34), chr(34) || chr(34)) "
            f"|| chr(34) else f{i} end"
        )
    eol = " || ".join(f"chr({ord(c)})" for c in os.linesep)
    line = ", ',', ".join(fields)
    precisions.insert(0, f"{block} as __block")
    return (
        "with\n"
        "numbered as materialized (\n"
        f"    select *, row_number() over () - 1 as __row from (\n{sql}\n) as exported\n"
        "),\n"
        f"blocks as (select {', '.join(precisions)} from numbered group by all),\n"
        "texts as (\n"
        f"    select __row, {', '.join(texts)}\n"
        f"    from numbered join blocks on blocks.__block = numbered.{block}\n"
        ")\n"
        f"select encode(concat({line}, {eol})) as line\n"
        "from texts\n"
        "order by __row"
    )


def fetch(requests: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    """Run a batch of named queries ``{key: (name, params)}`` on one snapshot.

    Cached results are returned as they are; the others run on one read-only connection.
    The returned frames are shared by the cache: copy one before changing it.
    """
    attempts = 5
    for attempt in range(attempts):
        snap = current()
        out: dict[str, pd.DataFrame] = {}
        todo = {}
        for key, (name, params) in requests.items():
            ckey = (snap.key, name, tuple(sorted((k, _freeze(v)) for k, v in params.items())))
            hit = _cache.get(ckey)
            if hit is None:
                todo[key] = (name, params, ckey)
            else:
                out[key] = hit
        if not todo:
            return out
        con = _open(snap)
        try:
            # Renamed between stat and attach: we cannot tell which one we read. Try again;
            # if the pipeline publishes that fast, use what we read without caching it.
            cacheable = current() == snap
            if not cacheable and attempt < attempts - 1:
                continue
            for key, (name, params, ckey) in todo.items():
                df = _run(con, name, params)
                if cacheable:
                    _cache.put(ckey, df)
                out[key] = df
        finally:
            con.close()
        return out
    raise AssertionError("unreachable")


def query(name: str, **params: Any) -> pd.DataFrame:
    return fetch({"q": (name, params)})["q"]


def relations() -> set[str]:
    """Tables and views of the snapshot's main schema (to show empty states, not errors)."""
    df = query("relations")
    return set(df["name"])


def has(*names: str) -> bool:
    return set(names) <= relations()
