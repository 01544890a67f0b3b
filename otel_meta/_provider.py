"""Setting up an SDK tracer provider from the environment, when the process has none.

Imported only when ``instrument()`` has to configure one, so ``import otel_meta`` stays light. The SDK
reads ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` (resource) and ``OTEL_TRACES_SAMPLER``
(sampler) itself, and the OTLP exporters read their endpoint, headers, timeout and compression.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from otel_meta import _config

_log = logging.getLogger(__name__)
_env_lock = threading.Lock()


def _exporter(protocol: str, endpoint: str | None = None, headers: dict[str, str] | None = None) -> SpanExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        if endpoint is None:
            return GrpcExporter()
        return GrpcExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"), headers=headers)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    if endpoint is None:
        return HttpExporter()
    return HttpExporter(endpoint=traces_url(endpoint), headers=headers)


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a base endpoint (``http://host:4318`` → ``.../v1/traces``)."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


@contextmanager
def _without_team_headers() -> Iterator[None]:
    """Hide the team's OTLP header variables while the analyzer's exporter is built (the exporters
    merge them into explicit headers), so the team backend's credentials never reach the analyzer."""
    with _env_lock:
        saved = {name: os.environ.pop(name) for name in _config.OTLP_HEADER_VARIABLES if name in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


def build_provider(settings: _config.ExportSettings) -> TracerProvider:
    """A TracerProvider with a BatchSpanProcessor per destination (team backend and/or analyzer)."""
    provider = TracerProvider(resource=Resource.create())
    if settings.primary:
        provider.add_span_processor(BatchSpanProcessor(_exporter(settings.protocol)))
    if settings.analyzer_endpoint:
        with _without_team_headers():
            exporter = _exporter(settings.protocol, settings.analyzer_endpoint, settings.analyzer_headers)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
