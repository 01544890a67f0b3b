"""Time and peak memory to mine 10k, 100k and 1M synthetic runs (5-40 tool steps, 40 tools).

Each size runs in a fresh subprocess so its peak RSS is its own. Runs are generated lazily and
consumed once by ``PatternMiner.fit`` (as a store's ``iter_runs`` streams them), so no size ever holds
its ``Run`` objects at once. The baseline, measured in the same subprocess, is the time to generate
and merely iterate the same runs; "mining" is the fit time minus that. Targets: 100k runs in at most
20 s, roughly linear growth, 1M runs under 8 GB.

With ``--db`` the runs are mined from a store instead: ``--db sqlite`` (a file in a temporary folder) or
``--db postgresql://user@host:port/dbname`` (a fresh database beside it, dropped afterwards). Each size
is first written into the store in streamed batches (``import_runs``; not timed), then its subprocess
mines ``store.iter_runs`` (batches of 1000); the baseline is merely iterating ``iter_runs``. Target:
1M runs within 2 GB peak RSS.

    .venv/bin/python benchmarks/mining_scale.py [--sizes 10000 100000 1000000] [--db sqlite|postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from analyzers.model import Run, Step

N_TOOLS = 40


def scale_runs(n_runs: int, seed: int = 0) -> Iterator[Run]:
    """Lazily generated runs: 5-40 tool steps over 40 tools, two tools with an outcome effect."""
    rng = random.Random(seed)
    tools = [f"tool_{i:02d}" for i in range(N_TOOLS)]
    for i in range(n_runs):
        names = rng.choices(tools, k=rng.randint(5, 40))
        steps = tuple(
            Step("tool", name, rng.random() > 0.05, 50.0 + 100.0 * rng.random(), 0) for name in names
        )
        p = 0.5 + 0.2 * ("tool_01" in names) - 0.2 * ("tool_02" in names)
        yield Run(f"{i:032x}", "scale-agent", rng.random() < p, 0, 1000.0, steps)


def measure(n: int, db: str | None = None) -> dict[str, float]:
    from analyzers.mining import PatternMiner

    def runs() -> Iterator[Run]:
        if db is None:
            return scale_runs(n)
        from analyzers.store import open_store

        def streamed() -> Iterator[Run]:
            with open_store(db) as store:
                yield from store.iter_runs("scale-agent")
        return streamed()

    t0 = time.perf_counter()
    steps = sum(len(r.steps) for r in runs())
    generate = time.perf_counter() - t0
    t0 = time.perf_counter()
    miner = PatternMiner(random_state=0).fit(runs())
    fit = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "runs": n,
        "steps": steps,
        "generate_s": generate,
        "fit_s": fit,
        "mine_s": max(fit - generate, 0.0),
        "peak_mb": peak_kb / 1024.0,
        "patterns": len(miner.patterns_),
        "confident": sum(p.confidence >= 0.7 for p in miner.patterns_),
        "tests": miner.n_tests_,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--db", default=None, help="mine from a store: 'sqlite' or a postgresql:// URL")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one-db", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.one_db)))
        return 0
    if args.db is not None:
        print(f"mining from {'SQLite' if args.db == 'sqlite' else 'PostgreSQL'}: "
              "'generate s' is iterating the store's runs")
    rows = []
    print(f"{'runs':>9} {'steps':>10} {'generate s':>10} {'fit s':>8} {'mine s':>8} {'peak MB':>8} "
          f"{'per 10k s':>9} {'confident':>9}")
    for n in args.sizes:
        with filled_store(args.db, n) as db:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n), *(["--one-db", db] if db else [])],
                check=True, capture_output=True, text=True,
            ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        print(f"{r['runs']:>9} {r['steps']:>10} {r['generate_s']:>10.2f} {r['fit_s']:>8.2f} "
              f"{r['mine_s']:>8.2f} {r['peak_mb']:>8.0f} {1e4 * r['fit_s'] / r['runs']:>9.3f} "
              f"{r['confident']:>9}", flush=True)
    base = rows[0]
    for r in rows[1:]:
        print(f"{r['runs']} vs {base['runs']} runs: x{r['runs'] / base['runs']:.0f} runs, "
              f"fit time x{r['fit_s'] / base['fit_s']:.1f}, mining time x{r['mine_s'] / max(base['mine_s'], 1e-9):.1f}")
    by_n = {r["runs"]: r for r in rows}
    if 100_000 in by_n:
        print(f"100k target (fit <= 20 s): {by_n[100_000]['fit_s']:.1f} s")
    if 1_000_000 in by_n:
        limit = 8192 if args.db is None else 2048
        print(f"1M target (peak < {limit} MB): {by_n[1_000_000]['peak_mb']:.0f} MB")
    return 0


@contextmanager
def filled_store(db: str | None, n: int) -> Iterator[str | None]:
    """A store holding ``scale_runs(n)`` (written in streamed batches), or ``None`` without ``--db``."""
    if db is None:
        yield None
        return
    from analyzers.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            target = str(Path(tmp, "scale.db"))
        else:
            import psycopg

            name = f"otel_meta_scale_{os.getpid()}_{n}"
            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            target = f"{db.rsplit('/', 1)[0]}/{name}"
        try:
            with open_store(target, synchronous="NORMAL") as store:
                store.import_runs(scale_runs(n))  # type: ignore[attr-defined]
            yield target
        finally:
            if db != "sqlite":
                with psycopg.connect(db, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    raise SystemExit(main())
