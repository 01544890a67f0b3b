"""Does the heuristic judge's score separate successful from failed runs? ROC AUC per dataset.

Imports the two real datasets with the importers (``analyzers.importers.tau_bench`` and
``analyzers.importers.mini_swe_agent``) as spans into a temporary SQLite store, reads the runs the
conventions layer assembles from them, scores each run with the heuristic judge
(``analyzers.assessor.heuristic.score_run``, which never reads the outcome; the effort baseline is the
median tool calls of the dataset's runs, as the store would give it), and prints the ROC AUC of the
score against the published outcome (0.5 = chance), with a 95% bootstrap interval (2000 resamples,
seeded) and, for reference, the AUC of each of the three features alone.

    .venv/bin/python benchmarks/judge_auc.py [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from analyzers.assessor import RunEvidence
from analyzers.assessor.heuristic import median_tool_steps, score_run
from analyzers.model import Run

ROOT = Path(__file__).resolve().parents[1]
TAU = "tau-bench-airline-gpt4o/historical_trajectories/gpt-4o-airline.json"
SWE = "swebench-verified-mini-swe-agent-gemini3pro"


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """ROC AUC as the Mann-Whitney probability that a success outscores a failure (ties count half)."""
    pos = sorted(s for s, y in zip(scores, labels) if y)
    neg = sorted(s for s, y in zip(scores, labels) if not y)
    if not pos or not neg:
        return float("nan")
    wins = 0.0
    for p in pos:
        below = sum(1 for n in neg if n < p)
        ties = sum(1 for n in neg if n == p)
        wins += below + 0.5 * ties
    return wins / (len(pos) * len(neg))


def bootstrap(scores: Sequence[float], labels: Sequence[bool], n: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = random.Random(seed)
    idx = range(len(scores))
    values = []
    for _ in range(n):
        pick = [rng.choice(idx) for _ in idx]
        a = auc([scores[i] for i in pick], [labels[i] for i in pick])
        if not math.isnan(a):
            values.append(a)
    values.sort()
    return values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]


def stored_runs(imported: Iterable[Any], folder: Path, name: str) -> list[Run]:
    """The runs as the analyzer sees them: spans written into a SQLite store, runs read back."""
    from analyzers.importers import export_runs
    from analyzers.store.exporter import StoreSpanExporter
    from analyzers.store.sqlite import SqliteStore

    with SqliteStore(folder / f"{name}.db") as store:
        export_runs(imported, StoreSpanExporter(store), service_name=name)
        return [r for agent in store.agents() for r in store.iter_runs(agent)]


def report(name: str, runs: list[Run]) -> None:
    runs = [r for r in runs if r.outcome is not None]
    labels = [bool(r.outcome) for r in runs]
    baseline = median_tool_steps(runs)
    verdicts = [score_run(RunEvidence(r, baseline_tool_steps=baseline)) for r in runs]
    scores = [v.quality for v in verdicts]
    low, high = bootstrap(scores, labels)
    tools = [[s for s in r.steps if s.kind == "tool"] for r in runs]
    features = {
        "effort (fewer tool calls)": [-len(t) for t in tools],
        "failures (fewer failed calls)": [-sum(not s.ok for s in t) for t in tools],
        "stuck (fewer back-to-back failures)": [-sum(1 for a, b in itertools.pairwise(t) if not a.ok and not b.ok)
                                                for t in tools],
    }
    print(f"{name}: {len(runs)} runs ({sum(labels)} successes), median tool calls {baseline:g}")
    print(f"  heuristic judge AUC {auc(scores, labels):.3f}  (95% bootstrap CI {low:.3f}-{high:.3f}; chance 0.500)")
    succ = [s for s, y in zip(scores, labels) if y]
    fail = [s for s, y in zip(scores, labels) if not y]
    print(f"  mean quality: successes {statistics.fmean(succ):.3f}, failures {statistics.fmean(fail):.3f}")
    for feature, values in features.items():
        print(f"  feature alone: {feature:<36} AUC {auc(values, labels):.3f}")


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
        report("tau-bench-airline (GPT-4o)",
               stored_runs(tau_bench.load_runs(args.datasets / TAU), folder, "tau"))
        report("mini-swe-agent (SWE-bench Verified, Gemini 3 Pro)",
               stored_runs(mini_swe_agent.load_runs(args.datasets / SWE), folder, "swe"))
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
