"""Precision and recall of the miner against planted effects.

Generates runs with four planted effects (a success sequence, a failing tool, a slow tool, a thinking
effect) among noise tools (``analyzers.mining.synthetic``), mines them, and scores the patterns at or
above the confidence threshold: precision = confident patterns that describe a planted effect /
confident patterns; recall = planted effects described by at least one confident pattern / planted
effects. It also mines runs with no effect at all (a coin-flip outcome) and counts the confident
patterns found there (the target is zero).

    .venv/bin/python benchmarks/planted.py [--runs 500] [--seeds 10] [--threshold 0.7]
"""

from __future__ import annotations

import argparse
import time

from analyzers.mining import PatternMiner
from analyzers.mining.synthetic import PLANTED_EFFECTS, planted_effect, planted_runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="runs per agent and seed")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    true_pos = false_pos = found = 0
    noise_patterns = 0
    start = time.perf_counter()
    print(f"{'seed':>4} {'confident':>9} {'false':>5} {'effects found':<50} {'noise':>5}")
    for seed in range(args.seeds):
        miner = PatternMiner(random_state=seed).fit(planted_runs(args.runs, seed))
        confident = [p for p in miner.patterns_ if p.confidence >= args.threshold]
        matched = [planted_effect(p) for p in confident]
        tp = sum(m is not None for m in matched)
        effects = sorted({m for m in matched if m is not None})
        true_pos += tp
        false_pos += len(confident) - tp
        found += len(effects)
        noise = PatternMiner(random_state=seed).fit(planted_runs(args.runs, seed + 10_000, effects=False))
        n_noise = sum(p.confidence >= args.threshold for p in noise.patterns_)
        noise_patterns += n_noise
        for p in confident:
            if planted_effect(p) is None:
                print(f"     false: {p.type} {list(p.tools)} confidence {p.confidence:.3f}")
        print(f"{seed:>4} {len(confident):>9} {len(confident) - tp:>5} {','.join(effects):<50} {n_noise:>5}")
    elapsed = time.perf_counter() - start
    total = true_pos + false_pos
    precision = true_pos / total if total else 1.0
    recall = found / (len(PLANTED_EFFECTS) * args.seeds)
    print(
        f"\n{args.seeds} seeds x {args.runs} runs, confidence >= {args.threshold}: "
        f"precision {precision:.3f} ({true_pos}/{total}), recall {recall:.3f} "
        f"({found}/{len(PLANTED_EFFECTS) * args.seeds}); confident patterns on no-effect runs: "
        f"{noise_patterns}; {elapsed:.1f} s"
    )
    print(f"targets: precision >= 0.9 {'met' if precision >= 0.9 else 'MISSED'}, "
          f"recall >= 0.9 {'met' if recall >= 0.9 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
