"""Erasure (GDPR): delete documents with everything derived from them, for a person
(``listening forget``) or by age (``settings.retention_days``).

A person is a normalised author name on a site (the ``author_key`` and ``url_site`` macros
of migration 006, as in the authors mart). Other people's replies to an erased comment are
kept and re-attached to its nearest surviving ancestor, so a thread stays one tree; where other
texts name the person (distinctive names only, see ``privacy.is_distinctive``), the name
becomes ``REDACTED``. Files beside the store (staging, failure notes, pending corrections) are
cleaned too, and every erasure adds a line of counts to ``raw.erasures``. The writer then
rewrites the store file (``privacy.request_compaction``): DuckDB keeps deleted bytes.

``before_build`` runs at each build, before the marts: retention, and the conversion of a
store that held names once ``settings.pseudonymize_authors`` is on (``listening.store.privacy``
holds the keys and the pseudonyms; it never imports this module).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from listening import store
from listening.store.privacy import (
    ANY_SITE,
    PSEUDONYM_PREFIX,
    REDACTED,
    PrivacyError,
    has_privacy_tables,
    is_distinctive,
    pseudonym,
    pseudonym_key,
    pseudonymize_alerts,
    pseudonymize_table,
    replace_names,
    request_compaction,
    store_file,
    suppression_hash,
    suppression_key,
)


@dataclass
class ErasureStats:
    n_documents: int = 0
    n_mentions: int = 0
    n_overrides: int = 0
    n_alerts: int = 0
    n_replies_reattached: int = 0
    n_texts_redacted: int = 0
    n_files: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def expire(con: duckdb.DuckDBPyConnection, cutoff: datetime, now: datetime) -> ErasureStats:
    """Delete documents published before ``cutoff`` (with what derives from them)."""
    with store.transaction(con):
        con.execute(
            "create or replace temp table erased as select document_id, parent_id "
            "from raw.documents where published_at < ?",
            [cutoff],
        )
        stats = _erase(con)
        stats.n_alerts += con.execute(
            "delete from raw.alerts where coalesce(closed_at, opened_at) < ?", [cutoff]
        ).fetchone()[0]
        if stats.total:
            audit(con, "retention", now, stats)
    db = store_file(con)
    if db is not None:
        stats.n_files += _expire_failure_notes(db, cutoff) + _expire_reports(db, cutoff)
    if stats.total:
        request_compaction(con)
    return stats


def _expire_failure_notes(db: Path, cutoff: datetime) -> int:
    from listening.store.failures import failures_dir

    n = 0
    for path in (failures_dir(db) / "ingested").glob("*.json"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff.timestamp():
                path.unlink()
                n += 1
    return n


def _expire_reports(db: Path, cutoff: datetime) -> int:
    """Delete the weekly reports of weeks that began before ``cutoff``: they quote mentions
    and name voices that retention has just removed."""
    n = 0
    for path in sorted(store.reports_dir(db).glob("*/*-W[0-9][0-9].*")):
        year, _, week = path.stem.partition("-W")
        try:
            monday = date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            continue  # not a report's name: not ours to delete
        if path.suffix in (".pdf", ".html") and monday < cutoff.date():
            with contextlib.suppress(OSError):
                path.unlink()
                n += 1
    return n


def _erase(con: duckdb.DuckDBPyConnection) -> ErasureStats:
    """Delete the documents listed in temp table ``erased`` and everything keyed on them.

    Replies by others are kept: each is re-attached to the nearest ancestor that stays (NULL:
    a reply to the post), so a thread remains one tree.
    """
    stats = ErasureStats()
    stats.n_documents = con.execute("select count(*) from erased").fetchone()[0]
    # Walk up chains of erased comments (a reply to a reply to the erased person).
    con.execute(
        """
        create or replace temp table reattach as
        with recursive up(document_id, parent_id, depth) as (
            select document_id, parent_id, 0 from erased
            union all
            select u.document_id, e.parent_id, u.depth + 1
            from up as u join erased as e on e.document_id = u.parent_id
            where u.depth < 1000
        )
        select document_id, arg_max_null(parent_id, depth) as new_parent
        from up group by document_id
        """
    )
    stats.n_replies_reattached = con.execute(
        "update raw.documents as d set parent_id = r.new_parent from reattach as r "
        "where d.parent_id = r.document_id "
        "and d.document_id not in (select document_id from erased)"
    ).fetchone()[0]
    con.execute(
        "create or replace temp table erased_mentions as select mention_id from raw.mentions "
        "where document_id in (select document_id from erased)"
    )
    stats.n_mentions = con.execute("select count(*) from erased_mentions").fetchone()[0]
    stats.n_overrides = con.execute(
        "delete from raw.sentiment_overrides "
        "where mention_id in (select mention_id from erased_mentions)"
    ).fetchone()[0]
    con.execute("delete from raw.mentions where mention_id in (select * from erased_mentions)")
    con.execute(
        "delete from raw.document_analysis where document_id in (select document_id from erased)"
    )
    con.execute("delete from raw.documents where document_id in (select document_id from erased)")
    gone = {r[0] for r in con.execute("select mention_id from erased_mentions").fetchall()}
    hit = con.execute(
        "select alert_id, evidence from raw.alerts where list_has_any(evidence, ?::varchar[])",
        [sorted(gone)],
    ).fetchall()
    for alert_id, evidence in hit:
        con.execute(
            "update raw.alerts set evidence = ? where alert_id = ?",
            [[m for m in evidence if m not in gone], alert_id],
        )
    stats.n_alerts = len(hit)
    return stats


def audit(con: duckdb.DuckDBPyConnection, reason: str, now: datetime, s: ErasureStats) -> None:
    con.execute(
        "insert into raw.erasures values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            now,
            reason,
            s.n_documents,
            s.n_mentions,
            s.n_overrides,
            s.n_alerts,
            s.n_replies_reattached,
            s.n_texts_redacted,
            s.n_files,
        ],
    )


# -- at build -----------------------------------------------------------------------------------


def before_build(con: duckdb.DuckDBPyConnection, config, now: datetime) -> ErasureStats:
    """Retention and pseudonymisation of what the store already holds; called by each build
    before the marts. Returns what retention removed."""
    if not has_privacy_tables(con):
        return ErasureStats()
    if config.settings.pseudonymize_authors:
        key = pseudonym_key()
        with store.transaction(con):
            n = pseudonymize_table(con, "raw.documents", config, key)
            if n:
                pseudonymize_alerts(con, key)
                audit(con, "pseudonymize", now, ErasureStats(n_documents=n))
        if n:
            request_compaction(con)
    stats = ErasureStats()
    days = config.settings.retention_days
    if days:
        stats = expire(con, now - timedelta(days=days), now)
    return stats


# -- forget -------------------------------------------------------------------------------------


@dataclass
class Person:
    """Who to forget: the name as given, its keys (name, and pseudonym when pseudonymised),
    the site (None: every site) and the strings to redact from other texts."""

    name: str
    keys: list[str]
    site: str | None
    spellings: list[str]


def person(con: duckdb.DuckDBPyConnection, config, name: str, site: str | None) -> Person:
    name_key = con.execute("select author_key(?)", [name]).fetchone()[0]
    if not name_key:
        raise PrivacyError("--author is empty: give the person's name as it appears")
    host = None
    if site:
        host = con.execute(
            "select url_site(?)", [site if "://" in site else f"http://{site}"]
        ).fetchone()[0]
        if not host:
            raise PrivacyError(f"--site {site!r} is not a host name: give e.g. blog.example.fr")
    keys, spellings = [name_key], [name]
    if config.settings.pseudonymize_authors and not name_key.startswith(PSEUDONYM_PREFIX):
        p = pseudonym(name_key, pseudonym_key())
        keys.append(p)
        spellings.append(p)
    # Every spelling the store holds for this person (case, spaces) is redacted elsewhere.
    stored = con.execute(
        "select distinct author from raw.documents where author_key(author) in "
        "(select unnest(?::varchar[])) and (?::varchar is null or url_site(url) = ?)",
        [keys, host, host],
    ).fetchall()
    spellings += [r[0] for r in stored]
    return Person(name, keys, host, sorted(set(spellings), key=len, reverse=True))


def _quotable(who: Person) -> list[str]:
    return [s for s in who.spellings if is_distinctive(s)]


def forget(
    con: duckdb.DuckDBPyConnection,
    db: Path,
    who: Person,
    now: datetime,
    *,
    staging: Path,
    dry_run: bool = False,
) -> ErasureStats:
    """Erase a person from the store and the files beside it; add them to the suppression
    list. With ``dry_run`` nothing changes: the counts say what would go."""
    with store.transaction(con, keep=not dry_run):
        con.execute(
            "create or replace temp table erased as select document_id, parent_id, "
            "author_id(author_key(author), url_site(url)) as author_id "
            "from raw.documents where author_key(author) in (select unnest(?::varchar[])) "
            "and (?::varchar is null or url_site(url) = ?)",
            [who.keys, who.site, who.site],
        )
        author_ids = [r[0] for r in con.execute("select distinct author_id from erased").fetchall()]
        stats = _erase(con)
        # Alerts about the person (subject = their author_id, or naming them) go entirely.
        about = [
            alert_id
            for alert_id, subject, summary in con.execute(
                "select alert_id, subject, summary from raw.alerts"
            ).fetchall()
            if subject in author_ids or replace_names(summary, _quotable(who), REDACTED) != summary
        ]
        if about:
            con.execute(
                "delete from raw.alerts where alert_id in (select unnest(?::varchar[]))", [about]
            )
            stats.n_alerts += len(about)
        stats.n_texts_redacted = _redact_documents(con, _quotable(who))
        if not dry_run:
            key = suppression_key(db, create=True)
            sites = [who.site] if who.site else [ANY_SITE]
            hashes = [suppression_hash(key, k, s) for k in who.keys for s in sites]
            con.execute(
                "insert into raw.suppressions select unnest(?::varchar[]), ? "
                "on conflict do nothing",
                [hashes, now],
            )
            stats.n_files = _clean_files(con, db, staging, who)
            audit(con, "forget", now, stats)
    if not dry_run:
        request_compaction(con)
    return stats


def _redact_documents(con: duckdb.DuckDBPyConnection, spellings: list[str]) -> int:
    """Other people's texts naming the person: the name becomes ``REDACTED``."""
    rows = con.execute(
        "select rowid, title, text from raw.documents where "
        "list_bool_or([contains(lower(coalesce(title, '') || ' ' || text), lower(s)) "
        "for s in ?::varchar[]])",
        [spellings],
    ).fetchall()
    n = 0
    for rowid, title, text in rows:
        new_title, new_text = (
            replace_names(title, spellings, REDACTED),
            replace_names(text, spellings, REDACTED),
        )
        if (new_title, new_text) != (title, text):
            con.execute(
                "update raw.documents set title = ?, text = ? where rowid = ?",
                [new_title, new_text, rowid],
            )
            n += 1
    return n


