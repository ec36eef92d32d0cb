"""Personal data (GDPR): the keys, suppression at load, pseudonymised authors, retention.

A person is a normalised author name on a site (the ``author_key`` and ``url_site`` macros of
migration 006, as in the authors mart). Everything here runs inside the single writer.

- ``apply_at_load`` drops the documents of people on the suppression list (keyed hashes
  added by ``listening forget``, see ``listening.store.erasure``) before anything reaches the store,
  and, with retention on, documents already too old.
- ``erasure.before_build`` applies ``settings.retention_days`` at each build.
- With ``settings.pseudonymize_authors`` names are replaced at load by ``pseudonym(name)``, a
  keyed hash (``LISTENING_PSEUDONYM_KEY``); a store that held names is converted at the next
  build. The brands' own accounts (``official_authors``) are not people and stay readable.

DuckDB keeps the bytes of deleted rows in free blocks, so every erasure asks the writer to
rewrite the file (``request_compaction``, then ``store.compact`` before the snapshot).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
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


def suppression_key(db: Path | None, *, create: bool) -> bytes | None:
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


def store_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(row[0]) if row and row[0] else None


def request_compaction(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"set variable {COMPACT_VARIABLE} = true")


def compaction_requested(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(f"select getvariable('{COMPACT_VARIABLE}')").fetchone()[0])


def has_privacy_tables(con: duckdb.DuckDBPyConnection) -> bool:
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
    if not has_privacy_tables(con):
        return 0
    anyone_forgotten = bool(con.execute("select count(*) from raw.suppressions").fetchone()[0])
    dropped = _drop_suppressed(con, config) if anyone_forgotten else 0
    # A text where an erasure redacted a name, or where a quoted name became a pseudonym,
    # keeps that version when the feed serves it again (the feed still has the name, and the
    # quoted person may not be among this load's authors). Every erasure lists its person in
    # raw.suppressions: with nobody listed and no pseudonyms, no stored text has either, and
    # the scan of every stored text (1 s at 3M documents) is skipped; a text that merely quotes
    # the marker is then updated like any other.
    pseudonymize = config is not None and config.settings.pseudonymize_authors
    if anyone_forgotten or pseudonymize:
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
        pseudonymize_table(con, "incoming", config, pseudonym_key())
    return dropped


def _drop_suppressed(con: duckdb.DuckDBPyConnection, config) -> int:
    db = store_file(con)
    key = suppression_key(db, create=False)
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


def pseudonymize_table(con: duckdb.DuckDBPyConnection, table: str, config, key: bytes) -> int:
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
            new[1:] = [replace_names(v, [author], by_name[author]) for v in new[1:]]
        low = f"{title or ''}\n{text or ''}".lower()
        for name, p in quoted:
            if name.lower() in low:
                new[1:] = [replace_names(v, [name], p) for v in new[1:]]
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


def replace_names(value: str | None, names: Iterable[str], by: str) -> str | None:
    """``value`` with each name (whole words, any case) replaced by ``by``."""
    if not value:
        return value
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        value = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", by, value, flags=re.IGNORECASE)
    return value


def pseudonymize_alerts(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Alert summaries name people (« Marie (blog.fr), habituée… »): same replacement."""
    rows = con.execute("select author, pseudonym from pseudonyms").fetchall()
    alerts = con.execute("select alert_id, summary from raw.alerts").fetchall()
    for alert_id, summary in alerts:
        new = summary
        for name, p in rows:
            new = replace_names(new, [name], p)
        if new != summary:
            con.execute("update raw.alerts set summary = ? where alert_id = ?", [new, alert_id])
