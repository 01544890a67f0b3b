"""Which runs belong to the same task: the strata of the within-task comparisons.

The best grouping the runs offer, in this order (the first whose keys repeat: at least
``REPEATED_SHARE`` of the runs share their key with another run):

1. ``problem_id`` (``otel_meta.problem.id``; the importers set it to the τ-bench task and the SWE-bench
   instance);
2. the fallback ``Run.task_key``: ``problem_context`` (a digest of the problem context's
   ``otel_meta.app.*`` attributes) or ``first_message`` (a digest of the first captured user message),
   assembled by ``analyzers.conventions._task_key``;
3. none: every run is in one stratum and the patterns say that their effect is pooled across tasks.

A run without a key, or whose key is its own, is a stratum of one, which carries no within-task
information and drops out of every within-task test. Keys whose repeating runs all share one key (every
run of one application's problem context, say) are no grouping: one stratum is the pooled comparison,
and the patterns say so rather than claim "within 1 task".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from analyzers.mining._encoding import EncodedRuns

#: Runs are compared within tasks when at least this share of them shares its task key with another run.
REPEATED_SHARE = 0.5


def _strata(keys: Sequence[str | None]) -> np.ndarray | None:
    """Each run's stratum for ``keys``, or ``None`` when the keys do not repeat enough."""
    n = len(keys)
    if n == 0:
        return None
    codes: dict[str, int] = {}
    strata = np.empty(n, dtype=np.int64)
    for i, key in enumerate(keys):
        strata[i] = codes.setdefault(key, len(codes)) if key is not None else -1
    alone = strata < 0
    strata[alone] = len(codes) + np.arange(int(alone.sum()))
    sizes = np.bincount(strata)
    repeated = sizes[strata] >= 2
    if int((sizes >= 2).sum()) < 2:  # one key shared by all that repeat (one app, one task): nothing to compare within
        return None
    return strata if repeated.mean() >= REPEATED_SHARE else None


def task_grouping(enc: EncodedRuns) -> tuple[np.ndarray, str]:
    """Each run's stratum and the grouping used: ``problem_id``, ``problem_context``, ``first_message``
    (the most common source among the runs with a fallback key), or ``""`` (one stratum: pooled)."""
    strata = _strata(enc.problem_ids) if enc.problem_ids else None
    if strata is not None:
        return strata, "problem_id"
    strata = _strata(enc.task_keys) if enc.task_keys else None
    if strata is not None:
        sources = Counter(s for s in enc.task_key_sources if s is not None)
        return strata, sources.most_common(1)[0][0] if sources else "task_key"
    return np.zeros(enc.n_runs, dtype=np.int64), ""


def task_strata(enc: EncodedRuns) -> tuple[np.ndarray, bool]:
    """Each run's stratum and whether the runs are compared within tasks (``False``: one stratum)."""
    strata, grouping = task_grouping(enc)
    return strata, bool(grouping)
