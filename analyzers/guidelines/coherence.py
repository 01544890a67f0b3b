"""One coherent guideline set: no two lines with the same advice, no two lines that contradict.

Every line has a topic (its tool sequence, or for a tool-less line the thing it speaks about: thinking
first, reasoning at all, reasoning length, run length) and a polarity (recommends or warns), from
``templates.line_key``. Among the kept and the new lines of one topic, exactly one survives:

1. The polarity is that of the strongest line, ranked by: outcome-level evidence (runs) before
   call-level evidence (a tool's calls: ``call_failures``, ``hot_spot``), then the higher confidence
   (kept lines are ranked by their pattern's confidence in this cycle), then the larger support, then
   a kept line before a new one, then the pattern id.
2. Among the lines with that polarity, a kept line stays (the prompt does not churn); else the
   strongest new line is added.

A kept line that loses is retired; a new line that loses is left out. Either way the commit message
says which pattern won and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analyzers.guidelines.messages import PatternChange
from analyzers.guidelines.prompt_file import Guideline
from analyzers.guidelines.templates import LineKey, line_key
from analyzers.model import Pattern


@dataclass(frozen=True)
class CoherentSet:
    """The outcome of ``resolve_lines``: what stays, what is added, and the losers with reasons."""

    kept: tuple[Guideline, ...]
    added: tuple[tuple[Pattern, str], ...]
    retired: tuple[PatternChange, ...]
    left_out: tuple[PatternChange, ...]


@dataclass(frozen=True)
class _Entry:
    pattern: Pattern
    key: LineKey
    order: int
    guideline: Guideline | None = None
    text: str = ""

    @property
    def kept(self) -> bool:
        return self.guideline is not None

    def rank(self) -> tuple[bool, float, int, bool, int]:
        p = self.pattern
        return (p.unit != "calls", p.confidence, p.frequency, self.kept, -self.order)


def resolve_lines(
    kept: Sequence[tuple[Guideline, Pattern]], new: Sequence[tuple[Pattern, str]]
) -> CoherentSet:
    """Keep one line per topic (see the module docstring). ``kept`` pairs each kept guideline with its
    pattern as mined now; ``new`` pairs each candidate pattern with its line, best first. Order is
    preserved: kept lines stay where they were and new lines keep their order."""
    entries: list[_Entry] = []
    for i, (g, p) in enumerate(kept):
        key = line_key(p) or LineKey((f"<id:{p.id}>",), True)
        entries.append(_Entry(p, key, i, guideline=g))
    for i, (p, text) in enumerate(new):
        new_key = line_key(p)
        if new_key is not None:
            entries.append(_Entry(p, new_key, len(kept) + i, text=text))
    by_topic: dict[tuple[str, ...], list[_Entry]] = {}
    for e in entries:
        by_topic.setdefault(e.key.topic, []).append(e)
    losers: dict[int, str] = {}
    for group in by_topic.values():
        if len(group) == 1:
            continue
        best = max(group, key=_Entry.rank)
        agreeing = [e for e in group if e.key.recommends == best.key.recommends]
        kept_agreeing = [e for e in agreeing if e.kept]
        winner = max(kept_agreeing or agreeing, key=_Entry.rank)
        for e in group:
            if e is winner:
                continue
            if e.key.recommends == winner.key.recommends:
                losers[e.order] = f"same advice as {winner.pattern.id}"
            else:
                losers[e.order] = f"contradicted by {winner.pattern.id}: {_why(best, e)}"
    out_kept = tuple(e.guideline for e in entries if e.guideline is not None and e.order not in losers)
    added = tuple((e.pattern, e.text) for e in entries if not e.kept and e.order not in losers)
    retired = tuple(
        PatternChange.from_pattern(e.pattern, losers[e.order]) for e in entries if e.kept and e.order in losers
    )
    left_out = tuple(
        PatternChange.from_pattern(e.pattern, losers[e.order])
        for e in entries
        if not e.kept and e.order in losers
    )
    return CoherentSet(out_kept, added, retired, left_out)


def _why(best: _Entry, loser: _Entry) -> str:
    if best.pattern.unit != "calls" and loser.pattern.unit == "calls":
        return "outcome-level evidence beats call-level"
    if best.pattern.confidence > loser.pattern.confidence:
        return "higher confidence"
    if best.pattern.frequency > loser.pattern.frequency:
        return "larger support"
    return "kept line" if best.kept else "ranked first"
