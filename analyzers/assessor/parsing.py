"""Defensive reading of an LLM judge's answer.

In order: strip code fences; take the first balanced JSON object (string-aware brace matching) even
with text around it; if the object is cut off (``finish_reason == "length"`` or no closing brace),
close its open strings and brackets and drop the dangling member; if there is no object, read
``REASONING_QUALITY`` / ``ACTIONS`` / ``ASSESSMENT`` sections from plain text. Scores out of range are
clamped to [0, 1] (``"85%"`` is read as 0.85). Keys are matched in camelCase
or snake_case, case-insensitively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from analyzers.assessor.evidence import as_unit

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.DOTALL)
_SECTION = re.compile(
    r"^[ \t#*]*(REASONING[_ ]QUALITY|ACTIONS|RECOMMENDED[_ ]ACTIONS|ASSESSMENT)[ \t*]*[:\-]?[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?%?")
_QUALITY_KEY = re.compile(r'"(?:reasoning[_ ]?quality|quality|score)"\s*:\s*"?(-?\d+(?:\.\d+)?%?)', re.IGNORECASE)

#: Longest assessment text kept from an answer, and longest single action.
ASSESSMENT_LIMIT = 1000
ACTION_LIMIT = 300
MAX_ACTIONS = 10


@dataclass(frozen=True)
class ParsedVerdict:
    """What could be read from an answer. ``quality`` is ``None`` when the answer had no score."""

    quality: float | None
    actions: tuple[str, ...]
    assessment: str
    source: Literal["json", "repaired_json", "sections", "none"]


def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def _lookup(obj: Mapping[str, Any], *names: str) -> Any:
    wanted = {_norm_key(n) for n in names}
    for key, value in obj.items():
        if isinstance(key, str) and _norm_key(key) in wanted:
            return value
    return None


def _brackets(text: str) -> tuple[list[tuple[int, str]], bool]:
    """The brackets of ``text`` outside JSON strings with their positions, and whether ``text`` ends
    inside a string."""
    marks: list[tuple[int, str]] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{}[]":
            marks.append((i, ch))
    return marks, in_string


def _first_object(text: str) -> tuple[str, bool] | None:
    """The first ``{...}`` in ``text`` and whether it is complete."""
    start = text.find("{")
    if start < 0:
        return None
    depth = 0
    for i, ch in _brackets(text[start:])[0]:
        depth += 1 if ch in "{[" else -1
        if depth == 0:
            return text[start : start + i + 1], True
    return text[start:], False


def _repair(fragment: str) -> Any:
    """Close a cut-off JSON object: finish the open string, drop a dangling member, close brackets."""
    candidate = fragment
    for _ in range(6):
        marks, in_string = _brackets(candidate)
        stack: list[str] = []
        for _i, ch in marks:
            if ch in "{[":
                stack.append("}" if ch == "{" else "]")
            elif stack:
                stack.pop()
        closed = candidate.rstrip("\\") + ('"' if in_string else "")
        closed = re.sub(r"[,:]\s*$", "", closed.rstrip())
        try:
            return json.loads(closed + "".join(reversed(stack)))
        except ValueError:
            cut = max(candidate.rfind(","), candidate.rfind("{"))
            if cut <= 0:
                return None
            candidate = candidate[:cut] if candidate[cut] == "," else candidate[: cut + 1]
    return None


def _actions(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in re.split(r"\n|;", value)]
    if not isinstance(value, list):
        return ()
    out = []
    for item in value:
        if isinstance(item, Mapping):
            item = _lookup(item, "action", "description", "text") or json.dumps(item)[:ACTION_LIMIT]
        text = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", str(item)).strip()
        if text:
            out.append(text[:ACTION_LIMIT])
    return tuple(out[:MAX_ACTIONS])


def _from_object(obj: Any, source: Literal["json", "repaired_json"]) -> ParsedVerdict | None:
    if not isinstance(obj, Mapping):
        return None
    quality = as_unit(_lookup(obj, "reasoningQuality", "reasoning_quality", "quality", "score"))
    actions = _actions(_lookup(obj, "recommendedActions", "recommended_actions", "actions"))
    assessment = _lookup(obj, "assessment", "explanation", "summary", "reasoning")
    text = assessment if isinstance(assessment, str) else ""
    return ParsedVerdict(quality, actions, text.strip()[:ASSESSMENT_LIMIT], source)


def _from_sections(text: str) -> ParsedVerdict:
    sections: dict[str, str] = {}
    marks = list(_SECTION.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        name = _norm_key(m.group(1)).replace("recommended", "")
        sections.setdefault(name, text[m.end() : end].strip())
    quality = None
    if "reasoningquality" in sections:
        number = _NUMBER.search(sections["reasoningquality"])
        quality = as_unit(number.group(0)) if number else None
    if quality is None:
        match = _QUALITY_KEY.search(text)
        quality = as_unit(match.group(1)) if match else None
    actions = _actions(sections.get("actions", "").splitlines()) if "actions" in sections else ()
    assessment = sections.get("assessment") or text.strip()
    source: Literal["sections", "none"] = "sections" if quality is not None or actions else "none"
    return ParsedVerdict(quality, actions, assessment[:ASSESSMENT_LIMIT], source)


def parse_verdict(text: str | None) -> ParsedVerdict:
    """Read a verdict from an LLM answer (see the module docstring); never raises."""
    raw = (text or "").strip()
    fenced = _FENCE.search(raw)
    body = fenced.group(1).strip() if fenced and "{" in fenced.group(1) else raw
    found = _first_object(body)
    verdict: ParsedVerdict | None = None
    if found is not None:
        fragment, complete = found
        obj: Any = None
        source: Literal["json", "repaired_json"] = "json"
        if complete:
            try:
                obj = json.loads(fragment)
            except ValueError:
                obj, source = _repair(fragment[:-1]), "repaired_json"
        else:
            obj, source = _repair(fragment), "repaired_json"
        verdict = _from_object(obj, source)
        if verdict is not None and verdict.quality is None:
            match = _QUALITY_KEY.search(fragment)
            if match:
                verdict = ParsedVerdict(as_unit(match.group(1)), verdict.actions, verdict.assessment, source)
        if verdict is not None and verdict.quality is not None:
            return verdict
    sections = _from_sections(raw)
    if sections.quality is None and verdict is not None and (verdict.actions or verdict.assessment):
        return verdict
    return sections
