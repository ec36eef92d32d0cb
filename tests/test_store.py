"""Migrations (fresh, re-run, too new), the snapshot, and the writer lock."""

import contextlib
import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from listening import store
from listening.errors import StoreError
from listening.store import blocks


def test_fresh_store_gets_every_migration(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    applied = store.migrate(con)
    assert [m.version for m in applied] == [m.version for m in store.migrations()]
    assert store.applied_versions(con) == [m.version for m in store.migrations()]
    views = {
        r[0]
        for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()
    }
    assert {"documents", "mentions", "source_health"} <= views


def test_migrate_twice_is_a_no_op(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    store.migrate(con)
    assert store.migrate(con) == []
    n = con.execute("select count(*) from schema_migrations").fetchone()[0]
    assert n == len(store.migrations())


def test_store_newer_than_code_is_refused(tmp_path):
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    store.migrate(con)
    con.execute("insert into schema_migrations values (999, 'from_the_future', now())")
    with pytest.raises(StoreError, match=r"schema version 999.*upgrade listening"):
        store.migrate(con)
    con.close()
    with pytest.raises(StoreError, match="upgrade listening"), store.open_writer(path):
        pass


def test_every_contract_view_and_column_is_documented(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    store.migrate(con)
    missing = con.execute(
        "select v.view_name, c.column_name from duckdb_views() v "
        "join duckdb_columns() c on c.table_name = v.view_name "
        "and c.schema_name = v.schema_name "
        "where not v.internal and v.schema_name = 'main' and c.comment is null"
    ).fetchall()
    assert missing == []
    undocumented = con.execute(
        "select view_name from duckdb_views() where not internal and schema_name = 'main' "
        "and comment is null"
    ).fetchall()
    assert undocumented == []


def test_contract_columns_of_documents_and_mentions(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    store.migrate(con)

    def cols(view):
        return {r[0] for r in con.execute(f"describe {view}").fetchall()}

    assert {
        "document_id",
        "kind",
        "url",
        "thread_url",
        "parent_id",
        "source",
        "author",
        "published_at",
        "collected_at",
        "title",
        "text",
        "lang",
    } <= cols("documents")
    assert {
        "mention_id",
        "brand",
        "document_id",
        "matched_terms",
        "sentiment",
        "sentiment_label",
        "aspects",
        "text",
        "published_at",
    } <= cols("mentions")
    types = dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() where table_name = 'documents' "
            "and schema_name = 'main'"
        ).fetchall()
    )
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"


def test_publish_replaces_snapshot_atomically_and_reader_is_read_only(tmp_path):
    path = tmp_path / "s.duckdb"
    with store.open_writer(path) as con:
        con.execute("create table t as select 1 as x")
    reader = store.open_reader(path)
    assert reader.execute("select x from t").fetchone() == (1,)
    with pytest.raises(duckdb.Error, match="read-only"):
        reader.execute("insert into t values (2)")
    # A new publish while the old snapshot is open: the open reader keeps its view whole,
    # a new reader sees the new data.
    with store.open_writer(path) as con:
        con.execute("insert into t values (2)")
    assert reader.execute("select count(*) from t").fetchone() == (1,)
    fresh = store.open_reader(path)
    assert fresh.execute("select count(*) from t").fetchone() == (2,)
    assert not list(tmp_path.glob(".*tmp*"))


def test_reader_without_snapshot_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="listening init"):
        store.open_reader(tmp_path / "none.duckdb")


def test_store_path_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("LISTENING_DB", raising=False)
    assert store.store_path(None, tmp_path / "a.duckdb") == tmp_path / "a.duckdb"
    monkeypatch.setenv("LISTENING_DB", str(tmp_path / "env.duckdb"))
    assert store.store_path(None, tmp_path / "a.duckdb") == tmp_path / "env.duckdb"
    assert store.store_path(str(tmp_path / "cli.duckdb"), None) == tmp_path / "cli.duckdb"


def test_publish_copies_the_store_byte_for_byte_whatever_the_file_system(tmp_path, monkeypatch):
    db = tmp_path / "listening.duckdb"
    con = duckdb.connect(str(db))
    store.migrate(con)
    con.execute("create table t as select range as i, repeat('é', 100) as s from range(50000)")
    con.close()
    how = store.clone_or_copy(db, tmp_path / "a.duckdb")
    assert how in ("reflink", "copy")
    assert (tmp_path / "a.duckdb").read_bytes() == db.read_bytes()

    def no_reflink(*args):
        raise OSError(95, "Operation not supported")

    def no_copy_file_range(*args):
        raise OSError(38, "Function not implemented")

    # ext4 (no reflink), then an old kernel without copy_file_range: the bytes are copied
    monkeypatch.setattr(store.fcntl, "ioctl", no_reflink)
    assert store.clone_or_copy(db, tmp_path / "b.duckdb") == "copy"
    monkeypatch.setattr(store.os, "copy_file_range", no_copy_file_range)
    assert store.clone_or_copy(db, tmp_path / "c.duckdb") == "copy"
    for name in ("b.duckdb", "c.duckdb"):
        assert (tmp_path / name).read_bytes() == db.read_bytes()
    assert store.publish(db).read_bytes() == db.read_bytes()


def write_and_publish(db: Path, *statements: str) -> None:
    with store.open_writer(db) as con:
        for sql in statements:
            con.execute(sql)


def test_publish_keeps_the_old_snapshot_as_a_spare_and_rewrites_only_what_changed(tmp_path):
    db = tmp_path / "s.duckdb"
    snap, spare = store.snapshot_path(db), store.spare_path(store.snapshot_path(db))
    write_and_publish(
        db, "create table t as select range as i, repeat('x', 200) as s from range(40000)"
    )
    first = snap.stat().st_ino
    assert not spare.exists()  # nothing was published before
    write_and_publish(db, "insert into t values (-1, 'second')")
    assert spare.stat().st_ino == first  # the first snapshot, kept
    second = snap.stat().st_ino
    write_and_publish(db, "insert into t values (-2, 'third')")
    # the first snapshot's file, brought up to date, is the snapshot again
    assert snap.stat().st_ino == first and spare.stat().st_ino == second
    assert snap.read_bytes() == db.read_bytes()
    reader = store.open_reader(db)
    assert reader.execute("select count(*), min(i) from t").fetchone() == (40002, -2)
    assert not list(tmp_path.glob(".old-*")) and not list(tmp_path.glob(".*tmp-*"))
    # a publish killed midway (kill -9) left its copy: the next publish deletes it
    (tmp_path / ".s.snapshot.duckdb.tmp-999999").write_bytes(b"half a copy")
    write_and_publish(db, "insert into t values (-3, 'fourth')")
    store._removals[-1].wait()
    assert not list(tmp_path.glob(".*tmp-*"))


def update_in_place(src: Path, dst: Path, workers: int) -> int:
    fd = os.open(dst, os.O_RDWR)
    try:
        return blocks.update_in_place(src, fd, workers=workers)
    finally:
        os.close(fd)


def test_update_in_place_writes_the_chunks_that_differ_and_fits_the_size(tmp_path):
    chunk = blocks.CHUNK_BYTES
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = bytearray(os.urandom(5 * chunk + 100))
    dst.write_bytes(bytes(data) + os.urandom(3 * chunk))  # longer: cut to the source's size
    data[2 * chunk + 7] ^= 0xFF
    data[-1] ^= 0xFF
    src.write_bytes(bytes(data))
    assert update_in_place(src, dst, workers=2) == chunk + 100  # the 3rd chunk, the short last
    assert dst.read_bytes() == src.read_bytes()
    src.write_bytes(bytes(data) + os.urandom(chunk))  # longer
    # the old short last chunk, now whole, and the rest
    assert update_in_place(src, dst, workers=3) == chunk + 100
    assert dst.read_bytes() == src.read_bytes()


def test_a_reader_on_the_spare_makes_publish_copy_the_store_instead(tmp_path):
    db = tmp_path / "s.duckdb"
    snap, spare = store.snapshot_path(db), store.spare_path(store.snapshot_path(db))
    write_and_publish(db, "create table t as select 1 as x")
    first = snap.stat().st_ino
    reader = store.open_reader(db)  # on the first snapshot, left open (a long `listening sql`)
    write_and_publish(db, "insert into t values (2)")
    assert spare.stat().st_ino == first
    write_and_publish(db, "insert into t values (3)")
    # DuckDB's shared lock on the spare: publish copied the store and left the file alone
    assert snap.stat().st_ino != first
    removal = store._removals[-1]
    assert removal.args[:3] == ["rm", "-f", "--"]
    assert [Path(a).name for a in removal.args[3:]] == [
        f".old-s.snapshot.duckdb.spare.{os.getpid()}"
    ]
    assert removal.wait() == 0  # deleted in a process of its own; the reader keeps its file
    assert reader.execute("select count(*) from t").fetchone() == (1,)
    assert store.open_reader(db).execute("select count(*) from t").fetchone() == (3,)
    reader.close()


def test_a_reader_keeps_its_snapshot_when_another_connection_to_it_closes(tmp_path):
    # A process loses every classic fcntl lock it holds on a file when it closes any of its
    # descriptors of that file: the dashboards' threads open and close connections to one
    # snapshot. The reader left open must still stop publish from updating its file.
    db = tmp_path / "s.duckdb"
    snap = store.snapshot_path(db)
    write_and_publish(
        db, "create table t as select range as i, md5(range::varchar) as s from range(200000)"
    )
    first, before = snap.stat().st_ino, snap.read_bytes()
    reader = store.open_reader(db)
    store.open_reader(db).close()
    write_and_publish(
        db, "drop table t", "create table t as select range as i, 'other' as s from range(200000)"
    )
    write_and_publish(db, "insert into t values (-1, 'z')")
    assert snap.stat().st_ino != first  # copied, not the reader's file written in place
    assert reader.execute("select count(*), count(distinct s) from t").fetchone() == (
        200000,
        200000,
    )
    with open(f"/proc/self/fd/{_pinned_fd(first)}", "rb") as fh:
        assert fh.read() == before
    reader.close()


def _pinned_fd(inode: int) -> int:
    """This process's descriptor of the file with that inode (the pin of a reader)."""
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.stat(f"/proc/self/fd/{name}").st_ino == inode:
                return int(name)
    raise AssertionError(f"no descriptor of inode {inode}")


def test_a_publish_between_the_pin_and_the_attach_makes_the_reader_pin_the_new_snapshot(
    tmp_path,
):
    # DuckDB opens the snapshot by its path: a publish landing between the pin and the attach
    # would leave the reader pinning one file and reading another
    db = tmp_path / "s.duckdb"
    snap = store.snapshot_path(db)
    write_and_publish(db, "create table t as select 1 as x")
    write_and_publish(db, "insert into t values (2)")

    class PublishBeforeTheFirstAttach:
        def __init__(self, con):
            self.con, self.attaches = con, 0

        def execute(self, sql, *args):
            if sql.startswith("attach"):
                self.attaches += 1
                if self.attaches == 1:
                    write_and_publish(db, "insert into t values (3)")
            return self.con.execute(sql, *args)

    con = duckdb.connect(":memory:")
    proxy = PublishBeforeTheFirstAttach(con)
    store.attach_pinned(proxy, snap, "snap")
    assert proxy.attaches == 2
    assert con.execute("select count(*) from snap.t").fetchone() == (3,)
    pinned = [int(fd) for fd in os.listdir("/proc/self/fd") if _pins(int(fd), snap)]
    assert pinned  # the file the reader reads is the one it pins
    con.close()


def _pins(fd: int, path: Path) -> bool:
    """Whether ``fd`` is open on the file ``path`` names, with an OFD read lock (a pin)."""
    with contextlib.suppress(OSError), open(f"/proc/self/fdinfo/{fd}") as fh:
        locked = any("OFDLCK" in line and "READ" in line for line in fh)
        return locked and store.same_file(fd, path)
    return False


def test_a_snapshot_held_for_writing_makes_the_reader_fail_with_a_message_not_hang(
    tmp_path, monkeypatch
):
    db = tmp_path / "s.duckdb"
    write_and_publish(db, "create table t as select 1 as x")
    # an analyst's client with the snapshot open read-write, in a process of its own
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
            "sys.stdin.read()",
            str(store.snapshot_path(db)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "open\n"
    monkeypatch.setattr(store, "PIN_TIMEOUT", 0.3)
    outcome = []

    def read():
        try:
            store.open_reader(db)
        except StoreError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive()
    assert outcome and "holds it open for writing" in outcome[0]
    assert "s.snapshot.duckdb" in outcome[0]
    holder.stdin.close()
    holder.wait()


def test_a_snapshot_gone_between_the_check_and_the_pin_says_so(tmp_path):
    con = duckdb.connect(":memory:")
    with pytest.raises(store.SnapshotMissing, match=r"no published snapshot at .*listening init"):
        store.attach_pinned(con, tmp_path / "gone.snapshot.duckdb", "snap")


def test_where_files_cannot_be_locked_readers_read_unpinned_and_publish_copies(
    tmp_path, monkeypatch
):
    db = tmp_path / "s.duckdb"
    snap = store.snapshot_path(db)
    write_and_publish(db, "create table t as select 1 as x")
    write_and_publish(db, "insert into t values (2)")
    real = store.fcntl.fcntl

    def no_ofd_locks(fd, cmd, arg=0):
        if cmd in (store.fcntl.F_OFD_SETLK, store.fcntl.F_OFD_SETLKW):
            raise OSError(errno.ENOLCK, "No locks available")
        return real(fd, cmd, arg)

    monkeypatch.setattr(store.fcntl, "fcntl", no_ofd_locks)
    monkeypatch.setattr(store, "PIN_TIMEOUT", 0.3)
    reader = store.open_reader(db)  # not "held open for writing" after a wait
    assert reader.execute("select count(*) from t").fetchone() == (2,)
    spare = store.spare_path(snap).stat().st_ino
    write_and_publish(db, "insert into t values (3)")
    assert snap.stat().st_ino != spare  # a copy: the spare cannot be locked, so is not written
    reader.close()


def test_a_spare_that_is_still_the_snapshot_is_never_written_in_place(tmp_path):
    # a publish killed between linking the snapshot as the spare and renaming the new one
    # over it: both names are one file, which readers may have open
    db = tmp_path / "s.duckdb"
    snap, spare = store.snapshot_path(db), store.spare_path(store.snapshot_path(db))
    write_and_publish(db, "create table t as select range as i from range(100000)")
    write_and_publish(db, "insert into t values (-1)")
    spare.unlink()
    os.link(snap, spare)
    live = os.open(snap, os.O_RDONLY)  # a reader that lost its lock
    before = snap.read_bytes()
    try:
        write_and_publish(db, "insert into t values (-2)")
        assert os.pread(live, len(before) + 1, 0) == before
    finally:
        os.close(live)
    store._removals[-1].wait()
    assert snap.read_bytes() == db.read_bytes() and snap.stat().st_nlink == 1
    assert spare.stat().st_ino != snap.stat().st_ino
    # and the publish after it goes back to updating the spare
    spare_inode = spare.stat().st_ino
    write_and_publish(db, "insert into t values (-3)")
    assert snap.stat().st_ino == spare_inode


def test_the_updated_spare_reaches_the_disk_before_it_is_published(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    snap = store.snapshot_path(db)
    write_and_publish(db, "create table t as select range as i from range(100000)")
    write_and_publish(db, "insert into t values (-1)")
    synced = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(os.fstat(fd).st_ino), real(fd)))
    write_and_publish(db, "insert into t values (-2)")
    assert snap.stat().st_ino in synced


def test_a_copy_never_truncates_a_file_its_name_still_links(tmp_path):
    src, dst, other = tmp_path / "src", tmp_path / "dst", tmp_path / "other"
    src.write_bytes(b"new" * 1000)
    other.write_bytes(b"read by someone")
    os.link(other, dst)
    store.clone_or_copy(src, dst)
    assert dst.read_bytes() == src.read_bytes()
    assert other.read_bytes() == b"read by someone"


def test_publish_after_an_erasure_keeps_no_old_snapshot(tmp_path):
    db = tmp_path / "s.duckdb"
    spare = store.spare_path(store.snapshot_path(db))
    write_and_publish(db, "create table t as select 1 as x")
    write_and_publish(db, "insert into t values (2)")
    assert spare.exists()
    # wait=True (after an erasure): no spare, and the old snapshots are gone on return
    store.publish(db, wait=True)
    assert store._removals[-1].returncode == 0
    assert not spare.exists() and not list(tmp_path.glob(".old-*"))
    assert store.snapshot_path(db).read_bytes() == db.read_bytes()


def two_versions_of_a_store(tmp_path: Path) -> tuple[Path, Path]:
    """A DuckDB store, and a copy of it taken before inserts, updates, deletes and a new table."""
    db, before = tmp_path / "s.duckdb", tmp_path / "before.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table a as select range as i, md5(range::varchar) as s from range(300000)")
    con.execute("create table b as select range as i, repeat('b', 50) as s from range(300000)")
    con.close()
    before.write_bytes(db.read_bytes())
    con = duckdb.connect(str(db))
    con.execute("insert into a select range, 'new' from range(300000, 320000)")
    con.execute("update b set s = 'changed' where i % 1000 = 0")
    con.execute("delete from a where i < 1000")
    con.execute("create table c as select range as i from range(1000)")
    con.close()
    return db, before


