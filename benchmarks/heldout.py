"""Held-out check of the miner on the two real datasets.

For each dataset, the tasks (τ-bench task ids with all their trials; SWE-bench instances) are split at
random into two halves. The miner runs on half A only; for every pattern at confidence >= 0.7 the
script prints the success rate of the runs that show it against the runs that do not, on half A and
on the held-out half B (for a tool-reliability pattern: the tool's call success rate against the other
tools' calls; for a latency hot spot: the share of its calls within the other tools' p95). A pattern
holds when its direction on B is the same as on A (a hot spot: under half its calls within that p95). Several
splits are run; the summary counts how many confident patterns held.

    .venv/bin/python benchmarks/heldout.py [--splits 5] [--threshold 0.7]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

from analyzers.importers import mini_swe_agent, tau_bench
from analyzers.mining import PatternMiner
from analyzers.model import Run

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _rate(runs: Sequence[Run]) -> float:
    return sum(bool(r.outcome) for r in runs) / len(runs) if runs else float("nan")


def _call_rates(runs: Sequence[Run], tool: str) -> tuple[float, float]:
    own = [s.ok for r in runs for s in r.steps if s.kind == "tool" and s.name == tool]
    rest = [s.ok for r in runs for s in r.steps if s.kind == "tool" and s.name != tool]
    nan = float("nan")
    return (sum(own) / len(own) if own else nan), (sum(rest) / len(rest) if rest else nan)


def _within(runs: Sequence[Run], tool: str, limit_ms: float) -> float:
    calls = [s.duration_ms for r in runs for s in r.steps if s.kind == "tool" and s.name == tool]
    return sum(d <= limit_ms for d in calls) / len(calls) if calls else float("nan")


def check(name: str, runs: list[Run], splits: int, threshold: float) -> tuple[int, int]:
    tasks = sorted({r.problem_id or r.trace_id for r in runs})
    held = total = 0
    print(f"\n== {name}: {len(runs)} runs, {len(tasks)} tasks, success rate {_rate(runs):.0%}")
    for split in range(splits):
        rng = random.Random(split)
        half = set(rng.sample(tasks, len(tasks) // 2))
        a = [r for r in runs if (r.problem_id or r.trace_id) in half]
        b = [r for r in runs if (r.problem_id or r.trace_id) not in half]
        miner = PatternMiner(random_state=0).fit(a)
        confident = [p for p in miner.patterns_ if p.confidence >= threshold]
        print(f"-- split {split}: mined on {len(a)} runs (baseline {_rate(a):.0%}), held out {len(b)} runs "
              f"(baseline {_rate(b):.0%}); {len(confident)} confident patterns")
        for p in confident:
            rule = miner.rules_[p.id]
            label = f"   {p.confidence:.3f} {p.type:19} {p.kind:15} {' -> '.join(p.tools) or '-':40.40}"
            if p.kind == "call_failures":
                # A reliability pattern: compare the tool's call success rate with the other tools' calls.
                ok_b, rest_b = _call_rates(b, p.tools[0])
                holds = ok_b < rest_b
                print(f"{label} calls ok A: {p.success_rate:4.0%} vs {p.compared_rate:4.0%}  "
                      f"B: {ok_b:4.0%} vs {rest_b:4.0%}  {'holds' if holds else 'DOES NOT HOLD'}")
            elif p.kind == "hot_spot":
                within_b = _within(b, p.tools[0], p.measures["rest_p95_ms"])
                holds = within_b < 0.5
                print(f"{label} calls within the others' p95 A: {p.success_rate:4.0%}  B: {within_b:4.0%}  "
                      f"{'holds' if holds else 'DOES NOT HOLD'}")
            else:
                shown_b = [r for r in b if rule.shows(r)]
                rate_b = _rate(shown_b)
                rest_b = _rate([r for r in b if not rule.shows(r)])
                up_a = p.success_rate > p.compared_rate
                holds = bool(shown_b) and (rate_b > rest_b) == up_a
                print(f"{label} runs succeed A: {p.success_rate:4.0%} of {p.frequency:3d} vs "
                      f"{p.compared_rate:4.0%}  B: {rate_b:4.0%} of {len(shown_b):3d} vs {rest_b:4.0%}  "
                      f"{'holds' if holds else 'DOES NOT HOLD'}")
            held += holds
            total += 1
    return held, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    tau = [r.to_run() for r in tau_bench.load_runs(
        DATASETS / "tau-bench-airline-gpt4o" / "historical_trajectories" / "gpt-4o-airline.json")]
    swe = [r.to_run() for r in mini_swe_agent.load_runs(DATASETS / "swebench-verified-mini-swe-agent-gemini3pro")]
    summary = []
    for name, runs in (("tau-bench-airline", tau), ("mini-swe-agent", swe)):
        held, total = check(name, runs, args.splits, args.threshold)
        summary.append(f"{name}: {held}/{total} confident patterns hold on the held-out half")
    print("\n" + "\n".join(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
