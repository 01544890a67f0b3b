"""Embedded mode: the spans recorded in this process go straight into the MetaAgent's store.

``EmbeddedCapture`` adds a span processor (a ``BatchSpanProcessor`` over H2's ``StoreSpanExporter``)
to the process's SDK ``TracerProvider``: the one handed in, else the one ``otel_meta.instrument()``
bound, else the global one. When the process has no SDK provider it creates one and binds otel_meta's
recorder to it with ``otel_meta.instrument(tracer_provider=...)`` (undone on ``close``). A provider
cannot drop a processor, so ``close`` flushes and detaches ours: it ignores spans from then on.
"""

from __future__ import annotations

import logging
import threading

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from analyzers.store.base import Store
from analyzers.store.exporter import StoreSpanExporter

logger = logging.getLogger(__name__)


class _DetachableProcessor(SpanProcessor):
    """Forwards to ``inner`` until ``detach()``; afterwards every call is a no-op."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner
        self._attached = threading.Event()
        self._attached.set()

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        if self._attached.is_set():
            self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self._attached.is_set():
            self.inner.on_end(span)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis) if self._attached.is_set() else True

    def shutdown(self) -> None:
        self.detach()

    def detach(self) -> None:
        if self._attached.is_set():
            self.inner.force_flush()
            self._attached.clear()
            self.inner.shutdown()


def _bound_provider() -> TracerProvider | None:
    from otel_meta import _runtime

    provider = _runtime.STATE.tracer_provider
    return provider if isinstance(provider, TracerProvider) else None


class EmbeddedCapture:
    """Stores the spans this process records into ``store``; ``flush()`` before reading the store."""

    def __init__(self, store: Store, tracer_provider: TracerProvider | None = None) -> None:
        self._instrumented_here = False
        provider = tracer_provider or _bound_provider()
        if provider is None:
            global_provider = trace.get_tracer_provider()
            provider = global_provider if isinstance(global_provider, TracerProvider) else None
        if provider is None:
            import otel_meta

            provider = TracerProvider()
            otel_meta.instrument(tracer_provider=provider)
            self._instrumented_here = True
            logger.info("no SDK TracerProvider in this process; created one for the MetaAgent's store")
        self.provider = provider
        self._processor = _DetachableProcessor(BatchSpanProcessor(StoreSpanExporter(store)))
        provider.add_span_processor(self._processor)

    def flush(self, timeout_millis: int = 30000) -> bool:
        """Commit every span ended so far to the store; ``False`` on timeout."""
        return self._processor.force_flush(timeout_millis)

    def close(self) -> None:
        """Flush, stop storing spans, and undo ``instrument()`` when this object did it."""
        self._processor.detach()
        if self._instrumented_here:
            import otel_meta

            otel_meta.uninstrument()
            self.provider.shutdown()
            self._instrumented_here = False
