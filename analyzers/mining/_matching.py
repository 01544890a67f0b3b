"""Which runs show a mined pattern: for checking patterns on runs they were not mined from."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from analyzers.mining._performance import LOOP_LENGTH
from analyzers.model import Run


@dataclass(frozen=True)
class PatternRule:
    """What a pattern tests, beyond its type and tools: its kind (``qualifier``: ``sequence``,
    ``cluster``, ``failed_call``, ``last_step``, ``transition``, ``outcome_lift``, ``outcome_drop``,
    ``call_failures``, ``think_first``, ``act_first``, ``any_thinking``, ``no_thinking``,
    ``long_reasoning``, ``short_reasoning``, ``precondition``, ``recovery``, ``hot_spot``,
    ``repeated_call``, ``long_run``) and its thresholds."""

    qualifier: str
    tools: tuple[str, ...]
    figures: Mapping[str, float] = field(default_factory=dict)

    def compared(self, run: Run) -> bool:
        """Whether ``run`` is one of the runs the pattern's test compares (with it or without it): the
        runs where the tool of a recovery failed, those whose reasoning length is known for a
        reasoning-length pattern, and every run otherwise (call-level kinds compare calls)."""
        q, t = self.qualifier, self.tools
        if q == "recovery":
            return any(s.kind == "tool" and s.name == t[0] and not s.ok for s in run.steps)
        if q in ("long_reasoning", "short_reasoning"):
            return any(s.kind == "thinking" and s.chars for s in run.steps)
        return True

    def shows(self, run: Run) -> bool:
        """Whether ``run`` shows the pattern (a cluster is judged by its characteristic sequence)."""
        names = run.tool_names()
        tool_steps = [s for s in run.steps if s.kind == "tool"]
        q, t = self.qualifier, self.tools
        if q in ("sequence", "cluster"):
            k = len(t)
            return any(tuple(names[i : i + k]) == t for i in range(len(names) - k + 1))
        if q == "precondition":  # a call of the tool after a call of the first one
            return t[1] in names and t[0] in names and names.index(t[0]) < len(names) - 1 - names[::-1].index(t[1])
        if q == "recovery":
            failed = next((i for i, s in enumerate(tool_steps) if s.name == t[0] and not s.ok), None)
            return failed is not None and failed + 1 < len(tool_steps) and tool_steps[failed + 1].name == t[1]
        if q in ("failed_call", "call_failures"):
            return any(s.name == t[0] and not s.ok for s in tool_steps)
        if q == "last_step":
            return bool(names) and names[-1] == t[0]
        if q == "transition":
            return any(
                a.name == t[0] and b.name == t[1] and not b.ok for a, b in itertools.pairwise(tool_steps)
            )
        if q in ("outcome_lift", "outcome_drop", "hot_spot"):
            return t[0] in names
        if q == "repeated_call":
            return any(
                all(n == t[0] for n in names[i : i + LOOP_LENGTH]) for i in range(len(names) - LOOP_LENGTH + 1)
            )
        if q in ("think_first", "act_first"):
            for s in run.steps:
                if s.kind == "thinking":
                    return True
                if s.kind == "tool":
                    return False
            return False
        if q in ("any_thinking", "no_thinking"):
            return any(s.kind == "thinking" for s in run.steps)
        if q in ("long_reasoning", "short_reasoning"):
            return sum(s.chars or 0 for s in run.steps if s.kind == "thinking") > self.figures["median_chars"]
        if q == "long_run":
            metric = run.duration_ms if self.figures.get("by_time") else float(len(names))
            return metric > self.figures["fence"]
        raise ValueError(f"unknown pattern qualifier {q!r}")
