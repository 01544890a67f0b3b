"""Precision and recall of the miner against planted effects, and the guidelines they would give.

Two scenarios, each at ``--runs`` runs per agent (default: 500 and 200) over ``--seeds`` seeds:

- ``tools`` (``analyzers.mining.synthetic.planted_runs``; no task keys, so every comparison is pooled):
  a success sequence, a failing tool, a slow tool and a thinking effect among noise tools;
- ``tasks`` (``task_runs``; ten runs per task, compared within tasks): task difficulty drives both the
  use of two confounded tools and the failure; a tool that helps within every task (+25 points); a
  precondition (``get_user`` before ``book`` in booking tasks); a recovery (``retry_with_filters``
  after a failed ``search_api``); a moderate thinking effect (+12 points).

A confident pattern is one at or above ``--threshold`` that is not labelled task-confounded. Precision
per pattern kind = its confident patterns that describe a planted effect / its confident patterns;
recall per planted effect = seeds in which a confident pattern describes it / seeds. "Guidelines" are
the confident patterns the writer would accept (``templates.refusal`` and ``guideline_text``);
"confounded guidelines" those that name a confounded tool (target 0), "confounders labelled" how
often a confounded tool's pooled pattern was shown as task-confounded. Each scenario is also mined
with ``effects=False`` (the outcome ignores the steps; in ``tasks`` it still depends on the task):
the count of confident patterns there is the target 0.

    .venv/bin/python benchmarks/planted.py [--runs 500 200] [--seeds 10] [--threshold 0.7]
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


def score(name: str, runs: Callable[..., Iterator[Run]], effect_of: Callable[[Pattern], str | None],
          effects: tuple[str, ...], n_runs: int, seeds: int, threshold: float) -> bool:
    per_kind: Counter[str] = Counter()
    true_per_kind: Counter[str] = Counter()
    found: Counter[str] = Counter()
    guidelines = confounded_guidelines = labelled = noise = 0
    for seed in range(seeds):
        patterns = PatternMiner(random_state=seed).fit(runs(n_runs, seed)).patterns_
        confident = [p for p in patterns if p.confidence >= threshold and not p.task_confounded]
        for p in confident:
            per_kind[p.kind] += 1
            effect = effect_of(p)
            true_per_kind[p.kind] += effect is not None
            if effect is None:
                print(f"     false ({name}, seed {seed}): {p.kind} {list(p.tools)} confidence {p.confidence:.3f}")
        found.update({e for e in map(effect_of, confident) if e is not None})
        for p in confident:
            if refusal(p, None) is None and guideline_text(p) is not None:
                guidelines += 1
                confounded_guidelines += any(t in CONFOUNDED_TOOLS for t in p.tools)
        labelled += len({t for p in patterns if p.task_confounded for t in p.tools if t in CONFOUNDED_TOOLS})
        quiet = PatternMiner(random_state=seed).fit(runs(n_runs, seed + 10_000, effects=False)).patterns_
        noisy = [p for p in quiet if p.confidence >= threshold and not p.task_confounded]
        for p in noisy:
            print(f"     noise ({name}, seed {seed}): {p.kind} {list(p.tools)} confidence {p.confidence:.3f}")
        noise += len(noisy)
    total, true = sum(per_kind.values()), sum(true_per_kind.values())
    precision = true / total if total else 1.0
    recall = {e: found[e] / seeds for e in effects}
    print(f"\n== {name}: {seeds} seeds x {n_runs} runs, confidence >= {threshold}")
    print("precision per pattern kind: " + ", ".join(
        f"{k} {true_per_kind[k] / per_kind[k]:.2f} ({true_per_kind[k]}/{per_kind[k]})" for k in sorted(per_kind)))
    print("recall per planted effect:  " + ", ".join(f"{e} {r:.1f}" for e, r in recall.items()))
    print(f"overall precision {precision:.3f} ({true}/{total}), recall {sum(recall.values()) / len(recall):.3f}; "
          f"guidelines {guidelines}, confounded guidelines {confounded_guidelines}"
          + (f", confounders labelled {labelled}/{len(CONFOUNDED_TOOLS) * seeds}" if name == "tasks" else "")
          + f"; confident patterns on no-effect runs {noise}")
    met = precision >= 0.95 and min(recall.values()) >= 0.9 and confounded_guidelines == 0 and noise == 0
    print(f"targets (precision >= 0.95, recall >= 0.9 per effect, 0 confounded guidelines, 0 on no-effect "
          f"runs): {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[500, 200], help="runs per agent and seed")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    start = time.perf_counter()
    for n_runs in args.runs:
        for scenario in SCENARIOS:
            score(*scenario, n_runs, args.seeds, args.threshold)
    print(f"\n{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
