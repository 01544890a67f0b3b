"""Precision and recall of the miner against planted effects, and the guidelines they would give.

Two scenarios, each at ``--runs`` runs per agent (default: 500 and 200) over ``--seeds`` seeds (default 20):

- ``tools`` (``analyzers.mining.synthetic.planted_runs``; no task keys, so every comparison is pooled):
  a success sequence, a failing tool, a slow tool and a thinking effect among noise tools;
- ``tasks`` (``task_runs``; ten runs per task, compared within tasks): task difficulty drives both the
  use of two confounded tools and the failure; a tool that helps within every task (+25 points); a
  precondition (``get_user`` before ``book`` in booking tasks); a recovery (``retry_with_filters``
  after a failed ``search_api``); a moderate thinking effect (+12 points).

A confident pattern is one at or above ``--threshold`` that is not labelled task-confounded. Precision
per pattern kind = its confident patterns that describe a planted effect / its confident patterns;
recall per planted effect = seeds in which a confident pattern describes it / seeds ("as a guideline":
in which a guideline describes it). "Guidelines" are the confident patterns the writer would accept
(``templates.refusal`` and ``guideline_text``; "false" ones describe no planted effect);
"confounded guidelines" those that name a confounded tool (target 0), "confounders labelled" how
often a confounded tool's pooled pattern was shown as task-confounded.

No-effect arm: each scenario is also mined on ``--null-seeds`` (default 20) data sets with
``effects=False`` (the outcome ignores the steps; in ``tasks`` it still depends on the task), and the
benchmark prints how many seeds gave any confident pattern and how many any guideline. Target: 0
guidelines. A confident pattern there is a family-wise error, which the miner bounds by
``1 - threshold`` per data set (0.3 at 0.7), not by 0: the count is printed beside that bound.

    .venv/bin/python benchmarks/planted.py [--runs 500 200] [--seeds 20] [--null-seeds 20] [--threshold 0.7]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Iterator

from analyzers.guidelines.templates import guideline_text, refusal
from analyzers.mining import PatternMiner
from analyzers.mining.synthetic import (
    CONFOUNDED_TOOLS,
    PLANTED_EFFECTS,
    TASK_EFFECTS,
    planted_effect,
    planted_runs,
    task_effect,
    task_runs,
)
from analyzers.model import Pattern, Run

Scenario = tuple[str, Callable[..., Iterator[Run]], Callable[[Pattern], str | None], tuple[str, ...]]
SCENARIOS: tuple[Scenario, ...] = (
    ("tools", planted_runs, planted_effect, PLANTED_EFFECTS),
    ("tasks", task_runs, task_effect, TASK_EFFECTS),
)


def _guideline(p: Pattern) -> bool:
    return refusal(p, None) is None and guideline_text(p) is not None


def score(name: str, runs: Callable[..., Iterator[Run]], effect_of: Callable[[Pattern], str | None],
          effects: tuple[str, ...], n_runs: int, seeds: int, threshold: float) -> bool:
    per_kind: Counter[str] = Counter()
    true_per_kind: Counter[str] = Counter()
    found: Counter[str] = Counter()
    advised: Counter[str] = Counter()
    guidelines = confounded_guidelines = false_guidelines = labelled = 0
    for seed in range(seeds):
        patterns = PatternMiner(random_state=seed).fit(runs(n_runs, seed)).patterns_
        confident = [p for p in patterns if p.confidence >= threshold and not p.task_confounded]
        for p in confident:
            per_kind[p.kind] += 1
            effect = effect_of(p)
            true_per_kind[p.kind] += effect is not None
            if effect is None:
                print(f"     false ({name}, seed {seed}): {p.kind} {list(p.tools)} confidence {p.confidence:.3f}"
                      f"{', GUIDELINE' if _guideline(p) else ''}")
        found.update({e for e in map(effect_of, confident) if e is not None})
        for p in confident:
            if _guideline(p):
                guidelines += 1
                confounded_guidelines += any(t in CONFOUNDED_TOOLS for t in p.tools)
                false_guidelines += effect_of(p) is None
        advised.update({e for p in confident if _guideline(p) and (e := effect_of(p)) is not None})
        labelled += len({t for p in patterns if p.task_confounded for t in p.tools if t in CONFOUNDED_TOOLS})
    total, true = sum(per_kind.values()), sum(true_per_kind.values())
    precision = true / total if total else 1.0
    recall = {e: found[e] / seeds for e in effects}
    print(f"\n== {name}: {seeds} seeds x {n_runs} runs, confidence >= {threshold}")
    print("precision per pattern kind: " + ", ".join(
        f"{k} {true_per_kind[k] / per_kind[k]:.2f} ({true_per_kind[k]}/{per_kind[k]})" for k in sorted(per_kind)))
    print("recall per planted effect:  " + ", ".join(f"{e} {r:.2f}" for e, r in recall.items()))
    print("... as a guideline:         " + ", ".join(f"{e} {advised[e] / seeds:.2f}" for e in effects))
    print(f"overall precision {precision:.3f} ({true}/{total}), recall {sum(recall.values()) / len(recall):.3f}; "
          f"guidelines {guidelines} (false {false_guidelines}), confounded guidelines {confounded_guidelines}"
          + (f", confounders labelled {labelled}/{len(CONFOUNDED_TOOLS) * seeds}" if name == "tasks" else ""))
    met = precision >= 0.95 and min(recall.values()) >= 0.9 and confounded_guidelines == 0
    print(f"targets (precision >= 0.95, recall >= 0.9 per effect, 0 confounded guidelines): "
          f"{'met' if met else 'MISSED'}")
    return met


def no_effect(name: str, runs: Callable[..., Iterator[Run]], n_runs: int, seeds: int, threshold: float) -> bool:
    """Mine ``seeds`` data sets whose outcome ignores the steps (``effects=False``; in ``tasks`` it still
    depends on the task): how many give any confident pattern, and how many any guideline."""
    confident_seeds = guideline_seeds = 0
    for seed in range(seeds):
        quiet = PatternMiner(random_state=seed).fit(runs(n_runs, seed + 10_000, effects=False)).patterns_
        noisy = [p for p in quiet if p.confidence >= threshold and not p.task_confounded]
        advice = [p for p in noisy if _guideline(p)]
        for p in noisy:
            print(f"     noise ({name}, seed {seed + 10_000}): {p.kind} {list(p.tools)} confidence "
                  f"{p.confidence:.3f}{', GUIDELINE' if p in advice else ''}{': ' + p.withheld if p.withheld else ''}")
        confident_seeds += bool(noisy)
        guideline_seeds += bool(advice)
    print(f"\n== {name}, no effect: {seeds} seeds x {n_runs} runs, confidence >= {threshold}: "
          f"{confident_seeds}/{seeds} seeds with a confident pattern (family-wise error bound "
          f"{1 - threshold:.2f}), {guideline_seeds}/{seeds} with a guideline (target 0): "
          f"{'met' if guideline_seeds == 0 else 'MISSED'}")
    return guideline_seeds == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[500, 200], help="runs per agent and seed")
    parser.add_argument("--seeds", type=int, default=20, help="seeds with planted effects")
    parser.add_argument("--null-seeds", type=int, default=20, help="seeds without effects")
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    start = time.perf_counter()
    for n_runs in args.runs:
        for scenario in SCENARIOS:
            score(*scenario, n_runs, args.seeds, args.threshold)
        for name, runs, _, _ in SCENARIOS:
            no_effect(name, runs, n_runs, args.null_seeds, args.threshold)
    print(f"\n{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
