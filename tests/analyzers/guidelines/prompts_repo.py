"""Test support for the guideline writer: git as a person runs it, a pattern factory, a repo dump."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from analyzers.model import Pattern

BASE_PROMPT = "You are an SRE agent for the hotel-reservation app.\nDiagnose before you act.\n"
HUMAN = {
    "GIT_AUTHOR_NAME": "Ada Human",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Human",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as a person would (hooks off, a human identity); return stdout."""
    proc = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, **HUMAN),
    )
    return proc.stdout.strip()


def refs(repo: Path) -> str:
    """Every ref of ``repo`` with the object it points at, one per line (to check nothing moved)."""
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def everything_in(repo: Path) -> str:
    """Every file, commit message, tag message and blob reachable from any ref, as one text."""
    parts = [git(repo, "log", "--all", "-p", "--format=%H%n%B"), git(repo, "tag", "-n999")]
    for line in git(repo, "rev-list", "--all", "--objects").splitlines():
        sha = line.split()[0]
        parts.append(git(repo, "cat-file", "-p", sha))
    return "\n".join(parts)


def make_pattern(
    pid: str = "sp-1",
    type_: str = "success_pattern",
    tools: tuple[str, ...] = ("get_pods", "get_logs"),
    confidence: float = 0.82,
    *,
    agent: str = "diagnosis",
    frequency: int = 34,
    success_rate: float = 0.85,
    baseline: float = 0.6,
    evidence: tuple[str, ...] = (),
    description: str = "runs that call these tools succeed more often",
    recommendations: tuple[str, ...] = (),
    kind: str = "",
    unit: str = "runs",
    measures: dict[str, float] | None = None,
) -> Pattern:
    return Pattern(
        id=pid,
        type=type_,
        agent=agent,
        description=description,
        tools=tools,
        confidence=confidence,  # type: ignore[arg-type]
        frequency=frequency,
        success_rate=success_rate,
        baseline_success_rate=baseline,
        evidence=evidence,
        recommendations=recommendations,
        kind=kind,
        unit=unit,  # type: ignore[arg-type]
        measures=measures or {},
    )
