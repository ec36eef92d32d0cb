"""The DuckDB store: migrations, the single-writer lock, and the published read-only snapshot.

DuckDB lets one process open a file read-write, and no other process may open it at all while
that writer holds it. So: writers (load, analyze, build) take an exclusive file lock first and
hold the store only for their transaction; readers (``listening sql``, dashboards) never open
the live store but a snapshot that writers publish by copying the file aside, then renaming it
over the previous snapshot (an atomic replace on POSIX file systems). The copy is the snapshot
before, kept as a spare and brought up to date where the store changed (``publish``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from listening.errors import StoreError
from listening.store import blocks

ENV_DB = "LISTENING_DB"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def sql_dir() -> Path:
    """The project's ``sql/`` folder (next to ``src/`` in a checkout, or shipped in the wheel)."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "sql", Path(str(resources.files("listening"))) / "sql"):
        if (candidate / "migrations").is_dir():
            return candidate
    raise StoreError("cannot find the sql/ folder with migrations next to the listening package")


def mart_names() -> list[str]:
    """The marts, in name order: one per file of ``sql/marts`` (the one list of them, for the
    dashboards, the tests and the bench; the build runs the files themselves)."""
    return sorted(path.stem for path in (sql_dir() / "marts").glob("*.sql"))


def migrations() -> list[Migration]:
    out = []
    for path in sorted((sql_dir() / "migrations").glob("*.sql")):
        m = re.match(r"^(\d+)_(.+)\.sql$", path.name)
        if not m:
            raise StoreError(f"{path}: migration files are named NNN_name.sql")
        out.append(Migration(int(m.group(1)), m.group(2), path.read_text("utf-8")))
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise StoreError("two migrations share a version number in sql/migrations")
    return out


def store_path(cli_value: str | None, settings_store: Path | None) -> Path:
    """``--db``, else ``LISTENING_DB``, else ``settings.store``."""
    value = cli_value or os.environ.get(ENV_DB)
    if value:
        return Path(value).expanduser()
    if settings_store is None:
        raise StoreError("no store given: pass --db, set LISTENING_DB or settings.store")
    return settings_store


def snapshot_path(db: Path) -> Path:
    """Where the snapshot of ``db`` is published (``x.duckdb`` → ``x.snapshot.duckdb``)."""
    return db.with_name(f"{db.stem}.snapshot{db.suffix or '.duckdb'}")


def reports_dir(db: Path) -> Path:
    """``reports/`` beside the store: the weekly reports, ``<brand>/<ISO week>.pdf|html``."""
    return db.parent / "reports"


def staging_dir(db: Path, configured: Path | None = None) -> Path:
    """``settings.staging_dir`` when set (shared storage for remote fetch workers), else
    ``staging/`` beside the store."""
    return configured if configured is not None else db.parent / "staging"


# -- the writer -------------------------------------------------------------------------------


@contextlib.contextmanager
def writer_lock(db: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Exclusive lock on ``<db>.lock``: one writer at a time across processes.

    A second writer blocks on ``flock`` (the kernel wakes it when the first one exits, no
    polling) after telling the user why it waits.
    """
    lock_file = db.with_name(db.name + ".lock")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_file, "a+")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise StoreError(
            f"cannot create the store's lock file {lock_file}: {exc.strerror}; check the "
            "path (--db, LISTENING_DB or settings.store) and its permissions"
        ) from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            if on_wait:
                on_wait(f"waiting for the store lock on {db} (held by {holder})…")
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}: {' '.join(sys.argv[:2])}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def applied_versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'main' "
        "and table_name = 'schema_migrations'"
    ).fetchone()[0]
    if not exists:
        return []
    rows = con.execute("select version from schema_migrations order by version").fetchall()
    return [r[0] for r in rows]


def migrate(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[Migration]:
    """Apply the migrations the store lacks, each in its own transaction; return those applied.

    A store with a migration this code does not know was written by a newer ``listening``:
    it is refused rather than risk misreading it.
    """
    known = migrations()
    applied = applied_versions(con)
    newest_known = max((m.version for m in known), default=0)
    too_new = [v for v in applied if v > newest_known]
    if too_new:
        raise StoreError(
            f"the store is at schema version {max(applied)} but this listening knows versions "
            f"up to {newest_known}: upgrade listening (uv sync / pip install -U listening) "
            "instead of using an older version on this store"
        )
    now = now or datetime.now(UTC)
    con.execute(
        "create table if not exists schema_migrations ("
        "version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = []
    for m in known:
        if m.version in applied:
            continue
        with transaction(con):
            con.execute(m.sql)
            con.execute("insert into schema_migrations values (?, ?, ?)", [m.version, m.name, now])
        done.append(m)
    if done:
        con.execute(
            "comment on table schema_migrations is "
            "'Schema migrations applied to this store (sql/migrations).'"
        )
    return done


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection, *, keep: bool = True) -> Iterator[None]:
    """One transaction around the block: committed at its end (rolled back instead when
    ``keep`` is false, as a dry run does), rolled back if the block raises."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit" if keep else "rollback")
    except Exception:
        con.execute("rollback")
        raise


