"""The SRE agent's decision policy: stochastic, seeded, and shaped by the guidelines in its prompt.

Without guidelines the agent behaves like an eager on-call engineer: it often reaches for metrics
first, repeats itself, and restarts something before it has read enough. With guidelines it follows the
tool sequences they recommend (as a plan of diagnostics, taking a recommended remediation only when
its finding calls for it) and refuses a step that would complete a sequence they warn about. Which
incident it resolves depends on the fault and on the tools it ran (``cluster.py``), so better
guidelines really do raise its success rate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from examples.sre_agent.cluster import (
    DIAGNOSTIC_TOOLS,
    FAULTS_BY_NAME,
    REMEDIATION_TOOLS,
    SERVICES,
    Clue,
    FaultKind,
)
from examples.sre_agent.guidance import Guidance

#: How an unguided agent picks its next diagnostic tool, given its previous one (``None``: the first).
BASE_TRANSITIONS: dict[str | None, dict[str, float]] = {
    None: {"get_metrics": 0.4, "get_pods": 0.35, "check_services": 0.15, "describe_deployment": 0.1},
    "get_pods": {"get_logs": 0.45, "get_metrics": 0.2, "describe_deployment": 0.15, "check_services": 0.1,
                 "get_pods": 0.1},
    "get_logs": {"check_services": 0.3, "get_metrics": 0.3, "describe_deployment": 0.2, "get_logs": 0.2},
    "get_metrics": {"get_metrics": 0.35, "get_pods": 0.3, "get_logs": 0.15, "check_services": 0.2},
    "check_services": {"describe_deployment": 0.35, "get_logs": 0.25, "get_metrics": 0.25,
                       "check_services": 0.15},
    "describe_deployment": {"get_pods": 0.3, "get_metrics": 0.3, "get_logs": 0.2, "check_services": 0.2},
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
    rash_without_finding: float = 0.14
    rash_with_finding: float = 0.45
    correct_fix_when_confirmed: float = 0.96


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
    suspect: str | None = None
    finding: str | None = None
    confirmed: bool = False

    def observe(self, tool: str, clue: Clue | None) -> None:
        self.history.append(tool)
        if clue is None:
            return
        self.suspect = clue.suspect or self.suspect
        self.finding = clue.finding or self.finding
        self.confirmed = self.confirmed or clue.confirms

    @property
    def kind(self) -> FaultKind | None:
        return FAULTS_BY_NAME.get(self.finding) if self.finding else None

    @property
    def ready(self) -> bool:
        """The fault is known and confirmed (or needs no confirmation)."""
        kind = self.kind
        return kind is not None and (kind.confirm is None or self.confirmed)


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

    def next_action(self, state: EpisodeState, *, last_step: bool = False) -> Decision:
        """The next step; on the ``last_step`` of the budget the agent always submits a mitigation."""
        cfg = self.config
        kind = state.kind
        if kind is not None and state.ready and self._rng.random() < cfg.correct_fix_when_confirmed:
            return self._fix(state, kind, "the finding is confirmed")
        if last_step:
            if kind is not None:
                return self._fix(state, kind, "out of time; acting on the finding")
            return self._rash(state, "Out of time: submitting my best guess at a mitigation.")
        while self._plan:
            tool = self._plan.pop(0)
            if tool in REMEDIATION_TOOLS:
                if kind is not None and kind.remediation == tool:
                    return self._fix(state, kind, "the guidelines recommend it here and the finding fits")
                continue
            if tool in state.history or self._warned(state, tool, planned=True):
                continue
            return self._diagnose(state, tool, "following the recommended sequence")
        if (kind is not None and self._rng.random() < cfg.rash_with_finding
                and not self._warned(state, kind.remediation)):
            return self._fix(state, kind, "the logs are clear enough")
        if kind is None and self._rng.random() < cfg.rash_without_finding:
            return self._rash(state, "Restarting things usually helps; let me try a fix now.")
        return self._diagnose(state, self._pick_diagnostic(state), "gathering more information")

    # --- choices --------------------------------------------------------------------------------------
    def _warned(self, state: EpisodeState, tool: str, *, planned: bool = False) -> bool:
        """True when ``tool`` would complete a warned sequence and the agent heeds the warning.

        A warning about a single tool means "not on a hunch": it does not hold against a recommended
        plan, nor against a remediation the findings call for (that path does not ask)."""
        for sequence in self.guidance.warned:
            n = len(sequence)
            if n == 1 and planned:
                continue
            completes = n == 1 or (len(state.history) >= n - 1 and tuple(state.history[-(n - 1):]) == sequence[:-1])
            if completes and sequence[-1] == tool and self._rng.random() < self.config.respect_warning:
                return True
        return False

    def _pick_diagnostic(self, state: EpisodeState) -> str:
        previous = state.history[-1] if state.history else None
        weights = BASE_TRANSITIONS.get(previous, BASE_TRANSITIONS[None])
        for _ in range(8):
            tool = self._rng.choices(list(weights), weights=list(weights.values()))[0]
            if not self._warned(state, tool):
                return tool
        return self._rng.choice(DIAGNOSTIC_TOOLS)

    def _diagnose(self, state: EpisodeState, tool: str, why: str) -> Decision:
        target = None
        if tool in ("get_logs", "describe_deployment"):
            target = state.suspect or self._rng.choice(SERVICES)
        reasoning = f"Next I run {tool}" + (f" on {target}" if target else "") + f", {why}."
        if state.suspect:
            reasoning += f" {state.suspect} looks unhealthy so far."
        return Decision(tool, target, reasoning, why)

    def _fix(self, state: EpisodeState, kind: FaultKind, why: str) -> Decision:
        target = state.suspect or self._rng.choice(SERVICES)
        if kind.name == "db_connection":
            target = f"mongodb-{target}"
        return Decision(
            kind.remediation, target,
            f"The logs of {state.suspect} show {kind.description}; applying {kind.remediation} to {target}"
            f" because {why}.",
            why,
        )

    def _rash(self, state: EpisodeState, reasoning: str) -> Decision:
        weights = RASH_REMEDIATION_WEIGHTS
        tool = "restart_pod"
        for _ in range(8):
            tool = self._rng.choices(list(weights), weights=list(weights.values()))[0]
            if not self._warned(state, tool):
                break
        return Decision(tool, state.suspect or self._rng.choice(SERVICES), reasoning, "quick fix")
