"""An agent's prompt history read back from git: one entry per commit that changed ``<agent>.yaml``.

Each entry carries the state of its version: ``stable`` (the version at ``<agent>/stable``),
``candidate`` (the branch head's version while it rolls out beside the stable one), ``rejected`` (a
cycle rejected it), ``rolled back`` (a rollback replaced it), or ``superseded`` (a later version
replaced it in the ordinary way); ``why`` says what decided it, where a commit or tag recorded it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analyzers.errors import PromptsRepoError, UnknownAgentError
from analyzers.guidelines.messages import (
    TRAILER_APPLIED,
    TRAILER_REJECTED,
    TRAILER_RETIRED,
    TRAILER_ROLLED_BACK,
    parse_trailers,
)
from analyzers.guidelines.prompt_file import stable_tag, validate_agent_name, validate_version
from analyzers.guidelines.repo import PromptsRepo
from analyzers.guidelines.writer import find_version_commit


@dataclass(frozen=True)
class HistoryEntry:
    """One commit of an agent's file: the version it holds and the patterns it applied."""

    version: str
    commit: str
    date: str
    subject: str
    patterns_applied: tuple[str, ...]
    state: str = "superseded"
    why: str = ""
    patterns_retired: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "commit": self.commit,
            "date": self.date,
            "subject": self.subject,
            "patterns_applied": list(self.patterns_applied),
            "patterns_retired": list(self.patterns_retired),
            "state": self.state,
            "why": self.why,
        }


def _why(body: str) -> str:
    for line in body.splitlines():
        if line.startswith("Why: "):
            return line[5:].strip()
    return ""


def prompt_history(repo: PromptsRepo, agent: str, ref: str | None = None) -> list[HistoryEntry]:
    """Oldest first. Commits by people (e.g. a ``base_prompt`` edit) are listed too, with no patterns."""
    validate_agent_name(agent)
    rows = []
    rejected: dict[str, str] = {}
    rolled_back: dict[str, str] = {}
    for commit, date, subject, body in repo.log(f"{agent}.yaml", ref):
        prompt_file = repo.read(agent, commit)
        if prompt_file is None:
            continue
        trailers = parse_trailers(body)
        for version in trailers.get(TRAILER_REJECTED, "").split():
            rejected[version] = _why(body)
        for version in trailers.get(TRAILER_ROLLED_BACK, "").split():
            rolled_back[version] = _why(body)
        rows.append((prompt_file, commit, date, subject, trailers))
    if not rows:
        raise UnknownAgentError(f"{agent} has no history in {repo.path}")
    head = rows[-1][0]
    stable_commit = repo.resolve(f"refs/tags/{stable_tag(agent)}")
    stable_file = repo.read(agent, stable_commit) if stable_commit else None
    stable = stable_file.version if stable_file else head.version
    candidate = head.version if head.version != stable and head.candidate_fraction else None
    entries = []
    for prompt_file, commit, date, subject, trailers in rows:
        v = prompt_file.version
        if v == candidate:
            state, why = "candidate", f"served to {head.candidate_fraction:.0%} of runs beside stable v{stable}"
        elif v == stable:
            state, why = "stable", ""
        elif v in rejected:
            state, why = "rejected", rejected[v]
        elif v in rolled_back:
            state, why = "rolled back", rolled_back[v]
        else:
            state, why = "superseded", ""
        entries.append(HistoryEntry(v, commit, date, subject, tuple(trailers.get(TRAILER_APPLIED, "").split()),
                                    state, why, tuple(trailers.get(TRAILER_RETIRED, "").split())))
    return entries


def version_diff(repo: PromptsRepo, agent: str, v1: str, v2: str) -> str:
    """The unified diff of ``<agent>.yaml`` from version ``v1`` to ``v2`` (a leading "v" is accepted)."""
    validate_agent_name(agent)
    try:
        a, b = (validate_version(v.removeprefix("v")) for v in (v1, v2))
    except ValueError as exc:
        raise PromptsRepoError(str(exc)) from None
    return repo.diff(
        find_version_commit(repo, agent, a), find_version_commit(repo, agent, b), f"{agent}.yaml"
    )
