"""Description and recommendation templates, filled only with tool names and figures.

Tool names come from spans, so they are reduced to a safe character set and length before they go
into any text; nothing else from a trace (arguments, results, reasoning) ever reaches a template.
"""

from __future__ import annotations

import re

from analyzers.mining._candidates import Candidate

_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/+\-]")
_MAX_NAME = 64


def safe_name(name: str) -> str:
    """A tool name fit for guideline text: safe characters only, at most 64 of them."""
    cleaned = _UNSAFE.sub("_", name)[:_MAX_NAME]
    return cleaned or "_"


def _pct(x: float) -> str:
    return f"{100.0 * x:.0f}%"


def _seq(tools: tuple[str, ...]) -> str:
    return " -> ".join(safe_name(t) for t in tools)


def _ms(x: float) -> str:
    return f"{x:.0f} ms" if x < 10_000 else f"{x / 1000:.1f} s"


def _rates(c: Candidate, who: str, others: str = "the other runs") -> str:
    """The figures of the candidate's test: its group against the group it was compared with."""
    return (
        f"{who} succeed in {_pct(c.success_rate)} of {c.frequency} {c.unit}, against "
        f"{_pct(c.rest_success_rate)} of {others}"
    )


#: How each task grouping is named in a description (``analyzers.mining._tasks``).
GROUPING_WORDS = {
    "problem_id": "the problem id",
    "problem_context": "the problem context",
    "first_message": "the first user message",
}


def _effect(c: Candidate, grouping: str) -> str:
    """The effect sentence: its size, its interval and whether it is within tasks (told apart by what)
    or pooled."""
    if c.effect is None or c.effect_low is None or c.effect_high is None:
        return ""
    size = (f"{100 * c.effect:+.0f} points (90% interval {100 * c.effect_low:+.0f} to "
            f"{100 * c.effect_high:+.0f})")
    if c.scope == "within_task":
        who = "calls of it and of other tools" if c.unit == "calls" else "runs with and without it"
        by = GROUPING_WORDS.get(grouping, "their task key")
        return f" Within {c.tasks} tasks (told apart by {by}) that have {who}, the effect is {size}."
    return f" Pooled across tasks, the effect is {size}."


def describe(c: Candidate, grouping: str = "") -> tuple[str, tuple[str, ...]]:
    """The pattern's description and recommendations; the figures are always those of its test.
    ``grouping`` is what told the tasks apart (``PatternMiner.task_grouping_``)."""
    text, advice = _describe(c)
    return text + _effect(c, grouping), advice


def _describe(c: Candidate) -> tuple[str, tuple[str, ...]]:
    f = c.figures
    tool = safe_name(c.tools[0]) if c.tools else ""
    kind = c.qualifier
    if kind == "cluster":
        return (
            _rates(c, f"A cluster of similar runs, characterised by {_seq(c.tools)}: its runs") + ".",
            (f"Prefer the approach of these runs: use {_seq(c.tools)} in this order when the task allows.",),
        )
    if kind == "sequence":
        return (
            _rates(c, f"Runs that call {_seq(c.tools)} in this order") + ".",
            (f"When the task allows, follow the sequence {_seq(c.tools)}.",),
        )
    if kind == "precondition":
        before, tool = safe_name(c.tools[0]), safe_name(c.tools[1])
        return (
            _rates(c, f"Calls of {tool} made after a call of {before}", "its calls made without it") + ".",
            (f"Call {before} before {tool}.",),
        )
    if kind == "recovery":
        tool, then = safe_name(c.tools[0]), safe_name(c.tools[1])
        return (
            _rates(c, f"Runs that call {then} right after a failed {tool}", f"the other runs where {tool} failed")
            + ".",
            (f"After {tool} fails, call {then}.",),
        )
    if kind == "failed_call":
        return (
            _rates(c, f"Runs in which a call to {tool} fails") + ".",
            (
                f"Check the inputs of {tool} before calling it.",
                f"When {tool} fails, change approach instead of giving up or repeating the same call.",
            ),
        )
    if kind == "last_step":
        return (
            _rates(c, f"Runs whose last tool call is {tool}") + ".",
            (f"Do not end the run right after {tool}; verify its result and continue the task.",),
        )
    if kind == "transition":
        first, second = safe_name(c.tools[0]), safe_name(c.tools[1])
        return (
            _rates(c, f"Runs in which {second} fails right after {first}") + ".",
            (f"After {first}, check the preconditions of {second} before calling it.",),
        )
    if kind == "outcome_lift":
        return (
            _rates(c, f"{tool} is effective: the runs that use it") + ".",
            (f"Use {tool} when it applies to the task.",),
        )
    if kind == "outcome_drop":
        return (
            _rates(c, f"{tool} is ineffective: the runs that use it") + ".",
            (f"Use {tool} only when nothing else applies, and check its result before relying on it.",),
        )
    if kind == "call_failures":
        return (
            _rates(c, f"{tool} is unreliable: its calls", "the other tools' calls") + ".",
            (f"Validate the inputs of {tool} before calling it, and handle its errors explicitly.",),
        )
    if c.type == "thinking_pattern":
        subject, advice = {
            "think_first": ("Runs that reason before their first tool call",
                            "Reason about the plan before the first tool call."),
            "act_first": ("Runs that reason before their first tool call",
                          "Start with the tool that gathers the facts, then reason over them."),
            "any_thinking": ("Runs with at least one reasoning step",
                             "Reason explicitly before acting on a non-trivial step."),
            "no_thinking": ("Runs with at least one reasoning step",
                            "Keep reasoning steps for decisions; act directly on routine steps."),
            "long_reasoning": ("", "Reason in depth (consider the alternatives) before acting."),
            "short_reasoning": ("", "Keep reasoning short and focused on the next action."),
        }[kind]
        others = "the other runs"
        if kind in ("long_reasoning", "short_reasoning"):
            subject = f"Runs whose reasoning is longer than the median ({f.get('median_chars', 0.0):.0f} characters)"
            others = "the runs with shorter reasoning"
        return _rates(c, subject, others) + ".", (advice,)
    if kind == "hot_spot":
        return (
            (f"{tool} is a latency hot spot: {_pct(c.success_rate)} of its {c.frequency} calls finish within "
             f"the other tools' p95 ({_ms(f['rest_p95_ms'])}), against {_pct(c.rest_success_rate)} of the "
             f"other tools' calls; its p95 is {_ms(f['p95_ms'])}."),
            (f"Call {tool} only when needed and reuse its results instead of calling it again.",),
        )
    if kind == "repeated_call":
        return (
            _rates(c, (f"Runs that call {tool} {int(f.get('loop_length', 3))} or more times in a row, or "
                       "repeat an identical call")) + ".",
            (f"Do not repeat {tool} with the same arguments; after two similar calls, change approach.",),
        )
    unit = _ms if f.get("by_time") else (lambda x: f"{x:.0f} tool calls")
    return (
        _rates(c, f"Runs longer than {unit(f['fence'])} (the agent's median is {unit(f['median'])})") + ".",
        (f"When a run passes {unit(f['median'])} without progress, stop and re-plan.",),
    )
