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

#: Modules of the ``analyzer`` extra: ``pip install otel-meta`` alone (what an agent needs) lacks them.
_ANALYZER_EXTRA_MODULES = (
    "numpy", "scipy", "sklearn", "threadpoolctl", "yaml", "openai", "grpc", "google.protobuf",
    "opentelemetry.proto",
)


def missing_extra_hint(exc: ModuleNotFoundError) -> str | None:
    """The one-line hint for a module of the ``analyzer`` extra that is not installed, else ``None``."""
    name = exc.name or ""
    if not any(name == module or name.startswith(f"{module}.") for module in _ANALYZER_EXTRA_MODULES):
        return None
    return f"the analyzer needs the 'analyzer' extra (module {name!r} is missing): pip install 'otel-meta[analyzer]'"


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analyzers' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        hint = missing_extra_hint(exc)
        if hint is None:
            raise
        raise ModuleNotFoundError(hint, name=exc.name) from None
