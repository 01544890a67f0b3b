"""The one record of learning cycles: the MetaAgent's state file, written by every path that runs one.

``otel-meta learn``, ``otel-meta serve --learn-every`` and ``MetaAgent.start_learning_cycle`` all end a
cycle with ``record_cycle``, which re-reads the state file, numbers the cycle, adds its summary and the
performance per prompt version, and writes the file back atomically; ``status`` and
``MetaAgent.get_learning_status`` read that file, so they count the same cycles whichever path ran them.
The read-modify-write holds an exclusive lock on a sibling ``<state file>.lock`` (``fcntl.flock``), so
two processes ending a cycle at once (a ``learn`` beside a ``serve --learn-every``) both count.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzers.model import Run
from analyzers.orchestrator.state import LearningState, PerformanceRecord, read_state, write_state
from analyzers.store.base import Store

if TYPE_CHECKING:  # the cycle needs the guidelines package (pyyaml); `serve --help` must not
    from analyzers.orchestrator.cycle import CycleReport

#: The keys of a cycle summary kept in ``learning_state.last_cycle`` (and in ``cycles``).
SUMMARY_KEYS = ("cycle", "finished_at", "runs_analysed", "patterns_found", "commits", "rollouts", "skipped")
#: How many cycle summaries the state file keeps.
MAX_CYCLES_KEPT = 200


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cycle_summary(cycle: int, report: CycleReport) -> dict[str, Any]:
    """What one cycle did, per agent: the MetaAgent's ``start_learning_cycle`` result (less the
    assessments)."""
    agents = report.agents
    return {
        "cycle": cycle,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "runs_analysed": {a.agent: a.runs_analysed for a in agents if not a.skipped},
        "patterns_found": {a.agent: a.patterns_found for a in agents if not a.skipped},
        "total_patterns_found": sum(a.patterns_found for a in agents),
        "guidelines_applied": [dict(c.to_json(), agent=a.agent) for a in agents for c in a.applied],
        "guidelines_retired": [dict(c.to_json(), agent=a.agent) for a in agents for c in a.retired],
        "commits": [
            {"agent": a.agent, "version": a.version, "commit": a.commit, "tag": a.tag, "branch": a.branch}
            for a in agents if a.commit
        ],
        "rollbacks": [dict(a.rollback.to_json(), agent=a.agent) for a in agents if a.rollback],
        "rollouts": [
            {"agent": a.agent, "action": a.rollout.action, "candidate": a.rollout.candidate.version,
             "stable": a.rollout.stable.version, "reason": a.rollout.reason}
            for a in agents if a.rollout
        ],
        "skipped": {a.agent: a.skipped for a in agents if a.skipped},
    }


def _performance(store: Store, cycle: int, when: str, agents: list[str]) -> list[PerformanceRecord]:
    from analyzers.guidelines.compare import version_stats

    records = []
    for agent in agents:
        runs: list[Run] = list(store.iter_runs(agent))
        for s in version_stats(runs):
            records.append(PerformanceRecord(cycle, when, agent, s.version, s.runs, s.successes))
    return records


@contextlib.contextmanager
def _state_lock(state_file: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``state_file`` (where ``fcntl`` exists: not on Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no advisory file locks here: one writer is assumed
        yield
        return
    state_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_file.with_name(state_file.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def record_cycle(
    state_file: Path,
    report: CycleReport,
    store: Store,
    config: dict[str, Any],
    *,
    started: float,
    assessments: dict[str, Any] | None = None,
) -> tuple[LearningState, dict[str, Any]]:
    """Add ``report`` as the next cycle of the state in ``state_file``; returns the new state and the
    cycle's summary (with ``assessments`` when given)."""
    with _state_lock(state_file):
        return _record_cycle(state_file, report, store, config, started=started, assessments=assessments)


def _record_cycle(
    state_file: Path,
    report: CycleReport,
    store: Store,
    config: dict[str, Any],
    *,
    started: float,
    assessments: dict[str, Any] | None,
) -> tuple[LearningState, dict[str, Any]]:
    previous = read_state(state_file) or LearningState()
    cycle = previous.learning_cycles + 1
    result = cycle_summary(cycle, report)
    result["assessments"] = assessments or {}
    agents = [a.agent for a in report.agents]
    learned = set(previous.patterns_learned) | {c["pattern_id"] for c in result["guidelines_applied"]}
    summary = {k: result[k] for k in SUMMARY_KEYS}
    state = LearningState(
        learning_cycles=cycle,
        last_learning_time=started,
        patterns_learned=tuple(sorted(learned)),
        last_cycle=summary,
        performance_history=previous.performance_history
        + tuple(_performance(store, cycle, _iso(started), agents)),
        cycles=(previous.cycles + (summary,))[-MAX_CYCLES_KEPT:],
    )
    write_state(state_file, state, config)
    return state, result
