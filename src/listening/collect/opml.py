"""OPML: import a feed reader's subscriptions into ``listening.toml``, export ours.

Import parses the file with ``defusedxml`` (no DTD entities, no external references: an
"entity bomb" or an XXE file is refused, never expanded), edits the config with ``tomlkit`` so
its comments and order stay as the user wrote them, checks the result with the config
validator, and only then writes it aside and renames it over the original: the config is the
old one or the new one, never half of each.

Export writes OPML 2.0 (http://opml.org/spec2.opml): one folder per channel, each feed an
``<outline type="rss" text=… title=… xmlUrl=…>``, which is what Miniflux, FreshRSS and
NetNewsWire read (they take folders as categories). A kind other than ``feed`` rides along in a
namespaced attribute that readers ignore and our import reads back.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError, SubElement, indent, tostring

from listening.config import CHANNELS, KINDS, Config
from listening.configfile import load_config, parse_config
from listening.errors import ListeningError

NS = "https://github.com/listening-fr/listening#opml"
MAX_BYTES = 10 * 1024 * 1024  # a reader's export of thousands of feeds is well under 1 MiB
MAX_NAME_CHARS = 100
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


class OpmlError(ListeningError):
    """An OPML file that cannot be read, or an import that cannot be written."""


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    url: str
    channel: str = "other"
    kind: str = "feed"


# -- reading ------------------------------------------------------------------------------------


def read_opml(data: bytes, name: str = "OPML file") -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order (folders flattened)."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if len(data) > MAX_BYTES:
        raise OpmlError(f"{name}: {len(data)} bytes, more than an OPML export ever holds")
    try:
        root = fromstring(data)
    except DefusedXmlException as exc:
        raise OpmlError(
            f"{name}: refused, the file declares XML entities or external references "
            f"({type(exc).__name__}); a feed reader's export never needs them: export the "
            "subscriptions again"
        ) from None
    except ParseError as exc:
        raise OpmlError(
            f"{name}: not well-formed XML ({exc}); is it an OPML export of a feed reader?"
        ) from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"{name}: the root element is <{_local(root.tag)}>, not <opml>")
    body = next((e for e in root if _local(e.tag) == "body"), None)
    if body is None:
        raise OpmlError(f"{name}: no <body> element: not an OPML subscription list")
    feeds: list[OpmlFeed] = []
    _walk(body, None, feeds)
    return feeds


def _walk(node: Element, channel: str | None, out: list[OpmlFeed]) -> None:
    for child in node:
        if _local(child.tag) != "outline":
            continue
        attrs = {_local(k).lower(): v for k, v in child.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        if url:
            title = " ".join((attrs.get("title") or attrs.get("text") or "").split())
            kind = child.attrib.get(f"{{{NS}}}kind", "feed")
            out.append(OpmlFeed(title, url, channel or "other", kind if kind in KINDS else "feed"))
        folder = (attrs.get("text") or attrs.get("title") or "").strip().lower()
        _walk(child, folder if folder in CHANNELS else channel, out)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def unsafe_reason(url: str, allow_private_networks: bool = False) -> str | None:
    """Why ``url`` must not become a source, or None. Names that resolve to private addresses
    are caught by the network guard at fetch time; here only what the text shows."""
    if re.search(r"[\s\"'<>\\\x00-\x1f\x7f]", url):
        return "contains spaces, quotes or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not allowed, only http and https"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "has no host name"
    if parts.username or parts.password:
        return "carries a user name or password (secrets never go in listening.toml)"
    if allow_private_networks:
        return None
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return "names a local host (settings.allow_private_networks is false)"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    from listening.collect.guard import blocked_reason

    reason = blocked_reason(ip)
    if reason:
        return f"points at a {reason} address (settings.allow_private_networks is false)"
    return None


# -- importing --------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    config_path: Path
    original: str
    new_text: str
    added: list[OpmlFeed] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    skipped: list[tuple[OpmlFeed, str]] = field(default_factory=list)

    def report(self) -> list[str]:
        lines = [
            f"add    {name!r} {f.url} (channel {f.channel}"
            + (f", kind {f.kind})" if f.kind != "feed" else ")")
            for name, f in zip(self.names, self.added, strict=True)
        ]
        lines += [
            f"skip   {f.title or '(untitled)'!r} {_masked(f.url)}: {why}" for f, why in self.skipped
        ]
        lines.append(
            f"{len(self.added)} to add, {len(self.skipped)} skipped "
            f"({sum('already' in w for _, w in self.skipped)} duplicates)"
        )
        return lines


def _masked(url: str) -> str:
    """The URL without a password it may carry (never echoed to a terminal or a log)."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1***@", url, flags=re.IGNORECASE)


