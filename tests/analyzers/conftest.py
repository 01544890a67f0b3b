"""Fixtures shared by the analyzer's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzers.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A fresh ``SqliteStore`` on ``tmp_path / "analyzer.db"`` (default durability), closed afterwards."""
    s = SqliteStore(tmp_path / "analyzer.db")
    yield s
    s.close()
