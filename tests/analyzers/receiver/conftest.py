from __future__ import annotations

from collections.abc import Iterator

import pytest

from analyzers.receiver.server import AnalyzerServer


@pytest.fixture
def server(store) -> Iterator[AnalyzerServer]:
    srv = AnalyzerServer(store, max_body_bytes=256 << 10).start()
    yield srv
    srv.stop()
