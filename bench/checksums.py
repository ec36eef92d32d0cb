"""Row counts and content checksums of every table of a store, to show two builds are the same.

A refactoring must not change what the pipeline stores: build the demo store before and after
(with a fixed port, since URLs and so ids carry it), then compare the two listings:

    .venv/bin/listening demo -q --port 18765 --dir /tmp/before   # on the old tree
    .venv/bin/listening demo -q --port 18765 --dir /tmp/after    # on the new tree
    .venv/bin/python bench/checksums.py /tmp/before/listening.duckdb /tmp/after/listening.duckdb

Columns stamped with the wall clock of the run (when a file was loaded, a row written, a build
made) are left out; every other column of every table in ``main`` and ``raw`` is hashed, row by
row, into an order-independent sum. With two stores, prints the tables that differ and exits 1
if any does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

# When the run happened, not what it found.
RUN_CLOCK = {
    "analyzed_at",
    "applied_at",
    "built_at",
    "collected_at",
    "created_at",
    "delivered_at",
    "erased_at",
    "last_fetch_at",
    "last_modified",
    "last_new_document_at",
    "last_success_at",
    "loaded_at",
    "next_fetch_at",
    "run_id",
    "trained_at",
    "updated_at",
    "input_hash",  # a hash of the mention's row, analyzed_at included
    "seconds",
    "duration_s",
}


def checksums(db: Path) -> dict[str, tuple[int, int]]:
    """``{schema.table: (rows, checksum)}`` for every table of the store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() order by 1, 2"
        ).fetchall()
        out = {}
        for schema, table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = "
                    "current_database() and schema_name = ? and table_name = ? "
                    "order by column_index",
                    [schema, table],
                ).fetchall()
                if name not in RUN_CLOCK and not name.endswith("_file")
            ]
            row = ", ".join(f'"{c}"' for c in columns) or "1"
            rows, total = con.execute(
                f"select count(*), coalesce(sum(hash(({row}))::hugeint), 0) "
                f'from "{schema}"."{table}"'
            ).fetchone()
            out[f"{schema}.{table}"] = (rows, int(total))
        return out
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stores", nargs="+", type=Path, help="one store to list, or two to compare")
    args = parser.parse_args(argv)
    if len(args.stores) > 2:
        parser.error("give one store, or two to compare")
    listings = [checksums(db) for db in args.stores]
    names = sorted(set().union(*listings))
    differ = 0
    for name in names:
        values = [listing.get(name) for listing in listings]
        same = len(set(values)) == 1
        differ += not same
        shown = "  ".join(
            f"{v[0]:>8,} rows {v[1] & 0xFFFFFFFF:08x}" if v else "(absent)" for v in values
        )
        print(f"{'  ' if same else '≠ '}{name:<34} {shown}")
    if len(listings) == 2:
        print(f"\n{len(names) - differ} of {len(names)} tables identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
