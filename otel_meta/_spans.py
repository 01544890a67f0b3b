"""The span contract, written in one place (DESIGN.md §1 "Span contract").

Each function starts (or records) one span type on a given tracer, with the contract's name, kind and
attributes; ``start_time`` / ``end_time`` (ns since the epoch) let importers and the seed recorder
write steps that happened earlier. Content arguments (``arguments``, ``result``, ``reasoning``, ...)
must already be redacted and truncated by the caller, and passed only when content capture is on.
The decorators, the seed recorder, the openai wrappers and the dataset importers all use these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from otel_meta import semconv as sc
from otel_meta._problem import ProblemContext


def start_agent_span(
    tracer: Tracer,
    agent: str,
    *,
    problem: ProblemContext | None = None,
    request_id: str | None = None,
    prompt_version: str | None = None,
    prompt_commit: str | None = None,
    context: Context | None = None,
    start_time: int | None = None,
) -> Span:
    """Start ``invoke_agent {agent}`` (INTERNAL): one agent run."""
    attributes: dict[str, str] = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: agent}
    if problem is not None:
        attributes[sc.OTEL_META_PROBLEM_ID] = problem.problem_id
        for key, value in ((sc.OTEL_META_APP_NAME, problem.app_name),
                           (sc.OTEL_META_APP_NAMESPACE, problem.app_namespace),
                           (sc.OTEL_META_APP_DESCRIPTION, problem.app_description)):
            if value:
                attributes[key] = value
    if request_id is not None:
        attributes[sc.OTEL_META_REQUEST_ID] = request_id
    if prompt_version is not None:
        attributes[sc.OTEL_META_PROMPT_VERSION] = prompt_version
    if prompt_commit is not None:
        attributes[sc.OTEL_META_PROMPT_COMMIT] = prompt_commit
    return tracer.start_span(f"{sc.OP_INVOKE_AGENT} {agent}", context=context, kind=SpanKind.INTERNAL,
                             attributes=attributes, start_time=start_time)


def set_outcome(span: Span, success: bool, submission: str | None = None) -> None:
    """Write the run's outcome (``success``/``failure``) and, with capture on, its final submission."""
    span.set_attribute(sc.OTEL_META_OUTCOME, sc.OUTCOME_SUCCESS if success else sc.OUTCOME_FAILURE)
    if submission is not None:
        span.set_attribute(sc.OTEL_META_SUBMISSION, submission)


def start_tool_span(
    tracer: Tracer,
    tool: str,
    *,
    call_id: str | None = None,
    arguments: str | None = None,
    context: Context | None = None,
    start_time: int | None = None,
) -> Span:
    """Start ``execute_tool {tool}`` (INTERNAL). ``arguments`` is the captured JSON, if any."""
    attributes: dict[str, str] = tool_attributes(tool)
    if call_id is not None:
        attributes[sc.GEN_AI_TOOL_CALL_ID] = call_id
    if arguments is not None:
        attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = arguments
    return tracer.start_span(f"{sc.OP_EXECUTE_TOOL} {tool}", context=context, kind=SpanKind.INTERNAL,
                             attributes=attributes, start_time=start_time)


def tool_attributes(tool: str) -> dict[str, str]:
    """The attributes an ``execute_tool`` span starts with (a function tool, called by the agent's code)."""
    return {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: tool,
            sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}


def set_tool_result(span: Span, result: str) -> None:
    """Write a tool call's captured result JSON."""
    span.set_attribute(sc.GEN_AI_TOOL_CALL_RESULT, result)


def record_thinking(
    tracer: Tracer,
    agent: str | None,
    *,
    chars: int,
    tool_choice: str | None = None,
    reasoning: str | None = None,
    justification: str | None = None,
    context: Context | None = None,
    start_time: int | None = None,
    end_time: int | None = None,
) -> Span:
    """Record ``think {agent}`` (INTERNAL), already ended: one thinking step of ``chars`` characters."""
    attributes: dict[str, str | int] = {sc.GEN_AI_OPERATION_NAME: sc.OP_THINK, sc.OTEL_META_THINKING_CHARS: chars}
    if agent is not None:
        attributes[sc.GEN_AI_AGENT_NAME] = agent
    if tool_choice is not None:
        attributes[sc.OTEL_META_THINKING_TOOL_CHOICE] = tool_choice
    if reasoning is not None:
        attributes[sc.OTEL_META_THINKING_REASONING] = reasoning
    if justification is not None:
        attributes[sc.OTEL_META_THINKING_JUSTIFICATION] = justification
    name = f"{sc.OP_THINK} {agent}" if agent is not None else sc.OP_THINK
    span = tracer.start_span(name, context=context, kind=SpanKind.INTERNAL, attributes=attributes,
                             start_time=start_time)
    span.end(end_time=end_time if end_time is not None else start_time)
    return span