def test_duckdb_blocks_with_the_same_checksum_hold_the_same_bytes(tmp_path):
    """The layout ``blocks`` relies on, checked on the locked DuckDB version."""
    db, before = two_versions_of_a_store(tmp_path)
    new, old = db.read_bytes(), before.read_bytes()
    fd = os.open(db, os.O_RDONLY)
    try:
        size = blocks._block_size(fd, len(new))
    finally:
        os.close(fd)
    assert size == 256 * 1024 and new[8:12] == b"DUCK"
    same = []
    for at in range(blocks.HEADER_BYTES, min(len(new), len(old)), size):
        same_checksum = new[at : at + 8] == old[at : at + 8]
        assert same_checksum == (new[at : at + size] == old[at : at + size])
        same.append(same_checksum)
    assert any(same) and not all(same)


def test_update_in_place_copies_the_blocks_whose_checksums_differ(tmp_path):
    db, before = two_versions_of_a_store(tmp_path)
    size = 256 * 1024
    new, old = db.read_bytes(), before.read_bytes()
    changed = sum(
        new[at : at + size] != old[at : at + size]
        for at in range(blocks.HEADER_BYTES, len(new), size)
    )
    assert update_in_place(db, before, workers=2) == blocks.HEADER_BYTES + changed * size
    assert before.read_bytes() == new


def test_a_block_with_a_checksum_but_other_bytes_makes_it_compare_everything(tmp_path):
    """Should a DuckDB version write blocks whose first 8 bytes are not their checksum, the
    sampled blocks catch it and the files are compared whole."""
    db, before = two_versions_of_a_store(tmp_path)
    size = 256 * 1024
    new, old = db.read_bytes(), bytearray(before.read_bytes())
    for at in range(blocks.HEADER_BYTES, len(old), size):
        if new[at : at + size] == old[at : at + size]:
            old[at + 100] ^= 0xFF  # same first 8 bytes, other content
    before.write_bytes(bytes(old))
    update_in_place(db, before, workers=2)
    assert before.read_bytes() == new
