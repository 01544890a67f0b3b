from __future__ import annotations

from collections.abc import Iterator

import pytest

from analyzers.receiver.server import AnalyzerServer
from analyzers.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "analyzer.db")
    yield s
    s.close()


@pytest.fixture
def server(store) -> Iterator[AnalyzerServer]:
    srv = AnalyzerServer(store, max_body_bytes=256 << 10).start()
    yield srv
    srv.stop()
