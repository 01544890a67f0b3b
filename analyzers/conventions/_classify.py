"""What one span is, whichever instrumentation wrote it: an agent run, a step, or neither.

Precedence: OpenInference's ``openinference.span.kind``, then OpenLLMetry's ``traceloop.span.kind``,
then the GenAI conventions' ``gen_ai.operation.name`` (otel-meta's own spans and openai-v2), then the
older ``llm.request.type`` that OpenLLMetry's LLM spans carry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from analyzers.model import SpanRecord, StepKind
from otel_meta import semconv as sc

_STATUS_ERROR = 2
_TRACELOOP_LLM_REQUEST_TYPES = frozenset({"chat", "completion"})


@dataclass(frozen=True, slots=True)
class AgentSpan:
    """A span that stands for an agent run; ``rank`` orders candidates (lower wins)."""

    name: str
    rank: int


@dataclass(frozen=True, slots=True)
class StepSpan:
    kind: StepKind
    name: str


def _str(attrs: Any, key: str) -> str | None:
    value = attrs.get(key)
    return value if isinstance(value, str) and value else None


def _strip(span_name: str, prefix: str) -> str:
    return span_name[len(prefix) + 1:] if span_name.startswith(prefix + " ") else span_name


def classify(span: SpanRecord) -> AgentSpan | StepSpan | None:
    """The role of ``span`` in a run, or ``None`` for spans that are neither an agent nor a step."""
    attrs = span.attributes
    oi_kind = _str(attrs, sc.OPENINFERENCE_SPAN_KIND)
    if oi_kind is not None:
        return _classify_openinference(span, oi_kind.upper())
    tl_kind = _str(attrs, sc.TRACELOOP_SPAN_KIND)
    if tl_kind is not None:
        return _classify_traceloop(span, tl_kind.lower())
    op = _str(attrs, sc.GEN_AI_OPERATION_NAME)
    if op is not None:
        return _classify_genai(span, op)
    request_type = _str(attrs, sc.LLM_REQUEST_TYPE)
    if request_type in _TRACELOOP_LLM_REQUEST_TYPES:
        return StepSpan("llm", _model(span))
    return None


def _model(span: SpanRecord) -> str:
    attrs = span.attributes
    return (_str(attrs, sc.GEN_AI_RESPONSE_MODEL) or _str(attrs, sc.GEN_AI_REQUEST_MODEL)
            or _str(attrs, sc.OPENINFERENCE_LLM_MODEL_NAME) or span.name)


def _classify_genai(span: SpanRecord, op: str) -> AgentSpan | StepSpan | None:
    attrs = span.attributes
    if op == sc.OP_INVOKE_AGENT:
        return AgentSpan(_str(attrs, sc.GEN_AI_AGENT_NAME) or _strip(span.name, op), 0)
    if op == sc.OP_INVOKE_WORKFLOW:
        return AgentSpan(_str(attrs, sc.GEN_AI_AGENT_NAME) or _strip(span.name, op), 1)
    if op == sc.OP_EXECUTE_TOOL:
        return StepSpan("tool", _str(attrs, sc.GEN_AI_TOOL_NAME) or _strip(span.name, op))
    if op in (sc.OP_THINK, sc.OP_PLAN):
        return StepSpan("thinking", op)
    if op in sc.LLM_OPERATIONS:
        return StepSpan("llm", _model(span))
    return None


def _classify_openinference(span: SpanRecord, kind: str) -> AgentSpan | StepSpan | None:
    attrs = span.attributes
    if kind == sc.OPENINFERENCE_KIND_AGENT:
        return AgentSpan(_str(attrs, sc.OPENINFERENCE_AGENT_NAME) or span.name, 0)
    if kind == sc.OPENINFERENCE_KIND_TOOL:
        return StepSpan("tool", _str(attrs, sc.OPENINFERENCE_TOOL_NAME) or span.name)
    if kind == sc.OPENINFERENCE_KIND_LLM:
        return StepSpan("llm", _model(span))
    if kind == sc.OPENINFERENCE_KIND_CHAIN:
        name = _str(attrs, sc.OPENINFERENCE_AGENT_NAME)
        return AgentSpan(name, 1) if name else AgentSpan(span.name, 3)
    return None


def _classify_traceloop(span: SpanRecord, kind: str) -> AgentSpan | StepSpan | None:
    name = _str(span.attributes, sc.TRACELOOP_ENTITY_NAME) or span.name
    if kind == sc.TRACELOOP_KIND_AGENT:
        return AgentSpan(name, 0)
    if kind == sc.TRACELOOP_KIND_WORKFLOW:
        return AgentSpan(name, 1)
    if kind in (sc.TRACELOOP_KIND_TOOL, sc.TRACELOOP_KIND_TASK):
        return StepSpan("tool", name)
    return None


def error_type(span: SpanRecord) -> str | None:
    """``error.type``, else the ``exception.type`` of the span's (last) exception event."""
    value = span.attributes.get(sc.ERROR_TYPE)
    if value:
        return str(value)
    for event in reversed(span.events):
        if event.name == sc.EXCEPTION_EVENT and event.attributes.get(sc.EXCEPTION_TYPE):
            return str(event.attributes[sc.EXCEPTION_TYPE])
    return None


def failed(span: SpanRecord) -> bool:
    return (span.status_code == _STATUS_ERROR or bool(span.attributes.get(sc.ERROR_TYPE))
            or span.attributes.get(sc.OTEL_META_TOOL_SUCCESS) is False)


def int_attr(span: SpanRecord, key: str) -> int | None:
    value = span.attributes.get(key)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def args_digest(span: SpanRecord) -> str | None:
    """A short digest of a tool call's arguments when the span carried them (content capture on)."""
    value = span.attributes.get(sc.GEN_AI_TOOL_CALL_ARGUMENTS)
    if value is None:
        return None
    return hashlib.blake2b(str(value).encode(), digest_size=6).hexdigest()
