"""The client side's OpenTelemetry set-up: a provider exporting over OTLP/HTTP, and the root traces.

Runs in the framework venvs (only the SDK and the OTLP/HTTP exporter are needed).
"""

from __future__ import annotations

import threading

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


class RootTraces(SpanProcessor):
    """Remembers the trace id of every root span started, until ``take()``."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.parent is None or span.parent.is_remote:
            with self._lock:
                self._ids.append(format(span.get_span_context().trace_id, "032x"))

    def on_end(self, span: ReadableSpan) -> None:
        return

    def take(self) -> list[str]:
        with self._lock:
            ids, self._ids = self._ids, []
        return ids


def provider(otlp_url: str, service: str) -> tuple[TracerProvider, RootTraces]:
    """A provider that ships to ``otlp_url`` (``.../v1/traces``) and records root traces."""
    roots = RootTraces()
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": service}))
    tracer_provider.add_span_processor(roots)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_url)))
    return tracer_provider, roots
