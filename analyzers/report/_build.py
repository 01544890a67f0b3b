"""The report of one agent from the store and the prompts repo (what ``otel-meta report`` writes).

Per version: its runs and success rate with the 95% Wilson interval, the test against the previous
version (Fisher's exact test, as ``compare``), its state (stable, candidate, rejected, rolled back,
superseded) and why, read from the history; per version, the guidelines it added or retired, each with
its pattern id and the evidence trace ids its commit message lists (read from the file at each commit,
so a person's edit shows too); and the patterns mined now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from analyzers.guidelines.compare import INTERVAL_NAME, compare_versions
from analyzers.guidelines.history import prompt_history
from analyzers.guidelines.messages import TRACE_ID_RE
from analyzers.guidelines.repo import PromptsRepo
from analyzers.model import Pattern, Run
from analyzers.report._html import GuidelineChange, ReportCommit, VersionRate, write_report

_ENTRY_RE = re.compile(r"^- \S+ (?P<id>[A-Za-z0-9_.:-]{1,80}): ")


def _evidence(body: str) -> dict[str, tuple[str, ...]]:
    """Pattern id -> the evidence trace ids of its ``- type id: ...`` line in a commit message."""
    found: dict[str, tuple[str, ...]] = {}
    current = None
    for line in body.splitlines():
        entry = _ENTRY_RE.match(line)
        if entry:
            current = entry["id"]
        elif current and line.startswith("  evidence: "):
            found[current] = tuple(t for t in line[12:].split(", ") if TRACE_ID_RE.match(t))
    return found


def agent_report(
    path: str | Path, runs: Iterable[Run], repo: PromptsRepo, agent: str, patterns: Iterable[Pattern] = ()
) -> Path:
    """Write the self-contained HTML report of ``agent`` to ``path``."""
    comparison = compare_versions(runs, agent)
    history = prompt_history(repo, agent)
    state = {e.version: (e.state, e.why) for e in history}
    tests = {d.newer: d for d in comparison.differences}
    versions = []
    for v in comparison.versions:
        if v.version is None:
            continue
        low, high = v.interval
        diff = tests.get(v.version)
        versions.append(VersionRate(
            v.version, v.runs, v.successes, low, high,
            state=state.get(v.version, ("", ""))[0], why=state.get(v.version, ("", ""))[1],
            test_p=diff.p_value if diff else None, test_against=diff.older if diff else None,
        ))
    changes: list[GuidelineChange] = []
    bodies = {commit: body for commit, _, _, body in repo.log(f"{agent}.yaml")}
    before: dict[str, str] = {}
    for entry in history:  # what each commit changed in the file, a person's commit included
        prompt_file = repo.read(agent, entry.commit)
        now = {g.pattern_id: g.text for g in prompt_file.guidelines} if prompt_file else {}
        evidence = _evidence(bodies.get(entry.commit, ""))
        for pattern_id, text in now.items():
            if pattern_id not in before:
                changes.append(GuidelineChange(entry.version, "+", pattern_id, text, evidence.get(pattern_id, ())))
        for pattern_id, text in before.items():
            if pattern_id not in now:
                changes.append(GuidelineChange(entry.version, "-", pattern_id, text, evidence.get(pattern_id, ())))
        before = now
    commits = [ReportCommit(e.commit[:12], e.subject) for e in reversed(history)]
    return write_report(path, versions=versions, patterns=list(patterns), commits=commits, agent=agent,
                        interval_label=INTERVAL_NAME, changes=changes)
