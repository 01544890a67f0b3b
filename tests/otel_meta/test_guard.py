"""The instrumentation never changes what the host sees; strict mode surfaces internal errors."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from otel_meta import semconv as sc
from tests.otel_meta.conftest import only_span


class Unprintable:
    __slots__ = ()

    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    __str__ = __repr__


class HostError(Exception):
    pass


@otel_meta.tool
def identity(value: Any) -> Any:
    return value


@otel_meta.tool
def explode(value: Any) -> None:
    raise HostError(value)


def _lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_META_STRICT", "0")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_exporter_endpoint_down_leaves_results_and_exceptions_alone() -> None:
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{_closed_port()}/v1/traces", timeout=0.5)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    otel_meta.instrument(tracer_provider=provider)
    try:
        marker = object()
        assert identity(marker) is marker
        with pytest.raises(HostError) as raised:
            explode("x")
        assert raised.value.args == ("x",)
        assert raised.value.__context__ is None
    finally:
        otel_meta.uninstrument()
        provider.shutdown()


def test_raising_redaction_hook_is_swallowed_and_logged_once(
    monkeypatch: pytest.MonkeyPatch, instrument: Any, exporter: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _lenient(monkeypatch)

    def hook(text: str) -> str:
        raise ValueError("hook broke")

    instrument(capture_content=True, redaction_hook=hook)
    with caplog.at_level(logging.WARNING, logger="otel_meta._guard"):
        assert identity("a") == "a"
        assert identity("b") == "b"
        with pytest.raises(HostError) as raised:
            explode("c")
    assert raised.value.__context__ is None
    assert caplog.text.count("otel-meta internal error at tool.arguments") == 1
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["execute_tool identity"] * 2 + ["execute_tool explode"]
    assert all(sc.GEN_AI_TOOL_CALL_ARGUMENTS not in s.attributes for s in spans)


def test_raising_hook_is_reraised_in_strict_mode(instrument: Any) -> None:
    def hook(text: str) -> str:
        raise ValueError("hook broke")

    instrument(capture_content=True, redaction_hook=hook)
    with pytest.raises(ValueError, match="hook broke"):
        identity("a")


def test_attribute_value_whose_repr_raises(instrument: Any, exporter: InMemorySpanExporter) -> None:
    instrument(capture_content=True)
    value = Unprintable()
    assert identity(value) is value
    otel_meta.thinking(value, tool_choice=value)  # type: ignore[arg-type]
    tool, think = exporter.get_finished_spans()
    assert json.loads(tool.attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS]) == {"value": "<unrepresentable Unprintable>"}
    assert think.attributes[sc.OTEL_META_THINKING_TOOL_CHOICE] == "<unrepresentable Unprintable>"


def test_tool_returning_an_unserialisable_object(instrument: Any, exporter: InMemorySpanExporter) -> None:
    instrument(capture_content=True)

    @otel_meta.tool
    def open_socket() -> socket.socket:
        return socket.socket()

    sock = open_socket()
    try:
        assert isinstance(sock, socket.socket)
        result = json.loads(only_span(exporter).attributes[sc.GEN_AI_TOOL_CALL_RESULT])
        assert result.startswith("<socket.socket")
    finally:
        sock.close()
