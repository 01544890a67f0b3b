"""Reading the learned guidelines out of the agent's prompt.

The guideline writer (``analyzers.guidelines``) renders the prompt as the human-written base prompt
followed by a section headed "## Learned guidelines" with one ``- <verb> a -> b -> c (figures)`` line per
guideline (``analyzers/guidelines/templates.py``): "Prefer", "Use" and "Think before" recommend the
sequence, "Avoid" warns against it. Other phrasings ("Start with", "Do not", "Never", ...) count too.
The parser does not depend on the exact sentence: it takes the known tool names of each line of that
section in the order they appear, and classifies the line by its leading verb.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

_SECTION_HEADING = re.compile(r"^\s*(?:#+\s*)?learned guidelines\b", re.IGNORECASE)
_NEXT_HEADING = re.compile(r"^\s*#{1,6}\s+\S")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_WARN_START = ("avoid", "do not", "don't", "never", "stop", "beware", "review")
_RECOMMEND_START = ("prefer", "use", "think before", "start", "follow", "begin", "prioritize", "prioritise", "consider",
                    "try", "always", "run", "call", "keep")


@dataclass(frozen=True)
class Guidance:
    """The tool sequences the prompt's learned guidelines recommend and the ones they warn about."""

    recommended: tuple[tuple[str, ...], ...] = ()
    warned: tuple[tuple[str, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.recommended and not self.warned


def guideline_lines(prompt_text: str) -> list[str]:
    """The lines of the "Learned guidelines" section (empty when the prompt has none)."""
    lines = prompt_text.splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if _SECTION_HEADING.match(line.lstrip("#").strip()) or _SECTION_HEADING.match(line):
            inside = True
            continue
        if inside and _NEXT_HEADING.match(line):
            break
        if inside and line.strip():
            out.append(line.strip())
    return out


def parse_guidance(prompt_text: str, tools: Collection[str]) -> Guidance:
    """Extract recommended and warned tool sequences from the prompt's learned guidelines."""
    names = sorted(tools, key=len, reverse=True)
    tool_re = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z0-9_])")
    recommended: list[tuple[str, ...]] = []
    warned: list[tuple[str, ...]] = []
    for line in guideline_lines(prompt_text):
        sequence = tuple(tool_re.findall(line))
        if not sequence:
            continue
        lead = _BULLET.sub("", line).lstrip("*_`[").lower()
        if lead.startswith(_WARN_START):
            warned.append(sequence)
        elif lead.startswith(_RECOMMEND_START):
            recommended.append(sequence)
    return Guidance(recommended=tuple(dict.fromkeys(recommended)), warned=tuple(dict.fromkeys(warned)))
