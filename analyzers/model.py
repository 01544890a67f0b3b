"""The analyzer's domain objects: what crosses module boundaries inside ``analyzers``.

``SpanRecord`` is one stored span as the receiver decoded it; ``Run`` and ``Step`` are what the
conventions layer assembles from a trace's spans; ``Pattern`` is what the miner derives from runs;
``Assessment`` is the reasoning judge's verdict. All are frozen dataclasses; ``to_json()`` gives the
JSON shape the CLI and the REST API print (DESIGN.md and the README document those shapes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

StepKind = Literal["tool", "thinking", "llm"]
#: Where a run's outcome came from: the agent's own spans (``otel_meta.outcome`` or an agent span that
#: ended in error), ``POST /api/runs/{trace_id}/outcome``, or an evaluator's ``gen_ai.evaluation.result``
#: mapped to success/failure by the outcome rule. Precedence: api > span > evaluation.
OutcomeSource = Literal["span", "api", "evaluation"]
OUTCOME_SOURCES: tuple[OutcomeSource, ...] = ("api", "span", "evaluation")
PatternType = Literal[
    "success_pattern",
    "failure_pattern",
    "tool_effectiveness",
    "thinking_pattern",
    "performance_pattern",
]
PATTERN_TYPES: tuple[PatternType, ...] = (
    "success_pattern",
    "failure_pattern",
    "tool_effectiveness",
    "thinking_pattern",
    "performance_pattern",
)

#: A span attribute value as OTLP carries it (scalars, homogeneous lists, or nested lists/maps for
#: ``AnyValue`` arrays and kvlists).
AttributeValue = Any


QUALITY_DIGITS = 4
"""Decimal digits of ``reasoningQuality`` as the CLI and the REST API return it."""


def returned_quality(quality: float) -> float:
    """A reasoning quality as ``Assessment.to_json`` returns it (stores filter on this value)."""
    return round(quality, QUALITY_DIGITS)


def iso_utc(ns: int) -> str:
    """Format a Unix time in nanoseconds as an ISO 8601 UTC string with millisecond precision."""
    dt = datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class SpanEvent:
    name: str
    time_unix_nano: int
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpanLink:
    trace_id: str
    span_id: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One span, whole: what the store keeps and the conventions layer reads.

    Ids are lowercase hex (32 digits for a trace, 16 for a span); ``parent_span_id`` is ``None`` for a
    root span. ``kind`` is the OTLP ``SpanKind`` number (1 internal, 2 server, 3 client, ...) and
    ``status_code`` the OTLP status code (0 unset, 1 ok, 2 error).
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    links: tuple[SpanLink, ...] = ()
    status_code: int = 0
    status_message: str = ""
    resource_attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    scope_name: str = ""
    scope_version: str = ""


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One ``gen_ai.evaluation.result`` from an evaluator: a span event or an OTLP log record.

    ``span_id`` is the span it is parented to (``None`` when the record names only the trace); the
    score and label are as the evaluator sent them. ``attributes`` keeps every attribute whole.
    """

    trace_id: str
    span_id: str | None
    name: str
    score_value: float | None
    score_label: str | None
    explanation: str | None
    time_unix_nano: int
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a run: a tool call, a thinking step, or an LLM call.

    ``chars`` is the reasoning length of a thinking step (or an LLM call's reasoning), when known.
    ``args_digest`` is a short digest of a tool call's arguments when the spans carried them (content
    capture on); it lets the miner tell repeated identical calls from repeated calls to the same tool.
    """

    kind: StepKind
    name: str
    ok: bool
    duration_ms: float
    start_time_unix_nano: int = 0
    error_type: str | None = None
    chars: int | None = None
    tool_choice: str | None = None
    args_digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "ok": self.ok,
            "duration_ms": round(self.duration_ms, 3),
            "error_type": self.error_type,
        }


@dataclass(frozen=True, slots=True)
class Run:
    """One agent run (one trace), assembled from its spans.

    ``outcome`` is ``True`` (success), ``False`` (failure) or ``None`` (unknown yet), and
    ``outcome_source`` says where it came from (``OutcomeSource``; ``None`` while unknown). ``complete``
    is ``False`` while the trace's root span has not arrived (a pending run).

    A run grouped by ``gen_ai.conversation.id`` (calls with no agent span, each a trace of its own)
    carries that ``conversation_id`` and lists its ``trace_ids`` in time order; its ``trace_id`` is the
    first of them. A one-trace run leaves both empty.

    ``problem_id`` is the task (``otel_meta.problem.id``); ``task_key`` is the fallback grouping when
    problem ids are absent or never repeat, and ``task_key_source`` where it came from:
    ``problem_context`` (a digest of the ``otel_meta.app.*`` attributes) or ``first_message`` (a digest
    of the first captured user message); both ``None`` when the spans offer neither
    (``analyzers.conventions._task_key``).
    """

    trace_id: str
    agent: str
    outcome: bool | None
    started_at_unix_nano: int
    duration_ms: float
    steps: tuple[Step, ...] = ()
    prompt_version: str | None = None
    prompt_commit: str | None = None
    problem_id: str | None = None
    request_id: str | None = None
    complete: bool = True
    outcome_source: OutcomeSource | None = None
    conversation_id: str | None = None
    trace_ids: tuple[str, ...] = ()
    task_key: str | None = None
    task_key_source: str | None = None

    @property
    def started_at(self) -> str:
        return iso_utc(self.started_at_unix_nano)

    @property
    def outcome_label(self) -> str | None:
        if self.outcome is None:
            return None
        return "success" if self.outcome else "failure"

    def tool_names(self) -> list[str]:
        """The names of this run's tool steps, in order."""
        return [s.name for s in self.steps if s.kind == "tool"]

    def to_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "agent": self.agent,
            "outcome": self.outcome_label,
            "outcome_source": self.outcome_source,
            "prompt_version": self.prompt_version,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 3),
            "steps": [s.to_json() for s in self.steps],
            **({"conversation_id": self.conversation_id, "trace_ids": list(self.trace_ids)}
               if self.conversation_id is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class Pattern:
    """A mined pattern with its evidence.

    ``confidence`` is a statistic in [0, 1] whose definition lives in ``analyzers.mining`` (and the
    README). ``kind`` is the machine-readable subtype (``sequence``, ``failed_call``, ``call_failures``,
    ``think_first``, ``hot_spot``, ...; ``analyzers.mining`` lists them) and fixes what the figures
    measure: ``success_rate`` is the rate of the group that shows the pattern and ``comparison_rate``
    that of the group the confidence test compares it with (the runs without it; for call-level kinds
    the other tools' calls), ``frequency`` is the size of the first group, in ``unit`` (``runs`` or
    ``calls``). ``baseline_success_rate`` is the agent's baseline: the success rate of all its mined
    runs. ``measures`` holds the kind's other figures (a latency p95, a
    run-length fence, ...). ``evidence`` holds up to 10 trace ids. ``tools`` depends on the type (see
    ``analyzers.mining``).

    ``effect`` is the difference in success rate the pattern makes (with minus without; within tasks
    when ``scope`` is ``"within_task"``, pooled across tasks when ``"pooled"``), ``effect_low`` and
    ``effect_high`` its 90% interval, ``tasks`` the number of tasks the within-task comparison used and
    ``task_grouping`` what told the tasks apart (``problem_id``, ``problem_context``, ``first_message``;
    empty when pooled);
    ``None``/empty for a latency hot spot. ``task_confounded``: the pooled effect is not supported within
    tasks. ``withheld``: why no guideline may be written from the pattern (empty: one may).
    """

    id: str
    type: PatternType
    agent: str
    description: str
    tools: tuple[str, ...]
    confidence: float
    frequency: int
    success_rate: float
    baseline_success_rate: float
    evidence: tuple[str, ...] = ()
    recommendations: tuple[str, ...] = ()
    kind: str = ""
    unit: Literal["runs", "calls"] = "runs"
    measures: Mapping[str, float] = field(default_factory=dict)
    comparison_rate: float | None = None
    effect: float | None = None
    effect_low: float | None = None
    effect_high: float | None = None
    scope: str = ""
    tasks: int = 0
    task_grouping: str = ""
    task_confounded: bool = False
    withheld: str = ""

    @property
    def compared_rate(self) -> float:
        """The rate ``success_rate`` is tested against (the baseline when no comparison was recorded)."""
        return self.baseline_success_rate if self.comparison_rate is None else self.comparison_rate

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "kind": self.kind,
            "agent": self.agent,
            "description": self.description,
            "tools": list(self.tools),
            "confidence": round(self.confidence, 4),
            "frequency": self.frequency,
            "unit": self.unit,
            "success_rate": round(self.success_rate, 4),
            "baseline_success_rate": round(self.baseline_success_rate, 4),
            "comparison_rate": round(self.compared_rate, 4),
            "measures": {k: round(v, 4) for k, v in self.measures.items()},
            "effect": None if self.effect is None else round(self.effect, 4),
            "effect_interval": None
            if self.effect_low is None or self.effect_high is None
            else [round(self.effect_low, 4), round(self.effect_high, 4)],
            "scope": self.scope,
            "tasks": self.tasks,
            "task_grouping": self.task_grouping,
            "task_confounded": self.task_confounded,
            "withheld": self.withheld,
            "evidence": list(self.evidence),
            "recommendations": list(self.recommendations),
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """The reasoning judge's verdict on one request or run (seed 2's ``MetaAgentOutput``)."""

    request_id: str
    reasoning_quality: float
    should_replan: bool
    should_deepen_reasoning: bool
    recommended_actions: tuple[str, ...]
    assessment: str
    timestamp: str
    agent_name: str = "meta-agent"
    mode: Literal["llm", "heuristic"] = "heuristic"
    trace_id: str | None = None
    request_context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.should_replan:
            return "replan"
        if self.should_deepen_reasoning:
            return "deepen"
        return "ok"

    def to_json(self) -> dict[str, Any]:
        """The seed's camelCase REST shape."""
        return {
            "requestId": self.request_id,
            "agentName": self.agent_name,
            "timestamp": self.timestamp,
            "reasoningQuality": returned_quality(self.reasoning_quality),
            "shouldReplan": self.should_replan,
            "shouldDeepenReasoning": self.should_deepen_reasoning,
            "recommendedActions": list(self.recommended_actions),
            "assessment": self.assessment,
            "mode": self.mode,
            "traceId": self.trace_id,
            "requestContext": dict(self.request_context),
        }
