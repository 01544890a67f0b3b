"""The analyzer the end-to-end conventions tests export to: a real server over a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore


@pytest.fixture
def analyzer(tmp_path) -> Iterator[tuple[AnalyzerServer, SqliteStore]]:
    """An ``AnalyzerServer`` (OTLP/HTTP on a free loopback port, no gRPC) and its store."""
    store = SqliteStore(tmp_path / "analyzer.db")
    with AnalyzerServer(store, grpc_port=None) as server:
        yield server, store
    store.close()
