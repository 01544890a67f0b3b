"""The features the heuristic judge reads from a stored run, and their a priori weights.

Each feature is a penalty in [0, 1] (0 = what good reasoning looks like, 1 = the worst case), computed
from the run's steps only (kind, name, ok, args digest, thinking length); the run's outcome is never
read. The weights were fixed from the reasoning below **before** the scores were measured against any
outcome, and are not fitted to a dataset (docs/meta_agent.md reports how the fixed score and fitted
alternatives do on held-out data).

- ``effort`` (0.25): ``r / (1 + r)`` with ``r`` = tool calls / the agent's median tool calls. A run
  that needs many times the usual number of actions is wandering; a run at the median costs 0.5.
- ``failure_rate`` (0.20): failed tool calls / tool calls. Acting on wrong assumptions shows up as
  calls the environment rejects.
- ``blind_retry`` (0.15): of the failed calls followed by another call, the share whose next call is
  the same tool (with the same arguments, when digests are known) that fails again: retrying into the
  same wall instead of changing approach.
- ``repetition`` (0.10): the share of tool calls that repeat an earlier identical call (same tool, same
  arguments digest): a loop. Needs argument digests (content capture); 0 without them.
- ``ended_on_failure`` (0.10): 1 when the run's last tool call failed: it stopped without recovering.
- ``unreasoned_actions`` (0.10): the share of tool calls with no thinking step since the previous tool
  call (acting without thinking first).
- ``shallow_reasoning`` (0.10): the share of thinking steps shorter than ``SHALLOW_THOUGHT_CHARS``
  characters (when lengths are known): one-line thoughts do not weigh alternatives.

``quality = 1 - sum(weight * penalty)``, in [0, 1].
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from analyzers.model import Run, Step

#: The tool-call count a run is compared with when the agent's median is unknown.
REFERENCE_TOOL_STEPS = 10.0
#: A thinking step shorter than this (characters) counts as shallow.
SHALLOW_THOUGHT_CHARS = 80

#: The a priori weights (sum 1); see the module docstring for the reasoning behind each.
WEIGHTS: Mapping[str, float] = {
    "effort": 0.25,
    "failure_rate": 0.20,
    "blind_retry": 0.15,
    "repetition": 0.10,
    "ended_on_failure": 0.10,
    "unreasoned_actions": 0.10,
    "shallow_reasoning": 0.10,
}
FEATURES: tuple[str, ...] = tuple(WEIGHTS)


@dataclass(frozen=True)
class RunFeatures:
    """The penalties of one run (each in [0, 1]) and the counts behind them."""

    effort: float
    failure_rate: float
    blind_retry: float
    repetition: float
    ended_on_failure: float
    unreasoned_actions: float
    shallow_reasoning: float
    tool_calls: int
    failed_calls: int
    blind_retries: int
    repeated_calls: int
    unreasoned_calls: int
    thinking_steps: int
    shallow_thoughts: int
    effort_ratio: float
    baseline: float

    def vector(self) -> tuple[float, ...]:
        """The penalties in ``FEATURES`` order."""
        return tuple(getattr(self, name) for name in FEATURES)

    def penalties(self) -> dict[str, float]:
        """``{feature: penalty}`` in ``FEATURES`` order."""
        return {name: getattr(self, name) for name in FEATURES}


def _same_call(a: Step, b: Step) -> bool:
    if a.name != b.name:
        return False
    if a.args_digest is not None and b.args_digest is not None:
        return a.args_digest == b.args_digest
    return True


def run_features(run: Run, baseline_tool_steps: float | None = None) -> RunFeatures:
    """The penalties of ``run``; ``baseline_tool_steps`` is the agent's median tool calls (``None`` =
    ``REFERENCE_TOOL_STEPS``)."""
    steps = [s for s in run.steps if s.kind in ("tool", "thinking")]
    tools = [s for s in steps if s.kind == "tool"]
    thoughts = [s for s in steps if s.kind == "thinking"]
    baseline = max(baseline_tool_steps or REFERENCE_TOOL_STEPS, 1.0)
    ratio = len(tools) / baseline
    failed = sum(1 for s in tools if not s.ok)

    followed = [(a, b) for a, b in itertools.pairwise(tools) if not a.ok]
    blind = sum(1 for a, b in followed if not b.ok and _same_call(a, b))

    seen: set[tuple[str, str]] = set()
    repeated = 0
    for s in tools:
        if s.args_digest is None:
            continue
        key = (s.name, s.args_digest)
        repeated += key in seen
        seen.add(key)

    unreasoned = 0
    thought_since_last_tool = False
    for s in steps:
        if s.kind == "thinking":
            thought_since_last_tool = True
        else:
            unreasoned += not thought_since_last_tool
            thought_since_last_tool = False

    sized = [s for s in thoughts if s.chars is not None]
    shallow = sum(1 for s in sized if (s.chars or 0) < SHALLOW_THOUGHT_CHARS)

    return RunFeatures(
        effort=ratio / (1.0 + ratio),
        failure_rate=failed / len(tools) if tools else 0.0,
        blind_retry=blind / len(followed) if followed else 0.0,
        repetition=repeated / len(tools) if tools else 0.0,
        ended_on_failure=1.0 if tools and not tools[-1].ok else 0.0,
        unreasoned_actions=unreasoned / len(tools) if tools else 0.0,
        shallow_reasoning=shallow / len(sized) if sized else 0.0,
        tool_calls=len(tools),
        failed_calls=failed,
        blind_retries=blind,
        repeated_calls=repeated,
        unreasoned_calls=unreasoned,
        thinking_steps=len(thoughts),
        shallow_thoughts=shallow,
        effort_ratio=ratio,
        baseline=baseline,
    )


def quality(features: RunFeatures, weights: Mapping[str, float] = WEIGHTS) -> float:
    """``1 - sum(weight * penalty)`` clamped to [0, 1]."""
    penalty = sum(weights.get(name, 0.0) * value for name, value in features.penalties().items())
    return min(1.0, max(0.0, 1.0 - penalty))
