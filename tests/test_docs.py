"""The README documents what the code does: every CLI command, every view, every setting.

The SQL reference is generated from the store's own ``COMMENT ON`` text:
``make docs`` (``python tests/test_docs.py --write``) rewrites it between its markers.
"""

import re
import sys
from pathlib import Path

import duckdb

from listening import store
from listening.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[1]
README_PATH = ROOT / "README.md"
START, END = "<!-- sql-reference:start -->", "<!-- sql-reference:end -->"


def sql_reference() -> str:
    con = duckdb.connect()
    store.migrate(con)
    out = []
    views = con.execute(
        "select view_name, comment from duckdb_views() where not internal "
        "and schema_name = 'main' order by view_name"
    ).fetchall()
    for view, comment in views:
        out += [
            f"### `{view}`",
            "",
            comment or "",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        cols = con.execute(
            "select column_name, data_type, comment from duckdb_columns() "
            "where table_name = ? and schema_name = 'main' order by column_index",
            [view],
        ).fetchall()
        out += [f"| `{c}` | {t.lower()} | {m or ''} |" for c, t, m in cols]
        out.append("")
    return "\n".join(out)


def test_every_cli_command_is_in_the_readme():
    readme = README_PATH.read_text("utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices
    missing = [c for c in commands if not re.search(rf"^#+ .*`listening {c}\b", readme, re.M)]
    assert missing == [], f"README has no CLI reference heading for: {missing}"


def test_sql_reference_matches_the_store():
    readme = README_PATH.read_text("utf-8")
    current = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == sql_reference().strip(), "SQL reference is stale: run `make docs`"


def test_every_setting_is_in_the_configuration_reference():
    from listening.config import Settings

    readme = README_PATH.read_text("utf-8")
    missing = [k for k in Settings.__dataclass_fields__ if f"`{k}`" not in readme]
    assert missing == []


def test_readme_first_screen_has_the_two_commands():
    first = "\n".join(README_PATH.read_text("utf-8").splitlines()[:40])
    assert "make demo" in first and "make test" in first


if __name__ == "__main__" and "--write" in sys.argv:
    text = README_PATH.read_text("utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README_PATH.write_text(f"{head}{START}\n{sql_reference()}\n{END}{tail}", "utf-8")
