"""One row per finding: patterns that say one thing, grouped for listings and the report.

Several patterns can describe one finding: a sequence and the cluster around it, a tool's runs failing
more, its calls failing, runs ending on it, a precondition of it. ``group_findings`` groups the
patterns by what they are about (their tool set; thinking patterns by their direction), keeps the
strongest as the finding's ``lead`` and the others as ``related``, and orders findings by confidence
(two decimals), then by ``strength``: the end of the effect's interval nearest zero, so that findings
that all show confidence 1.00 are still told apart by how large an effect they surely have.
Task-confounded findings come last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from analyzers.model import Pattern


def strength(p: Pattern) -> float:
    """How large an effect ``p`` surely has: its interval's end nearest zero (0 when it spans zero or
    the pattern has no effect interval)."""
    if p.effect_low is None or p.effect_high is None:
        return 0.0
    if p.effect_low > 0:
        return p.effect_low
    if p.effect_high < 0:
        return -p.effect_high
    return 0.0


@dataclass(frozen=True)
class Finding:
    """A group of patterns about one thing: ``lead`` is the strongest, ``related`` the others."""

    key: tuple[str, ...]
    lead: Pattern
    related: tuple[Pattern, ...] = ()

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        return (self.lead, *self.related)

    def to_json(self) -> dict[str, Any]:
        """The lead pattern's JSON, with ``strength`` and the ``related`` patterns' ids and kinds."""
        out = self.lead.to_json()
        out["strength"] = round(strength(self.lead), 4)
        out["related"] = [{"id": p.id, "type": p.type, "kind": p.kind} for p in self.related]
        return out


def _key(p: Pattern) -> tuple[str, ...]:
    if p.tools:
        return (p.agent, *sorted(set(p.tools)))
    if p.type == "thinking_pattern":
        return (p.agent, "<thinking>", "up" if p.success_rate >= p.compared_rate else "down")
    return (p.agent, f"<{p.kind}>")


def _rank(p: Pattern) -> tuple[bool, float, float, int, str]:
    return (p.task_confounded, -round(p.confidence, 2), -strength(p), -p.frequency, p.id)


def group_findings(patterns: Iterable[Pattern]) -> list[Finding]:
    """Group ``patterns`` into findings (see the module docstring), strongest first."""
    groups: dict[tuple[str, ...], list[Pattern]] = {}
    for p in patterns:
        groups.setdefault(_key(p), []).append(p)
    findings = []
    for key, members in groups.items():
        members.sort(key=_rank)
        findings.append(Finding(key, members[0], tuple(members[1:])))
    findings.sort(key=lambda f: _rank(f.lead))
    return findings
