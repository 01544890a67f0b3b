"""Assemble one trace's spans into a ``Run``, or a conversation's agent-less traces into one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from analyzers.conventions._classify import (
    CHAIN,
    AgentSpan,
    StepSpan,
    args_digest,
    classify,
    error_type,
    failed,
    int_attr,
    reasoning,
)
from analyzers.conventions._outcome import (
    OutcomeRule,
    assembly_rule,
    evaluation_outcome,
    resolve_outcome,
    span_evaluations,
)
from analyzers.conventions._task_key import task_key
from analyzers.model import EvaluationRecord, Run, SpanRecord, Step
from otel_meta import semconv as sc

_UNKNOWN_AGENT = "unknown"
#: The name of the thinking step a third-party LLM span's model reasoning becomes.
REASONING_STEP = "reasoning"


def _ancestors(span: SpanRecord, by_id: dict[str, SpanRecord]) -> list[str]:
    """The ids of ``span``'s ancestors that are among the trace's spans, nearest first."""
    chain, seen = [], {span.span_id}
    parent = span.parent_span_id
    while parent is not None and parent in by_id and parent not in seen:
        seen.add(parent)
        chain.append(parent)
        parent = by_id[parent].parent_span_id
    return chain


def _first_attr(spans: Sequence[SpanRecord], key: str) -> str | None:
    for span in spans:
        value = span.attributes.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _span_outcome(spans: Sequence[SpanRecord], agents: Sequence[tuple[SpanRecord, AgentSpan]]) -> bool | None:
    """``otel_meta.outcome`` (the run's agent span first), else failure when the run's agent span or
    any agent span beneath it ended in error (a crash inside a framework's inner agent), else unknown.
    A failed chain or workflow step inside the run is not the run's failure: frameworks recover from
    those (smolagents' step after a tool error)."""
    for span in [*(a[0] for a in agents[:1]), *spans]:
        label = span.attributes.get(sc.OTEL_META_OUTCOME)
        if label == sc.OUTCOME_SUCCESS:
            return True
        if label == sc.OUTCOME_FAILURE:
            return False
    crashed = any(failed(span) and (i == 0 or role.quality < CHAIN) for i, (span, role) in enumerate(agents))
    return False if crashed else None


def assemble_run(spans: Sequence[SpanRecord], *, evaluations: Sequence[EvaluationRecord] = (),
                 api_outcome: bool | None = None, rule: OutcomeRule | None = None) -> Run | None:
    """The run that one trace's spans describe, or ``None`` when they hold no agent run.

    A trace of lone LLM calls (no agent span, no tool or thinking step, every LLM span a root) is not
    a run: nothing in it says which calls make up one task, which tools ran, or how it ended.

    The outcome is resolved by precedence (``analyzers.conventions._outcome``): ``api_outcome`` (a
    ``POST /api/runs/{trace_id}/outcome``), else the spans (``otel_meta.outcome``, else failure when an
    agent span of the run, at any depth, ended in error), else the latest of ``evaluations`` (stored
    log records) and the trace's ``gen_ai.evaluation.result`` span events that ``rule`` (default: the
    configured rule, ``OTEL_META_OUTCOME_RULE``) maps to success or failure.

    Spans may come in any order and may be incomplete: the run is ``complete`` once the trace's root
    span (no parent) has arrived, or the outermost agent span whose parent is not among ``spans`` (an
    agent called from a service whose own spans are not sent to the analyzer).
    """
    if not spans:
        return None
    by_id = {s.span_id: s for s in spans}
    ancestry = {s.span_id: _ancestors(s, by_id) for s in spans}
    roles = {s.span_id: classify(s) for s in spans}
    agents = sorted(
        ((role.quality, len(ancestry[s.span_id]), s.start_time_unix_nano, s, role)
         for s in spans if isinstance(role := roles[s.span_id], AgentSpan)),
        key=lambda a: a[:3],
    )
    step_spans = _step_spans(spans, roles, ancestry)
    if not agents and all(role.kind == "llm" and span.parent_span_id is None for span, role in step_spans):
        return None
    steps = sorted(_steps(step_spans), key=lambda s: s.start_time_unix_nano)
    ordered = sorted(spans, key=lambda s: s.start_time_unix_nano)
    agent_span: SpanRecord | None = None
    if agents and (agents[0][4].quality < CHAIN or agents[0][3].parent_span_id is None):
        agent_span, agent_name = agents[0][3], agents[0][4].name
    else:
        service = next((s.resource_attributes.get(sc.SERVICE_NAME) for s in ordered
                        if s.resource_attributes.get(sc.SERVICE_NAME)), None)
        agent_name = str(service) if service else _UNKNOWN_AGENT
    if agent_span is not None:
        started = agent_span.start_time_unix_nano
        duration_ns = agent_span.end_time_unix_nano - started
    else:
        started = ordered[0].start_time_unix_nano
        duration_ns = max(s.end_time_unix_nano for s in spans) - started
    attr_order = ([agent_span] if agent_span is not None else []) + ordered
    complete = any(s.parent_span_id is None for s in spans) or (
        agent_span is not None and agent_span.parent_span_id not in by_id
    )
    evaluated = evaluation_outcome([*evaluations, *span_evaluations(ordered)], rule or assembly_rule())
    outcome, source = resolve_outcome(api=api_outcome, span=_span_outcome(ordered, [(a[3], a[4]) for a in agents]),
                                      evaluation=evaluated)
    return Run(
        trace_id=spans[0].trace_id,
        agent=agent_name,
        outcome=outcome,
        outcome_source=source,
        started_at_unix_nano=started,
        duration_ms=max(duration_ns, 0) / 1e6,
        steps=tuple(steps),
        complete=complete,
        **_labels(attr_order),
    )


class _RunLabels(TypedDict):
    prompt_version: str | None
    prompt_commit: str | None
    problem_id: str | None
    request_id: str | None
    task_key: str | None
    task_key_source: str | None


def _labels(attr_order: Sequence[SpanRecord]) -> _RunLabels:
    """The run's labels taken from its spans (the first span in ``attr_order`` that carries each): the
    prompt version and commit, the task (problem id, request id) and the fallback task key; one place
    for a one-trace run and a conversation's run alike."""
    key, key_source = task_key(attr_order)
    return {
        "prompt_version": _first_attr(attr_order, sc.OTEL_META_PROMPT_VERSION),
        "prompt_commit": _first_attr(attr_order, sc.OTEL_META_PROMPT_COMMIT),
        "problem_id": _first_attr(attr_order, sc.OTEL_META_PROBLEM_ID),
        "request_id": _first_attr(attr_order, sc.OTEL_META_REQUEST_ID),
        "task_key": key,
        "task_key_source": key_source,
    }


def conversation_of(spans: Sequence[SpanRecord]) -> str | None:
    """The conversation a trace's spans join across traces, or ``None`` when the trace is a run (or no
    run) of its own.

    A trace joins the ``gen_ai.conversation.id`` of its earliest span that carries one when it has no
    agent span (no ``invoke_agent``, AGENT or CHAIN span: nothing of its own says where a task starts
    and ends) and its root span has arrived (a trace whose root is missing may still get its agent
    span; until then it stays a pending run of its own).
    """
    if not any(s.parent_span_id is None for s in spans):
        return None
    if any(isinstance(classify(s), AgentSpan) for s in spans):
        return None
    for span in sorted(spans, key=lambda s: s.start_time_unix_nano):
        value = span.attributes.get(sc.GEN_AI_CONVERSATION_ID)
        if isinstance(value, str) and value:
            return value
    return None


def assemble_conversation(conversation_id: str, traces: Sequence[Sequence[SpanRecord]], *,
                          evaluations: Sequence[EvaluationRecord] = (), api_outcome: bool | None = None,
                          rule: OutcomeRule | None = None) -> Run | None:
    """The one run of a conversation's traces (each a trace that ``conversation_of`` puts in
    ``conversation_id``), or ``None`` when there is none.

    Keyed by its earliest trace (by first span start, then trace id): ``trace_id`` is that trace's id
    and ``trace_ids`` lists them all in that order. Steps are the steps of every trace, in time order.
    The agent is the resource's ``service.name`` (else ``unknown``): such spans name no agent. Outcome,
    by the same precedence as ``assemble_run``: ``api_outcome`` (the caller passes the latest set on any
    of the traces), else the latest ``otel_meta.outcome`` on their spans, else the latest evaluation
    (``evaluations`` and the spans' ``gen_ai.evaluation.result`` events) that ``rule`` maps; no agent
    span, so an LLM call that failed is a failed step, not a failed run. Always complete.
    """
    members = sorted((list(t) for t in traces if t),
                     key=lambda t: (min(s.start_time_unix_nano for s in t), t[0].trace_id))
    if not members:
        return None
    steps: list[Step] = []
    for spans in members:
        by_id = {s.span_id: s for s in spans}
        ancestry = {s.span_id: _ancestors(s, by_id) for s in spans}
        roles = {s.span_id: classify(s) for s in spans}
        steps.extend(_steps(_step_spans(spans, roles, ancestry)))
    steps.sort(key=lambda s: s.start_time_unix_nano)
    ordered = sorted((s for t in members for s in t), key=lambda s: s.start_time_unix_nano)
    service = next((s.resource_attributes.get(sc.SERVICE_NAME) for s in ordered
                    if s.resource_attributes.get(sc.SERVICE_NAME)), None)
    started = ordered[0].start_time_unix_nano
    evaluated = evaluation_outcome([*evaluations, *span_evaluations(ordered)], rule or assembly_rule())
    outcome, source = resolve_outcome(api=api_outcome, span=_span_outcome(ordered[::-1], []), evaluation=evaluated)
    return Run(
        trace_id=members[0][0].trace_id,
        agent=str(service) if service else _UNKNOWN_AGENT,
        outcome=outcome,
        outcome_source=source,
        started_at_unix_nano=started,
        duration_ms=max(max(s.end_time_unix_nano for s in ordered) - started, 0) / 1e6,
        steps=tuple(steps),
        complete=True,
        conversation_id=conversation_id,
        trace_ids=tuple(t[0].trace_id for t in members),
        **_labels(ordered),
    )


def _step_spans(spans: Sequence[SpanRecord], roles: dict[str, AgentSpan | StepSpan | None],
                ancestry: dict[str, list[str]]) -> list[tuple[SpanRecord, StepSpan]]:
    """The spans that are steps. A tool or LLM span with a span of the same kind beneath it is a
    wrapper around that one call (a framework's LLM span around the client library's, a tool node
    around the tool), so only the innermost counts: one LLM step per request, one tool step per call.
    A cancelled tool call is none."""
    wrappers = set()
    for span in spans:
        role = roles[span.span_id]
        if isinstance(role, StepSpan) and role.kind in ("tool", "llm"):
            for parent in ancestry[span.span_id]:
                parent_role = roles[parent]
                if isinstance(parent_role, StepSpan) and parent_role.kind == role.kind:
                    wrappers.add(parent)
    return [(s, role) for s in spans
            if isinstance(role := roles[s.span_id], StepSpan) and s.span_id not in wrappers
            and not (role.kind == "tool" and _cancelled(s))]


def _cancelled(span: SpanRecord) -> bool:
    """A tool call the framework cancelled (a parallel sibling failed first): it did not run, and it
    did not fail on its own, so it is no step (counting it would blame the tool)."""
    return failed(span) and error_type(span).rsplit(".", 1)[-1] == "CancelledError"


def _steps(step_spans: list[tuple[SpanRecord, StepSpan]]) -> list[Step]:
    steps = []
    for span, role in step_spans:
        if role.kind == "llm" and sc.OTEL_META_REASONING_CHARS not in span.attributes:
            # otel-meta keeps model reasoning on its LLM step and marks deliberate thinking with
            # otel_meta.thinking(); a third-party agent has no such span, so its model's reasoning is
            # the only thinking the spans show.
            shown, chars = reasoning(span)
            if shown:
                steps.append(Step(kind="thinking", name=REASONING_STEP, ok=True, duration_ms=0.0,
                                  start_time_unix_nano=span.start_time_unix_nano, chars=chars))
        steps.append(_step(span, role))
    return steps


def _step(span: SpanRecord, role: StepSpan) -> Step:
    ok = not failed(span)
    chars_key = sc.OTEL_META_THINKING_CHARS if role.kind == "thinking" else sc.OTEL_META_REASONING_CHARS
    tool_choice = span.attributes.get(sc.OTEL_META_THINKING_TOOL_CHOICE) if role.kind == "thinking" else None
    return Step(
        kind=role.kind,
        name=role.name,
        ok=ok,
        duration_ms=max(span.end_time_unix_nano - span.start_time_unix_nano, 0) / 1e6,
        start_time_unix_nano=span.start_time_unix_nano,
        error_type=None if ok else error_type(span),
        chars=int_attr(span, chars_key),
        tool_choice=str(tool_choice) if tool_choice else None,
        args_digest=args_digest(span) if role.kind == "tool" else None,
    )
