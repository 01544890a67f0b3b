"""A fresh TracerProvider with an in-memory exporter per test, handed to ``instrument()``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from tests.support.openai_server import OpenAIStandIn


@pytest.fixture(autouse=True)
def _no_capture_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    yield tp
    tp.shutdown()


@pytest.fixture
def instrument(provider: TracerProvider) -> Iterator[Callable[..., None]]:
    """``instrument(**kwargs)`` with the test's provider; uninstrumented after the test."""

    def start(**kwargs: Any) -> None:
        otel_meta.instrument(tracer_provider=provider, **kwargs)

    yield start
    otel_meta.uninstrument()


@pytest.fixture
def instrumented(instrument: Callable[..., None]) -> None:
    instrument()


@pytest.fixture(scope="session")
def _stand_in() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def server(_stand_in: OpenAIStandIn) -> OpenAIStandIn:
    """The loopback OpenAI stand-in, with an empty reply queue (one server per worker: stopping one
    takes its poll interval)."""
    _stand_in.replies.clear()
    _stand_in.requests.clear()
    return _stand_in


_OPENED: list[Any] = []
T = TypeVar("T")


def track(client: T) -> T:
    """Register an openai client to be closed after the test (no pooled socket is left to the GC)."""
    _OPENED.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def spans_named(exporter: InMemorySpanExporter, prefix: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith(prefix)]


def only_span(exporter: InMemorySpanExporter, prefix: str = "") -> ReadableSpan:
    found = spans_named(exporter, prefix)
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]
