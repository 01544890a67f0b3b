"""Fixtures shared by the analyzer's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzers.store.sqlite import SqliteStore
from tests.support import postgres as postgres_support
from tests.support.postgres import PostgresServer


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A fresh ``SqliteStore`` on ``tmp_path / "analyzer.db"`` (default durability), closed afterwards."""
    s = SqliteStore(tmp_path / "analyzer.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 for the session (skips, with the reason, only when none can
    be had)."""
    server = PostgresServer.find()
    if server is None:
        pytest.skip(f"no PostgreSQL server: {postgres_support.why_missing}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh empty database on the session's server."""
    return postgres_server.new_database()
