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


# --- runs of repeated tasks: confounders, within-task effects, conditions ------------------------------

#: Tools whose use the task's difficulty drives (hard tasks escalate, easy tasks answer quickly), with
#: no effect of their own: task-confounded by construction.
CONFOUNDED_TOOLS = ("escalate", "quick_answer")
#: A tool that helps within every task (+25 points).
HELPFUL_TOOL = "check_policy"
#: In booking tasks a call of ``PRECONDITION[1]`` fails 70% of the time unless ``PRECONDITION[0]`` came
#: before it (5% then), and a failed booking costs 45 points.
PRECONDITION = ("get_user", "book")
#: ``RECOVERY[0]`` fails 40% of its calls; a failed call costs 35 points unless ``RECOVERY[1]`` follows.
RECOVERY = ("search_api", "retry_with_filters")
#: Reasoning before the first tool call: a moderate effect (+12 points).
MODERATE_THINKING = 0.12
TASK_EFFECTS = ("within_task", "precondition", "recovery", "thinking")


def task_runs(
    n_runs: int, seed: int = 0, *, agent: str = "task-agent", effects: bool = True, runs_per_task: int = 10
) -> Iterator[Run]:
    """Yield ``n_runs`` runs of ``n_runs // runs_per_task`` tasks (``problem_id`` = the task), each task
    with its own difficulty that sets its base success rate (80% down to 20%) and how often the
    confounded tools are used. Half the tasks are bookings (they call ``book``, and are harder).
    With ``effects=False`` the outcome depends on the task only, never on the steps, and every tool
    fails as rarely as the others."""
    rng = random.Random(seed)
    n_tasks = max(n_runs // runs_per_task, 1)
    difficulty = [rng.random() for _ in range(n_tasks)]
    booking = [k % 2 == 0 for k in range(n_tasks)]
    noise = noise_tool_names(8)
    t0 = 1_700_000_000_000_000_000
    for i in range(n_runs):
        task = i % n_tasks
        d = difficulty[task]
        steps: list[Step] = []
        clock = t0 + i * 1_000_000_000_000
        think_first = rng.random() < 0.5
        if think_first:
            steps.append(Step("thinking", "think", True, 5.0, clock, chars=rng.randint(50, 400)))
        names = [rng.choice(noise) for _ in range(rng.randint(3, 8))]
        if rng.random() < 0.05 + 0.9 * d:
            names.insert(rng.randint(0, len(names)), CONFOUNDED_TOOLS[0])
        if rng.random() < 0.95 - 0.9 * d:
            names.insert(rng.randint(0, len(names)), CONFOUNDED_TOOLS[1])
        helped = rng.random() < 0.5
        if helped:
            names.insert(rng.randint(0, len(names)), HELPFUL_TOOL)
        prepared = False
        if booking[task]:
            at = rng.randint(0, len(names))
            prepared = rng.random() < 0.6
            names[at:at] = list(PRECONDITION) if prepared else [PRECONDITION[1]]
            if not prepared and rng.random() < 0.3:
                names.insert(rng.randint(at + 1, len(names)), PRECONDITION[0])
        elif rng.random() < 0.5:
            names.insert(rng.randint(0, len(names)), PRECONDITION[0])
        lost = booked_badly = False
        if rng.random() < 0.9:
            names.insert(rng.randint(0, len(names)), RECOVERY[0])
        seen: set[str] = set()
        for name in names:
            fail = 0.4 if effects and name == RECOVERY[0] else 0.03
            if effects and name == PRECONDITION[1]:
                fail = 0.05 if PRECONDITION[0] in seen else 0.7
            seen.add(name)
            ok = rng.random() >= fail
            booked_badly |= name == PRECONDITION[1] and not ok
            duration = rng.lognormvariate(4.6, 0.5)
            steps.append(Step("tool", name, ok, duration, clock, error_type=None if ok else "ToolError"))
            clock += int(duration * 1e6)
            if name == RECOVERY[0] and not ok and not lost:
                lost = True
                if rng.random() < 0.5:
                    steps.append(Step("tool", RECOVERY[1], True, duration, clock))
                    lost = False
        p = 0.8 - 0.6 * d - (0.1 if booking[task] else 0.0)
        if effects:
            p += 0.25 * helped + MODERATE_THINKING * think_first - 0.35 * lost
            p -= 0.45 if booked_badly else 0.0
        yield Run(
            trace_id=f"{seed & 0xFFFFFFFF:08x}{i:024x}",
            agent=agent,
            outcome=rng.random() < min(max(p, 0.02), 0.98),
            started_at_unix_nano=t0 + i * 1_000_000_000_000,
            duration_ms=sum(s.duration_ms for s in steps),
            steps=tuple(steps),
            problem_id=f"task-{task:03d}",
        )


def task_effect(pattern: Pattern) -> str | None:
    """The planted effect of ``task_runs`` that ``pattern`` describes, if any (``None``: a false finding,
    including any finding about a confounded tool or a noise tool).

    ``within_task``: the helpful tool, or a sequence with it, raises the success rate. ``precondition``:
    ``get_user`` before ``book`` (as a precondition or the sequence), and what it implies within
    booking tasks: runs using ``get_user`` succeed more, runs ending on it (called after ``book``) less;
    ``book_failures`` (true, not counted in recall): ``book``'s failed calls lowering it. ``recovery``: the retry after a
    failed search (a recovery, the sequence, or the retry's lift); ``search_failures`` (true, not
    counted in recall): the search's failures lowering it.
    ``thinking``: reasoning first (or at all) raises it."""
    tools, kind = tuple(pattern.tools), pattern.kind
    up = pattern.success_rate > pattern.compared_rate
    if any(t in CONFOUNDED_TOOLS for t in tools):
        return None
    if kind in ("think_first", "any_thinking"):
        return "thinking"
    if kind == "precondition":
        return "precondition" if tools == PRECONDITION else None
    if kind == "recovery":
        return "recovery" if tools == RECOVERY else None
    if up and HELPFUL_TOOL in tools and pattern.type in ("success_pattern", "tool_effectiveness"):
        return "within_task"
    if up and pattern.type == "success_pattern" and _inside(tools, PRECONDITION):
        return "precondition"
    if tools == (PRECONDITION[0],) and kind in ("outcome_lift", "last_step"):
        return "precondition"
    if up and (_inside(tools, RECOVERY) or tools == (RECOVERY[1],)):
        return "recovery"
    if not up and tools == (RECOVERY[0],) and kind in ("failed_call", "call_failures", "last_step"):
        return "search_failures"  # true (its failures do cost), but not one of the effects recall counts
    if not up and tools == (PRECONDITION[1],) and kind in ("failed_call", "call_failures"):
        return "book_failures"
    return None


def _inside(tools: tuple[str, ...], part: tuple[str, ...]) -> bool:
    k = len(part)
    return any(tools[i : i + k] == part for i in range(len(tools) - k + 1))
