"""A port in use and broken store files end in one line and exit 2, never a traceback (issue 12.9).

Every case runs the real console script on a real file: a text file, a truncated or page-corrupted
SQLite file, a store from a newer otel-meta, a directory, a read-only directory, a missing directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzers.store.sqlite import SqliteStore
from tests.analyzers.cli.console import one_error_line, otel_meta
from tests.analyzers.guidelines.traces import planted_runs, record_runs

# root ignores file modes; without these capabilities it is held to them like any other user
_AS_ORDINARY_USER = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.db"
    with SqliteStore(path, synchronous="NORMAL") as store:
        record_runs(store, "diagnosis", planted_runs(40))
    return path


def _broken(kind: str, good: Path, folder: Path) -> Path:
    path = folder / f"{kind}.db"
    data = good.read_bytes()
    if kind == "text":
        path.write_text("hello, this is not a database\n")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif kind == "future-schema":
        shutil.copy(good, path)
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version = 99")
        conn.close()
    elif kind == "directory":
        path.mkdir()
    return path


@pytest.mark.parametrize(("kind", "cause"), [
    ("text", "not a database"),
    ("truncated", "malformed"),
    ("future-schema", "schema version 99"),
    ("directory", ""),
])
@pytest.mark.parametrize("command", ["runs", "serve"])
def test_a_broken_store_is_one_line_naming_it(
    good_store: Path, tmp_path: Path, kind: str, cause: str, command: str
) -> None:
    db = _broken(kind, good_store, tmp_path)
    before = db.read_bytes() if db.is_file() else None
    extra = ("--http-port", "0", "--grpc-port", "0") if command == "serve" else ()
    line = one_error_line(otel_meta(command, "--db", db, *extra), command, logs=command == "serve")
    assert str(db) in line and cause in line
    if before is not None:
        assert db.read_bytes() == before  # nothing written into a file that is not an intact store


def test_runs_on_a_store_with_corrupted_pages_is_one_line(good_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "corrupt.db"
    data = bytearray(good_store.read_bytes())
    page = 4096
    for offset in range(page, len(data), page):  # the header page stays, every other page is garbage
        data[offset:offset + page] = bytes((offset * 7 + i) % 251 for i in range(min(page, len(data) - offset)))
    db.write_bytes(bytes(data))
    line = one_error_line(otel_meta("runs", "--db", db), "runs")
    assert str(db) in line and "malformed" in line


@pytest.fixture
def read_only_folder(good_store: Path, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(good_store, folder / "s.db")
    (folder / "s.db").chmod(0o444)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    yield folder
    folder.chmod(0o755)


def _ordinary_user() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, which ignores a read-only directory, and setpriv (util-linux) is absent")
    return _AS_ORDINARY_USER


@pytest.mark.parametrize("command", ["runs", "serve"])
def test_a_store_in_a_read_only_directory_is_one_line(read_only_folder: Path, command: str) -> None:
    db = read_only_folder / "s.db"
    extra = ("--http-port", "0", "--grpc-port", "0") if command == "serve" else ()
    proc = otel_meta(command, "--db", db, *extra, prefix=_ordinary_user())
    line = one_error_line(proc, command, logs=command == "serve")
    assert str(db) in line and "readonly" in line.replace("read-only", "readonly")


def test_serve_never_creates_the_store_directory(tmp_path: Path) -> None:
    db = tmp_path / "missing" / "deeper" / "x.db"
    line = one_error_line(otel_meta("serve", "--db", db, "--http-port", "0", "--grpc-port", "0"), "serve")
    assert str(db.parent) in line and "does not exist" in line
    assert not (tmp_path / "missing").exists()


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(("flag", "protocol"), [("--http-port", "OTLP/HTTP"), ("--grpc-port", "OTLP/gRPC")])
def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path, held_port: int, flag: str, protocol: str) -> None:
    ports = {"--http-port": "0", "--grpc-port": "0", flag: str(held_port)}
    proc = otel_meta("serve", "--db", tmp_path / "s.db", *[x for kv in ports.items() for x in kv])
    line = one_error_line(proc, "serve", logs=True)
    assert f"{protocol} on 127.0.0.1:{held_port}" in line and "choose another" in line
    assert "add_port" not in proc.stderr, proc.stderr  # gRPC's C core never got to log its own bind failure
