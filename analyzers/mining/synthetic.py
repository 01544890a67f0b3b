"""Synthetic runs with planted effects, generated lazily: the miner's ground truth.

``planted_runs`` plants four effects among noise tools: a success sequence
(``SUCCESS_SEQUENCE`` in this order raises the success rate), a failing tool (``FAILING_TOOL`` fails
half its calls, and a run where it failed mostly fails, often giving up right there), a slow tool
(``SLOW_TOOL``'s calls take about twenty times longer) and a thinking effect (reasoning before the first
tool call raises the success rate). With ``effects=False`` the same kind of runs carry no effect at
all: the outcome is a coin flip and every tool has the same latency and failure rate.
``planted_effect`` tells which planted effect a mined pattern describes, if any.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from analyzers.model import Pattern, Run, Step

SUCCESS_SEQUENCE = ("fetch_context", "validate_plan", "apply_change")
FAILING_TOOL = "flaky_api"
SLOW_TOOL = "slow_search"
PLANTED_EFFECTS = ("success_sequence", "failing_tool", "slow_tool", "thinking")


def noise_tool_names(n: int) -> list[str]:
    return [f"tool_{i:02d}" for i in range(n)]


def planted_runs(
    n_runs: int,
    seed: int = 0,
    *,
    agent: str = "planted-agent",
    effects: bool = True,
    n_noise_tools: int = 12,
    min_steps: int = 5,
    max_steps: int = 20,
) -> Iterator[Run]:
    """Yield ``n_runs`` runs one at a time (nothing is held in memory)."""
    rng = random.Random(seed)
    noise = noise_tool_names(n_noise_tools)
    t0 = 1_700_000_000_000_000_000
    for i in range(n_runs):
        names = [rng.choice(noise) for _ in range(rng.randint(min_steps, max_steps))]
        has_sequence = rng.random() < 0.4
        if has_sequence:
            at = rng.randint(0, len(names))
            names[at:at] = list(SUCCESS_SEQUENCE)
        if rng.random() < 0.2:
            names.insert(rng.randint(0, len(names)), rng.choice(SUCCESS_SEQUENCE))
        if rng.random() < 0.4:
            names.insert(rng.randint(0, len(names)), FAILING_TOOL)
        if rng.random() < 0.4:
            names.insert(rng.randint(0, len(names)), SLOW_TOOL)
        think_first = rng.random() < 0.5
        steps: list[Step] = []
        failing_failed = False
        clock = t0 + i * 1_000_000_000_000
        if think_first:
            steps.append(Step("thinking", "think", True, 5.0, clock, chars=rng.randint(50, 400)))
        for name in names:
            if rng.random() < 0.1:
                steps.append(Step("thinking", "think", True, 5.0, clock, chars=rng.randint(50, 400)))
            if effects and name == FAILING_TOOL:
                ok = rng.random() >= 0.5
            else:
                ok = rng.random() >= 0.05
            duration = rng.lognormvariate(4.6, 0.5)
            if effects and name == SLOW_TOOL:
                duration *= 20.0
            err = None if ok else "ToolError"
            steps.append(Step("tool", name, ok, duration, clock, error_type=err))
            clock += int(duration * 1e6)
            if effects and name == FAILING_TOOL and not ok:
                failing_failed = True
                if rng.random() < 0.5:
                    break
        if effects:
            p = 0.3 + 0.4 * has_sequence - 0.3 * failing_failed + 0.35 * think_first
            success = rng.random() < min(max(p, 0.03), 0.97)
        else:
            success = rng.random() < 0.5
        yield Run(
            trace_id=f"{seed & 0xFFFFFFFF:08x}{i:024x}",
            agent=agent,
            outcome=success,
            started_at_unix_nano=t0 + i * 1_000_000_000_000,
            duration_ms=sum(s.duration_ms for s in steps),
            steps=tuple(steps),
        )


def planted_effect(pattern: Pattern) -> str | None:
    """The planted effect ``pattern`` describes, or ``None`` when it describes none (a false finding).

    A success pattern must be a part of the success sequence, in order; a tool-effectiveness pattern
    must call a sequence tool effective or the failing tool ineffective; a failure pattern must end on
    (or be) the failing tool; a performance pattern must be the slow tool's hot spot; a thinking
    pattern must say that reasoning first (or reasoning at all) raises the success rate.
    """
    tools = pattern.tools
    if pattern.type == "success_pattern":
        k = len(tools)
        if k and any(SUCCESS_SEQUENCE[i : i + k] == tools for i in range(len(SUCCESS_SEQUENCE) - k + 1)):
            return "success_sequence"
        return None
    if pattern.type == "tool_effectiveness":
        if tools and tools[0] in SUCCESS_SEQUENCE and pattern.kind == "outcome_lift":
            return "success_sequence"
        if tools == (FAILING_TOOL,) and pattern.kind in ("outcome_drop", "call_failures"):
            return "failing_tool"
        return None
    if pattern.type == "failure_pattern":
        return "failing_tool" if tools and tools[-1] == FAILING_TOOL else None
    if pattern.type == "performance_pattern":
        return "slow_tool" if tools == (SLOW_TOOL,) and pattern.kind == "hot_spot" else None
    if pattern.kind in ("think_first", "any_thinking"):
        return "thinking"
    return None
