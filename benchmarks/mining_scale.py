"""Time and peak memory to mine 10k, 100k and 1M synthetic runs (5-40 tool steps, 40 tools).

Each measurement runs in a fresh subprocess, so its peak RSS (the kernel's high-water mark, VmHWM) is
its own. ``--db`` names where the runs come from, one or more of:

- ``memory`` (the default): runs generated lazily and consumed once by ``PatternMiner.fit``;
- ``sqlite``: a file in a temporary folder;
- ``postgresql``: a temporary server started the way the tests start theirs
  (``tests/support/postgres.py``: ``initdb`` + ``pg_ctl`` on 127.0.0.1), or
  ``postgresql://user@host:port/dbname``: a fresh database beside that one, dropped afterwards.

For a store, each size is first imported (``import_runs``, transactions of 10,000 runs, consuming the
generator as a stream) in a subprocess of its own, whose time and peak are printed too; then the
mining subprocess fits ``store.iter_runs`` (keyset pages of 1000 runs). The baseline, measured in the
mining subprocess before the fit, is merely reading the runs (generating them, or iterating
``iter_runs``); "mine s" is the fit time minus that. Ratios are against the smallest size of the same
source, per run: time per run and peak growth. Targets: 100k runs in at most 20 s; 1M runs within 2 GB
peak RSS from SQLite and from PostgreSQL.

    .venv/bin/python benchmarks/mining_scale.py [--sizes 10000 100000 1000000] [--db memory sqlite postgresql]
    .venv/bin/python benchmarks/mining_scale.py --stages 1000000   # where the memory goes, stage by stage
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
from typing import cast

from analyzers.model import Run, Step

N_TOOLS = 40
AGENT = "scale-agent"


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
        yield Run(f"{i:032x}", AGENT, rng.random() < p, 0, 1000.0, steps)


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM: unlike ``ru_maxrss``, not inherited at exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(n: int, db: str | None = None) -> dict[str, float]:
    from analyzers.mining import PatternMiner

    def runs() -> Iterator[Run]:
        if db is None:
            return scale_runs(n)
        from analyzers.store import open_store

        def streamed() -> Iterator[Run]:
            with open_store(db) as store:
                yield from store.iter_runs(AGENT)
        return streamed()

    t0 = time.perf_counter()
    steps = sum(len(r.steps) for r in runs())
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    miner = PatternMiner(random_state=0).fit(runs())
    fit = time.perf_counter() - t0
    return {
        "runs": n,
        "steps": steps,
        "read_s": read,
        "fit_s": fit,
        "mine_s": max(fit - read, 0.0),
        "peak_mb": peak_mb(),
        "patterns": len(miner.patterns_),
        "confident": sum(p.confidence >= 0.7 for p in miner.patterns_),
        "tests": miner.n_tests_,
    }


def _reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux: ``clear_refs`` 5); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def stages(n: int) -> None:
    """Run the stages of ``PatternMiner.fit`` one by one on ``n`` generated runs and print, per stage,
    its time, the RSS after it and its own peak (VmHWM reset before each stage)."""
    import numpy as np

    from analyzers.mining import _miner as m
    from analyzers.mining._encoding import EncodedRuns
    from analyzers.mining._testing import MiningData

    miner = m.PatternMiner(random_state=0)
    print(f"{'stage':<28} {'s':>7} {'RSS after MB':>12} {'stage peak MB':>13}", flush=True)
    state: dict[str, object] = {}

    def stage(name: str, work) -> None:  # type: ignore[no-untyped-def]
        exact = _reset_peak()
        t0 = time.perf_counter()
        work()
        took = time.perf_counter() - t0
        print(f"{name:<28} {took:>7.1f} {_rss_mb():>12.0f} {peak_mb():>13.0f}{'' if exact else ' (no reset)'}",
              flush=True)

    stage("encode", lambda: state.update(enc=m.encode_runs(scale_runs(n))))
    enc = cast(EncodedRuns, state["enc"])
    support = max(miner.min_support, int(np.ceil(miner.min_support_fraction * enc.n_runs)))
    featurizer = m.ToolSequenceFeaturizer(miner.ngram_range, min_support=support)
    stage("featurize", lambda: state.update(ngrams=featurizer.fit_transform(enc)))
    stage("cluster", lambda: state.update(labels=m.RunClusterer(miner.n_clusters, random_state=0)
                                          .fit(state["ngrams"]).labels_))

    def data() -> None:
        strata, grouping = m.task_grouping(enc)
        state["data"] = MiningData(
            enc=enc, ngrams=state.pop("ngrams").tocsc(), ngram_names=featurizer.ngrams_,  # type: ignore[attr-defined]
            labels=state["labels"], tool_runs=m.tool_run_matrix(enc).tocsc(), min_support=support,  # type: ignore[arg-type]
            strata=strata, grouped=bool(grouping), block_rows=miner.block_rows,
        )
    stage("tool matrix, CSC copies", data)
    found: list[object] = []
    for generate in (m.success_candidates, m.failure_candidates, m.tool_candidates, m.thinking_candidates,
                     m.precondition_candidates, m.recovery_candidates, m.hotspot_candidates,
                     m.loop_candidates, m.long_run_candidates):
        stage(generate.__name__, lambda g=generate: found.extend(
            m._evidence_members(state["data"], g(state["data"]), miner.max_evidence)))  # type: ignore[arg-type]
    print(f"{len(found)} candidates; whole-process peak {peak_mb():.0f} MB since the last reset")


def import_into(n: int, db: str) -> dict[str, float]:
    from analyzers.store import open_store

    t0 = time.perf_counter()
    with open_store(db, synchronous="NORMAL") as store:
        stored = store.import_runs(scale_runs(n))  # type: ignore[attr-defined]
    return {"runs": stored, "import_s": time.perf_counter() - t0, "import_peak_mb": peak_mb()}


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--db", nargs="+", default=["memory"], metavar="SOURCE", type=_source,
                        help="memory, sqlite, postgresql (a temporary server) or a postgresql:// URL")
    parser.add_argument("--stages", type=int, metavar="N",
                        help="profile the stages of fit on N generated runs (time, RSS, peak per stage)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one-db", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--import-into", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        stages(args.stages)
        return 0
    if args.one:
        print(json.dumps(import_into(args.one, args.import_into) if args.import_into else measure(args.one, args.one_db)))
        return 0
    print(f"{'source':>10} {'runs':>9} {'steps':>10} {'import s':>8} {'imp. MB':>7} {'read s':>7} {'fit s':>7} "
          f"{'mine s':>7} {'peak MB':>7} {'us/run':>7} {'x/run':>6} {'x peak':>6} {'confident':>9}", flush=True)
    results: dict[str, list[dict[str, float]]] = {}
    for source in args.db:
        label = "memory" if source == "memory" else "sqlite" if source == "sqlite" else "postgresql"
        rows = results.setdefault(label, [])
        with source_of(source) as make:
            for n in args.sizes:
                with make(n) as db:
                    imported = _child("--one", str(n), "--import-into", db) if db else {}
                    r = {**_child("--one", str(n), *(["--one-db", db] if db else [])), **imported}
                rows.append(r)
                base = rows[0]
                per_run = r["fit_s"] / r["runs"]
                print(f"{label:>10} {r['runs']:>9} {r['steps']:>10} "
                      f"{r.get('import_s', float('nan')):>8.1f} {r.get('import_peak_mb', float('nan')):>7.0f} "
                      f"{r['read_s']:>7.2f} {r['fit_s']:>7.2f} {r['mine_s']:>7.2f} {r['peak_mb']:>7.0f} "
                      f"{1e6 * per_run:>7.1f} {per_run / (base['fit_s'] / base['runs']):>6.2f} "
                      f"{r['peak_mb'] / base['peak_mb']:>6.2f} {r['confident']:>9}", flush=True)
    print("x/run: fit time per run against the smallest size of the same source; x peak: peak RSS against it")
    for label, rows in results.items():
        by_n = {r["runs"]: r for r in rows}
        if 100_000 in by_n:
            print(f"{label}: 100k target (fit <= 20 s): {by_n[100_000]['fit_s']:.1f} s")
        if 1_000_000 in by_n:
            print(f"{label}: 1M target (peak <= 2048 MB): {by_n[1_000_000]['peak_mb']:.0f} MB")
    return 0


def _source(text: str) -> str:
    if text in ("memory", "sqlite", "postgresql") or text.startswith("postgresql://"):
        return text
    raise argparse.ArgumentTypeError(f"memory, sqlite, postgresql or a postgresql:// URL, not {text!r}")


@contextmanager
def source_of(source: str) -> Iterator:  # type: ignore[type-arg]
    """A factory of stores holding ``scale_runs(n)`` for one source (``None`` for ``memory``)."""
    if source == "memory":
        yield _no_store
    elif source == "sqlite":
        yield _sqlite_file
    elif source == "postgresql":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.support.postgres import PostgresServer, why_missing

        server = PostgresServer.find()
        if server is None:
            raise SystemExit(f"mining_scale: no temporary PostgreSQL server: {why_missing}")
        try:
            yield lambda n: _pg_database(server.url(), n)
        finally:
            server.stop()
    else:
        yield lambda n: _pg_database(source, n)


@contextmanager
def _no_store(n: int) -> Iterator[None]:
    yield None


@contextmanager
def _sqlite_file(n: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield str(Path(tmp, "scale.db"))


@contextmanager
def _pg_database(url: str, n: int) -> Iterator[str]:
    import psycopg

    name = f"otel_meta_scale_{os.getpid()}_{n}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    raise SystemExit(main())
