"""OTLP request bodies built from protobuf messages, for the receiver tests."""

from __future__ import annotations

import os

from google.protobuf.internal.encoder import _VarintBytes
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otel_meta import semconv as sc


def kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def new_trace_id() -> bytes:
    return os.urandom(16)


def span(trace_id: bytes, span_id: int, name: str, *, parent: int | None = None, start: int = 1_000,
         attrs: dict[str, object] | None = None, status_code: int = 0) -> Span:
    s = Span(
        trace_id=trace_id,
        span_id=span_id.to_bytes(8, "big"),
        parent_span_id=parent.to_bytes(8, "big") if parent else b"",
        name=name,
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=1_700_000_000_000_000_000 + start * 1_000_000,
        end_time_unix_nano=1_700_000_000_000_000_000 + (start + 5) * 1_000_000,
        attributes=[kv(k, v) for k, v in (attrs or {}).items()],
    )
    s.status.code = status_code  # type: ignore[assignment]  # an int is a valid enum value
    return s


def agent_span(trace_id: bytes, agent: str = "diag", *, outcome: str | None = None) -> Span:
    attrs: dict[str, object] = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: agent}
    if outcome:
        attrs[sc.OTEL_META_OUTCOME] = outcome
    return span(trace_id, 1, f"invoke_agent {agent}", start=0, attrs=attrs)


def tool_span(trace_id: bytes, span_id: int, tool: str, start: int) -> Span:
    return span(trace_id, span_id, f"execute_tool {tool}", parent=1, start=start,
                attrs={sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: tool})


def request(*spans: Span) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[kv(sc.SERVICE_NAME, "test-agent")]),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="tests", version="1"), spans=list(spans))],
    )])


def body(*spans: Span) -> bytes:
    return request(*spans).SerializeToString()


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, encoded by hand (the library refuses to build what we test)."""
    return _VarintBytes(number << 3 | 2) + _VarintBytes(len(payload)) + payload


def deep_body(levels: int = 200) -> bytes:
    """A request whose one span has an attribute value nested ``levels`` kvlists deep (beyond protobuf's
    recursion limit): AnyValue.kvlist_value(6) -> KeyValueList.values(1) -> KeyValue.value(2) -> ..."""
    value = _field(1, b"leaf")
    for _ in range(levels):
        value = _field(6, _field(1, _field(1, b"k") + _field(2, value)))
    span_bytes = agent_span(new_trace_id()).SerializeToString() + _field(9, _field(1, b"deep") + _field(2, value))
    return _field(1, _field(2, _field(2, span_bytes)))  # request.resource_spans -> scope_spans -> spans