def start_llm_span(
    tracer: Tracer,
    model: str,
    *,
    provider: str,
    attributes: Mapping[str, object] | None = None,
    context: Context | None = None,
    start_time: int | None = None,
) -> Span:
    """Start ``chat {model}`` (CLIENT). ``attributes`` are further request attributes
    (``gen_ai.request.*``, ``server.*``, captured ``gen_ai.input.messages``)."""
    attrs: dict[str, object] = {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_PROVIDER_NAME: provider,
                                sc.GEN_AI_REQUEST_MODEL: model}
    if attributes:
        attrs.update(attributes)
    return tracer.start_span(f"{sc.OP_CHAT} {model}", context=context, kind=SpanKind.CLIENT,
                             attributes=attrs, start_time=start_time)  # type: ignore[arg-type]


@dataclass(slots=True)
class LlmResult:
    """What an LLM call answered, as the contract records it. ``output_messages`` is the captured JSON
    of the output messages (``None`` with capture off). Built on every LLM call, so not frozen (a frozen
    dataclass's ``__init__`` goes through ``object.__setattr__`` per field); treat it as read-only."""

    response_model: str | None = None
    response_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    finish_reasons: tuple[str, ...] = ()
    tool_calls: tuple[str, ...] = ()
    tool_call_ids: tuple[str, ...] = ()
    reasoning_chars: int = 0
    output_messages: str | None = None


def set_llm_result(span: Span, result: LlmResult, *, on_span: bool = True) -> None:
    """Write an LLM call's response attributes (``on_span=False`` keeps captured output off the span)."""
    attributes: dict[str, object] = {
        sc.OTEL_META_RESPONSE_TOOL_CALLS: result.tool_calls,
        sc.OTEL_META_RESPONSE_TOOL_CALL_IDS: result.tool_call_ids,
        sc.OTEL_META_REASONING_CHARS: result.reasoning_chars,
    }
    if result.response_model is not None:
        attributes[sc.GEN_AI_RESPONSE_MODEL] = result.response_model
    if result.response_id is not None:
        attributes[sc.GEN_AI_RESPONSE_ID] = result.response_id
    if result.input_tokens is not None:
        attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] = result.input_tokens
    if result.output_tokens is not None:
        attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = result.output_tokens
    if result.reasoning_tokens is not None:
        attributes[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = result.reasoning_tokens
    if result.finish_reasons:
        attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] = result.finish_reasons
    if on_span and result.output_messages is not None:
        attributes[sc.GEN_AI_OUTPUT_MESSAGES] = result.output_messages
    span.set_attributes(attributes)  # type: ignore[arg-type]


def add_inference_details(span: Span, input_messages: str | None, output_messages: str | None) -> None:
    """The event-mode capture: a ``gen_ai.client.inference.operation.details`` event on the span."""
    attributes = {}
    if input_messages is not None:
        attributes[sc.GEN_AI_INPUT_MESSAGES] = input_messages
    if output_messages is not None:
        attributes[sc.GEN_AI_OUTPUT_MESSAGES] = output_messages
    span.add_event(sc.EVENT_INFERENCE_DETAILS, attributes)


def set_error(span: Span, error_type: str) -> None:
    """Mark a step failed: ``error.type`` and status ERROR (the message carries no content)."""
    span.set_attribute(sc.ERROR_TYPE, error_type)
    span.set_status(Status(StatusCode.ERROR, error_type))


def record_exception(span: Span, exc: BaseException, message: str | None = None) -> None:
    """Add the conventions' ``exception`` span event: ``exception.type`` (module-qualified, as the SDK's
    ``record_exception`` writes it) and, only when given, ``exception.message``. No stack trace: an
    exception's message and frames can carry content, so the caller passes the message only with content
    capture on (redacted and truncated)."""
    kind = type(exc)
    module = kind.__module__
    attributes = {sc.EXCEPTION_TYPE: f"{module}.{kind.__qualname__}" if module and module != "builtins"
                  else kind.__qualname__}
    if message is not None:
        attributes[sc.EXCEPTION_MESSAGE] = message
    span.add_event(sc.EXCEPTION_EVENT, attributes)


def error_type_of(exc: BaseException) -> str:
    """The ``error.type`` of an exception: its class's qualified name."""
    return type(exc).__qualname__


__all__: Sequence[str] = (
    "LlmResult", "add_inference_details", "error_type_of", "record_exception", "record_thinking", "set_error",
    "set_llm_result", "set_outcome", "set_tool_result", "start_agent_span", "start_llm_span",
    "start_tool_span", "tool_attributes",
)
