"""Commit messages of the guideline writer, and the trailers ``history`` reads back.

A change's message::

    diagnosis v1.0.3: +2 guidelines, -1 retired

    Applied:
    - success_pattern sp-3f2a: confidence 0.82, support 34, success 85% vs 52% compared, baseline 60% (sequence, in runs)
      evidence: 4bf92f3577b34da6a3ce929d0e0e4736, ...
    Retired:
    - failure_pattern fp-19c0: confidence 0.41, support 12, success 20% vs 63% compared, baseline 60% (last_step, in runs) (below threshold 0.70)
    Left out:
    - tool_effectiveness te-77aa: confidence 0.93, support 40, success 55% vs 95% compared, baseline 60% (call_failures, in
      calls) (contradicted by te-0b11: outcome-level evidence beats call-level)

    Guideline text: templates

    Otel-Meta-Agent: diagnosis
    Otel-Meta-Version: 1.0.3
    Otel-Meta-Applied: sp-3f2a te-0b11
    Otel-Meta-Retired: fp-19c0
    Otel-Meta-Text: template

"compared" is the rate of the group the pattern's test compared with (the runs without it, or the
other tools' calls), "baseline" the agent's success rate over all mined runs; the kind and the unit of
the support follow the figures. Everything in a message comes from pattern ids (validated), types, figures and trace ids (32 hex
digits, validated); never from span text or from a rejected LLM answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analyzers.model import Pattern

if TYPE_CHECKING:
    from analyzers.guidelines.prompt_file import Guideline

TRACE_ID_RE = re.compile(r"^[0-9a-f]{32}\Z")
MAX_EVIDENCE = 5

TRAILER_AGENT = "Otel-Meta-Agent"
TRAILER_VERSION = "Otel-Meta-Version"
TRAILER_APPLIED = "Otel-Meta-Applied"
TRAILER_RETIRED = "Otel-Meta-Retired"
TRAILER_TEXT = "Otel-Meta-Text"
TRAILER_ROLLBACK = "Otel-Meta-Rollback-To"
TRAILER_BLOCKED = "Otel-Meta-Blocked"
TRAILER_REJECTED = "Otel-Meta-Rejected"
TRAILER_ROLLED_BACK = "Otel-Meta-Rolled-Back"
TRAILER_CYCLE = "Otel-Meta-Cycle"
#: The rule for blocked patterns, as commit messages and docs state it.
BLOCK_RULE = (
    "Blocked patterns are not applied again until runs recorded after this commit support them again: "
    "a learning cycle mines those runs alone (once there are at least min-traces of them) and a blocked "
    "pattern returns only if it reaches the confidence threshold there."
)
_KIND_RE = re.compile(r"^[a-z_]{1,32}\Z")
_TRAILER_RE = re.compile(r"^(Otel-Meta-[A-Za-z-]+): ?(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class PatternChange:
    """One pattern applied, retired or restored, with the figures the commit message shows."""

    pattern_id: str
    pattern_type: str
    confidence: float
    support: int
    success_rate: float | None = None
    baseline_success_rate: float | None = None
    comparison_rate: float | None = None
    evidence: tuple[str, ...] = ()
    reason: str = "applied"
    kind: str = ""
    unit: str = "runs"

    @classmethod
    def from_pattern(cls, pattern: Pattern, reason: str) -> PatternChange:
        evidence = tuple(t for t in pattern.evidence if isinstance(t, str) and TRACE_ID_RE.match(t))
        return cls(
            pattern_id=pattern.id,
            pattern_type=pattern.type,
            confidence=float(pattern.confidence),
            support=int(pattern.frequency),
            success_rate=float(pattern.success_rate),
            baseline_success_rate=float(pattern.baseline_success_rate),
            comparison_rate=float(pattern.compared_rate),
            evidence=evidence[:MAX_EVIDENCE],
            reason=reason,
            kind=pattern.kind if _KIND_RE.match(pattern.kind) else "",
            unit="calls" if pattern.unit == "calls" else "runs",
        )

    @classmethod
    def from_guideline(cls, guideline: Guideline, reason: str) -> PatternChange:
        return cls(
            pattern_id=guideline.pattern_id,
            pattern_type=guideline.pattern_type,
            confidence=guideline.confidence,
            support=guideline.support,
            reason=reason,
        )

    def message_lines(self) -> list[str]:
        line = f"- {self.pattern_type} {self.pattern_id}: confidence {self.confidence:.2f}"
        line += f", support {self.support}"
        if self.success_rate is not None and self.baseline_success_rate is not None:
            compared = self.baseline_success_rate if self.comparison_rate is None else self.comparison_rate
            line += (
                f", success {_pct(self.success_rate)}% vs {_pct(compared)}% compared,"
                f" baseline {_pct(self.baseline_success_rate)}%"
            )
            if self.kind:
                line += f" ({self.kind}, in {self.unit})"
        if self.reason not in ("applied", "restored"):
            line += f" ({self.reason})"
        lines = [line]
        if self.evidence:
            lines.append("  evidence: " + ", ".join(self.evidence))
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "pattern_id": self.pattern_id,
            "pattern_type": self.pattern_type,
            "confidence": round(self.confidence, 4),
            "support": self.support,
            "success_rate": None if self.success_rate is None else round(self.success_rate, 4),
            "baseline_success_rate": (
                None if self.baseline_success_rate is None else round(self.baseline_success_rate, 4)
            ),
            "comparison_rate": None if self.comparison_rate is None else round(self.comparison_rate, 4),
            "evidence": list(self.evidence),
            "reason": self.reason,
            "kind": self.kind,
            "unit": self.unit,
        }


def _pct(rate: float) -> int:
    return round(min(1.0, max(0.0, rate)) * 100)


def _section(title: str, changes: tuple[PatternChange, ...]) -> list[str]:
    if not changes:
        return []
    return [f"{title}:"] + [line for c in changes for line in c.message_lines()]


def _trailers(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in pairs if v)


def change_message(
    agent: str,
    version: str,
    applied: tuple[PatternChange, ...],
    retired: tuple[PatternChange, ...],
    threshold: float,
    text_source: str,
    text_note: str,
    *,
    left_out: tuple[PatternChange, ...] = (),
) -> str:
    """The message of a guideline change (subject, applied/retired patterns, the confident patterns
    left out and why, text source, trailers)."""
    body = _section("Applied", applied) + _section("Retired", retired) + _section("Left out", left_out)
    used = "LLM rewrite, validated" if text_source == "llm" else "templates"
    source = f"Guideline text: {used}" + (f" ({text_note})" if text_note else "")
    trailers = _trailers(
        [
            (TRAILER_AGENT, agent),
            (TRAILER_VERSION, version),
            (TRAILER_APPLIED, " ".join(c.pattern_id for c in applied)),
            (TRAILER_RETIRED, " ".join(c.pattern_id for c in retired)),
            (TRAILER_TEXT, text_source),
        ]
    )
    subject = f"{agent} v{version}: +{len(applied)} guidelines, -{len(retired)} retired"
    return (
        "\n".join([subject, "", *body, "", f"Confidence threshold: {threshold:.2f}", source, "", trailers])
        + "\n"
    )


def create_message(agent: str, version: str, note: str = "") -> str:
    subject = f"{agent} v{version}: add agent"
    trailers = _trailers([(TRAILER_AGENT, agent), (TRAILER_VERSION, version)])
    return "\n".join([subject, "", *([note.capitalize(), ""] if note else []), trailers]) + "\n"


def rollback_message(
    agent: str,
    version: str,
    to_version: str,
    from_version: str,
    restored: tuple[PatternChange, ...],
    removed: tuple[PatternChange, ...],
    reason: str | None,
    blocked: tuple[str, ...],
    *,
    kept_base: bool = False,
) -> str:
    """The message of a rollback: which version it restores, why, and the guidelines it changes."""
    counts = f"+{len(restored)} guidelines, -{len(removed)} retired"
    subject = f"{agent} v{version}: roll back to v{to_version} ({counts})"
    why = " ".join((reason or "requested by a person").split())[:500]
    body = [f"Restores the guidelines of v{to_version} (replacing v{from_version}).", f"Why: {why}", ""]
    if kept_base:
        body += [f"base_prompt: kept as it is on the branch (edited by a person after v{to_version}); "
                 "to restore the old base prompt too, edit it by hand and commit.", ""]
    body += _section("Restored", restored) + _section("Removed", removed)
    if blocked:
        body += ["", BLOCK_RULE]
    trailers = _trailers(
        [
            (TRAILER_AGENT, agent),
            (TRAILER_VERSION, version),
            (TRAILER_APPLIED, " ".join(c.pattern_id for c in restored)),
            (TRAILER_RETIRED, " ".join(c.pattern_id for c in removed)),
            (TRAILER_ROLLBACK, to_version),
            (TRAILER_ROLLED_BACK, from_version),
            (TRAILER_BLOCKED, " ".join(blocked)),
        ]
    )
    return "\n".join([subject, "", *body, "", trailers]) + "\n"


def rejection_message(
    agent: str,
    version: str,
    candidate: str,
    stable: str,
    reason: str,
    blocked: tuple[str, ...],
    *,
    kept_base: bool = False,
) -> str:
    """The message of a rejected candidate: the commit restoring the stable version's guidelines."""
    subject = f"{agent} v{version}: reject candidate v{candidate}, restore stable v{stable}"
    body = [f"Why: {' '.join(reason.split())[:800]}", ""]
    if kept_base:
        body += ["base_prompt: kept as a person edited it while the candidate ran; this commit is a new "
                 "version and the new stable one.", ""]
    if blocked:
        body += ["Blocked (the patterns the candidate added): " + " ".join(blocked), "", BLOCK_RULE, ""]
    trailers = _trailers(
        [
            (TRAILER_AGENT, agent),
            (TRAILER_VERSION, version),
            (TRAILER_REJECTED, candidate),
            (TRAILER_BLOCKED, " ".join(blocked)),
        ]
    )
    return "\n".join([subject, "", *body, trailers]) + "\n"


def parse_trailers(body: str) -> dict[str, str]:
    """The ``Otel-Meta-*`` trailers of a commit body."""
    return {m.group(1): m.group(2).strip() for m in _TRAILER_RE.finditer(body)}
