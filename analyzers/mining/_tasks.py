"""Which runs belong to the same task: the strata of the within-task comparisons.

The task key is the run's ``problem_id`` (``otel_meta.problem.id``; the importers set it to the τ-bench
task and the SWE-bench instance). Runs are compared within tasks when keys repeat: at least
``REPEATED_SHARE`` of the runs share their key with another run. A run without a key, or whose key is
its own, is a stratum of one, which carries no within-task information and drops out of every
within-task test. When keys are absent or rarely repeat, every run is in one stratum and the patterns
say that their effect is pooled across tasks: a ``Run`` carries no other task attribute (the problem
context's other attributes and the first user message are not assembled into runs), so there is no
better grouping to fall back on.
"""

from __future__ import annotations

import numpy as np

from analyzers.mining._encoding import EncodedRuns

#: Runs are compared within tasks when at least this share of them shares its task key with another run.
REPEATED_SHARE = 0.5


def task_strata(enc: EncodedRuns) -> tuple[np.ndarray, bool]:
    """Each run's stratum and whether the runs are compared within tasks (``False``: one stratum)."""
    n = enc.n_runs
    if not enc.problem_ids or n == 0:
        return np.zeros(n, dtype=np.int64), False
    codes: dict[str, int] = {}
    strata = np.empty(n, dtype=np.int64)
    for i, key in enumerate(enc.problem_ids):
        strata[i] = codes.setdefault(key, len(codes)) if key is not None else -1
    alone = strata < 0
    strata[alone] = len(codes) + np.arange(int(alone.sum()))
    repeated = np.bincount(strata)[strata] >= 2
    if repeated.mean() < REPEATED_SHARE:
        return np.zeros(n, dtype=np.int64), False
    return strata, True
