"""Candidate rollout: a new version runs beside the stable one until the evidence decides.

The stable version is the one tagged ``<agent>/stable``. The branch head is a *candidate* while its
version differs from the stable one and its file sets ``candidate_fraction``; ``otel_meta.load_prompt``
then serves it to that share of runs (chosen by trace id). ``decide`` compares the two versions on the
runs of the same period (from the candidate's first run on), with the always-valid test of
``sequential``; ``apply_decision`` promotes (moves ``<agent>/stable`` to the candidate's commit),
rejects (a new commit restoring the stable text, blocking the patterns the candidate added), or
leaves both in place to wait for more runs. See docs/guidelines.md, "Candidate rollout".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from analyzers.errors import PromptsRepoError
from analyzers.guidelines.compare import VersionStats
from analyzers.guidelines.messages import rejection_message
from analyzers.guidelines.prompt_file import PromptFile, stable_tag, tag_name, validate_agent_name
from analyzers.guidelines.repo import PromptsRepo
from analyzers.guidelines.sequential import TEST_NAME, PairedEvidence, paired_evidence
from analyzers.model import Run

_logger = logging.getLogger(__name__)

Action = Literal["promote", "reject", "wait"]


@dataclass(frozen=True)
class RolloutSettings:
    """How candidates roll out and are decided (documented defaults; config and CLI flags set them).

    - ``candidate_fraction`` (0.5): the share of runs a new version gets while it is a candidate; 0
      turns rollout off (a new version goes to every run at once, as before).
    - ``alpha`` (0.05): the test's error rate; a decision on evidence needs e-value >= 1/alpha.
    - ``max_runs`` (200): once both versions have this many runs of the period without a significant
      difference (the budget), the measured rates decide: the candidate is promoted when its success
      rate is at least the stable one's, else rejected.
    """

    candidate_fraction: float = 0.5
    alpha: float = 0.05
    max_runs: int = 200

    def __post_init__(self) -> None:
        if not 0.0 <= self.candidate_fraction <= 1.0:
            raise ValueError(f"candidate_fraction must be in [0, 1], got {self.candidate_fraction}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"rollout alpha must be in (0, 1), got {self.alpha}")
        if self.max_runs < 1:
            raise ValueError(f"rollout max_runs must be at least 1, got {self.max_runs}")


@dataclass(frozen=True)
class Rollout:
    """An agent's versions as ``load_prompt`` serves them: the branch head and the stable tag."""

    agent: str
    head: PromptFile
    head_commit: str
    stable: PromptFile | None
    stable_commit: str | None

    @property
    def candidate(self) -> PromptFile | None:
        if self.stable is None or self.head.version == self.stable.version:
            return None
        return self.head if (self.head.candidate_fraction or 0.0) > 0.0 else None


def read_rollout(repo: PromptsRepo, agent: str) -> Rollout | None:
    """The agent's rollout at the branch head (``None`` when it has no file)."""
    validate_agent_name(agent)
    head_commit = repo.head()
    head = repo.read(agent, head_commit)
    if head is None:
        return None
    stable_commit = repo.resolve(f"refs/tags/{stable_tag(agent)}")
    stable = repo.read(agent, stable_commit) if stable_commit else None
    return Rollout(agent, head, head_commit, stable, stable_commit)


@dataclass(frozen=True)
class RolloutDecision:
    """What a cycle decided about a candidate, with the figures and the reason it prints."""

    action: Action
    candidate: VersionStats
    stable: VersionStats
    evidence: PairedEvidence
    reason: str
    commit: str | None = None
    version: str | None = None
    blocked: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "candidate": self.candidate.to_json(),
            "stable": self.stable.to_json(),
            "evidence": self.evidence.to_json(),
            "reason": self.reason,
            "commit": self.commit,
            "version": self.version,
            "blocked": list(self.blocked),
        }


def _pct(rate: float) -> str:
    return f"{rate:.0%}"


