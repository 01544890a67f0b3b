"""Guideline text from templates: only tool names (validated) and figures go into a line.

The writer never reads a pattern's ``description`` or ``recommendations``: those may quote trace text.
A guideline line is built from the pattern's ``kind`` (which fixes its verb, its wording and what its
figures measure), its ``tools`` (each must match ``^[A-Za-z0-9_.:-]{1,64}$``) and its figures
(``success_rate`` against ``compared_rate`` over ``frequency`` runs or calls, ``measures``,
``confidence``). The figures are those of the test behind the confidence (``analyzers.mining``).

Line grammar (what an agent's policy can parse from the rendered prompt; each managed line is rendered
as ``- <line>`` under ``## Learned guidelines``)::

    line     := ( verb " " sequence [ " " remark ] | phrase | condition ) " (" figures ")"
    verb     := "Prefer" | "Use" | "Avoid" | "Think before"
    condition := "Call " tool " before " tool                    (precondition: sequence first, then second)
               | "After " tool " fails, call " tool              (recovery: the failed tool, then the next)
    sequence := tool ( " -> " tool )*          tool := [A-Za-z0-9_.:-]{1,64}
    remark   := "without checking its inputs" | "as the last step" | "unless needed" | "in a row"
    phrase   := "Think before the first tool call" | "Avoid reasoning before the first tool call"
              | "Think before acting on each decision" | "Avoid reasoning steps on routine actions"
              | "Think before acting, in depth" | "Keep reasoning short"
              | "Keep runs to at most " N " tool calls" | "Keep runs under " DURATION
    figures  := who " succeed " PCT "% of " N " " unit " vs " PCT "% of " others [ effect ] ", confidence " 0.NN
              | PCT "% of its " N " calls finish within the other tools' p95 of " DURATION " vs " PCT
                "% of theirs, its p95 " DURATION ", confidence " 0.NN            (hot_spot)
    effect   := ", effect " SIGNED " points [" SIGNED ", " SIGNED "] " ( "within " N " tasks" | "pooled across tasks" )
    unit     := "runs" | "calls"

``who`` and ``others`` are fixed per kind (``KIND_LINES``); neither the figures nor a remark or phrase
names a tool, so an agent can take the tool names of a line, in order, as its sequence (for a
condition line: the order its calls come in). No line holds ": " (the prompt file's YAML stays
unquoted). ``effect`` is the pattern's difference in success rate and its 90% interval, within tasks or
pooled across tasks (``analyzers.mining``); a pattern with a ``withheld`` reason gets no line, and
``refusal`` says which patterns the writer must leave out (withheld, or naming a tool the agent is not
known to have: ``trusted_tools``).

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
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from analyzers.model import Pattern, Run

_logger = logging.getLogger(__name__)

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
_TOOL = r"[A-Za-z0-9_.:-]{1,64}"
REMARKS = ("without checking its inputs", "as the last step", "unless needed", "in a row")
VERBS_RECOMMEND = ("Prefer", "Use", "Think before", "Call", "After")
VERB_WARN = "Avoid"
MAX_SEQUENCE = 8


@dataclass(frozen=True)
class KindLine:
    """How one pattern kind is written.

    ``verb`` and ``remark`` for a line about tools, or ``phrase`` for a line that names none;
    ``condition`` (a format of the two tools) for a condition line; ``recommends`` is its polarity;
    ``topic`` groups the tool-less kinds that speak about the same
    thing (a tool line's topic is its tool sequence); ``who`` says which runs or calls the figures are
    about."""

    verb: str
    recommends: bool
    who: str
    remark: str = ""
    phrase: str = ""
    topic: str = ""
    condition: str = ""


#: Every kind the miner produces, with its line (``{n}`` in a phrase is filled from ``measures``).
KIND_LINES: Mapping[str, KindLine] = {
    "sequence": KindLine("Prefer", True, "runs with this sequence"),
    "cluster": KindLine("Prefer", True, "runs of a cluster around this sequence"),
    "precondition": KindLine("Call", True, "calls of the second after the first",
                             condition="Call {0} before {1}"),
    "recovery": KindLine("After", True, "runs that called the second right after the first failed",
                         condition="After {0} fails, call {1}"),
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
    rf"|Call (?P<pre>{_TOOL}) before (?P<target>{_TOOL})"
    rf"|After (?P<failed>{_TOOL}) fails, call (?P<then>{_TOOL})"
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
    if m["pre"]:
        return ParsedLine("Call", (m["pre"], m["target"]), f"Call {m['pre']} before {m['target']}")
    if m["failed"]:
        return ParsedLine("After", (m["failed"], m["then"]), f"After {m['failed']} fails, call {m['then']}")
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
        "precondition": "its calls without it",
        "recovery": "the other runs where the first failed",
    }.get(pattern.kind, "the other runs")
    return f"{who} succeed {rate}% of {n} {unit} vs {base}% of {others}{_effect_text(pattern)}, {conf}"


def _effect_text(pattern: Pattern) -> str:
    e, lo, hi = pattern.effect, pattern.effect_low, pattern.effect_high
    if e is None or lo is None or hi is None or not pattern.scope:
        return ""
    where = f"within {pattern.tasks} tasks" if pattern.scope == "within_task" else "pooled across tasks"
    return f", effect {_signed(e)} points [{_signed(lo)}, {_signed(hi)}] {where}"


def _signed(x: float) -> str:
    return f"{round(100 * float(x)):+d}"


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
    if pattern.withheld:
        _logger.info("pattern %s is withheld from guidelines: %s", pattern.id, pattern.withheld)
        return None
    effect = tuple(x for x in (pattern.effect, pattern.effect_low, pattern.effect_high) if x is not None)
    figures = (
        pattern.success_rate, pattern.compared_rate, pattern.baseline_success_rate, pattern.confidence,
        *pattern.measures.values(), *effect,
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
            if spec is not None and spec.condition:
                if len(tools) != 2:
                    return None
                subject = spec.condition.format(*tools)
            elif spec is not None and spec.remark:
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


def trusted_tools(
    runs: Iterable[Run], *, declared: Collection[str] = (), released: Callable[[str], bool] | None = None
) -> frozenset[str]:
    """The tool names a guideline may name: the agent's declared ``tools:`` list when it has one;
    otherwise the tools seen in runs of a released prompt version (``released(version)``: the version
    has its tag); when no run carries a released version (runs imported from a dataset, an agent that
    does not stamp its prompt version), the tools seen in all its runs."""
    if declared:
        return frozenset(declared)
    runs = list(runs)
    versions = {r.prompt_version for r in runs if r.prompt_version}
    good = {v for v in versions if released is not None and released(v)}
    stable = [r for r in runs if r.prompt_version in good]
    return frozenset(s.name for r in (stable or runs) for s in r.steps if s.kind == "tool")


def refusal(pattern: Pattern, trusted: Collection[str] | None, *, declared: bool = False) -> str | None:
    """Why the writer must leave ``pattern`` out of the guidelines (``None``: it may write it): the
    miner withheld it, or it names a tool outside ``trusted`` (``None``: no tool check)."""
    if pattern.withheld:
        return pattern.withheld
    if trusted is not None:
        unknown = [t for t in pattern.tools if t not in trusted]
        if unknown:
            where = "the tools: list of the prompt file" if declared else "the runs of a released version"
            shown = ", ".join(_quoted(t) for t in unknown[:3])
            return f"refused: names a tool the agent is not known to have ({shown}; not in {where})"
    return None


def applied_note(pattern: Pattern) -> str:
    """The commit body's note for an applied pattern: ``applied``, saying when the effect is pooled."""
    if pattern.scope == "pooled":
        return "applied; effect pooled across tasks (no repeated task keys)"
    if pattern.scope == "within_task" and pattern.task_grouping:
        return f"applied; effect within {pattern.tasks} tasks grouped by {pattern.task_grouping}"
    return "applied"


def _quoted(name: str) -> str:
    """A tool name fit for a commit body: safe characters only, at most 64 of them."""
    return repr(re.sub(r"[^A-Za-z0-9_.:-]", "_", str(name))[:64])
