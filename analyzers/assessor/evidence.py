"""What the judge looks at, normalised and made safe.

``ReasoningContext`` is the seed's context (thoughts, plan, critique, confidence score) read from any
of the shapes callers send (the seed's nested agent outputs, camelCase or snake_case keys, plain
strings or lists). ``RunEvidence`` is a stored run (its steps) plus bounded, filtered excerpts of its
thinking text when the spans carried it.

Every piece of text that comes from a caller or a trace goes through ``neutralise`` before it can
reach a judge prompt: control characters and code fences are removed, role markers, chat-template
tokens, instruction-override phrases and the verdict's own field names are replaced by
``[filtered]``, and the length is bounded.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analyzers.model import Run

#: Longest excerpt of one free-text field that reaches a prompt.
TEXT_LIMIT = 500
#: Longest short label (goal, issue, step, decision) that reaches a prompt.
LABEL_LIMIT = 160
#: How many list items (steps, issues, approaches, excerpts) reach a prompt.
ITEM_LIMIT = 8

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_FILTERED = "[filtered]"
_INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+)?"
    r"(?:previous|prior|above|earlier|preceding|system)\s+(?:instructions?|prompts?|messages?|rules?|text)"
    r"|you\s+are\s+now\b|new\s+instructions?|system\s+prompt|jailbreak"
    r"|<\|[^|>]{0,40}\|>"
    r"|</?\s*(?:system|assistant|user|developer|tool|evidence|untrusted[\w-]*)\b[^>]{0,40}>"
    r"|\b(?:system|assistant|user|developer)\s*:"
    r"|\b(?:reasoning[_\s-]?quality|should[_\s-]?replan|should[_\s-]?deepen[_\s-]?reasoning"
    r"|recommended[_\s-]?actions)\b",
    re.IGNORECASE,
)
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.:/-]+")


def neutralise(text: Any, limit: int = TEXT_LIMIT) -> str:
    """``text`` made safe to quote inside a judge prompt, at most ``limit`` characters."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", text if isinstance(text, str) else str(text))
    s = _CONTROL.sub(" ", s)
    s = s.replace("```", "'").replace("`", "'")
    s = _INJECTION.sub(" " + _FILTERED + " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    if len(s) > limit:
        s = s[: max(0, limit - 1)].rstrip() + "…"
    return s


def safe_name(name: Any, limit: int = 64) -> str:
    """A tool or agent name reduced to ``[A-Za-z0-9_.:/-]`` and ``limit`` characters."""
    s = _NAME_CHARS.sub("_", str(name or "")).strip("_")
    return s[:limit] or "unnamed"


def as_unit(value: Any) -> float | None:
    """A score as a number in [0, 1]: ``"85%"`` is read as 0.85, anything out of range is clamped;
    ``None`` when not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            return None
        if percent:
            number /= 100.0
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        return None
    if math.isnan(number):
        return None
    return min(1.0, max(0.0, number))


def _get(obj: Any, *names: str) -> Any:
    if not isinstance(obj, Mapping):
        return None
    for name in names:
        if name in obj and obj[name] is not None:
            return obj[name]
    return None


def _texts(items: Any, *keys: str) -> tuple[str, ...]:
    if items is None:
        return ()
    if isinstance(items, (str, Mapping)):
        items = [items]
    if not isinstance(items, Sequence):
        return ()
    out: list[str] = []
    for item in list(items)[:ITEM_LIMIT]:
        if isinstance(item, Mapping):
            item = _get(item, *keys) or next((v for v in item.values() if isinstance(v, str)), "")
        text = neutralise(item, LABEL_LIMIT)
        if text:
            out.append(text)
    return tuple(out)


def _count(items: Any) -> int:
    if isinstance(items, (int, float)) and not isinstance(items, bool):
        return max(0, int(items))
    if isinstance(items, str):
        return 1 if items.strip() else 0
    if isinstance(items, Sequence):
        return len(items)
    return 0


@dataclass(frozen=True)
class ReasoningContext:
    """The seed's context, normalised; every text field is already neutralised."""

    thought: str = ""
    approaches: tuple[str, ...] = ()
    uncertainties: int = 0
    thought_confidence: float | None = None
    plan_goal: str = ""
    plan_steps: tuple[str, ...] = ()
    plan_confidence: float | None = None
    plan_complexity: float | None = None
    has_critique: bool = False
    critique_score: float | None = None
    critique_issues: tuple[str, ...] = ()
    critique_issue_count: int = 0
    critique_recommendation: str = ""
    overall_confidence: float | None = None
    decision: str = ""
    agent_scores: tuple[tuple[str, float], ...] = ()

    @property
    def has_thought(self) -> bool:
        return bool(self.thought or self.approaches)

    @property
    def has_plan(self) -> bool:
        return bool(self.plan_goal or self.plan_steps)

    @property
    def is_empty(self) -> bool:
        return not (self.has_thought or self.has_plan or self.has_critique) and self.overall_confidence is None

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> ReasoningContext:
        """Read the seed's ``{thoughts?, plan?, critique?, confidenceScore?}`` (or snake_case)."""
        fields: dict[str, Any] = {}
        thoughts = _get(context, "thoughts", "thought")
        first: Any = thoughts
        if isinstance(thoughts, Mapping) and "thoughts" in thoughts:
            first = thoughts["thoughts"]
        if isinstance(first, Sequence) and not isinstance(first, str):
            first = first[0] if first else None
        if isinstance(first, str):
            fields["thought"] = neutralise(first)
        elif isinstance(first, Mapping):
            fields["thought"] = neutralise(_get(first, "reasoning", "thought", "text", "content"))
            fields["approaches"] = _texts(_get(first, "approaches"), "description", "name")
            fields["uncertainties"] = _count(_get(first, "uncertainties"))
            fields["thought_confidence"] = as_unit(_get(first, "confidence"))

        plan = _get(context, "plan")
        if isinstance(plan, Mapping) and isinstance(plan.get("plan"), Mapping):
            plan = plan["plan"]
        if isinstance(plan, str):
            fields["plan_goal"] = neutralise(plan, LABEL_LIMIT)
        elif isinstance(plan, Sequence):
            fields["plan_steps"] = _texts(plan, "description", "action", "title", "name")
        elif isinstance(plan, Mapping):
            fields["plan_goal"] = neutralise(_get(plan, "goal", "objective", "summary"), LABEL_LIMIT)
            fields["plan_steps"] = _texts(_get(plan, "steps"), "description", "action", "title", "name")
            fields["plan_confidence"] = as_unit(_get(plan, "confidence"))
            fields["plan_complexity"] = as_unit(_get(plan, "estimatedComplexity", "estimated_complexity"))

        critique = _get(context, "critique")
        if isinstance(critique, Mapping) and isinstance(critique.get("critique"), Mapping):
            critique = critique["critique"]
        if isinstance(critique, str) and critique.strip():
            fields["has_critique"] = True
            fields["critique_issues"] = (neutralise(critique, LABEL_LIMIT),)
            fields["critique_issue_count"] = 1
        elif isinstance(critique, Mapping):
            fields["has_critique"] = True
            fields["critique_score"] = as_unit(_get(critique, "overallScore", "overall_score", "score"))
            issues = _get(critique, "issues")
            fields["critique_issues"] = _texts(issues, "description", "issue", "text")
            fields["critique_issue_count"] = _count(issues)
            fields["critique_recommendation"] = neutralise(_get(critique, "recommendation"), LABEL_LIMIT)

        score = _get(context, "confidenceScore", "confidence_score", "confidence")
        if isinstance(score, Mapping):
            fields["overall_confidence"] = as_unit(_get(score, "overallConfidence", "overall_confidence"))
            fields["decision"] = neutralise(_get(score, "decision"), LABEL_LIMIT)
            agent_scores = []
            for item in list(_get(score, "agentScores", "agent_scores") or [])[:ITEM_LIMIT]:
                value = as_unit(_get(item, "score"))
                if value is not None:
                    agent_scores.append((safe_name(_get(item, "agentName", "agent_name")), value))
            fields["agent_scores"] = tuple(agent_scores)
        else:
            fields["overall_confidence"] = as_unit(score)
        return cls(**fields)


@dataclass(frozen=True)
class RunEvidence:
    """A stored run to judge: its steps, filtered thinking excerpts, and the agent's baseline.

    ``baseline_tool_steps`` is the median number of tool calls of the agent's stored runs (``None``
    when unknown); the heuristic reads a run's effort relative to it.
    """

    run: Run
    thinking_excerpts: tuple[str, ...] = ()
    baseline_tool_steps: float | None = None