def _clean_files(con: duckdb.DuckDBPyConnection, db: Path, staging: Path, who: Person) -> int:
    """Staged documents of the person are dropped (the rest of each file is kept, name
    redacted); failure notes and pending corrections naming them are rewritten."""
    from listening.collect.staging import document_files
    from listening.store.failures import failures_dir
    from listening.store.overrides import overrides_dir

    n = 0
    erased_mentions = {
        r[0] for r in con.execute("select mention_id from erased_mentions").fetchall()
    }
    for path in document_files(staging):
        lines = path.read_text("utf-8").splitlines()
        kept = []
        for line in lines:
            doc = json.loads(line) if line.strip() else None
            if doc is None or _is_person(con, who, doc.get("author"), doc.get("url")):
                continue
            kept.append(replace_names(line, _quotable(who), REDACTED))
        if kept != lines:
            _write_aside(path, "".join(k + "\n" for k in kept))
            n += 1
    notes = [*failures_dir(db).glob("*.json"), *(failures_dir(db) / "ingested").glob("*.json")]
    for path in [*notes, *overrides_dir(db).glob("*.json")]:
        try:
            text = path.read_text("utf-8")
        except OSError:
            continue
        record = _json_or_none(text)
        if isinstance(record, dict) and record.get("mention_id") in erased_mentions:
            path.unlink()
            n += 1
            continue
        quoted = _quotable(who)
        new = replace_names(text, [json.dumps(s)[1:-1] for s in quoted] + quoted, REDACTED)
        if new != text:
            _write_aside(path, new)
            n += 1
    return n


def _is_person(con: duckdb.DuckDBPyConnection, who: Person, author, url) -> bool:
    if not author or not any(k.split(" ")[0] in author.lower() for k in who.keys):
        return False  # the common case, decided without a query
    key, site = con.execute("select author_key(?), url_site(?)", [author, url or ""]).fetchone()
    return key in who.keys and (who.site is None or site == who.site)


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _write_aside(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
