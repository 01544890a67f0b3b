"""The SRE agent's decision policy: stochastic, seeded, and shaped by the guidelines in its prompt.

Without guidelines the agent behaves like an eager on-call engineer: it reaches for metrics first,
repeats itself, and often restarts something before it has read enough. With guidelines it follows the
tool sequences they recommend (as a plan of diagnostics, taking a recommended remediation only when
its evidence points there) and refuses a step that would complete a sequence they warn about. Which
incident it resolves depends on the fault and on the tools it ran (``cluster.py``), so better
guidelines really do raise its success rate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from examples.sre_agent.cluster import (
    DIAGNOSTIC_TOOLS,
    FAULT_KINDS,
    REMEDIATION_TOOLS,
    SERVICES,
    Clue,
)
from examples.sre_agent.guidance import Guidance

#: How an unguided agent picks its next diagnostic tool.
BASE_DIAGNOSTIC_WEIGHTS = {
    "get_metrics": 0.34,
    "get_pods": 0.22,
    "get_logs": 0.16,
    "check_services": 0.14,
    "describe_deployment": 0.14,
}
#: How an agent guessing a fix picks the remediation.
RASH_REMEDIATION_WEIGHTS = {
    "restart_pod": 0.55,
    "rollback_deployment": 0.2,
    "scale_deployment": 0.15,
    "patch_service": 0.1,
}


@dataclass(frozen=True)
class PolicyConfig:
    """The policy's knobs (probabilities per decision)."""

    follow_recommendation: float = 0.9
    respect_warning: float = 0.9
    rash_without_evidence: float = 0.14
    rash_with_partial_evidence: float = 0.45
    correct_fix_with_full_evidence: float = 0.96


@dataclass(frozen=True)
class Decision:
    """The next step: a tool, its target, and the reasoning the agent records before calling it."""

    tool: str
    target: str | None
    reasoning: str
    justification: str

    @property
    def is_remediation(self) -> bool:
        return self.tool in REMEDIATION_TOOLS


@dataclass
class EpisodeState:
    """What the agent knows so far in one incident."""

    history: list[str] = field(default_factory=list)
    evidence: set[str] = field(default_factory=set)
    suspect: str | None = None

    def observe(self, tool: str, clue: Clue | None) -> None:
        self.history.append(tool)
        if clue is None:
            return
        if clue.evidence_tool:
            self.evidence.add(clue.evidence_tool)
        if clue.suspect:
            self.suspect = clue.suspect

    def identified(self) -> list[str]:
        """Fault kinds whose whole evidence chain has been seen."""
        return [k.name for k in FAULT_KINDS if set(k.evidence) <= self.evidence]

    def consistent(self) -> list[str]:
        """Fault kinds compatible with the evidence seen so far (all of them before any evidence)."""
        return [k.name for k in FAULT_KINDS if self.evidence <= set(k.evidence)] or [k.name for k in FAULT_KINDS]


class SrePolicy:
    """Chooses each step of an incident. Deterministic for a given ``rng`` state and guidance."""

    def __init__(self, guidance: Guidance, rng: random.Random, config: PolicyConfig | None = None) -> None:
        self.guidance = guidance
        self.config = config or PolicyConfig()
        self._rng = rng
        self._plan: list[str] = []

    def start_episode(self) -> None:
        """Build this incident's plan: the recommended sequences the agent decides to follow."""
        plan: list[str] = []
        for sequence in self.guidance.recommended:
            if self._rng.random() < self.config.follow_recommendation:
                plan.extend(t for t in sequence if t not in plan or t in REMEDIATION_TOOLS)
        self._plan = plan

    def next_action(self, state: EpisodeState) -> Decision:
        cfg = self.config
        kinds = {k.name: k for k in FAULT_KINDS}
        identified = state.identified()
        if identified:
            kind = kinds[identified[0]]
            if self._rng.random() < cfg.correct_fix_with_full_evidence:
                target = _remediation_target(kind.name, state.suspect)
                return Decision(kind.remediation, target,
                                f"The evidence from {', '.join(sorted(state.evidence))} shows {kind.description} "
                                f"on {state.suspect}; applying {kind.remediation} to {target}.",
                                "the evidence chain for this fault is complete")
            return self._rash(state, "I think I know what this is; trying a fix.")
        while self._plan:
            tool = self._plan.pop(0)
            if tool in REMEDIATION_TOOLS:
                consistent = [kinds[n] for n in state.consistent()]
                if state.evidence and any(k.remediation == tool for k in consistent):
                    return self._rash(state, f"The guidelines recommend {tool} here and the evidence fits.",
                                      tool=tool)
                continue
            if tool in state.history or self._warned(state, tool):
                continue
            return self._diagnose(state, tool, "following the recommended sequence")
        rash = cfg.rash_with_partial_evidence if state.evidence else cfg.rash_without_evidence
        if self._rng.random() < rash:
            return self._rash(state, "Restarting things usually helps; let me try a fix now.")
        return self._diagnose(state, self._pick_diagnostic(state), "gathering more information")

    # --- choices --------------------------------------------------------------------------------------
    def _warned(self, state: EpisodeState, tool: str) -> bool:
        """True when ``tool`` would complete a warned sequence and the agent heeds the warning."""
        for sequence in self.guidance.warned:
            n = len(sequence)
            if n == 1 and state.evidence:
                continue
            if n == 1 or (len(state.history) >= n - 1 and tuple(state.history[-(n - 1):]) == sequence[:-1]):
                if sequence[-1] == tool and self._rng.random() < self.config.respect_warning:
                    return True
        return False

    def _pick_diagnostic(self, state: EpisodeState) -> str:
        for _ in range(8):
            tools = list(BASE_DIAGNOSTIC_WEIGHTS)
            tool = self._rng.choices(tools, weights=[BASE_DIAGNOSTIC_WEIGHTS[t] for t in tools])[0]
            if not self._warned(state, tool):
                return tool
        return self._rng.choice(DIAGNOSTIC_TOOLS)

    def _diagnose(self, state: EpisodeState, tool: str, why: str) -> Decision:
        target = None
        if tool in ("get_logs", "describe_deployment"):
            target = state.suspect or self._rng.choice(SERVICES)
        reasoning = f"Next I run {tool}" + (f" on {target}" if target else "") + f", {why}."
        if state.suspect:
            reasoning += f" {state.suspect} looks suspicious so far."
        return Decision(tool, target, reasoning, why)

    def _rash(self, state: EpisodeState, reasoning: str, tool: str | None = None) -> Decision:
        if tool is None:
            for _ in range(8):
                tools = list(RASH_REMEDIATION_WEIGHTS)
                tool = self._rng.choices(tools, weights=[RASH_REMEDIATION_WEIGHTS[t] for t in tools])[0]
                if not self._warned(state, tool):
                    break
        target = state.suspect or self._rng.choice(SERVICES)
        if tool == "restart_pod" and "db_connection" in state.identified():
            target = _remediation_target("db_connection", target)
        return Decision(tool, target, reasoning, "quick fix")


def _remediation_target(kind: str, suspect: str | None) -> str | None:
    if kind == "db_connection" and suspect:
        return f"mongodb-{suspect}"
    return suspect
