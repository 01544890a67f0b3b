"""Guideline text from templates: only tool names (validated) and figures go into a line.

The writer never reads a pattern's ``description`` or ``recommendations``: those may quote trace text.
A guideline line is built from the pattern's ``kind`` (which fixes its verb, its wording and what its
figures measure), its ``tools`` (each must match ``^[A-Za-z0-9_.:-]{1,64}$``) and its figures
(``success_rate`` against ``compared_rate`` over ``frequency`` runs or calls, ``measures``,
``confidence``). The figures are those of the test behind the confidence (``analyzers.mining``).

Line grammar (what an agent's policy can parse from the rendered prompt; each managed line is rendered
as ``- <line>`` under ``## Learned guidelines``)::

    line     := ( verb " " sequence [ " " remark ] | phrase ) " (" figures ")"
    verb     := "Prefer" | "Use" | "Avoid" | "Think before"
    sequence := tool ( " -> " tool )*          tool := [A-Za-z0-9_.:-]{1,64}
    remark   := "without checking its inputs" | "as the last step" | "unless needed" | "in a row"
    phrase   := "Think before the first tool call" | "Avoid reasoning before the first tool call"
              | "Think before acting on each decision" | "Avoid reasoning steps on routine actions"
              | "Think before acting, in depth" | "Keep reasoning short"
              | "Keep runs to at most " N " tool calls" | "Keep runs under " DURATION
    figures  := who " succeed " PCT "% of " N " " unit " vs " PCT "% of " others ", confidence " 0.NN
              | PCT "% of its " N " calls finish within the other tools' p95 of " DURATION " vs " PCT
                "% of theirs, its p95 " DURATION ", confidence " 0.NN            (hot_spot)
    unit     := "runs" | "calls"

``who`` and ``others`` are fixed per kind (``KIND_LINES``); neither the figures nor a remark or phrase
names a tool, so an agent can take the tool names of a line, in order, as its sequence. No line holds
": " (the prompt file's YAML stays unquoted).

``Prefer``/``Use``/``Think before`` recommend the sequence; ``Avoid`` warns against it. A phrase line
names no tool. ``LINE_RE`` matches a line (with or without the ``- `` bullet); ``parse_line`` reads it.
The table of kinds, their lines and figures is ``KIND_LINES`` (and docs/guidelines.md).

A pattern with an empty ``kind`` (built outside the miner) gets the type's verb (success: ``Prefer``
when its success rate is at or above the compared rate; failure and performance: ``Avoid`` when below;
tool effectiveness: ``Use``/``Avoid``; thinking: ``Think before`` when above) and generic figures.
A pattern whose kind needs tools but has none, with a malformed tool name, or with non-finite figures
gets no line.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from analyzers.model import Pattern

_logger = logging.getLogger(__name__)

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
_TOOL = r"[A-Za-z0-9_.:-]{1,64}"
REMARKS = ("without checking its inputs", "as the last step", "unless needed", "in a row")
VERBS_RECOMMEND = ("Prefer", "Use", "Think before")
VERB_WARN = "Avoid"
MAX_SEQUENCE = 8


@dataclass(frozen=True)
class KindLine:
    """How one pattern kind is written.

    ``verb`` and ``remark`` for a line about tools, or ``phrase`` for a line that names none;
    ``recommends`` is its polarity; ``topic`` groups the tool-less kinds that speak about the same
    thing (a tool line's topic is its tool sequence); ``who`` says which runs or calls the figures are
    about."""

    verb: str
    recommends: bool
    who: str
    remark: str = ""
    phrase: str = ""
    topic: str = ""


#: Every kind the miner produces, with its line (``{n}`` in a phrase is filled from ``measures``).
KIND_LINES: Mapping[str, KindLine] = {
    "sequence": KindLine("Prefer", True, "runs with this sequence"),
    "cluster": KindLine("Prefer", True, "runs of a cluster around this sequence"),
    "failed_call": KindLine("Avoid", False, "runs with a failed call of it", "without checking its inputs"),
    "last_step": KindLine("Avoid", False, "runs that end on it", "as the last step"),
    "transition": KindLine("Avoid", False, "runs where the second call failed right after the first"),
    "outcome_lift": KindLine("Use", True, "runs that use it"),
    "outcome_drop": KindLine("Avoid", False, "runs that use it"),
    "call_failures": KindLine("Avoid", False, "its calls", "without checking its inputs"),
    "hot_spot": KindLine("Avoid", False, "its calls", "unless needed"),
    "repeated_call": KindLine("Avoid", False, "runs that call it {loop} times in a row or repeat an identical call",
                              "in a row"),
    "think_first": KindLine("Think before", True, "runs that reason before their first tool call",
                            phrase="Think before the first tool call", topic="think_first"),
    "act_first": KindLine("Avoid", False, "runs that reason before their first tool call",
                          phrase="Avoid reasoning before the first tool call", topic="think_first"),
    "any_thinking": KindLine("Think before", True, "runs with a reasoning step",
                             phrase="Think before acting on each decision", topic="any_thinking"),
    "no_thinking": KindLine("Avoid", False, "runs with a reasoning step",
                            phrase="Avoid reasoning steps on routine actions", topic="any_thinking"),
    "long_reasoning": KindLine("Think before", True, "runs with over {chars} characters of reasoning",
                               phrase="Think before acting, in depth", topic="reasoning_length"),
    "short_reasoning": KindLine("Avoid", False, "runs with over {chars} characters of reasoning",
                                phrase="Keep reasoning short", topic="reasoning_length"),
    "long_run": KindLine("Avoid", False, "longer runs", phrase="Keep runs {limit}", topic="long_run"),
}

_PHRASE_RES = [
    re.escape(line.phrase).replace(re.escape("{limit}"), r"(?:to at most \d+ tool calls|under [0-9.]+ m?s)")
    for line in KIND_LINES.values()
    if line.phrase
]
#: Matches one guideline line. Groups: ``phrase`` (a tool-less line) or ``verb``, ``sequence`` (split it
#: on ``" -> "``) and ``remark``; and ``figures``.
LINE_RE = re.compile(
    r"^(?:- )?(?:(?P<phrase>" + "|".join(_PHRASE_RES) + r")"
    rf"|(?P<verb>Prefer|Use|Avoid|Think before) (?P<sequence>{_TOOL}(?: -> {_TOOL})*)"
    r"(?: (?P<remark>" + "|".join(re.escape(r) for r in REMARKS) + r"))?)"
    r" \((?P<figures>[^()]*)\)$"
)


@dataclass(frozen=True)
class ParsedLine:
    """A guideline line read back: its verb, its tool sequence (empty for a phrase line), and the
    words an LLM rewrite must keep at its start (``prefix``)."""

    verb: str
    tools: tuple[str, ...]
    prefix: str = ""

    @property
    def recommends(self) -> bool:
        return self.verb in VERBS_RECOMMEND


def parse_line(line: str) -> ParsedLine | None:
    """Read a guideline line back (``None`` when it does not follow the grammar)."""
    m = LINE_RE.match(line.strip())
    if m is None:
        return None
    if m["phrase"]:
        phrase = m["phrase"]
        verb = next(v for v in (*VERBS_RECOMMEND, VERB_WARN, "Keep") if phrase.startswith(v + " "))
        if verb == "Keep":
            verb = VERB_WARN
        return ParsedLine(verb, (), phrase)
    return ParsedLine(m["verb"], tuple(m["sequence"].split(" -> ")), f"{m['verb']} {m['sequence']}")


def valid_tools(tools: tuple[str, ...]) -> bool:
    """``True`` when every name matches ``TOOL_NAME_RE`` and the sequence is 1..MAX_SEQUENCE long."""
    return 0 < len(tools) <= MAX_SEQUENCE and all(isinstance(t, str) and TOOL_NAME_RE.match(t) for t in tools)


@dataclass(frozen=True)
class LineKey:
    """What a line is about (``topic``: its tool sequence, or a tool-less kind's topic) and whether it
    recommends it. Two lines with one topic say the same thing (same ``recommends``) or contradict."""

    topic: tuple[str, ...]
    recommends: bool


def line_key(pattern: Pattern) -> LineKey | None:
    """The topic and polarity of the line ``pattern`` gets (``None``: it gets no line)."""
    spec = KIND_LINES.get(pattern.kind)
    if spec is not None:
        tools = tuple(pattern.tools) * (2 if pattern.kind == "repeated_call" else 1)
        topic = (f"<{spec.topic}>",) if spec.phrase else tools
        return LineKey(topic, spec.recommends)
    verb = _legacy_verb(pattern)
    return None if verb is None else LineKey(tuple(pattern.tools), verb in VERBS_RECOMMEND)


def verb_for(pattern: Pattern) -> str | None:
    """The verb of the line ``pattern`` gets (``None``: it gets no line)."""
    spec = KIND_LINES.get(pattern.kind)
    if spec is not None:
        return spec.verb
    return _legacy_verb(pattern)


def _legacy_verb(pattern: Pattern) -> str | None:
    better = pattern.success_rate >= pattern.compared_rate
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
    """The parenthesised figures of ``pattern``'s line: the two groups its test compared."""
    unit = "calls" if pattern.unit == "calls" else "runs"
    conf = f"confidence {pattern.confidence:.2f}"
    rate, base, n = _pct(pattern.success_rate), _pct(pattern.compared_rate), int(pattern.frequency)
    spec = KIND_LINES.get(pattern.kind)
    if spec is None:
        return f"success {rate}% over {n} {unit} vs {base}% baseline, {conf}"
    m = pattern.measures
    if pattern.kind == "hot_spot":
        return (
            f"{rate}% of its {n} calls finish within the other tools' p95 of {_ms(m['rest_p95_ms'])} vs "
            f"{base}% of theirs, its p95 {_ms(m['p95_ms'])}, {conf}"
        )
    who = spec.who.format(loop=int(m.get("loop_length", 3)), chars=int(m.get("median_chars", 0)))
    others = {
        "call_failures": "the other tools' calls",
        "long_reasoning": "the runs with less",
        "short_reasoning": "the runs with less",
    }.get(pattern.kind, "the other runs")
    return f"{who} succeed {rate}% of {n} {unit} vs {base}% of {others}, {conf}"


def _subject(pattern: Pattern, spec: KindLine) -> str | None:
    if not spec.phrase:
        return None
    if pattern.kind != "long_run":
        return spec.phrase
    fence = pattern.measures.get("fence")
    if fence is None or not math.isfinite(fence):
        return None
    limit = f"under {_ms(fence)}" if pattern.measures.get("by_time") else f"to at most {int(fence)} tool calls"
    return spec.phrase.format(limit=limit)


def guideline_text(pattern: Pattern) -> str | None:
    """The template line for ``pattern``, or ``None`` when it cannot be written safely."""
    figures = (
        pattern.success_rate, pattern.compared_rate, pattern.baseline_success_rate, pattern.confidence,
        *pattern.measures.values(),
    )
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in figures):
        _logger.info("pattern %s has non-finite figures; no guideline", pattern.id)
        return None
    verb = verb_for(pattern)
    if verb is None:
        return None
    spec = KIND_LINES.get(pattern.kind)
    try:
        subject = _subject(pattern, spec) if spec is not None else None
        if subject is None:
            if not valid_tools(tuple(pattern.tools)):
                _logger.info("pattern %s has no usable tool names; no guideline", pattern.id)
                return None
            tools = tuple(pattern.tools) * (2 if pattern.kind == "repeated_call" else 1)
            subject = f"{verb} {' -> '.join(tools)}"
            if spec is not None and spec.remark:
                subject += f" {spec.remark}"
        line = f"{subject} ({figures_text(pattern)})"
    except KeyError:
        _logger.info("pattern %s lacks a measure its kind needs; no guideline", pattern.id)
        return None
    assert LINE_RE.match(line), line
    return line


def _pct(rate: float) -> int:
    return round(min(1.0, max(0.0, float(rate))) * 100)


def _ms(x: float) -> str:
    return f"{x:.0f} ms" if x < 10_000 else f"{x / 1000:.1f} s"
