"""Personal data (GDPR): erasure of a person, retention, pseudonymised authors, suppression.

A person is a normalised author name on a site (the ``author_key`` and ``url_site`` macros of
migration 006, as in the authors mart). Everything here runs inside the single writer.

- ``forget`` deletes a person's documents, their mentions, analysts' corrections of them and
  alerts about them; other people's replies to an erased comment are kept and re-attached to
  the erased comment's parent (the thread stays one tree), and where other texts name the
  person the name is replaced by ``REDACTED``. Staging files, failure notes and pending
  corrections beside the store are cleaned too, and the person's keyed hash joins the
  suppression list, which ``apply_at_load`` checks before anything reaches the store.
- ``expire`` (each build, ``settings.retention_days``) deletes documents older than that, the
  same way.
- With ``settings.pseudonymize_authors`` names are replaced at load by ``pseudonym(name)``, a
  keyed hash (``LISTENING_PSEUDONYM_KEY``); a store that held names is converted at the next
  build. The brands' own accounts (``official_authors``) are not people and stay readable.

DuckDB keeps the bytes of deleted rows in free blocks, so every erasure asks the writer to
rewrite the file (``request_compaction``, then ``store.compact`` before the snapshot).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from listening.errors import ListeningError

ENV_PSEUDONYM_KEY = "LISTENING_PSEUDONYM_KEY"
PSEUDONYM_PREFIX = "pseudo-"
REDACTED = "[personne effacée]"
ANY_SITE = "*"
MIN_KEY_CHARS = 16
# Set on the writer's connection when rows were erased: the store file is rewritten before
# the snapshot is published (DuckDB leaves deleted rows' bytes in free blocks).
COMPACT_VARIABLE = "listening_compact"


class PrivacyError(ListeningError):
    """A missing or unusable secret, or an erasure request that cannot be carried out."""


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


# -- keys -------------------------------------------------------------------------------------


def pseudonym_key() -> bytes:
    """The pseudonymisation secret from ``LISTENING_PSEUDONYM_KEY``; a clear error without it."""
    key = os.environ.get(ENV_PSEUDONYM_KEY, "")
    if len(key) < MIN_KEY_CHARS:
        what = "is not set" if not key else f"is shorter than {MIN_KEY_CHARS} characters"
        raise PrivacyError(
            f"settings.pseudonymize_authors = true needs a secret key, but {ENV_PSEUDONYM_KEY} "
            f"{what}: export {ENV_PSEUDONYM_KEY}=$(python3 -c 'import secrets; "
            "print(secrets.token_hex(32))') in every process that loads or builds (Airflow "
            "workers too) and keep it safe: another key gives everyone new pseudonyms"
        )
    return key.encode("utf-8")


def pseudonym(name_key: str, key: bytes) -> str:
    """A stable pseudonym for a normalised name (``author_key``): ``pseudo-`` + 48 bits of
    HMAC-SHA-256, short enough to read in a table, long enough not to collide in practice."""
    digest = hmac.new(key, name_key.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:12]


def suppression_key_path(db: Path) -> Path:
    """The suppression list's secret, beside the store and never inside it: whoever reads the
    snapshot cannot test names against the list."""
    return db.with_name(f"{db.stem}.suppression.key")


def _suppression_key(db: Path | None, *, create: bool) -> bytes | None:
    if db is None:
        return None
    path = suppression_key_path(db)
    try:
        return bytes.fromhex(path.read_text("ascii").strip())
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, ValueError) as exc:
        raise PrivacyError(f"cannot read the suppression key {path}: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    os.replace(tmp, path)
    return bytes.fromhex(path.read_text("ascii").strip())


def suppression_hash(key: bytes, name_key: str, site: str) -> str:
    return hmac.new(key, f"{name_key}\x1f{site}".encode(), hashlib.sha256).hexdigest()


def _store_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(row[0]) if row and row[0] else None


def request_compaction(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"set variable {COMPACT_VARIABLE} = true")


def compaction_requested(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(f"select getvariable('{COMPACT_VARIABLE}')").fetchone()[0])


def _has_privacy_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' "
            "and table_name = 'suppressions'"
        ).fetchone()[0]
    )


# -- at load ------------------------------------------------------------------------------------


def apply_at_load(con: duckdb.DuckDBPyConnection, config, now: datetime) -> int:
    """Filter the temp table ``incoming`` (staged documents about to be upserted): drop the
    suppressed people and, with retention on, documents already too old; with
    ``pseudonymize_authors``, replace names by pseudonyms. Returns the documents dropped."""
    if not _has_privacy_tables(con):
        return 0
    dropped = _drop_suppressed(con, config)
    # A text where an erasure redacted a name, or where a quoted name became a pseudonym,
    # keeps that version when the feed serves it again (the feed still has the name, and the
    # quoted person may not be among this load's authors).
    pseudonymize = config is not None and config.settings.pseudonymize_authors
    con.execute(
        "update incoming as i set title = d.title, text = d.text from raw.documents as d "
        "where d.document_id = i.document_id and (contains(d.text, $r) "
        "or contains(coalesce(d.title, ''), $r) or ($p and regexp_matches("
        "coalesce(d.title, '') || ' ' || d.text, $pattern)))",
        {"r": REDACTED, "p": pseudonymize, "pattern": PSEUDONYM_PREFIX + "[0-9a-f]{12}"},
    )
    days = config.settings.retention_days if config is not None else 0
    if days:
        dropped += con.execute(
            "delete from incoming where published_at < ?", [now - timedelta(days=days)]
        ).fetchone()[0]
    if pseudonymize:
        _pseudonymize_table(con, "incoming", config, pseudonym_key())
    return dropped


def _drop_suppressed(con: duckdb.DuckDBPyConnection, config) -> int:
    if not con.execute("select count(*) from raw.suppressions").fetchone()[0]:
        return 0
    db = _store_path(con)
    key = _suppression_key(db, create=False)
    if key is None:
        where = suppression_key_path(db) if db else "beside the store"
        raise PrivacyError(
            f"the store lists people who asked to be forgotten but their key {where} is "
            "missing: restore it from the backup of the store's folder (without it they would "
            "be collected again)"
        )
    pkey = pseudonym_key() if config is not None and config.settings.pseudonymize_authors else None
    pairs = con.execute(
        "select distinct author_key(author) as k, url_site(url) as s from incoming "
        "where author_key(author) is not null"
    ).fetchall()
    listed = {r[0] for r in con.execute("select suppression_hash from raw.suppressions").fetchall()}
    hits = []
    for name_key, site in pairs:
        keys = [name_key] + ([pseudonym(name_key, pkey)] if pkey else [])
        if any(suppression_hash(key, k, s) in listed for k in keys for s in (site, ANY_SITE)):
            hits.append((name_key, site))
    if not hits:
        return 0
    return con.execute(
        "delete from incoming where (author_key(author), url_site(url)) in "
        "(select unnest(?::varchar[]), unnest(?::varchar[]))",
        [[h[0] for h in hits], [h[1] for h in hits]],
    ).fetchone()[0]


def _official_keys(con: duckdb.DuckDBPyConnection, config) -> set[str]:
    names = [a for b in config.brands for a in b.official_authors]
    if not names:
        return set()
    rows = con.execute("select author_key(unnest(?::varchar[]))", [names]).fetchall()
    return {r[0] for r in rows if r[0]}


def _pseudonymize_table(con: duckdb.DuckDBPyConnection, table: str, config, key: bytes) -> int:
    """Replace each name of ``table`` (``incoming`` or ``raw.documents``) by its pseudonym: in
    the author column, in the author's own title and text (WordPress comment titles read
    « Par : <name> »), and, for names of two words or more, in every text of the table (« je
    suis d'accord avec Marie Dupont »). Returns the rows changed."""
    official = _official_keys(con, config)
    rows = con.execute(
        f"select distinct author, author_key(author) from {table} "
        f"where author_key(author) is not null and author not like '{PSEUDONYM_PREFIX}%'"
    ).fetchall()
    by_name = {a: pseudonym(k, key) for a, k in rows if k not in official}
    if not by_name:
        return 0
    quoted = [(a, p) for a, p in by_name.items() if is_distinctive(a)]
    fixed = []
    for rowid, author, title, text in con.execute(
        f"select rowid, author, title, text from {table}"
    ).fetchall():
        new = [by_name.get(author, author), title, text]
        if author in by_name:
            new[1:] = [_replace(v, [author], by_name[author]) for v in new[1:]]
        low = f"{title or ''}\n{text or ''}".lower()
        for name, p in quoted:
            if name.lower() in low:
                new[1:] = [_replace(v, [name], p) for v in new[1:]]
        if new != [author, title, text]:
            fixed.append((rowid, *new))
    if not fixed:
        return 0
    con.execute(
        "create or replace temp table pseudonymized as select unnest(?::bigint[]) as rid, "
        "unnest(?::varchar[]) as author, unnest(?::varchar[]) as title, "
        "unnest(?::varchar[]) as text",
        [list(col) for col in zip(*fixed, strict=True)],
    )
    con.execute(
        f"update {table} as t set author = f.author, title = f.title, text = f.text "
        "from pseudonymized as f where t.rowid = f.rid"
    )
    con.execute(
        "create or replace temp table pseudonyms as select unnest(?::varchar[]) as author, "
        "unnest(?::varchar[]) as pseudonym",
        [list(by_name), list(by_name.values())],
    )
    return len(fixed)


def is_distinctive(name: str) -> bool:
    """A name worth replacing in other people's texts: two words or more (« Marie Dupont »), or
    a handle with a digit, an underscore, a dot or an @ (« thomas33 »). A bare first name
    (« Thomas ») is too common a word: replacing it everywhere would hit other Thomases."""
    return len(name.split()) >= 2 or bool(re.search(r"[\d_@.]", name))


def _replace(value: str | None, names: Iterable[str], by: str) -> str | None:
    """``value`` with each name (whole words, any case) replaced by ``by``."""
    if not value:
        return value
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        value = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", by, value, flags=re.IGNORECASE)
    return value


# -- at build ---------------------------------------------------------------------------------


def before_build(con: duckdb.DuckDBPyConnection, config, now: datetime) -> ErasureStats:
    """Retention and pseudonymisation of what the store already holds; called by each build
    before the marts. Returns what retention removed."""
    if not _has_privacy_tables(con):
        return ErasureStats()
    if config.settings.pseudonymize_authors:
        key = pseudonym_key()
        con.execute("begin transaction")
        try:
            n = _pseudonymize_table(con, "raw.documents", config, key)
            if n:
                _pseudonymize_alerts(con, key)
                _audit(con, "pseudonymize", now, ErasureStats(n_documents=n))
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        if n:
            request_compaction(con)
    stats = ErasureStats()
    days = config.settings.retention_days
    if days:
        stats = expire(con, now - timedelta(days=days), now)
    return stats


def _pseudonymize_alerts(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Alert summaries name people (« Marie (blog.fr), habituée… »): same replacement."""
    rows = con.execute("select author, pseudonym from pseudonyms").fetchall()
    alerts = con.execute("select alert_id, summary from raw.alerts").fetchall()
    for alert_id, summary in alerts:
        new = summary
        for name, p in rows:
            new = _replace(new, [name], p)
        if new != summary:
            con.execute("update raw.alerts set summary = ? where alert_id = ?", [new, alert_id])


def expire(con: duckdb.DuckDBPyConnection, cutoff: datetime, now: datetime) -> ErasureStats:
    """Delete documents published before ``cutoff`` (with what derives from them)."""
    con.execute("begin transaction")
    try:
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
            _audit(con, "retention", now, stats)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    db = _store_path(con)
    if db is not None:
        stats.n_files += _expire_failure_notes(db, cutoff)
    if stats.total:
        request_compaction(con)
    return stats


def _expire_failure_notes(db: Path, cutoff: datetime) -> int:
    from listening.failures import failures_dir

    n = 0
    for path in (failures_dir(db) / "ingested").glob("*.json"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff.timestamp():
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


def _audit(con: duckdb.DuckDBPyConnection, reason: str, now: datetime, s: ErasureStats) -> None:
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
    con.execute("begin transaction")
    try:
        con.execute(
            "create or replace temp table erased as select document_id, parent_id, "
            "substr(md5(author_key(author) || '@' || url_site(url)), 1, 16) as author_id "
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
            if subject in author_ids or _replace(summary, _quotable(who), REDACTED) != summary
        ]
        if about:
            con.execute(
                "delete from raw.alerts where alert_id in (select unnest(?::varchar[]))", [about]
            )
            stats.n_alerts += len(about)
        stats.n_texts_redacted = _redact_documents(con, _quotable(who))
        if not dry_run:
            key = _suppression_key(db, create=True)
            sites = [who.site] if who.site else [ANY_SITE]
            hashes = [suppression_hash(key, k, s) for k in who.keys for s in sites]
            con.execute(
                "insert into raw.suppressions select unnest(?::varchar[]), ? "
                "on conflict do nothing",
                [hashes, now],
            )
            stats.n_files = _clean_files(con, db, staging, who)
            _audit(con, "forget", now, stats)
        con.execute("rollback" if dry_run else "commit")
    except Exception:
        con.execute("rollback")
        raise
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
            _replace(title, spellings, REDACTED),
            _replace(text, spellings, REDACTED),
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
    from listening.failures import failures_dir
    from listening.overrides import overrides_dir

    n = 0
    erased_mentions = {
        r[0] for r in con.execute("select mention_id from erased_mentions").fetchall()
    }
    for path in sorted(staging.glob("*/*.documents.jsonl")) if staging.is_dir() else []:
        lines = path.read_text("utf-8").splitlines()
        kept = []
        for line in lines:
            doc = json.loads(line) if line.strip() else None
            if doc is None or _is_person(con, who, doc.get("author"), doc.get("url")):
                continue
            kept.append(_replace(line, _quotable(who), REDACTED))
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
        new = _replace(text, [json.dumps(s)[1:-1] for s in quoted] + quoted, REDACTED)
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
