"""The heuristic judge: a documented score from features, used when no LLM judge is configured.

Over a stored run (``score_run``): ``1 - sum(weight * penalty)`` over the features of
``analyzers.assessor.run_features`` (effort relative to the agent's median, failure rate, blind
retries, repeated identical calls, ending on a failure, actions without a thought before them, shallow
thoughts), with weights fixed a priori from documented reasoning, not fitted to outcomes.

The run's outcome is never read: the score has to predict it. ``benchmarks/judge_auc.py`` measures how
well it does on the τ-bench airline and mini-SWE-agent datasets (figures in docs/meta_agent.md).

Over the seed's context (``score_context``), the mean of the parts that are present, each in [0, 1]:

- **thought**: depth (reasoning length, full at 400 characters) 0.6, two or more approaches 0.2,
  uncertainties acknowledged 0.2;
- **plan**: a stated goal 0.4, a step count between 2 and 12 0.6 (one step or more than 12: 0.3);
- **critique**: its overall score when given, else ``1 - 0.15`` per issue (at most 0.6 off); a
  recommendation to reject, replan or revise caps it at 0.5;

then **confidence alignment**: when a confidence is claimed (the confidence score, else the mean of
the thought's and plan's confidences), the part of the gap to the evidence score beyond 0.2 is
subtracted at half weight; and **completeness**: each of thought/plan missing costs 0.1. An empty
context scores 0.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from analyzers.assessor.evidence import ReasoningContext, RunEvidence, safe_name
from analyzers.assessor.run_features import quality, run_features
from analyzers.model import Run

_NEGATIVE_RECOMMENDATION = re.compile(r"\b(reject|replan|re-plan|revise|redo|rework)", re.IGNORECASE)


@dataclass(frozen=True)
class HeuristicVerdict:
    """The heuristic's score, the actions it recommends, and an explanation."""

    quality: float
    actions: tuple[str, ...]
    explanation: str


def median_tool_steps(runs: Iterable[Run]) -> float | None:
    """The median number of tool calls over ``runs`` (``None`` for no runs)."""
    counts = [sum(1 for s in r.steps if s.kind == "tool") for r in runs]
    return float(statistics.median(counts)) if counts else None


def score_run(evidence: RunEvidence) -> HeuristicVerdict:
    """Score a stored run from its steps (see ``analyzers.assessor.run_features``)."""
    f = run_features(evidence.run, evidence.baseline_tool_steps)
    tools = [s for s in evidence.run.steps if s.kind == "tool"]
    actions: list[str] = []
    by_tool = Counter(safe_name(s.name) for s in tools if not s.ok)
    for tool, n in by_tool.most_common(3):
        actions.append(f"Check the preconditions and arguments of {tool} before calling it ({n} failed calls)")
    if f.blind_retries:
        actions.append(
            f"Change approach after a failed call instead of retrying it ({f.blind_retries} blind retries)"
        )
    if f.repeated_calls:
        actions.append(f"Break the loop: {f.repeated_calls} calls repeated an earlier identical call")
    if f.ended_on_failure:
        actions.append("Recover from the last failed call before finishing")
    if f.effort_ratio > 2.0:
        actions.append(
            f"Plan before acting: this run used {f.tool_calls} tool calls, "
            f"{f.effort_ratio:.1f}x the agent's usual {f.baseline:g}"
        )
    if tools and not f.thinking_steps:
        actions.append("State the reasoning behind each tool choice (no thinking steps were recorded)")
    elif f.unreasoned_actions > 0.5:
        actions.append(f"Think before acting: {f.unreasoned_calls} of {f.tool_calls} tool calls had no thought before them")
    if f.shallow_reasoning > 0.5:
        actions.append("Deepen the reasoning: most thoughts were one-liners")
    shown = ", ".join(f"{k} {v:.2f}" for k, v in f.penalties().items())
    explanation = (
        f"Heuristic verdict over {len(evidence.run.steps)} steps: {f.tool_calls} tool calls "
        f"({f.effort_ratio:.2f}x the reference of {f.baseline:g}), {f.failed_calls} failed, "
        f"{f.blind_retries} blind retries, {f.repeated_calls} repeated calls, {f.thinking_steps} thinking "
        f"steps. Penalties: {shown}."
    )
    return HeuristicVerdict(quality(f), tuple(actions), explanation)


