"""What one span is, whichever instrumentation wrote it: an agent run, a step, or neither.

Precedence: the GenAI conventions' ``gen_ai.operation.name`` (otel-meta's own spans, the official
``opentelemetry-instrumentation-genai-*`` and openai-v2, pydantic-ai, Google ADK), then OpenInference's
``openinference.span.kind``, then OpenLLMetry's ``traceloop.span.kind``, then the older
``llm.request.type`` that OpenLLMetry's LLM spans carry. Framework plumbing is neither a step nor an
agent: OpenLLMetry ``task`` spans (LangGraph nodes, LangChain chains), smolagents' ``final_answer``
tool, ADK's ``(merged tools)`` span around parallel calls.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from analyzers.model import SpanRecord, StepKind
from otel_meta import semconv as sc

_STATUS_ERROR = 2
_TRACELOOP_LLM_REQUEST_TYPES = frozenset({"chat", "completion"})
#: Names a framework gives every run or workflow, which therefore name no agent.
FRAMEWORK_DEFAULT_NAMES = frozenset({"Agent workflow", "LangGraph", "agent", "Workflow", "Crew"})
#: Tool spans that are the framework's own mechanics, not a tool the agent called.
FRAMEWORK_TOOLS = frozenset({"final_answer", "(merged tools)", "__end__"})
#: Message part types that hold the model's reasoning (``thinking`` is pydantic-ai's).
_REASONING_PARTS = frozenset({sc.PART_TYPE_REASONING, "thinking"})
_METHOD_SUFFIX = re.compile(r"^(?P<owner>[\w-]+)\.(?:run|arun|kickoff|kickoff_async|invoke|ainvoke|__call__|"
                            r"_execute_core|execute_task)$")
_PRIVATE_METHOD = re.compile(r"^\w+\._\w+$")
_ERROR_NAME = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Exceeded|Timeout))\b")

# Agent-name quality: lower is better; the run's agent is the best-named, then outermost, candidate.
NAMED = 0          # an agent-name attribute, or the span name of an agent span
UNNAMED_AGENT = 1  # an agent span named only like ``Class.method``, or by a framework default
CHAIN = 2          # a workflow or chain span without an agent name


@dataclass(frozen=True, slots=True)
class AgentSpan:
    """A span that stands for an agent run; ``quality`` orders candidates (lower wins)."""

    name: str
    quality: int


@dataclass(frozen=True, slots=True)
class StepSpan:
    kind: StepKind
    name: str


def _str(attrs: Any, key: str) -> str | None:
    value = attrs.get(key)
    return value if isinstance(value, str) and value else None


def _strip(span_name: str, prefix: str) -> str:
    return span_name[len(prefix) + 1:] if span_name.startswith(prefix + " ") else span_name


def _agent(name: str | None, fallback: str, quality: int) -> AgentSpan:
    """An agent candidate named ``name`` (an attribute), else by ``fallback`` (a span name)."""
    if name is not None and name not in FRAMEWORK_DEFAULT_NAMES:
        return AgentSpan(name, NAMED)
    match = _METHOD_SUFFIX.match(fallback)
    if match is not None:
        return AgentSpan(match.group("owner"), max(quality, UNNAMED_AGENT))
    if fallback in FRAMEWORK_DEFAULT_NAMES or name is not None:
        return AgentSpan(name or fallback, max(quality, UNNAMED_AGENT))
    return AgentSpan(fallback, quality)


def classify(span: SpanRecord) -> AgentSpan | StepSpan | None:
    """The role of ``span`` in a run, or ``None`` for spans that are neither an agent nor a step."""
    attrs = span.attributes
    op = _str(attrs, sc.GEN_AI_OPERATION_NAME)
    role: AgentSpan | StepSpan | None = None
    if op is not None:
        role = _classify_genai(span, op)
    else:
        oi_kind = _str(attrs, sc.OPENINFERENCE_SPAN_KIND)
        tl_kind = _str(attrs, sc.TRACELOOP_SPAN_KIND)
        if oi_kind is not None:
            role = _classify_openinference(span, oi_kind.upper())
        elif tl_kind is not None:
            role = _classify_traceloop(span, tl_kind.lower())
        elif _str(attrs, sc.LLM_REQUEST_TYPE) in _TRACELOOP_LLM_REQUEST_TYPES:
            role = StepSpan("llm", _model(span))
    if isinstance(role, StepSpan) and role.kind == "tool" and role.name in FRAMEWORK_TOOLS:
        return None
    if isinstance(role, StepSpan) and role.kind == "llm" and _PRIVATE_METHOD.match(span.name):
        return None  # LlamaIndex's ``OpenAI._prepare_chat_with_tools``: builds a request, sends none
    return role


def _model(span: SpanRecord) -> str:
    attrs = span.attributes
    return (_str(attrs, sc.GEN_AI_RESPONSE_MODEL) or _str(attrs, sc.GEN_AI_REQUEST_MODEL)
            or _str(attrs, sc.OPENINFERENCE_LLM_MODEL_NAME) or span.name)


def _classify_genai(span: SpanRecord, op: str) -> AgentSpan | StepSpan | None:
    attrs = span.attributes
    if op == sc.OP_INVOKE_AGENT:
        return _agent(_str(attrs, sc.GEN_AI_AGENT_NAME), _strip(span.name, op), NAMED)
    if op == sc.OP_INVOKE_WORKFLOW:  # merged into invoke_agent by GenAI conventions 0.1.0
        name = _str(attrs, sc.GEN_AI_AGENT_NAME) or _str(attrs, sc.GEN_AI_WORKFLOW_NAME)
        return _agent(name, _strip(span.name, op), CHAIN)
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
        name = _str(attrs, sc.OPENINFERENCE_AGENT_NAME) or _str(attrs, sc.OPENINFERENCE_GRAPH_NODE_ID)
        return _agent(name, span.name, NAMED)
    if kind == sc.OPENINFERENCE_KIND_TOOL:
        return StepSpan("tool", _str(attrs, sc.OPENINFERENCE_TOOL_NAME) or span.name)
    if kind == sc.OPENINFERENCE_KIND_LLM:
        return StepSpan("llm", _model(span))
    if kind == sc.OPENINFERENCE_KIND_CHAIN:
        return _agent(_str(attrs, sc.OPENINFERENCE_AGENT_NAME), span.name, CHAIN)
    return None


def _classify_traceloop(span: SpanRecord, kind: str) -> AgentSpan | StepSpan | None:
    name = _str(span.attributes, sc.TRACELOOP_ENTITY_NAME)
    if kind == sc.TRACELOOP_KIND_AGENT:
        return _agent(name, span.name, NAMED)
    if kind == sc.TRACELOOP_KIND_WORKFLOW:
        return _agent(name, span.name, CHAIN)
    if kind == sc.TRACELOOP_KIND_TOOL:
        return StepSpan("tool", name or _strip_suffix(span.name, ".tool"))
    return None  # ``task``: a graph node, a chain, a decorated helper: plumbing, not a tool


def _strip_suffix(name: str, suffix: str) -> str:
    return name.removesuffix(suffix)


def error_type(span: SpanRecord) -> str:
    """Why ``span`` failed: ``error.type``, else its exception event's ``exception.type``, else an
    exception class named in the status message, else ``_OTHER`` (the conventions' fallback)."""
    value = span.attributes.get(sc.ERROR_TYPE)
    if value:
        return str(value)
    for event in reversed(span.events):
        if event.name == sc.EXCEPTION_EVENT and event.attributes.get(sc.EXCEPTION_TYPE):
            return str(event.attributes[sc.EXCEPTION_TYPE])
    match = _ERROR_NAME.search(span.status_message or "")
    return match.group(1) if match else sc.ERROR_TYPE_OTHER


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


#: Where each convention puts a tool call's arguments (content: present only when captured).
_TOOL_ARGUMENT_KEYS = (sc.GEN_AI_TOOL_CALL_ARGUMENTS, sc.OPENINFERENCE_INPUT_VALUE, sc.TRACELOOP_ENTITY_INPUT)


def args_digest(span: SpanRecord) -> str | None:
    """A short digest of a tool call's arguments when the span carried them (content capture on)."""
    for key in _TOOL_ARGUMENT_KEYS:
        value = span.attributes.get(key)
        if value not in (None, ""):
            return hashlib.blake2b(str(value).encode(), digest_size=6).hexdigest()
    return None


def reasoning(span: SpanRecord) -> tuple[bool, int | None]:
    """Whether a third-party LLM span shows model reasoning, and its length in characters when the
    text was captured: reasoning parts of ``gen_ai.output.messages``, else reasoning token counts."""
    attrs = span.attributes
    chars = _reasoning_chars(attrs.get(sc.GEN_AI_OUTPUT_MESSAGES))
    if chars:
        return True, chars
    for key in (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, sc.OPENINFERENCE_REASONING_TOKENS,
                sc.TRACELOOP_REASONING_TOKENS):
        tokens = int_attr(span, key)
        if tokens:
            return True, None
    return False, None


def _reasoning_chars(messages: Any) -> int:
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            return 0
    total = 0
    for message in messages if isinstance(messages, list) else ():
        parts = message.get("parts") if isinstance(message, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict) and part.get("type") in _REASONING_PARTS:
                total += len(str(part.get("content") or ""))
    return total
