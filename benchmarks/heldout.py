"""Held-out check of the guidelines ``learn`` commits, on the two real datasets.

For each dataset the tasks (τ-bench task ids with all their trials; SWE-bench instances) are split at
random into two halves. Half A goes through what ``otel-meta learn`` does: the miner, then the real
guideline writer into a fresh git prompts repo (tools trusted from A's runs, as for imported runs
without a prompt version). For every guideline committed, the script prints the pattern's effect on A
and its effect on the held-out half B, measured the same way: the Mantel-Haenszel difference in
success rate (with its 90% interval) between B's runs that show the pattern and those that do not,
within B's tasks (``miner.rules_[id]`` tells which runs show it; for a tool's call failures the calls
are compared, within tasks; a latency hot spot is checked as the share of its calls within the other
tools' p95). A guideline has the wrong sign when its effect on B points the other way than on A.

    .venv/bin/python benchmarks/heldout.py [--splits 5] [--threshold 0.7] [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from analyzers.guidelines import GuidelineWriter, PromptsRepo
from analyzers.guidelines.templates import trusted_tools
from analyzers.importers import mini_swe_agent, tau_bench
from analyzers.mining import PatternMiner, PatternRule
from analyzers.mining._stats import stratified_test
from analyzers.model import Pattern, Run

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _task(r: Run) -> str:
    return r.problem_id or r.trace_id


def _strata(keys: Sequence[str]) -> np.ndarray:
    codes: dict[str, int] = {}
    return np.asarray([codes.setdefault(k, len(codes)) for k in keys], dtype=np.int64)


def held_out_effect(p: Pattern, rule: PatternRule, runs: Sequence[Run]) -> tuple[float, float, float, int] | None:
    """``(effect, low, high, tasks)`` of ``p`` on ``runs``, within their tasks (``None``: not measurable)."""
    if p.kind == "hot_spot":
        calls = [s.duration_ms for r in runs for s in r.steps if s.kind == "tool" and s.name == p.tools[0]]
        if not calls:
            return None
        share = sum(d <= p.measures["rest_p95_ms"] for d in calls) / len(calls)
        return share - p.compared_rate, share - p.compared_rate, share - p.compared_rate, 0
    if p.kind == "call_failures":
        steps = [(s.name == p.tools[0], s.ok, _task(r)) for r in runs for s in r.steps if s.kind == "tool"]
        shown, outcome, keys = zip(*steps) if steps else ((), (), ())
    else:
        rows = [(rule.shows(r), bool(r.outcome), _task(r)) for r in runs if rule.compared(r)]
        shown, outcome, keys = zip(*rows) if rows else ((), (), ())
    if not any(shown) or all(shown):
        return None
    t = stratified_test(sp.csc_matrix(np.asarray(shown, float).reshape(-1, 1)), np.asarray(outcome, float),
                        _strata(keys))
    if t.n_with[0] == 0 or t.n_without[0] == 0:
        return None
    low, high = t.interval(0)
    return float(t.effect[0]), low, high, int(t.strata[0])


def committed(name: str, runs: list[Run], threshold: float) -> tuple[PatternMiner, list[str]]:
    """Mine ``runs`` and write them with the real writer; the pattern ids of the guidelines committed."""
    miner = PatternMiner(random_state=0, agent=name).fit(runs)
    with tempfile.TemporaryDirectory() as tmp:
        repo = PromptsRepo.init(Path(tmp) / "prompts")
        writer = GuidelineWriter(repo, confidence_threshold=threshold)
        writer.add_agent(name, "")
        writer.write(name, miner.patterns_, trusted_tools=trusted_tools(runs))
        return miner, [g.pattern_id for g in repo.require(name).guidelines]


def _pts(x: float) -> str:
    return f"{100 * x:+4.0f}"


def check(name: str, runs: list[Run], splits: int, threshold: float) -> tuple[int, int, int]:
    tasks = sorted({_task(r) for r in runs})
    wrong = total = unmeasured = 0
    rate = sum(bool(r.outcome) for r in runs) / len(runs)
    print(f"\n== {name}: {len(runs)} runs, {len(tasks)} tasks, success rate {rate:.0%}")
    for split in range(splits):
        half = set(random.Random(split).sample(tasks, len(tasks) // 2))
        a = [r for r in runs if _task(r) in half]
        b = [r for r in runs if _task(r) not in half]
        miner, ids = committed(name, a, threshold)
        by_id = {p.id: p for p in miner.patterns_}
        confounded = sum(p.task_confounded for p in miner.patterns_)
        scope = f"within tasks by {miner.task_grouping_}" if miner.grouped_ else "pooled across tasks"
        print(f"-- split {split}: mined {len(a)} runs ({scope}), "
              f"held out {len(b)}; {len(ids)} guidelines committed; {confounded} task-confounded patterns")
        for pid in ids:
            p = by_id[pid]
            got = held_out_effect(p, miner.rules_[pid], b)
            a_eff = p.effect if p.effect is not None else p.success_rate - p.compared_rate
            label = f"   {p.confidence:.3f} {p.kind:14} {' -> '.join(p.tools) or '-':44.44}"
            a_text = f"A {_pts(a_eff)}" + (f" [{_pts(p.effect_low)},{_pts(p.effect_high)}]"
                                            if p.effect_low is not None and p.effect_high is not None else "")
            total += 1
            if got is None:
                unmeasured += 1
                print(f"{label} {a_text}  B: not measurable (no held-out task has runs with and without it)")
                continue
            e, lo, hi, k = got
            sign_ok = (e > 0) == (a_eff > 0) or e == 0
            wrong += not sign_ok
            print(f"{label} {a_text}  B {_pts(e)} [{_pts(lo)},{_pts(hi)}] in {k} tasks  "
                  f"{'same sign' if sign_ok else 'WRONG SIGN'}")
    return wrong, total, unmeasured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="the shared datasets folder")
    args = parser.parse_args()
    tau = [r.to_run() for r in tau_bench.load_runs(
        args.datasets / "tau-bench-airline-gpt4o" / "historical_trajectories" / "gpt-4o-airline.json")]
    swe = [r.to_run() for r in mini_swe_agent.load_runs(args.datasets / "swebench-verified-mini-swe-agent-gemini3pro")]
    summary = []
    for name, runs in (("tau-bench-airline", tau), ("mini-swe-agent", swe)):
        wrong, total, unmeasured = check(name, runs, args.splits, args.threshold)
        summary.append(f"{name}: {total} guidelines committed over {args.splits} splits; wrong sign on the held-out "
                       f"half: {wrong}; not measurable there: {unmeasured}")
    print("\n" + "\n".join(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
