"""Success rate per prompt version, and whether two versions differ.

Each version's success rate comes with a 95% **Wilson score interval**. Two versions are compared
with **Fisher's exact test** on the 2x2 table (successes, failures) x (version A, version B):
two-sided for ``compare``, one-sided ("the newer version succeeds less") for auto-rollback. A
difference is significant when p < ``alpha`` (0.05). Only runs with a known outcome count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from analyzers.guidelines.prompt_file import SEMVER_RE, version_key
from analyzers.model import Run

Z_95 = 1.959963984540054
TEST_NAME = "Fisher's exact test"
INTERVAL_NAME = "Wilson score interval (95%)"


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion; ``(0.0, 1.0)`` when ``n`` is 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class VersionStats:
    """Runs of one prompt version (``None``: runs that carried no version)."""

    version: str | None
    runs: int
    successes: int

    @property
    def success_rate(self) -> float:
        return self.successes / self.runs if self.runs else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.successes, self.runs)

    def to_json(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "version": self.version,
            "runs": self.runs,
            "successes": self.successes,
            "success_rate": round(self.success_rate, 4),
            "ci95_low": round(low, 4),
            "ci95_high": round(high, 4),
        }


@dataclass(frozen=True)
class VersionDifference:
    """``newer`` against ``older``: the p-value of the test and whether p < alpha."""

    older: str | None
    newer: str | None
    p_value: float
    significant: bool
    alternative: Literal["two-sided", "less"] = "two-sided"

    def to_json(self) -> dict[str, Any]:
        return {
            "older": self.older,
            "newer": self.newer,
            "p_value": round(self.p_value, 6),
            "significant": self.significant,
            "test": f"{TEST_NAME} ({self.alternative})",
        }


def fisher_p_value(a: VersionStats, b: VersionStats, alternative: Literal["two-sided", "less"]) -> float:
    """p-value of Fisher's exact test; ``less``: ``b``'s success odds are lower than ``a``'s."""
    from scipy.stats import fisher_exact

    table = [[b.successes, b.runs - b.successes], [a.successes, a.runs - a.successes]]
    if a.runs == 0 or b.runs == 0:
        return 1.0
    return float(fisher_exact(table, alternative=alternative).pvalue)


def compare_pair(
    older: VersionStats,
    newer: VersionStats,
    *,
    alpha: float = 0.05,
    alternative: Literal["two-sided", "less"] = "two-sided",
) -> VersionDifference:
    p = fisher_p_value(older, newer, alternative)
    return VersionDifference(older.version, newer.version, p, p < alpha, alternative)


def _order(version: str | None) -> tuple[int, tuple[int, int, int], str]:
    if version is not None and SEMVER_RE.match(version):
        return (0, version_key(version), "")
    return (1, (0, 0, 0), version or "")


def version_stats(runs: Iterable[Run]) -> list[VersionStats]:
    """Per prompt version (semver order, unversioned last): runs with a known outcome, successes."""
    counts: dict[str | None, list[int]] = {}
    for run in runs:
        if run.outcome is None:
            continue
        entry = counts.setdefault(run.prompt_version, [0, 0])
        entry[0] += 1
        entry[1] += int(bool(run.outcome))
    return [VersionStats(v, n, s) for v, (n, s) in sorted(counts.items(), key=lambda kv: _order(kv[0]))]


@dataclass(frozen=True)
class Comparison:
    """``compare``'s answer: each version's figures and the difference between neighbours (or V1/V2)."""

    agent: str
    versions: tuple[VersionStats, ...]
    differences: tuple[VersionDifference, ...]
    alpha: float = 0.05

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "interval": INTERVAL_NAME,
            "test": TEST_NAME,
            "alpha": self.alpha,
            "versions": [v.to_json() for v in self.versions],
            "differences": [d.to_json() for d in self.differences],
        }


def compare_versions(
    runs: Iterable[Run], agent: str, v1: str | None = None, v2: str | None = None, *, alpha: float = 0.05
) -> Comparison:
    """Figures per version; with ``v1``/``v2`` only those two, else every consecutive pair of
    versions (runs without a version are listed, not compared)."""
    stats = version_stats(r for r in runs if r.agent == agent)
    if v1 is not None and v2 is not None:
        by_version = {s.version: s for s in stats}
        a = by_version.get(v1, VersionStats(v1, 0, 0))
        b = by_version.get(v2, VersionStats(v2, 0, 0))
        return Comparison(agent, (a, b), (compare_pair(a, b, alpha=alpha),), alpha)
    versioned = [s for s in stats if s.version is not None]
    diffs = tuple(compare_pair(a, b, alpha=alpha) for a, b in zip(versioned, versioned[1:]))
    return Comparison(agent, tuple(stats), diffs, alpha)
