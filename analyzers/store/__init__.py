"""Where spans, runs and assessments live: the ``Store`` interface and its SQLite implementation.

``analyzers.store.sqlite.SqliteStore`` is the embedded default; ``analyzers.store.exporter.StoreSpanExporter``
writes an SDK's finished spans straight into a store.
"""

from __future__ import annotations

from analyzers.store.base import Store

__all__ = ["Store"]
