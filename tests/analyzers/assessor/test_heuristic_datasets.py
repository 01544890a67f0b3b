"""The heuristic judge is a real signal: on both real datasets its score ranks successes above failures
more often than chance (benchmarks/judge_auc.py prints the figures with bootstrap intervals)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sklearn.metrics import roc_auc_score

from analyzers.assessor import RunEvidence
from analyzers.assessor.heuristic import median_tool_steps, score_run
from analyzers.importers import mini_swe_agent, tau_bench
from tests.support.datasets import MINI_SWE_AGENT, TAU_BENCH_AIRLINE, dataset, requires_datasets


@requires_datasets
@pytest.mark.parametrize(("loader", "path", "floor"), [
    (tau_bench.load_runs, TAU_BENCH_AIRLINE, 0.6),
    (mini_swe_agent.load_runs, MINI_SWE_AGENT, 0.55),
])
def test_heuristic_score_separates_successes_from_failures(
    loader: Callable[[Path], list[Any]], path: Path, floor: float
) -> None:
    runs = [r.to_run() for r in loader(dataset(path))]
    runs = [r for r in runs if r.outcome is not None]
    baseline = median_tool_steps(runs)
    scores = [score_run(RunEvidence(r, baseline_tool_steps=baseline)).quality for r in runs]
    assert roc_auc_score([bool(r.outcome) for r in runs], scores) > floor