def decide(runs: Sequence[Run], rollout: Rollout, settings: RolloutSettings) -> RolloutDecision | None:
    """Promote, reject or wait, from the runs with a known outcome (``None``: no candidate is out)."""
    candidate = rollout.candidate
    if candidate is None or rollout.stable is None:
        return None
    stable_version = rollout.stable.version
    mine = sorted((r for r in runs if r.outcome is not None and r.prompt_version == candidate.version),
                  key=lambda r: (r.started_at_unix_nano, r.trace_id))
    since = mine[0].started_at_unix_nano if mine else None
    theirs = sorted((r for r in runs if r.outcome is not None and r.prompt_version == stable_version
                     and since is not None and r.started_at_unix_nano >= since),
                    key=lambda r: (r.started_at_unix_nano, r.trace_id))
    cand = VersionStats(candidate.version, len(mine), sum(bool(r.outcome) for r in mine))
    stab = VersionStats(stable_version, len(theirs), sum(bool(r.outcome) for r in theirs))
    evidence = paired_evidence([bool(r.outcome) for r in mine], [bool(r.outcome) for r in theirs])
    figures = (f"v{cand.version} {cand.successes}/{cand.runs} ({_pct(cand.success_rate)}) vs stable v{stab.version} "
               f"{stab.successes}/{stab.runs} ({_pct(stab.success_rate)}) since the candidate's first run; "
               f"{evidence.discordant} discordant of {evidence.pairs} pairs, candidate won "
               f"{evidence.candidate_wins}; e-value {evidence.e_value:.2f}")
    threshold = 1.0 / settings.alpha
    action: Action
    if evidence.significant(settings.alpha):
        better = 2 * evidence.candidate_wins > evidence.discordant
        action = "promote" if better else "reject"
        reason = (f"{figures} >= {threshold:g} (alpha {settings.alpha:g}, {TEST_NAME}): the candidate is "
                  f"significantly {'better' if better else 'worse'}")
    elif min(cand.runs, stab.runs) >= settings.max_runs:
        action = "promote" if cand.success_rate >= stab.success_rate else "reject"
        reason = (f"{figures} < {threshold:g}: no significant difference after {settings.max_runs} runs "
                  f"(the budget); the {'candidate' if action == 'promote' else 'stable version'} measured "
                  f"{'at least as well' if action == 'promote' else 'better'}")
    else:
        action = "wait"
        reason = (f"{figures} < {threshold:g}: not decided yet; waiting for more runs "
                  f"(decides by the measured rate at {settings.max_runs} runs each)")
    return RolloutDecision(action, cand, stab, evidence, reason)


def apply_decision(repo: PromptsRepo, rollout: Rollout, decision: RolloutDecision) -> RolloutDecision:
    """Carry out a ``promote`` or ``reject`` (``wait`` changes nothing). Refuses, writing nothing,
    when the repo is dirty or the branch moved since ``rollout`` was read."""
    if decision.action == "wait":
        return decision
    candidate, stable = rollout.candidate, rollout.stable
    assert candidate is not None and stable is not None and rollout.stable_commit is not None
    repo.check_writable()
    if repo.head() != rollout.head_commit:
        raise PromptsRepoError(f"branch {repo.branch!r} moved while the cycle decided; nothing was written; run again")
    agent = rollout.agent
    if decision.action == "promote":
        repo.tag(stable_tag(agent), rollout.head_commit, f"{agent}: v{candidate.version} promoted to stable\n\n"
                 f"{decision.reason}\n", force=True)
        _logger.info("%s: promoted v%s: %s", agent, candidate.version, decision.reason)
        return _with(decision, commit=rollout.head_commit, version=candidate.version)
    stable_ids = {g.pattern_id for g in stable.guidelines}
    blocked = tuple(dict.fromkeys(g.pattern_id for g in candidate.guidelines if g.pattern_id not in stable_ids))
    human_edit = candidate.base_prompt != stable.base_prompt
    restored = stable.with_changes(base_prompt=candidate.base_prompt)
    if human_edit:
        from analyzers.guidelines.writer import next_version

        restored = restored.with_changes(version=next_version(repo, agent, candidate.version),
                                         candidate_fraction=None)
    message = rejection_message(agent, restored.version, candidate.version, stable.version, decision.reason,
                                blocked, kept_base=human_edit)
    commit = repo.make_commit(rollout.head_commit, restored.filename, restored.dump(), message)
    repo.publish(repo.branch, commit, rollout.head_commit)
    if human_edit:
        repo.tag(tag_name(agent, restored.version), commit, message)
        repo.tag(stable_tag(agent), commit, f"{agent}: v{restored.version} is stable (restores "
                 f"v{stable.version}'s guidelines with the edited base prompt)\n", force=True)
    _logger.warning("%s: rejected v%s: %s", agent, candidate.version, decision.reason)
    return _with(decision, commit=commit, version=restored.version, blocked=blocked)


def _with(decision: RolloutDecision, **changes: Any) -> RolloutDecision:
    return replace(decision, **changes)