def _thought_part(ctx: ReasoningContext) -> float:
    depth = min(1.0, len(ctx.thought) / 400.0)
    return 0.6 * depth + 0.2 * (len(ctx.approaches) >= 2) + 0.2 * (ctx.uncertainties >= 1)


def _plan_part(ctx: ReasoningContext) -> float:
    n = len(ctx.plan_steps)
    steps = 0.6 if 2 <= n <= 12 else (0.3 if n else 0.0)
    return 0.4 * bool(ctx.plan_goal) + steps


def _critique_part(ctx: ReasoningContext) -> float:
    if ctx.critique_score is not None:
        part = ctx.critique_score
    else:
        part = 1.0 - min(0.6, 0.15 * ctx.critique_issue_count)
    if _NEGATIVE_RECOMMENDATION.search(ctx.critique_recommendation):
        part = min(part, 0.5)
    return part


def score_context(ctx: ReasoningContext) -> HeuristicVerdict:
    """Score the seed's context (see the module docstring)."""
    if ctx.is_empty:
        return HeuristicVerdict(
            0.0,
            ("Provide the reasoning to assess: thoughts, a plan, a critique or a confidence score",),
            "Heuristic verdict: the context holds no reasoning to assess.",
        )
    parts: dict[str, float] = {}
    if ctx.has_thought:
        parts["thought"] = _thought_part(ctx)
    if ctx.has_plan:
        parts["plan"] = _plan_part(ctx)
    if ctx.has_critique:
        parts["critique"] = _critique_part(ctx)
    evidence = statistics.fmean(parts.values()) if parts else 0.0

    claimed = ctx.overall_confidence
    if claimed is None:
        own = [c for c in (ctx.thought_confidence, ctx.plan_confidence) if c is not None]
        claimed = statistics.fmean(own) if own else None
    misalignment = 0.0 if claimed is None else max(0.0, abs(claimed - evidence) - 0.2) * 0.5
    missing = [name for name, present in (("thoughts", ctx.has_thought), ("plan", ctx.has_plan)) if not present]
    quality = min(1.0, max(0.0, evidence - misalignment - 0.1 * len(missing)))

    actions: list[str] = []
    if "thought" in parts and parts["thought"] < 0.6:
        if len(ctx.thought) < 200:
            actions.append("Deepen the reasoning: explain why, not only what")
        if len(ctx.approaches) < 2:
            actions.append("Consider at least two alternative approaches before choosing one")
        if ctx.uncertainties == 0:
            actions.append("Name the uncertainties and how to resolve them")
    if "plan" in parts and parts["plan"] < 0.7:
        actions.append("Break the plan into 2-12 concrete steps under a stated goal")
    if "critique" in parts and parts["critique"] < 0.6:
        actions.append(f"Address the critique's {ctx.critique_issue_count} issue(s) before proceeding")
    if claimed is not None and misalignment > 0:
        direction = "above" if claimed > evidence else "below"
        actions.append(f"Recalibrate confidence: the claimed {claimed:.0%} is {direction} what the reasoning supports")
    for name in missing:
        actions.append(f"Add the missing {name}")
    shown = ", ".join(f"{k} {v:.2f}" for k, v in parts.items()) or "none"
    explanation = (
        f"Heuristic verdict: parts {shown}; evidence {evidence:.2f}"
        + (f", claimed confidence {claimed:.2f} (misalignment penalty {misalignment:.2f})" if claimed is not None else "")
        + (f"; missing {', '.join(missing)}" if missing else "")
        + "."
    )
    return HeuristicVerdict(quality, tuple(actions), explanation)
