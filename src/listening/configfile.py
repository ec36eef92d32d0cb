"""Read and validate ``listening.toml`` into a ``listening.config.Config``.

The whole file is checked before anything runs: every problem is collected (not only the first)
and reported with the file, the key, the line where we can find it, and what is expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from listening.config import ASPECTS, CHANNELS, KINDS, Brand, Config, Settings, Source
from listening.errors import ConfigError, QuerySyntaxError

DEFAULT_CONFIG = "listening.toml"
_ZERO_OK = {"fetch_processes", "retention_days"}  # 0: one per CPU core; keep forever


def config_path(cli_value: str | None = None) -> Path:
    """``--config``, else ``LISTENING_CONFIG``, else ``./listening.toml``."""
    return Path(cli_value or os.environ.get("LISTENING_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; raise ``ConfigError`` listing every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            str(path),
            ["file not found: create it with `listening init` or copy listening.example.toml"],
        ) from None
    return parse_config(raw.decode("utf-8", errors="replace"), path)


def parse_config(text: str, path: Path) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    v = _Validator(path, text)
    settings = v.settings(data.get("settings", {}))
    brands = _brands(v, data.get("brands", []))
    sources = _sources(v, data.get("sources", []))
    v.unknown_top_level(data)
    _competitors(v, brands)
    if v.problems:
        raise ConfigError(str(path), v.problems)
    return Config(path=path.resolve(), settings=settings, brands=brands, sources=sources)


class _Validator:
    """Collects problems; each names the key, the line (found by a text search) and the fix."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()
        self.problems: list[str] = []

    # -- locating keys ----------------------------------------------------------------------
    def _line_of(self, table: str, index: int | None, key: str | None) -> int | None:
        """Best-effort line number of ``key`` inside the ``index``-th ``[[table]]`` (1-based)."""
        header = re.compile(
            rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]"
            if index is not None
            else rf"^\s*\[\s*{re.escape(table)}\s*\]"
        )
        any_header = re.compile(r"^\s*\[")
        seen = -1
        start = None
        for i, line in enumerate(self.lines):
            if header.match(line):
                seen += 1
                if index is None or seen == index:
                    start = i
                    break
        if start is None:
            return None
        if key is None:
            return start + 1
        key_re = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        for i in range(start + 1, len(self.lines)):
            if any_header.match(self.lines[i]):
                break
            if key_re.match(self.lines[i]):
                return i + 1
        return start + 1

    def add(self, where: str, message: str, table: str, index: int | None, key: str | None):
        line = self._line_of(table, index, key)
        loc = f"line {line}: " if line else ""
        self.problems.append(f"{loc}{where}: {message}")

    # -- sections ----------------------------------------------------------------------------
    def unknown_top_level(self, data: dict[str, Any]) -> None:
        for key in data:
            if key not in ("settings", "brands", "sources"):
                self.problems.append(
                    f"{key}: unknown top-level key; expected [settings], [[brands]] or [[sources]]"
                )

    def settings(self, raw: Any) -> Settings:
        if not isinstance(raw, dict):
            self.problems.append("settings: expected a table [settings]")
            return Settings()
        defaults = Settings()
        values: dict[str, Any] = {}
        for key, value in raw.items():
            where = f"settings.{key}"
            if not hasattr(defaults, key):
                known = ", ".join(Settings.__dataclass_fields__)
                self.add(where, f"unknown setting; known settings: {known}", "settings", None, key)
                continue
            expected = type(getattr(defaults, key))
            ok = isinstance(value, expected) and not (
                expected is not bool and isinstance(value, bool)
            )
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value, ok = float(value), True
            if not ok:
                self.add(
                    where,
                    f"expected {_type_name(expected)}, got {_type_name(type(value))} {value!r}",
                    "settings",
                    None,
                    key,
                )
                continue
            if expected in (int, float) and (value < 0 if key in _ZERO_OK else value <= 0):
                what = "zero or more" if key in _ZERO_OK else "a positive number"
                self.add(where, f"expected {what}, got {value!r}", "settings", None, key)
                continue
            values[key] = value
        return Settings(**values)

    def list_of_tables(self, raw: Any, table: str) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            self.problems.append(f"{table}: expected an array of tables [[{table}]]")
            return []
        return raw

    def string(self, item, key, table, i, label, required=True) -> str | None:
        value = item.get(key)
        if value is None:
            if required:
                self.add(f"{label}.{key}", "missing; expected a non-empty string", table, i, None)
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(f"{label}.{key}", f"expected a non-empty string, got {value!r}", table, i, key)
            return None
        return value.strip()

    def string_list(self, item, key, table, i, label) -> tuple[str, ...]:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
            self.add(f"{label}.{key}", f"expected a list of strings, got {value!r}", table, i, key)
            return ()
        return tuple(value)

    def named(self, item, allowed, table: str, i: int, seen: set[str]) -> tuple[str | None, str]:
        """Check the keys and the name (given, unique) of the ``i``-th ``[[table]]``; return the
        name and the label its problems start with (``brands[0] (Acme)``)."""
        label = f"{table}[{i}]"
        self.unknown_keys(item, allowed, table, i, label)
        name = self.string(item, "name", table, i, label)
        if name:
            label = f"{table}[{i}] ({name})"
            if name in seen:
                noun = table.removesuffix("s")
                self.add(f"{label}.name", f"duplicate {noun} name", table, i, "name")
            seen.add(name)
        return name, label

    def unknown_keys(self, item, allowed, table, i, label) -> None:
        for key in item:
            if key not in allowed:
                self.add(
                    f"{label}.{key}",
                    f"unknown key; expected one of {', '.join(allowed)}",
                    table,
                    i,
                    key,
                )


