"""The ``opentelemetry_instrumentor`` entry point, so ``opentelemetry-instrument python agent.py``
turns otel-meta on.

A small stand-alone class with the ``BaseInstrumentor`` surface ``opentelemetry-instrument`` uses
(``instrument(**kwargs)``, ``uninstrument(**kwargs)``, ``instrumentation_dependencies()``), without a
runtime dependency on ``opentelemetry-instrumentation``. otel-meta declares no ``instruments`` extra,
so the loader's dependency-conflict check always passes; libraries that are absent are simply not
patched.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from otel_meta import _setup


class OtelMetaInstrumentor:
    """``OtelMetaInstrumentor().instrument(tracer_provider=..., capture_content=...)``; idempotent."""

    _instance: OtelMetaInstrumentor | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> OtelMetaInstrumentor:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        return _setup.is_instrumented()

    def instrument(self, **kwargs: Any) -> None:
        kwargs.pop("skip_dep_check", None)
        _setup.instrument(**kwargs)

    def uninstrument(self, **kwargs: Any) -> None:
        _setup.uninstrument()
