"""otel-meta's analyzer: OTLP ingest, run assembly, pattern mining, the reasoning judge, the guideline
writer and the MetaAgent that drives the learning loop.

Public names are imported lazily, so ``import analyzers`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Assessment": "analyzers.model",
    "CycleReport": "analyzers.orchestrator.cycle",
    "GuidelineWriter": "analyzers.guidelines",
    "PromptsRepo": "analyzers.guidelines",
    "run_cycle": "analyzers.orchestrator.cycle",
    "JudgeConfig": "analyzers.assessor",
    "MetaAgent": "analyzers.orchestrator",
    "MetaAgentConfig": "analyzers.orchestrator",
    "Pattern": "analyzers.model",
    "Run": "analyzers.model",
    "SpanRecord": "analyzers.model",
    "Step": "analyzers.model",
    "assess": "analyzers.assessor",
    "SqliteStore": "analyzers.store.sqlite",
    "PostgresStore": "analyzers.store.postgres",
    "RunAssembler": "analyzers.assembly",
    "Store": "analyzers.store.base",
    "open_store": "analyzers.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analyzers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