# -- brands and sources -------------------------------------------------------------------------


def _brands(v: _Validator, raw: Any) -> tuple[Brand, ...]:
    from listening.analyze.query import parse_query

    out: list[Brand] = []
    seen: set[str] = set()
    allowed = (
        "name",
        "query",
        "competitors",
        "official_authors",
        "aspects",
        "report_recipients",
    )
    for i, item in enumerate(v.list_of_tables(raw, "brands")):
        name, label = v.named(item, allowed, "brands", i, seen)
        query = v.string(item, "query", "brands", i, label)
        if query:
            try:
                parse_query(query)
            except QuerySyntaxError as exc:
                shown = query if len(query) <= 80 else f"{query[:60]}… ({len(query)} chars)"
                v.add(
                    f"{label}.query",
                    f"{exc.reason} at character {exc.position + 1}: {shown!r}; "
                    "check quotes, parentheses and AND/OR/NOT/NEAR/n",
                    "brands",
                    i,
                    "query",
                )
                query = None
        competitors = v.string_list(item, "competitors", "brands", i, label)
        official = v.string_list(item, "official_authors", "brands", i, label)
        aspects = _aspects(v, item.get("aspects", {}), i, label)
        recipients = v.string_list(item, "report_recipients", "brands", i, label)
        for address in recipients:
            if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+", address):
                v.add(
                    f"{label}.report_recipients",
                    f'{address!r} is not an e-mail address; expected e.g. ["equipe@exemple.fr"]',
                    "brands",
                    i,
                    "report_recipients",
                )
        if name and query:
            out.append(Brand(name, query, competitors, official, aspects, recipients))
    return tuple(out)


def _aspects(v: _Validator, raw: Any, i: int, label: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        v.add(f"{label}.aspects", "expected a table aspect = [terms]", "brands", i, "aspects")
        return {}
    out = {}
    for aspect, terms in raw.items():
        if aspect not in ASPECTS:
            v.add(
                f"{label}.aspects.{aspect}",
                f"unknown aspect; expected one of {', '.join(ASPECTS)}",
                "brands",
                i,
                "aspects",
            )
        elif not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            v.add(f"{label}.aspects.{aspect}", "expected a list of terms", "brands", i, "aspects")
        else:
            out[aspect] = tuple(terms)
    return out


def _competitors(v: _Validator, brands: tuple[Brand, ...]) -> None:
    names = {b.name for b in brands}
    for i, b in enumerate(brands):
        for c in b.competitors:
            if c not in names:
                v.add(
                    f"brands[{i}] ({b.name}).competitors",
                    f"{c!r} is not a brand of this file; add a [[brands]] entry for it",
                    "brands",
                    i,
                    "competitors",
                )


def _sources(v: _Validator, raw: Any) -> tuple[Source, ...]:
    out: list[Source] = []
    seen: set[str] = set()
    allowed = ("name", "url", "kind", "channel", "enabled")
    for i, item in enumerate(v.list_of_tables(raw, "sources")):
        name, label = v.named(item, allowed, "sources", i, seen)
        url = v.string(item, "url", "sources", i, label)
        if url and (problem := _url_problem(url)):
            v.add(f"{label}.url", problem, "sources", i, "url")
            url = None
        kind = item.get("kind", "feed")
        if kind not in KINDS:
            v.add(
                f"{label}.kind",
                f"expected one of {', '.join(KINDS)}, got {kind!r}",
                "sources",
                i,
                "kind",
            )
        channel = item.get("channel", "other")
        if channel not in CHANNELS:
            v.add(
                f"{label}.channel",
                f"expected one of {', '.join(CHANNELS)}, got {channel!r}",
                "sources",
                i,
                "channel",
            )
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            v.add(
                f"{label}.enabled",
                f"expected true or false, got {enabled!r}",
                "sources",
                i,
                "enabled",
            )
        if name and url and kind in KINDS and channel in CHANNELS and isinstance(enabled, bool):
            out.append(Source(name, url, kind, channel, enabled))
    return tuple(out)


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched as written, or None."""
    from urllib.parse import urlsplit

    if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
        return f"expected an http:// or https:// URL, got {url!r}"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return f"the URL contains spaces or control characters, write them as %20: {url!r}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        return f"not a valid URL ({exc}; ports go from 1 to 65535): {url!r}"
    if not parts.hostname:
        return f"the URL names no host: {url!r}"
    return None


def _type_name(t: type) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string"}.get(
        t, t.__name__
    )
