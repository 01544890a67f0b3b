"""The ``opentelemetry_instrumentor`` entry point, so ``opentelemetry-instrument python agent.py``
turns otel-meta on.

A small stand-alone class with the ``BaseInstrumentor`` surface ``opentelemetry-instrument`` uses
(``instrument(**kwargs)``, ``uninstrument(**kwargs)``, ``instrumentation_dependencies()``), without a
runtime dependency on ``opentelemetry-instrumentation``. otel-meta declares no ``instruments`` extra,
so the loader's dependency-conflict check always passes; libraries that are absent are simply not
patched.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from otel_meta import _setup

_log = logging.getLogger(__name__)
#: The keywords ``instrument()`` takes; every other one (``meter_provider``, ``logger_provider``,
#: ``event_logger_provider``, ``schema_url``, ``skip_dep_check``, ...) is one that ``BaseInstrumentor``
#: callers pass to every instrumentor, and otel-meta has no use for it.
_INSTRUMENT_KEYWORDS = frozenset({"tracer_provider", "capture_content", "redaction_hook", "max_content_length"})


class OtelMetaInstrumentor:
    """``OtelMetaInstrumentor().instrument(tracer_provider=..., capture_content=...)``; idempotent.

    Accepts the keywords every ``BaseInstrumentor`` accepts (``meter_provider``, ``logger_provider``,
    ``event_logger_provider``, ``schema_url``, ``skip_dep_check``, ...) and ignores those it does not use:
    otel-meta records no metrics or log records.
    """

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
        ignored = sorted(k for k in kwargs if k not in _INSTRUMENT_KEYWORDS)
        if ignored:
            _log.debug("otel-meta ignores the instrumentor keywords %s", ", ".join(ignored))
        _setup.instrument(**{k: v for k, v in kwargs.items() if k in _INSTRUMENT_KEYWORDS})

    def uninstrument(self, **kwargs: Any) -> None:
        _setup.uninstrument()