@contextlib.contextmanager
def open_writer(
    db: Path, *, on_wait: Callable[[str], None] | None = None, publish_after: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one read-write connection: lock, open, migrate; on success close and publish."""
    from listening.store.privacy import compaction_requested

    with writer_lock(db, on_wait):
        con = connect(db, read_only=False)
        try:
            migrate(con)
            yield con
            con.execute("checkpoint")
            rewrite = compaction_requested(con)
        finally:
            con.close()
        if rewrite:
            compact(db, locked=True)
        if publish_after:
            publish(db, locked=True, wait=rewrite)


def connect(db: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(db), read_only=read_only)
    except duckdb.IOException as exc:
        raise StoreError(f"cannot open the store {db}: {_first_line(exc)}") from None


def publish(db: Path, *, locked: bool = False, wait: bool = False) -> Path:
    """Copy the store aside, then rename it over the snapshot: readers see old or new, whole.

    The snapshot being replaced is kept as a spare (``.<snapshot>.spare``, one more copy of
    the store on disk). The next publish makes the spare equal to the store again by writing
    only the blocks that differ (``listening.store.blocks``), then renames it over the
    snapshot. The spare is two publishes old, so that is what the last two writers changed:
    on a 3 GB store, about 250 MB after a one-day build. The spare is written only when no
    reader has it open: the project's readers pin their snapshot (``pin``), other DuckDB
    readers hold DuckDB's shared lock on it, and publish updates the spare under an exclusive
    lock taken without waiting. A reader still on it (a long ``listening sql``, a page
    mid-query) makes this publish copy the whole store instead, and the busy spare is deleted
    once its readers close it.

    Without a spare the copy is a reflink where the file system has them (btrfs, XFS,
    bcachefs: the copy shares the store's blocks until the writer changes them), else an
    in-kernel copy (``copy_file_range``). A hard link or an update of the snapshot in place
    would not do: DuckDB writes the live file in place, and readers may have the snapshot open.

    ``wait`` is for erasures: no spare is used or kept (it holds the old bytes), and the old
    snapshots are deleted when publish returns. Otherwise they are deleted by a process of its
    own once the new one is in place: freeing the blocks of a file of gigabytes takes ext4 a
    second or two, which the writer need not wait for."""
    if not locked:
        with writer_lock(db):
            return publish(db, locked=True, wait=wait)
    target = snapshot_path(db)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    spare = spare_path(target)
    old = target.with_name(f"{OLD_PREFIX}{target.name}.{os.getpid()}")
    # old snapshots being deleted, and what a publish killed midway left (under the writer
    # lock, no other publish is running)
    leftovers = [
        *target.parent.glob(f"{OLD_PREFIX}{target.name}.*"),
        *(p for p in target.parent.glob(f".{target.name}.tmp-*") if p != tmp),
    ]
    try:
        refreshed = not wait and _refresh_spare(db, spare, tmp)
        if not refreshed:
            if spare.exists():  # erased bytes, or a reader still on it: out of the way
                busy = target.with_name(f"{OLD_PREFIX}{target.name}.spare.{os.getpid()}")
                with contextlib.suppress(OSError):
                    os.replace(spare, busy)
                    leftovers.append(busy)
            clone_or_copy(db, tmp)
        # the snapshot being replaced: the next spare, or deleted below
        keep = old if wait else spare
        if keep not in leftovers:
            with contextlib.suppress(OSError):  # no old snapshot, or no hard links here
                os.link(target, keep)
                if wait:
                    leftovers.append(old)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        removal = remove_later(leftovers)
        if removal and wait:
            removal.wait()
    return target


def spare_path(snapshot: Path) -> Path:
    """The previous snapshot, kept so that the next publish writes only what changed."""
    return snapshot.with_name(f".{snapshot.name}.spare")


def _refresh_spare(db: Path, spare: Path, tmp: Path) -> bool:
    """Move the spare to ``tmp`` and make it equal to ``db``, unless a reader holds it; return
    whether it was done."""
    try:
        fd = os.open(spare, os.O_RDWR)
    except OSError:  # no spare, or one this user may not write: copy the store instead
        return False
    try:
        try:
            if not _lock(fd, fcntl.F_WRLCK):
                return False
        except OSError:  # no such locks here: readers cannot be seen, so copy
            return False
        if os.fstat(fd).st_nlink != 1:
            # also the snapshot's name: a publish died between its link and its rename;
            # updating it would write the live snapshot in place
            return False
        os.replace(spare, tmp)
        blocks.update_in_place(db, fd)
        # A copy's new blocks reach the disk before the rename that publishes them (ext4
        # flushes a file renamed over another), blocks rewritten in place do not: without
        # this, a power cut could leave a snapshot of new headers over blocks of before.
        getattr(os, "fdatasync", os.fsync)(fd)  # macOS has fsync only
        # the inodes alternate between two files: a new mtime tells the dashboards' caches
        # (inode, mtime, size) that this is another snapshot, even if no block changed
        os.utime(fd)
        return True
    finally:
        os.close(fd)  # and the lock with it, before the file is renamed where readers look


def _lock(fd: int, kind: int) -> bool:
    """A lock on the whole file (``fcntl.F_RDLCK`` shared, ``F_WRLCK`` exclusive), taken without
    waiting; False when another holds a conflicting one. Any other failure (a file system
    without such locks) raises ``OSError``. On Linux an open file description lock: it is this
    descriptor's alone, conflicts with every other descriptor's lock (this process's too) and
    with the classic fcntl locks DuckDB takes on its files (shared for a reader). Elsewhere a
    classic lock, which sees other processes' locks only."""
    try:
        if hasattr(fcntl, "F_OFD_SETLK"):
            whole_file = struct.pack("hhqqi", kind, os.SEEK_SET, 0, 0, 0)
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, whole_file)
        else:
            op = fcntl.LOCK_EX if kind == fcntl.F_WRLCK else fcntl.LOCK_SH
            fcntl.lockf(fd, op | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


class SnapshotMissing(StoreError):
    """No file at the snapshot's path (none published yet, or deleted by hand)."""


class SnapshotHeld(StoreError):
    """Another process holds the snapshot open for writing (a DuckDB client, not read-only)."""


PIN_TIMEOUT = 10.0  # seconds a reader waits for a snapshot another process holds for writing


def pin(snapshot: Path, *, timeout: float | None = None) -> int:
    """Open the file now at ``snapshot`` and hold a shared lock on it as long as the returned
    descriptor is open (see ``attach_pinned``, the way readers open the snapshot).

    Publish updates the spare in place only when no reader holds it. DuckDB's own lock is not
    enough to tell: a process loses all its classic fcntl locks on a file when it closes any
    descriptor of it (another connection to the same snapshot closing, DuckDB's own check of
    the file on attach), so a page still reading an old snapshot could have it rewritten
    under it. This lock belongs to the descriptor alone. It is tried without waiting, again
    every 20 ms up to ``timeout``: a DuckDB client that opened the snapshot read-write holds
    it as long as it stays open."""
    deadline = time.monotonic() + (PIN_TIMEOUT if timeout is None else timeout)
    while True:
        try:
            fd = os.open(snapshot, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise SnapshotMissing(
                f"no published snapshot at {snapshot}: run `listening init` (or `listening run`) "
                "first"
            ) from None
        try:
            try:
                locked = _lock(fd, fcntl.F_RDLCK)
            except OSError:
                # a file system without these locks: publish cannot take its lock either, so it
                # never updates a snapshot in place here; read without a pin
                locked = True
            if locked and same_file(fd, snapshot):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if time.monotonic() > deadline:
            raise SnapshotHeld(
                f"cannot read the snapshot {snapshot}: another process holds it open for "
                "writing; open it read-only (duckdb -readonly, read_only=True)"
            )
        time.sleep(0.02)


def same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` names the file open at ``fd`` (a publish renames a new one over it)."""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def attach_pinned(con: duckdb.DuckDBPyConnection, snapshot: Path, alias: str) -> None:
    """ATTACH ``snapshot`` read-only as ``alias``, pinned (``pin``) for as long as ``con``
    lives. DuckDB opens the path, so the pin is checked to be the file it opened: the path
    named the pinned file when the lock was taken and still does after the attach, and a
    pinned file never comes back to the path once it left it (publish cannot lock it to
    update it). A publish in between: detach, and pin the new snapshot."""
    for _ in range(5):
        fd = pin(snapshot)
        kept = False
        try:
            con.execute(f"attach ? as {alias} (read_only)", [str(snapshot)])
            if same_file(fd, snapshot):
                weakref.finalize(con, os.close, fd)
                kept = True
                return
            con.execute(f"detach {alias}")
        finally:
            if not kept:
                os.close(fd)
    raise StoreError(f"the snapshot {snapshot} was replaced 5 times while it was being opened")


OLD_PREFIX = ".old-"  # old snapshots being deleted: .old-x.snapshot.duckdb.<pid>
_removals: list[subprocess.Popen] = []  # kept until done, so that none is left a zombie


def remove_later(paths: list[Path]) -> subprocess.Popen | None:
    """Delete ``paths`` in a process of its own (``rm -f``), which outlives the caller."""
    _removals[:] = [p for p in _removals if p.poll() is None]
    if not paths:
        return None
    removal = subprocess.Popen(
        ["rm", "-f", "--", *map(str, paths)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _removals.append(removal)
    return removal


# linux/fs.h: FICLONE = _IOW(0x94, 9, int), "share the source's blocks" (ioctl_ficlone(2)).
FICLONE = 0x40049409


def clone_or_copy(src: Path, dst: Path) -> str:
    """Copy ``src`` to a new file ``dst``; return how: "reflink" or "copy"."""
    # a new inode, never an old one truncated: ``dst`` may be a name left linked to a file
    # that readers have open
    with contextlib.suppress(FileNotFoundError):
        dst.unlink()
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), FICLONE, fin.fileno())
            return "reflink"
        except OSError:
            pass  # ext4, tmpfs…: no shared blocks, copy the bytes
        left = os.fstat(fin.fileno()).st_size
        try:
            while left > 0:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), left)
                if n == 0:
                    break
                left -= n
        except (OSError, AttributeError):  # an old kernel, a file system or OS without it
            fin.seek(0)
            fout.seek(0)
            fout.truncate()
            shutil.copyfileobj(fin, fout, 1 << 20)
    return "copy"


def compact(db: Path, *, locked: bool = False) -> tuple[int, int]:
    """Rewrite the store into a fresh file, then rename it over the old one; return the sizes
    (bytes) before and after.

    DuckDB reuses the blocks of deleted rows but does not wipe them, so an erased name stays
    readable in the file (``strings`` finds it) until the blocks are overwritten. Copying the
    live data into a new file (``COPY FROM DATABASE``: tables, views, macros, comments,
    constraints) leaves the old bytes behind for good. The caller holds no connection to ``db``.
    """
    if not locked:
        with writer_lock(db):
            return compact(db, locked=True)
    before = db.stat().st_size
    tmp = db.with_name(f".{db.name}.compact-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    con = duckdb.connect(":memory:")
    try:
        con.execute("attach ? as old (read_only)", [str(db)])
        con.execute("attach ? as fresh", [str(tmp)])
        con.execute("copy from database old to fresh")
        con.execute("detach old")
        con.execute("checkpoint fresh")
        con.execute("detach fresh")
        con.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, db)
    finally:
        con.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return before, db.stat().st_size


# -- readers ------------------------------------------------------------------------------------


def open_reader(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot of ``db`` (never the live store)."""
    snap = snapshot_path(db)
    # ATTACH rather than connect(path): duckdb.connect caches one instance per path in a
    # process, so a long-lived reader (the dashboards) would keep seeing the old snapshot.
    con = duckdb.connect(":memory:")
    try:
        attach_pinned(con, snap, "listening")
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot open the snapshot {snap}: {_first_line(exc)}") from None
    except StoreError:
        con.close()
        raise
    con.execute("use listening")
    # The snapshot is read-only, but SQL could still ATTACH the live store or COPY to a file:
    # a reader touches nothing else.
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    newest_known = max((m.version for m in migrations()), default=0)
    applied = applied_versions(con)
    if applied and max(applied) > newest_known:
        con.close()
        raise StoreError(
            f"the snapshot {snap} is at schema version {max(applied)}, newer than this "
            f"listening ({newest_known}): upgrade listening"
        )
    return con


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