def _same_feed(url: str) -> str:
    from listening.collect.text import canonical_url

    return canonical_url(url).rstrip("/")


def plan_import(config_path: Path, data: bytes, source_name: str = "OPML file") -> ImportPlan:
    """What importing ``data`` into the config would do; nothing is written."""
    import tomlkit

    config = load_config(config_path)
    feeds = read_opml(data, source_name)
    original = config_path.read_text("utf-8")
    seen = {_same_feed(s.url): f"already configured as {s.name!r}" for s in config.sources}
    names = {s.name for s in config.sources}
    plan = ImportPlan(config_path, original, original)
    for feed in feeds:
        why = unsafe_reason(feed.url, config.settings.allow_private_networks)
        key = _same_feed(feed.url)
        if why is None and key in seen:
            why = seen[key]
        if why:
            plan.skipped.append((feed, why))
            continue
        name = _unique_name(feed, names)
        names.add(name)
        seen[key] = f"already in this file as {name!r}"
        plan.added.append(feed)
        plan.names.append(name)
    if not plan.added:
        return plan
    # Appended after the file as it is, byte for byte: comments, order and spacing stay
    # the user's. A [[sources]] table may follow any other table (TOML 1.0, "Array of
    # Tables"); tomlkit writes the new tables with TOML's escaping.
    added = tomlkit.document()
    added.add(tomlkit.comment(f"Imported from {Path(source_name).name} ({len(plan.added)} feeds)"))
    tables = tomlkit.aot()
    for name, feed in zip(plan.names, plan.added, strict=True):
        table = tomlkit.table()
        table.add("name", name)
        table.add("url", feed.url)
        if feed.kind != "feed":
            table.add("kind", feed.kind)
        table.add("channel", feed.channel)
        tables.append(table)
    added.append("sources", tables)
    head = original if original.endswith("\n") or not original else original + "\n"
    plan.new_text = f"{head}\n{tomlkit.dumps(added).rstrip()}\n"
    parse_config(plan.new_text, config_path)  # the whole file must still be valid
    return plan


def _unique_name(feed: OpmlFeed, taken: set[str]) -> str:
    host = urlsplit(feed.url).hostname or "feed"
    base = (feed.title or host)[:MAX_NAME_CHARS]
    name = base if base not in taken else f"{base} ({host})"
    n = 2
    while name in taken:
        name = f"{base} ({host}) {n}"
        n += 1
    return name


def apply_import(plan: ImportPlan) -> None:
    """Write the planned config aside, then rename it over the original."""
    if plan.config_path.read_text("utf-8") != plan.original:
        raise OpmlError(f"{plan.config_path} changed during the import: run it again")
    write_aside(plan.config_path, plan.new_text.encode("utf-8"))


def write_aside(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, rename it over ``path``
    (keeping its permissions): readers see the old file or the new one, whole."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# -- exporting --------------------------------------------------------------------------------


def export_opml(config: Config, now: datetime | None = None) -> bytes:
    """The configured sources as an OPML 2.0 document (UTF-8 bytes)."""
    root = Element("opml", {"version": "2.0", "xmlns:listening": NS})
    head = SubElement(root, "head")
    SubElement(head, "title").text = f"listening: sources of {config.path.name}"
    SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC))
    body = SubElement(root, "body")
    for channel in CHANNELS:
        sources = [s for s in config.sources if s.channel == channel]
        if not sources:
            continue
        folder = SubElement(body, "outline", {"text": channel, "title": channel})
        for s in sources:
            attrs = {"type": "rss", "text": s.name, "title": s.name, "xmlUrl": s.url}
            if s.kind != "feed":
                attrs["listening:kind"] = s.kind
            SubElement(folder, "outline", attrs)
    indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8") + b"\n"
