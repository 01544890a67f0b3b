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


def describe(c: Candidate) -> tuple[str, tuple[str, ...]]:
    """The pattern's description and recommendations."""
    f = c.figures
    rates = f"{_pct(c.success_rate)} of {c.frequency} runs succeed, against {_pct(c.rest_success_rate)} of the others"
    tool = safe_name(c.tools[0]) if c.tools else ""
    if c.type == "success_pattern":
        if c.qualifier == "cluster":
            return (
                f"A cluster of similar runs characterised by {_seq(c.tools)}: {rates}.",
                (f"Prefer the approach of these runs: use {_seq(c.tools)} in this order when the task allows.",),
            )
        return (
            f"Runs that call {_seq(c.tools)} in this order: {rates}.",
            (f"When the task allows, follow the sequence {_seq(c.tools)}.",),
        )
    if c.type == "failure_pattern":
        if c.qualifier == "failed_call":
            return (
                f"Runs in which a call to {tool} fails: {rates}.",
                (
                    f"Check the inputs of {tool} before calling it.",
                    f"When {tool} fails, change approach instead of giving up or repeating the same call.",
                ),
            )
        if c.qualifier == "last_step":
            return (
                f"Runs whose last tool call is {tool}: {rates}.",
                (f"Do not end the run right after {tool}; verify its result and continue the task.",),
            )
        return (
            f"Runs in which {safe_name(c.tools[1])} fails right after {safe_name(c.tools[0])}: {rates}.",
            (
                (f"After {safe_name(c.tools[0])}, check the preconditions of {safe_name(c.tools[1])} "
                "before calling it."),
            ),
        )
    if c.type == "tool_effectiveness":
        calls = f"its calls succeed {_pct(f.get('call_success_rate', 0.0))} of {int(f.get('calls', 0))}"
        if c.direction == "up":
            return (
                f"{tool} is effective: runs that use it: {rates}; {calls}.",
                (f"Use {tool} when it applies to the task.",),
            )
        if f.get("by_calls"):
            return (
                (f"{tool} is unreliable: {calls}, against "
                f"{_pct(f.get('rest_call_success_rate', 0.0))} for the other tools' calls."),
                (f"Validate the inputs of {tool} before calling it, and handle its errors explicitly.",),
            )
        return (
            f"{tool} is ineffective: runs that use it: {rates}; {calls}.",
            (f"Use {tool} only when nothing else applies, and check its result before relying on it.",),
        )
    if c.type == "thinking_pattern":
        subject = {
            "think_first": "Runs that reason before their first tool call",
            "any_thinking": "Runs with at least one reasoning step",
            "long_reasoning": (
                f"Runs whose reasoning is longer than the median ({f.get('median_chars', 0.0):.0f} characters)"
            ),
        }[c.qualifier]
        if c.direction == "up":
            advice = {
                "think_first": "Reason about the plan before the first tool call.",
                "any_thinking": "Reason explicitly before acting on a non-trivial step.",
                "long_reasoning": "Reason in depth (consider the alternatives) before acting.",
            }[c.qualifier]
        else:
            advice = {
                "think_first": "Start with the tool that gathers the facts, then reason over them.",
                "any_thinking": "Keep reasoning steps for decisions; act directly on routine steps.",
                "long_reasoning": "Keep reasoning short and focused on the next action.",
            }[c.qualifier]
        return f"{subject}: {rates}.", (advice,)
    if c.qualifier == "hotspot":
        return (
            (f"{tool} is a latency hot spot: p95 {_ms(f['p95_ms'])} against {_ms(f['rest_p95_ms'])} for the "
            f"other tools; {int(f['slow_calls'])} of {int(f['calls'])} calls are slower than the others' p95."),
            (f"Call {tool} only when needed and reuse its results instead of calling it again.",),
        )
    if c.qualifier == "loop":
        return (
            (f"Runs that call {tool} {int(f.get('loop_length', 3))} or more times in a row, or repeat an "
            f"identical call: {rates}."),
            (f"Do not repeat {tool} with the same arguments; after two similar calls, change approach.",),
        )
    unit = _ms if f.get("by_time") else (lambda x: f"{x:.0f} tool calls")
    return (
        f"Runs longer than {unit(f['fence'])} (the agent's median is {unit(f['median'])}): {rates}.",
        (f"When a run passes {unit(f['median'])} without progress, stop and re-plan.",),
    )
