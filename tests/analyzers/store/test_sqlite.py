"""What only ``SqliteStore`` promises, on real files: WAL and full sync, the file's own failures as
one-line ``StoreError``s naming cause and fix, and a health probe that tells the truth."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from analyzers.errors import (
    StoreCorruptError,
    StoreFullError,
    StoreLocationError,
    StoreVersionError,
)
from analyzers.model import SpanRecord
from analyzers.store._schema import SCHEMA_VERSION
from analyzers.store.sqlite import SqliteStore


def spans(n: int, trace: str = "a", size: int = 0) -> list[SpanRecord]:
    return [SpanRecord(f"{trace}{i:031x}", "1" * 16, None, "s", 1, 1, 2, {"pad": "x" * size}) for i in range(n)]


def test_schema_version_wal_and_full_sync(store):
    assert store.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute("PRAGMA user_version=99")
    conn.commit()
    conn.close()
    store.close()
    with pytest.raises(StoreVersionError, match="newer than this otel-meta .*upgrade otel-meta"):
        SqliteStore(store.path)


def test_a_missing_directory_is_refused_not_created(tmp_path):
    where = tmp_path / "nonexistent" / "dir" / "x.db"
    with pytest.raises(StoreLocationError, match=r"does not exist; create it \(mkdir -p"):
        SqliteStore(where)
    assert not where.parent.exists()
    with SqliteStore(where, create_parent=True) as s:
        assert s.count_spans() == 0


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(StoreLocationError, match="is a directory; give a file path"):
        SqliteStore(tmp_path)


@pytest.mark.parametrize("content", [b"not a database at all, just text" * 100, b""])
def test_a_file_that_is_not_a_store_is_refused(tmp_path, content):
    path = tmp_path / "x.db"
    path.write_bytes(content or b"SQLite format 3\x00" + b"\x10\x00" + b"\x00" * 20)  # or a truncated header
    with pytest.raises(StoreCorruptError) as caught:
        SqliteStore(path)
    assert "restore it from a backup, or move it aside" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_truncated_store_is_refused(tmp_path):
    path = tmp_path / "x.db"
    with SqliteStore(path, synchronous="NORMAL") as s:
        s.write_spans(spans(300, size=200))
    data = path.read_bytes()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreCorruptError, match="is not an intact otel-meta store"), SqliteStore(path) as s:
        s.spans_for_trace("a" * 32)
        s.write_spans(spans(300, trace="b"))


def mount_tmpfs(where: Path, options: str) -> None:
    """Mount a tmpfs of its own at ``where`` (a real read-only or small file system), or skip."""
    where.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs ({exc}); these file-system failures need root")


def test_a_read_only_directory_is_named(tmp_path):
    ro = tmp_path / "ro"
    mount_tmpfs(ro, "size=1m,ro")
    try:
        with pytest.raises(StoreLocationError, match="is read-only .* make it writable or choose another --db"):
            SqliteStore(ro / "x.db")
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_health_gives_up_on_a_file_another_writer_holds_and_recovers(store):
    """The health probe waits a bounded time for the write lock, not the store's 30 s busy timeout."""
    assert store.health() is None
    other = sqlite3.connect(store.path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the file
    try:
        assert "database is locked" in store.health(timeout_s=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.healthy()
    store.close()
    assert store.healthy() is False


def test_health_reports_a_dropped_table(store):
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TABLE runs")
    conn.commit()
    conn.close()
    assert "lacks its table(s) runs" in store.health()


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB file system of its own (tmpfs), so it fills up for real."""
    where = tmp_path / "disk"
    mount_tmpfs(where, "size=2m")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=True)


def test_a_full_disk_keeps_its_real_cause_and_health_says_so(small_disk):
    store = SqliteStore(small_disk / "x.db")
    try:
        with pytest.raises(StoreFullError) as caught:
            for i in range(1000):
                store.write_spans(spans(50, trace=f"{i % 16:x}", size=2000))
        message = str(caught.value)
        assert "database or disk is full" in message and "free disk space" in message
        assert "cannot rollback" not in message
        assert "database or disk is full" in store.health()
        accepted = store.count_spans()
        assert accepted > 0  # what was committed before the disk filled stays readable
    finally:
        store.close()


def test_corrupted_pages_fail_writes_with_their_cause_and_health_says_so(tmp_path):
    store = SqliteStore(tmp_path / "x.db", synchronous="NORMAL")
    store.write_spans(spans(400, size=300))
    store.close()
    with sqlite3.connect(tmp_path / "x.db") as conn:  # the spans table's leaf pages (the schema stays intact)
        leaves = [n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'spans' AND pagetype = 'leaf'")]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    assert len(leaves) > 1
    with open(tmp_path / "x.db", "r+b") as f:
        for pageno in leaves:
            f.seek((pageno - 1) * page)
            f.write(b"\xa5" * page)
    store = SqliteStore(tmp_path / "x.db")
    try:
        with pytest.raises(StoreCorruptError, match="malformed"):
            store.write_spans(spans(400, trace="b", size=300))
        assert "malformed" in store.health()
    finally:
        store.close()


def test_a_suspended_iter_runs_holds_no_snapshot_so_the_wal_can_be_truncated(store):
    from analyzers.model import Run, Step

    store.import_runs(Run(f"{i:032x}", "a", True, i, 1.0, (Step("tool", "t", True, 1.0),)) for i in range(2500))
    runs = iter(store.iter_runs("a"))  # pages of 1000
    assert next(runs).trace_id == f"{0:032x}"
    store.import_runs([Run("f" * 32, "b", True, 0, 1.0, ())])  # WAL frames the suspended reader could pin
    conn = sqlite3.connect(store.path)
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    conn.close()
    assert busy == 0
    assert [r.trace_id for r in runs] == [f"{i:032x}" for i in range(1, 2500)]
