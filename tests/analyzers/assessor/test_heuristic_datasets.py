"""The heuristic judge is a real signal on the real datasets, measured out of sample.

The shipped score's weights (``analyzers.assessor.run_features.WEIGHTS``) were fixed a priori, never
fitted to these outcomes, so its AUC over a whole dataset is an out-of-sample figure. The interval is a
bootstrap that resamples whole tasks (τ-bench runs every task 4 times). On τ-bench (200 runs, 50 tasks)
the interval's lower bound is above chance. On mini-SWE-agent (100 runs, 25 failures) the point estimate
is above chance but the 95% interval includes 0.5: with 25 failures an AUC needs to reach about 0.63
for that, so this test only guards the point estimate there (docs/meta_agent.md gives the figures).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from analyzers.assessor import RunEvidence
from analyzers.assessor.heuristic import median_tool_steps, score_run
from analyzers.assessor.validation import AucEstimate, grouped_bootstrap
from analyzers.importers import mini_swe_agent, tau_bench
from tests.support.datasets import MINI_SWE_AGENT, TAU_BENCH_AIRLINE, dataset, requires_datasets


def _estimate(loader: Callable[[Path], list[Any]], path: Path) -> AucEstimate:
    runs = [r.to_run() for r in loader(dataset(path))]
    runs = [r for r in runs if r.outcome is not None]
    baseline = median_tool_steps(runs)  # from the runs' steps only, no labels
    scores = [score_run(RunEvidence(r, baseline_tool_steps=baseline)).quality for r in runs]
    labels = [bool(r.outcome) for r in runs]
    return grouped_bootstrap(scores, labels, [r.problem_id or r.trace_id for r in runs])


@requires_datasets
def test_tau_bench_separation_is_above_chance_with_the_interval_grouped_by_task() -> None:
    estimate = _estimate(tau_bench.load_runs, TAU_BENCH_AIRLINE)
    assert (estimate.runs, estimate.groups) == (200, 50)
    assert estimate.low > 0.5, estimate


@requires_datasets
def test_mini_swe_agent_point_estimate_is_above_chance() -> None:
    estimate = _estimate(mini_swe_agent.load_runs, MINI_SWE_AGENT)
    assert (estimate.runs, estimate.positives) == (100, 75)
    assert estimate.auc > 0.55, estimate
