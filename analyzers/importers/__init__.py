"""Importers for public agent datasets: they turn recorded runs into OpenTelemetry spans.

``tau_bench.load_runs(path)`` and ``mini_swe_agent.load_runs(dir)`` read a dataset into
``ImportedRun``s; ``export_runs(runs, exporter, service_name=...)`` writes them as spans of the span
contract to any SDK exporter (``otlp_exporter(url)`` for a running analyzer, or
``analyzers.store.exporter.StoreSpanExporter(store)``). ``ImportedRun.to_run()`` gives the ``Run``
directly, for mining without a store.
"""

from __future__ import annotations

from analyzers.importers import mini_swe_agent, tau_bench
from analyzers.importers._emit import ExportSummary, ImportedRun, ImportedStep, export_runs, otlp_exporter

__all__ = [
    "ExportSummary",
    "ImportedRun",
    "ImportedStep",
    "export_runs",
    "mini_swe_agent",
    "otlp_exporter",
    "tau_bench",
]
