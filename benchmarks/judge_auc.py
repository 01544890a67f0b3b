"""Does the heuristic judge's score separate successful from failed runs? Out-of-sample ROC AUC per dataset.

Imports the two real datasets with the importers (``analyzers.importers.tau_bench`` and
``analyzers.importers.mini_swe_agent``) as spans into a temporary SQLite store, reads back the runs the
conventions layer assembles, and scores each run without reading its outcome. The effort baseline is
the median tool calls of the dataset's runs, as the store would give it (no labels involved).

Three scores, each evaluated only on runs whose labels it was not fitted on:

- **a priori**: the shipped heuristic (``analyzers.assessor.heuristic.score_run``), whose weights
  (``analyzers.assessor.run_features.WEIGHTS``) were fixed from documented reasoning, never fitted;
- **grouped CV**: a standardised logistic regression over the same features, 5-fold stratified by
  outcome and grouped by task (the 4 trials of a τ-bench task never straddle a split), out-of-fold;
- **transfer**: the same regression fitted on the *other* dataset;
- **sign-checked**: the a priori weights, with a feature dropped when on the training data (other
  folds, or the other dataset) its AUC alone is below 0.5 (it points the wrong way there).

Each AUC (0.5 = chance) comes with a 95% percentile bootstrap interval (2000 resamples, seed 0) that
resamples whole tasks. For reference it also prints each feature's AUC alone (the penalty negated).

    .venv/bin/python benchmarks/judge_auc.py [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from analyzers.assessor import RunEvidence
from analyzers.assessor.heuristic import median_tool_steps, score_run
from analyzers.assessor.run_features import FEATURES, WEIGHTS, run_features
from analyzers.assessor.validation import auc, grouped_bootstrap, grouped_cv_scores, transfer_scores
from analyzers.model import Run

ROOT = Path(__file__).resolve().parents[1]
TAU = "tau-bench-airline-gpt4o/historical_trajectories/gpt-4o-airline.json"
SWE = "swebench-verified-mini-swe-agent-gemini3pro"


@dataclass(frozen=True)
class Dataset:
    name: str
    labels: list[bool]
    groups: list[str]
    features: list[tuple[float, ...]]
    apriori: list[float]


def stored_runs(imported: Iterable[Any], folder: Path, name: str) -> list[Run]:
    """The runs as the analyzer sees them: spans written into a SQLite store, runs read back."""
    from analyzers.importers import export_runs
    from analyzers.store.exporter import StoreSpanExporter
    from analyzers.store.sqlite import SqliteStore

    with SqliteStore(folder / f"{name}.db") as store:
        export_runs(imported, StoreSpanExporter(store), service_name=name)
        return [r for agent in store.agents() for r in store.iter_runs(agent)]


def prepare(name: str, runs: list[Run]) -> Dataset:
    runs = [r for r in runs if r.outcome is not None]
    baseline = median_tool_steps(runs)
    return Dataset(
        name=name,
        labels=[bool(r.outcome) for r in runs],
        groups=[r.problem_id or r.trace_id for r in runs],
        features=[run_features(r, baseline).vector() for r in runs],
        apriori=[score_run(RunEvidence(r, baseline_tool_steps=baseline)).quality for r in runs],
    )


def sign_checked(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray) -> np.ndarray:
    """The a priori score of ``test_x`` without the features whose AUC alone on the training data is
    below 0.5."""
    weights = np.array([WEIGHTS[f] for f in FEATURES])
    keep = np.array([auc(-train_x[:, i], train_y) >= 0.5 for i in range(len(FEATURES))])
    return 1.0 - test_x @ (weights * keep)


def sign_checked_cv(data: Dataset, folds: int = 5) -> np.ndarray:
    from sklearn.model_selection import StratifiedGroupKFold

    x, y = np.array(data.features), np.array(data.labels)
    out = np.zeros(len(y))
    for train, test in StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(x, y, data.groups):
        out[test] = sign_checked(x[train], y[train], x[test])
    return out


def report(data: Dataset, other: Dataset) -> None:
    positives = sum(data.labels)
    print(f"{data.name}: {len(data.labels)} runs ({positives} successes, {len(data.labels) - positives} failures), "
          f"{len(set(data.groups))} tasks")
    rows: dict[str, npt.ArrayLike] = {
        "a priori weights (shipped)": data.apriori,
        "logistic, grouped 5-fold CV": grouped_cv_scores(data.features, data.labels, data.groups),
        f"logistic, fitted on {other.name.split(' ')[0]}": transfer_scores(other.features, other.labels, data.features),
        "a priori, sign-checked, 5-fold CV": sign_checked_cv(data),
        f"a priori, sign-checked on {other.name.split(' ')[0]}": sign_checked(
            np.array(other.features), np.array(other.labels), np.array(data.features)),
    }
    for label, scores in rows.items():
        print(f"  {label:<46} AUC {grouped_bootstrap(scores, data.labels, data.groups)}")
    for i, feature in enumerate(FEATURES):
        values = [-f[i] for f in data.features]
        print(f"  feature alone: {feature:<31} AUC {auc(values, data.labels):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()
    if not args.datasets.is_dir():
        print(f"no datasets folder at {args.datasets}", file=sys.stderr)
        return 2
    from analyzers.importers import mini_swe_agent, tau_bench

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tau = prepare("tau-bench-airline (GPT-4o)", stored_runs(tau_bench.load_runs(args.datasets / TAU), folder, "tau"))
        swe = prepare("mini-swe-agent (SWE-bench Verified, Gemini 3 Pro)",
                      stored_runs(mini_swe_agent.load_runs(args.datasets / SWE), folder, "swe"))
    report(tau, swe)
    report(swe, tau)
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
