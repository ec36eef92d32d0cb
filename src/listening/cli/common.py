"""What every command shares: output on the terminal, and the config and store it names."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path


class Output:
    """Progress on a terminal (one rewritten line on stderr), silence in logs."""

    def __init__(self, quiet: bool = False):
        self.tty = sys.stderr.isatty() and not quiet
        self.quiet = quiet
        self._dirty = False

    def progress(self, message: str) -> None:
        if self.tty:
            width = 100
            sys.stderr.write("\r" + message[:width].ljust(width))
            sys.stderr.flush()
            self._dirty = True

    def say(self, message: str) -> None:
        """A line for the user (stderr): waits, warnings, notes."""
        self._clear()
        if not self.quiet:
            print(message, file=sys.stderr)

    def result(self, message: str) -> None:
        self._clear()
        print(message)

    def _clear(self) -> None:
        if self._dirty:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()
            self._dirty = False


def config_of(args):
    from listening.configfile import config_path, load_config

    return load_config(config_path(args.config))


def db_of(args, config=None) -> Path:
    from listening.store import store_path

    return store_path(args.db, config.store_path if config else None)


def reader_db(args) -> Path:
    """For read-only commands a config is optional when --db or LISTENING_DB names the store."""
    if args.db or os.environ.get("LISTENING_DB"):
        return db_of(args)
    return db_of(args, config_of(args))


def print_table(out: Output, columns: list[str], rows: list[tuple], max_width: int = 60) -> None:
    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.3f}"
        if isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        s = " ".join(str(v).split())
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out.result(line.rstrip())
    out.result("  ".join("-" * w for w in widths))
    for r in cells:
        out.result("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    out.result(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
