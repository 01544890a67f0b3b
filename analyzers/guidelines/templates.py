"""Guideline text from templates: only tool names (validated) and figures go into a line.

The writer never reads a pattern's ``description`` or ``recommendations``: those may quote trace text.
A guideline line is built from the pattern's type, its ``tools`` (each must match
``^[A-Za-z0-9_.:-]{1,64}$``) and its figures (success rate, baseline, support, confidence).

Line grammar (what an agent's policy can parse from the rendered prompt; each managed line is rendered
as ``- <line>`` under ``## Learned guidelines``)::

    line     := verb " " sequence " (" figures ")"
    verb     := "Prefer" | "Use" | "Avoid" | "Think before"
    sequence := tool ( " -> " tool )*          tool := [A-Za-z0-9_.:-]{1,64}
    figures  := "success " PCT "% over " N " runs vs " PCT "% baseline, confidence " 0.NN

``Prefer``/``Use``/``Think before`` recommend the tool sequence (``Think before``: with a thinking step
ahead of it); ``Avoid`` warns against it. ``LINE_RE`` parses a line (with or without the ``- `` bullet).

Which verb a pattern gets:

=====================  ==========================================  =================================
pattern type            success rate >= baseline                    below baseline
=====================  ==========================================  =================================
success_pattern         Prefer                                      (not written)
failure_pattern         (not written)                               Avoid
tool_effectiveness      Use                                         Avoid
thinking_pattern        Think before                                (not written)
performance_pattern     (not written)                               Avoid
=====================  ==========================================  =================================

A pattern without tools (the miner's thinking patterns and long-run patterns have none), with a
malformed tool name, or with non-finite figures gets no line: its meaning would have to come from its
``description``, which the writer does not use.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

from analyzers.model import Pattern

_logger = logging.getLogger(__name__)

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_TOOL = r"[A-Za-z0-9_.:-]{1,64}"
#: Parses one guideline line: groups ``verb``, ``sequence`` (split it on ``" -> "``) and ``figures``.
LINE_RE = re.compile(
    rf"^(?:- )?(?P<verb>Prefer|Use|Avoid|Think before) (?P<sequence>{_TOOL}(?: -> {_TOOL})*)"
    r" \((?P<figures>[^()]*)\)$"
)
VERBS_RECOMMEND = ("Prefer", "Use", "Think before")
VERB_WARN = "Avoid"
MAX_SEQUENCE = 8


@dataclass(frozen=True)
class ParsedLine:
    """A guideline line read back: its verb, its tool sequence and whether it recommends it."""

    verb: str
    tools: tuple[str, ...]

    @property
    def recommends(self) -> bool:
        return self.verb in VERBS_RECOMMEND


def parse_line(line: str) -> ParsedLine | None:
    """Read a guideline line back (``None`` when it does not follow the grammar)."""
    m = LINE_RE.match(line.strip())
    if m is None:
        return None
    return ParsedLine(m["verb"], tuple(m["sequence"].split(" -> ")))


def valid_tools(tools: tuple[str, ...]) -> bool:
    """``True`` when every name matches ``TOOL_NAME_RE`` and the sequence is 1..MAX_SEQUENCE long."""
    return 0 < len(tools) <= MAX_SEQUENCE and all(isinstance(t, str) and TOOL_NAME_RE.match(t) for t in tools)


def verb_for(pattern: Pattern) -> str | None:
    """The verb the table above gives ``pattern`` (``None``: the pattern gets no line)."""
    better = pattern.success_rate >= pattern.baseline_success_rate
    if pattern.type == "success_pattern":
        return "Prefer" if better else None
    if pattern.type == "failure_pattern":
        return None if better else "Avoid"
    if pattern.type == "tool_effectiveness":
        return "Use" if better else "Avoid"
    if pattern.type == "thinking_pattern":
        return "Think before" if better else None
    if pattern.type == "performance_pattern":
        return None if better else "Avoid"
    return None


def figures_text(pattern: Pattern) -> str:
    return (
        f"success {_pct(pattern.success_rate)}% over {int(pattern.frequency)} runs vs "
        f"{_pct(pattern.baseline_success_rate)}% baseline, confidence {pattern.confidence:.2f}"
    )


def guideline_text(pattern: Pattern) -> str | None:
    """The template line for ``pattern``, or ``None`` when it cannot be written safely."""
    figures = (pattern.success_rate, pattern.baseline_success_rate, pattern.confidence)
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in figures):
        _logger.info("pattern %s has non-finite figures; no guideline", pattern.id)
        return None
    if not valid_tools(tuple(pattern.tools)):
        _logger.info("pattern %s has no usable tool names; no guideline", pattern.id)
        return None
    verb = verb_for(pattern)
    if verb is None:
        return None
    line = f"{verb} {' -> '.join(pattern.tools)} ({figures_text(pattern)})"
    assert LINE_RE.match(line), line
    return line


def _pct(rate: float) -> int:
    return int(round(min(1.0, max(0.0, float(rate))) * 100))
