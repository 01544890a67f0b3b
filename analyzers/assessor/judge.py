"""``assess``: the reasoning judge's one entry point."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from opentelemetry import trace

from analyzers.assessor import heuristic, llm
from analyzers.assessor.config import JudgeConfig
from analyzers.assessor.evidence import TEXT_LIMIT, ReasoningContext, RunEvidence, neutralise
from analyzers.errors import JudgeError, UnknownRunError
from analyzers.model import Assessment, Run
from analyzers.store.base import Store
from otel_meta import semconv

logger = logging.getLogger(__name__)

#: The agent name the judge stores its verdicts under and appends to a request's agent chain.
AGENT_NAME = "meta-agent"
#: How many of the agent's recent runs give the effort baseline of a judged run.
BASELINE_RUNS = 200
#: How many thinking excerpts of a run reach the LLM judge.
THINKING_EXCERPTS = 6


def now_iso() -> str:
    """The current time as ISO 8601 UTC with milliseconds (the timestamps assessments carry)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def complete_request_context(
    request_context: Mapping[str, Any] | None, request_id: str, agent_name: str = AGENT_NAME
) -> dict[str, Any]:
    """The seed's request context after the judge ran: ``agent_name`` appended to ``agentChain``,
    ``status`` ``"completed"``, ``requestId`` and ``createdAt`` filled in."""
    rc = dict(request_context or {})
    chain = rc.get("agentChain")
    chain_list = [str(a) for a in chain] if isinstance(chain, (list, tuple)) else []
    rc["requestId"] = str(rc.get("requestId") or request_id)
    rc["agentChain"] = chain_list + [agent_name]
    rc["status"] = "completed"
    rc.setdefault("createdAt", now_iso())
    return rc


def run_evidence(run: Run, store: Store | None) -> RunEvidence:
    """A run plus its agent's effort baseline and its filtered thinking excerpts (from ``store``)."""
    if store is None:
        return RunEvidence(run)
    baseline = heuristic.median_tool_steps(store.list_runs(run.agent, limit=BASELINE_RUNS))
    excerpts: list[str] = []
    for span in store.spans_for_trace(run.trace_id):
        text = span.attributes.get(semconv.OTEL_META_THINKING_REASONING)
        if isinstance(text, str) and text.strip():
            excerpts.append(neutralise(text, TEXT_LIMIT // 2))
            if len(excerpts) >= THINKING_EXCERPTS:
                break
    return RunEvidence(run, tuple(excerpts), baseline)


def _emit_event(a: Assessment) -> None:
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.add_event(
        semconv.EVENT_EVALUATION_RESULT,
        {
            semconv.GEN_AI_EVALUATION_NAME: semconv.EVALUATION_REASONING_QUALITY,
            semconv.GEN_AI_EVALUATION_SCORE_VALUE: float(a.reasoning_quality),
            semconv.GEN_AI_EVALUATION_SCORE_LABEL: a.label,
            semconv.GEN_AI_EVALUATION_EXPLANATION: a.assessment[:1000],
        },
    )


def assess(
    context: Mapping[str, Any] | Run | None = None,
    *,
    request_id: str | None = None,
    judge: JudgeConfig | None = None,
    store: Store | None = None,
    trace_id: str | None = None,
    request_context: Mapping[str, Any] | None = None,
    save: bool = True,
) -> Assessment:
    """Judge the reasoning in ``context`` and return an ``Assessment``.

    ``context`` is the seed's context (``thoughts``, ``plan``, ``critique``, ``confidenceScore`` or
    ``confidence_score``, all optional) or a ``Run``; with ``context=None`` and ``trace_id``, the run
    is read from ``store``. ``judge`` ``None`` means ``JudgeConfig()``: the heuristic judge (use
    ``JudgeConfig.from_env()`` for the environment's judge). With a ``store`` the verdict is saved
    (upsert by request id) unless ``save`` is false. Inside a recording span the verdict is also
    added to it as a ``gen_ai.evaluation.result`` event.

    Raises ``JudgeError`` when the LLM judge fails and ``judge.on_error`` is ``"raise"``,
    ``UnknownRunError`` for an unknown ``trace_id``, ``TypeError`` for a context of another type.
    """
    config = judge or JudgeConfig()
    run: Run | None = None
    if context is None and trace_id is not None:
        if store is None:
            raise ValueError("assess(trace_id=...) needs the store that holds the run")
        run = store.get_run(trace_id)
        if run is None:
            raise UnknownRunError(f"no stored run has trace id {trace_id!r}")
    elif isinstance(context, Run):
        run = context
    elif context is not None and not isinstance(context, Mapping):
        raise TypeError(f"context must be a mapping or a Run, not {type(context).__name__}")
    mapping: Mapping[str, Any] = context if isinstance(context, Mapping) else {}

    if run is not None:
        evidence = run_evidence(run, store)
        fallback = heuristic.score_run(evidence)
        prompt = llm.run_prompt(evidence) if config.uses_llm else ""
        trace_id = run.trace_id
        request_id = request_id or run.request_id or run.trace_id
    else:
        ctx = ReasoningContext.from_mapping(mapping)
        fallback = heuristic.score_context(ctx)
        prompt = llm.context_prompt(ctx) if config.uses_llm else ""
    request_id = request_id or (request_context or {}).get("requestId") or uuid.uuid4().hex

    mode: str = "heuristic"
    quality, actions, text = fallback.quality, fallback.actions, fallback.explanation
    if config.uses_llm:
        try:
            answer = llm.ask(config, prompt)
            if answer.verdict.quality is None:
                raise JudgeError(
                    f"LLM judge {config.model!r} gave no reasoning quality score "
                    f"(finish_reason={answer.finish_reason}, read as {answer.verdict.source}): "
                    f"{answer.verdict.assessment[:200]!r}"
                )
            mode = "llm"
            quality = answer.verdict.quality
            actions = answer.verdict.actions
            text = answer.verdict.assessment or "No assessment text provided."
        except JudgeError as exc:
            if config.on_error == "raise":
                raise
            logger.warning("%s; using the heuristic judge", exc)
            text = f"LLM judge failed ({exc}); heuristic fallback. {fallback.explanation}"

    assessment = Assessment(
        request_id=str(request_id),
        reasoning_quality=float(quality),
        should_replan=quality < config.replan_threshold,
        should_deepen_reasoning=quality < config.deepen_threshold,
        recommended_actions=tuple(actions),
        assessment=text,
        timestamp=now_iso(),
        agent_name=AGENT_NAME,
        mode=mode,  # type: ignore[arg-type]
        trace_id=trace_id,
        request_context=complete_request_context(request_context, str(request_id)),
    )
    _emit_event(assessment)
    if store is not None and save:
        store.save_assessment(assessment)
    return assessment
