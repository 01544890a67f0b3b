"""One learning cycle: for each agent with enough runs, decide its candidate, mine, write guidelines.

For each agent: when a candidate version is out beside the stable one, the cycle first compares them
(``analyzers.guidelines.rollout``) and promotes, rejects or waits; while it waits nothing new is
written. Then it mines the runs and commits the guideline changes (a new candidate). ``run_cycle``
keeps no state of its own: everything it needs is in the store (runs) and in the prompts repo
(versions, the stable tag, the patterns a rollback or a rejection blocked). ``record_cycle`` (in
``record``) adds the cycle to the one record of cycles that ``status``, ``history`` and the MetaAgent
read, whichever path ran it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from analyzers.errors import InvalidAgentNameError, OtelMetaError, PromptsRepoError
from analyzers.guidelines.compare import VersionStats, compare_pair, version_stats
from analyzers.guidelines.history import prompt_history
from analyzers.guidelines.messages import PatternChange
from analyzers.guidelines.prompt_file import tag_name, validate_agent_name
from analyzers.guidelines.repo import PromptsRepo
from analyzers.guidelines.rewrite import GuidelineRewriter
from analyzers.guidelines.rollout import RolloutDecision, RolloutSettings, apply_decision, decide, read_rollout
from analyzers.guidelines.templates import trusted_tools
from analyzers.guidelines.writer import GuidelineWriter, WriteResult
from analyzers.model import Run
from analyzers.store.base import Store

_logger = logging.getLogger(__name__)

ROLLBACK_ALPHA = 0.05


@dataclass(frozen=True)
class RollbackInfo:
    """An automatic rollback: ``from_version`` was significantly worse than ``to_version``."""

    from_version: str
    to_version: str
    new_version: str
    commit: str | None
    p_value: float
    runs: int
    success_rate: float
    previous_runs: int
    previous_success_rate: float

    def to_json(self) -> dict[str, Any]:
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "new_version": self.new_version,
            "commit": self.commit,
            "p_value": round(self.p_value, 6),
            "runs": self.runs,
            "success_rate": round(self.success_rate, 4),
            "previous_runs": self.previous_runs,
            "previous_success_rate": round(self.previous_success_rate, 4),
        }


@dataclass(frozen=True)
class AgentCycleResult:
    """What one cycle did for one agent; ``skipped`` says why nothing was done."""

    agent: str
    runs_analysed: int = 0
    patterns_found: int = 0
    applied: tuple[PatternChange, ...] = ()
    retired: tuple[PatternChange, ...] = ()
    version: str | None = None
    commit: str | None = None
    tag: str | None = None
    branch: str | None = None
    text_source: str | None = None
    rollback: RollbackInfo | None = None
    skipped: str | None = None
    rollout: RolloutDecision | None = None
    runs_without_outcome: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "runs_analysed": self.runs_analysed,
            "patterns_found": self.patterns_found,
            "applied": [c.to_json() for c in self.applied],
            "retired": [c.to_json() for c in self.retired],
            "version": self.version,
            "commit": self.commit,
            "tag": self.tag,
            "branch": self.branch,
            "text_source": self.text_source,
            "rollback": self.rollback.to_json() if self.rollback else None,
            "rollout": self.rollout.to_json() if self.rollout else None,
            "runs_without_outcome": self.runs_without_outcome,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class CycleReport:
    """The result of one ``run_cycle``: one entry per agent considered, in name order."""

    started_at: str
    finished_at: str
    agents: tuple[AgentCycleResult, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return any(a.commit for a in self.agents)

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "agents": [a.to_json() for a in self.agents],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_cycle(
    store: Store,
    prompts_repo: PromptsRepo | str | os.PathLike[str],
    *,
    agents: Sequence[str] | None = None,
    min_traces: int = 10,
    confidence_threshold: float = 0.7,
    auto_update: bool = True,
    backup_original: bool = True,
    auto_rollback: bool = False,
    rewrite: GuidelineRewriter | None = None,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
    rollout: RolloutSettings | None = None,
) -> CycleReport:
    """Decide each agent's candidate, mine its runs with a known outcome and write its guidelines
    (see module docstring).

    ``rollout`` (default ``RolloutSettings()``: candidates get half the runs) sets how new versions
    roll out and are decided; ``candidate_fraction=0`` writes each version for every run at once.
    Agents with fewer than ``min_traces`` runs with a known outcome are skipped with the reason (and
    how to record outcomes). With ``auto_rollback`` and rollout off, an agent's current version is
    first compared with its predecessor (one-sided Fisher's exact test, p < 0.05, once the current
    version has ``min_traces`` runs); when it is significantly worse it is rolled back and no
    guidelines are written for it in this cycle.
    Raises ``PromptsRepoError`` (nothing written) when the repo is dirty or mid-merge/rebase.
    ``progress`` receives a short line as each agent starts (the CLI prints them to stderr).
    """
    started = _now()
    repo = prompts_repo if isinstance(prompts_repo, PromptsRepo) else PromptsRepo(prompts_repo)
    repo.check_writable()
    settings = rollout or RolloutSettings()
    writer = GuidelineWriter(
        repo,
        confidence_threshold=confidence_threshold,
        auto_update=auto_update,
        backup_original=backup_original,
        rewriter=rewrite,
        candidate_fraction=settings.candidate_fraction,
    )
    names = sorted(set(agents) if agents is not None else set(store.agents()))
    results: list[AgentCycleResult] = []
    for agent in names:
        try:
            validate_agent_name(agent)
            with store.learning_lock(agent) as mine:  # replicas on one store learn an agent once at a time
                if not mine:
                    results.append(AgentCycleResult(agent, skipped="another analyzer is learning for this agent"))
                    continue
                results.append(
                    _cycle_agent(store, writer, agent, min_traces, auto_rollback, random_state, progress, settings)
                )
        except (InvalidAgentNameError, PromptsRepoError) as exc:
            # one agent's bad file or a moved branch must not stop the other agents
            _logger.warning("%s: skipped: %s", agent, exc)
            results.append(AgentCycleResult(agent, skipped=str(exc)))
        except Exception as exc:
            # one agent's unexpected data must not stop the others either; the traceback goes to the
            # log, the reason names only the exception type (span text may be in its message)
            _logger.exception("%s: skipped: learning failed", agent)
            reason = f"learning failed ({type(exc).__name__}); see the log"
            results.append(AgentCycleResult(agent, skipped=reason))
    return CycleReport(started, _now(), tuple(results))


def _cycle_agent(
    store: Store,
    writer: GuidelineWriter,
    agent: str,
    min_traces: int,
    auto_rollback: bool,
    random_state: int,
    progress: Callable[[str], None] | None,
    settings: RolloutSettings,
) -> AgentCycleResult:
    from analyzers.mining import mine_patterns

    if progress is not None:
        progress(f"{agent}: reading runs")
    runs, unknown = [], 0
    for run in store.iter_runs(agent):
        if run.outcome is None:
            unknown += 1
        else:
            runs.append(run)
    if len(runs) < min_traces:
        reason = f"{len(runs)} runs with a known outcome, fewer than {min_traces}"
        if unknown:
            reason += (f"; {unknown} runs have no outcome yet: record it with otel_meta.set_outcome(success) "
                       "inside the run, or POST /api/runs/{trace_id}/outcome {\"success\": true|false}")
        return AgentCycleResult(agent, len(runs), skipped=reason, runs_without_outcome=unknown)
    decision = None
    if writer.auto_update:
        state = read_rollout(writer.repo, agent)
        decision = decide(runs, state, settings) if state is not None else None
        if decision is not None and state is not None:
            decision = apply_decision(writer.repo, state, decision)
            if decision.action == "wait":
                return AgentCycleResult(agent, len(runs), version=state.head.version, rollout=decision,
                                        runs_without_outcome=unknown)
    if auto_rollback and not settings.candidate_fraction:
        rollback = _maybe_roll_back(writer, agent, runs, min_traces)
        if rollback is not None:
            info, done = rollback
            return AgentCycleResult(
                agent,
                len(runs),
                version=done.version,
                commit=done.commit,
                tag=done.tag,
                branch=done.branch,
                retired=done.retired,
                applied=done.applied,
                rollback=info,
            )
    if progress is not None:
        progress(f"{agent}: mining {len(runs)} runs")
    patterns = mine_patterns(runs, agent, random_state=random_state)
    known_tools = {s.name for r in runs for s in r.steps if s.kind == "tool"}
    trusted = trusted_tools(runs, released=lambda v: writer.repo.tag_exists(tag_name(agent, v)))
    again = _supported_again(writer, agent, runs, min_traces, random_state)
    written = writer.write(agent, patterns, known_tools=known_tools, trusted_tools=trusted, supported_again=again)
    _logger.info(
        "%s: %d runs, %d patterns, %s",
        agent,
        len(runs),
        len(patterns),
        f"v{written.version} {written.commit[:12]}" if written.commit else "no change",
    )
    return _result(agent, len(runs), len(patterns), written, decision, unknown)


def _supported_again(
    writer: GuidelineWriter, agent: str, runs: list[Run], min_traces: int, random_state: int
) -> set[str]:
    """The blocked patterns that the runs recorded after their blocking commit support again: mined
    from those runs alone (at least ``min_traces``), at or above the confidence threshold."""
    from analyzers.mining import mine_patterns

    by_time: dict[int, set[str]] = {}
    for pattern_id, when in writer.blocks(agent).items():
        by_time.setdefault(when, set()).add(pattern_id)
    supported: set[str] = set()
    for when, ids in by_time.items():
        after = [r for r in runs if r.started_at_unix_nano > when * 1_000_000_000]
        if len(after) < min_traces:
            continue
        confident = {p.id for p in mine_patterns(after, agent, random_state=random_state)
                     if p.confidence >= writer.confidence_threshold}
        supported |= ids & confident
    return supported


def _result(
    agent: str,
    runs: int,
    patterns: int,
    written: WriteResult,
    decision: RolloutDecision | None = None,
    unknown: int = 0,
) -> AgentCycleResult:
    return AgentCycleResult(
        agent,
        runs,
        patterns,
        written.applied if written.changed else (),
        written.retired if written.changed else (),
        written.version,
        written.commit,
        written.tag,
        written.branch,
        written.text_source if written.changed else None,
        rollout=decision,
        runs_without_outcome=unknown,
    )


def _maybe_roll_back(
    writer: GuidelineWriter, agent: str, runs: list[Run], min_traces: int
) -> tuple[RollbackInfo, WriteResult] | None:
    current = writer.repo.read(agent)
    if current is None:
        return None
    try:
        versions = [e.version for e in prompt_history(writer.repo, agent)]
    except OtelMetaError:
        return None
    distinct = [v for i, v in enumerate(versions) if i == 0 or versions[i - 1] != v]
    if current.version not in distinct or distinct.index(current.version) == 0:
        return None
    previous = distinct[distinct.index(current.version) - 1]
    stats = {s.version: s for s in version_stats(runs)}
    now = stats.get(current.version, VersionStats(current.version, 0, 0))
    before = stats.get(previous, VersionStats(previous, 0, 0))
    if now.runs < min_traces or before.runs == 0:
        return None
    diff = compare_pair(before, now, alpha=ROLLBACK_ALPHA, alternative="less")
    if not diff.significant:
        return None
    reason = (
        f"automatic rollback: v{current.version} succeeded in {now.successes} of {now.runs} runs "
        f"({now.success_rate:.0%}) against {before.successes} of {before.runs} ({before.success_rate:.0%}) "
        f"for v{previous}; Fisher's exact test, one-sided, p = {diff.p_value:.4f} < {ROLLBACK_ALPHA}"
    )
    result = writer.rollback(agent, previous, reason=reason, block_removed=True)
    info = RollbackInfo(
        current.version,
        previous,
        result.version,
        result.commit,
        diff.p_value,
        now.runs,
        now.success_rate,
        before.runs,
        before.success_rate,
    )
    _logger.warning("%s: %s", agent, reason)
    return info, result
