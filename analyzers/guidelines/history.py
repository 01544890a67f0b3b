"""An agent's prompt history read back from git: one entry per commit that changed ``<agent>.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analyzers.errors import PromptsRepoError, UnknownAgentError
from analyzers.guidelines.messages import TRAILER_APPLIED, parse_trailers
from analyzers.guidelines.prompt_file import validate_agent_name, validate_version
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

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "commit": self.commit,
            "date": self.date,
            "subject": self.subject,
            "patterns_applied": list(self.patterns_applied),
        }


def prompt_history(repo: PromptsRepo, agent: str, ref: str | None = None) -> list[HistoryEntry]:
    """Oldest first. Commits by people (e.g. a ``base_prompt`` edit) are listed too, with no patterns."""
    validate_agent_name(agent)
    entries = []
    for commit, date, subject, body in repo.log(f"{agent}.yaml", ref):
        prompt_file = repo.read(agent, commit)
        if prompt_file is None:
            continue
        applied = tuple(parse_trailers(body).get(TRAILER_APPLIED, "").split())
        entries.append(HistoryEntry(prompt_file.version, commit, date, subject, applied))
    if not entries:
        raise UnknownAgentError(f"{agent} has no history in {repo.path}")
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
