"""Success rate per prompt version: Wilson intervals and Fisher's exact test."""

from __future__ import annotations

import pytest

from analyzers.guidelines import compare_versions, wilson_interval
from analyzers.model import Run


def runs(version: str | None, successes: int, failures: int, agent: str = "diagnosis") -> list[Run]:
    outcomes = [True] * successes + [False] * failures
    return [
        Run(f"{version}-{i:030d}", agent, ok, i, 1.0, prompt_version=version) for i, ok in enumerate(outcomes)
    ]


def test_wilson_interval_known_values() -> None:
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_compare_versions_consecutive_pairs_and_significance() -> None:
    data = runs("1.0.0", 17, 3) + runs("1.0.10", 16, 4) + runs("1.0.2", 5, 15) + runs(None, 3, 3)
    data += runs("1.0.0", 0, 5, agent="other") + [
        Run("f" * 32, "diagnosis", None, 0, 1.0, prompt_version="1.0.0")
    ]
    result = compare_versions(data, "diagnosis")
    assert [(v.version, v.runs, v.successes) for v in result.versions] == [
        ("1.0.0", 20, 17),
        ("1.0.2", 20, 5),
        ("1.0.10", 20, 16),
        (None, 6, 3),
    ]
    first, second = result.differences
    assert (first.older, first.newer, first.significant) == ("1.0.0", "1.0.2", True)
    assert first.p_value == pytest.approx(0.00032842, abs=1e-7)  # hypergeometric sum, checked by hand
    assert (second.older, second.newer, second.significant) == ("1.0.2", "1.0.10", True)
    as_json = result.to_json()
    assert as_json["interval"] == "Wilson score interval (95%)"
    assert as_json["differences"][0]["test"] == "Fisher's exact test (two-sided)"
    assert as_json["versions"][0]["ci95_low"] == pytest.approx(0.6396, abs=1e-4)


def test_compare_two_named_versions() -> None:
    result = compare_versions(runs("1.0.0", 6, 4) + runs("1.0.1", 7, 3), "diagnosis", "1.0.0", "1.0.1")
    (diff,) = result.differences
    assert not diff.significant and diff.p_value == pytest.approx(1.0)
    assert compare_versions([], "diagnosis", "1.0.0", "2.0.0").versions[0].runs == 0
