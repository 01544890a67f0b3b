"""Assemble one trace's spans into a ``Run``."""

from __future__ import annotations

from collections.abc import Sequence

from analyzers.conventions._classify import (
    AgentSpan,
    StepSpan,
    args_digest,
    classify,
    error_type,
    failed,
    int_attr,
)
from analyzers.conventions._outcome import (
    DEFAULT_OUTCOME_RULE,
    OutcomeRule,
    evaluation_outcome,
    resolve_outcome,
    span_evaluations,
)
from analyzers.model import EvaluationRecord, Run, SpanRecord, Step
from otel_meta import semconv as sc

_UNKNOWN_AGENT = "unknown"


def _depth(span: SpanRecord, by_id: dict[str, SpanRecord]) -> int:
    depth, seen = 0, {span.span_id}
    parent = span.parent_span_id
    while parent is not None and parent in by_id and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = by_id[parent].parent_span_id
    return depth


def _first_attr(spans: Sequence[SpanRecord], key: str) -> str | None:
    for span in spans:
        value = span.attributes.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _outcome(agent: SpanRecord | None, spans: Sequence[SpanRecord]) -> bool | None:
    ordered = ([agent] if agent is not None else []) + list(spans)
    label = _first_attr(ordered, sc.OTEL_META_OUTCOME)
    if label == sc.OUTCOME_SUCCESS:
        return True
    if label == sc.OUTCOME_FAILURE:
        return False
    if agent is not None and failed(agent):
        return False
    return None


def assemble_run(
    spans: Sequence[SpanRecord],
    *,
    evaluations: Sequence[EvaluationRecord] = (),
    api_outcome: bool | None = None,
    rule: OutcomeRule | None = None,
) -> Run | None:
    """The run that one trace's spans describe, or ``None`` when they hold no agent and no step.

    Spans may come in any order and may be incomplete: the run is ``complete`` once the trace's root
    span (no parent) has arrived, or the outermost agent span whose parent is not among ``spans`` (an
    agent called from a service whose own spans are not sent to the analyzer).

    The outcome follows ``analyzers.conventions._outcome``'s precedence: ``api_outcome`` (a late
    outcome posted for the trace), then the spans' own, then ``evaluations`` (stored log records) and
    the spans' ``gen_ai.evaluation.result`` events as ``rule`` maps them.
    """
    if not spans:
        return None
    by_id = {s.span_id: s for s in spans}
    agents: list[tuple[int, int, int, SpanRecord, AgentSpan]] = []
    steps: list[Step] = []
    for span in spans:
        role = classify(span)
        if isinstance(role, AgentSpan):
            agents.append((_depth(span, by_id), role.rank, span.start_time_unix_nano, span, role))
        elif isinstance(role, StepSpan):
            steps.append(_step(span, role))
    if not agents and not steps:
        return None
    steps.sort(key=lambda s: s.start_time_unix_nano)
    ordered = sorted(spans, key=lambda s: s.start_time_unix_nano)
    agent_span: SpanRecord | None = None
    if agents:
        agents.sort(key=lambda a: (a[0], a[1], a[2]))
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
    evaluated = evaluation_outcome([*evaluations, *span_evaluations(ordered)], rule or DEFAULT_OUTCOME_RULE)
    outcome, source = resolve_outcome(api=api_outcome, span=_outcome(agent_span, ordered), evaluation=evaluated)
    return Run(
        trace_id=spans[0].trace_id,
        agent=agent_name,
        outcome=outcome,
        outcome_source=source,
        started_at_unix_nano=started,
        duration_ms=max(duration_ns, 0) / 1e6,
        steps=tuple(steps),
        prompt_version=_first_attr(attr_order, sc.OTEL_META_PROMPT_VERSION),
        prompt_commit=_first_attr(attr_order, sc.OTEL_META_PROMPT_COMMIT),
        problem_id=_first_attr(attr_order, sc.OTEL_META_PROBLEM_ID),
        request_id=_first_attr(attr_order, sc.OTEL_META_REQUEST_ID),
        complete=complete,
    )


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
