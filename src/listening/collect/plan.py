"""What is due: register the configured sources, then plan the units to fetch in a run.

Runs inside the single writer (see ``listening.store.open_writer``), briefly: ``sync_sources``
makes ``raw.sources`` follow the config, ``due_units`` reads each source's state and its comment
threads and keeps the units with something due now (``listening.collect.staging`` writes them
to the run's plan).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from listening.collect.staging import Unit
from listening.collect.state import STATE_COLUMNS, SourceState, source_id
from listening.config import Config


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


def due_units(con: duckdb.DuckDBPyConnection, config: Config, now: datetime) -> list[Unit]:
    """The units with something due now (a source disabled in the config is skipped)."""
    quiet = config.settings.thread_quiet_days
    cols = ", ".join(["source_id", "kind", *STATE_COLUMNS])
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
        main = _source_state(mains[sid], desc, now, quiet_days=None)
        kids = [_source_state(r, child_desc, now, quiet_days=quiet) for r in children.get(sid, [])]
        unit = Unit(
            {"name": src.name, "url": src.url, "kind": src.kind, "channel": src.channel},
            main,
            kids,
        )
        if unit.is_due:
            units.append(unit)
    return units


def _source_state(row, description, now: datetime, quiet_days: int | None) -> SourceState:
    fs = SourceState(**{c[0]: v for c, v in zip(description, row, strict=True)})
    fs.is_due = fs.is_due_at(now)
    # A thread quiet for long stops being polled; a new comment count on its post
    # (slash:comments / thr:total) wakes it up again (see listening.collect.threads).
    last = fs.last_new_document_at
    if quiet_days is not None and last and (now - last).days >= quiet_days:
        fs.is_due = False
    return fs
