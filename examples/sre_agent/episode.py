"""One incident, start to finish: the policy picks steps, the tools act on the simulated cluster.

The tool functions and the thinking hook are passed in, so the same loop runs instrumented (``agent.py``
hands in functions decorated with ``@otel_meta.tool``) and bare (tests of the policy).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from examples.sre_agent.cluster import (
    DIAGNOSTIC_TOOLS,
    REMEDIATION_TOOLS,
    Problem,
    SimulatedCluster,
    ToolFailure,
)
from examples.sre_agent.policy import Decision, EpisodeState, SrePolicy

#: A tool as the agent calls it: (cluster, target) -> output text; raises ToolFailure on failure.
ToolFunction = Callable[[SimulatedCluster, "str | None"], str]

MAX_STEPS = 8


@dataclass(frozen=True)
class IncidentResult:
    problem: Problem
    success: bool
    tools: tuple[str, ...]
    submission: str


def run_incident(
    problem: Problem,
    policy: SrePolicy,
    rng: random.Random,
    tools: Mapping[str, ToolFunction],
    think: Callable[[Decision], None] = lambda d: None,
    *,
    max_steps: int = MAX_STEPS,
) -> IncidentResult:
    """Work one incident until the agent applies a remediation (its submission; the incident is
    resolved or not) or the step budget runs out."""
    cluster = SimulatedCluster(problem, rng)
    state = EpisodeState()
    policy.start_episode()
    submission = f"No mitigation within {max_steps} steps"
    for step in range(max_steps):
        decision = policy.next_action(state, last_step=step == max_steps - 1)
        think(decision)
        try:
            output = tools[decision.tool](cluster, decision.target)
        except ToolFailure:
            state.observe(decision.tool, None)
            continue
        if decision.is_remediation:
            state.observe(decision.tool, None)
            submission = output
            break
        state.observe(decision.tool, cluster.last_clue)
    return IncidentResult(problem, cluster.resolved, tuple(state.history), submission)


def _diagnostic(name: str) -> ToolFunction:
    return lambda cluster, target: cluster.inspect(name, target).text


def _remediation(name: str) -> ToolFunction:
    return lambda cluster, target: cluster.remediate(name, target)


def bare_tools() -> dict[str, ToolFunction]:
    """The tools without instrumentation (for tests and the policy's own checks)."""
    tools = {name: _diagnostic(name) for name in DIAGNOSTIC_TOOLS}
    tools.update({name: _remediation(name) for name in REMEDIATION_TOOLS})
    return tools


__all__ = ["MAX_STEPS", "IncidentResult", "ToolFunction", "bare_tools", "run_incident"]
