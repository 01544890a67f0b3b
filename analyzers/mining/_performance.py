"""Performance candidates: latency hot spots, repeated calls and loops, and runs far longer than the
agent's norm."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from analyzers.mining._features import sorted_unique
from analyzers.mining._stats import binomial_tail_p
from analyzers.mining._testing import Candidate, Members, MiningData, association, mask_candidate

#: A tool is a hot spot when more than this share of its calls is slower than the other tools' p95.
HOTSPOT_SHARE = 0.5
#: The quantile of the other tools' call durations a hot spot is compared with.
HOTSPOT_QUANTILE = 0.95
#: Consecutive calls of one tool that count as a loop.
LOOP_LENGTH = 3


def _lower_quantile(sorted_values: np.ndarray, q: float) -> float:
    n = sorted_values.shape[0]
    return float(sorted_values[max(int(np.ceil(q * n)) - 1, 0)])


def hotspot_candidates(data: MiningData) -> list[Candidate]:
    """Tools whose calls are mostly slower than the other tools' p95 (exact binomial test of
    ``H0: P(call slower than the others' p95) <= HOTSPOT_SHARE``).

    Calls are the unit: the figures are the share of the tool's calls within the other tools' p95 and
    the share of the other tools' calls within it (about 95%); the members are the runs that call it."""
    enc = data.enc
    if enc.n_steps == 0 or not np.any(enc.step_duration_ms > 0):
        return []
    V = len(enc.tools)
    # sorted, then widened: the same values as widening first (exact and monotone), half the memory
    everything = np.sort(enc.step_duration_ms).astype(np.float64)
    counts = np.bincount(enc.step_tool, minlength=V)
    tested, hits, calls, figures, rest_within = [], [], [], [], []
    for t in range(V):
        n_t = int(counts[t])
        rest = everything.shape[0] - n_t
        if n_t < data.min_support or rest < data.min_support:
            continue
        own = np.sort(enc.step_duration_ms[enc.step_tool == t]).astype(np.float64)
        rest_q = _rest_quantile(everything, own, HOTSPOT_QUANTILE)
        own_within = int(np.searchsorted(own, rest_q, side="right"))
        k = n_t - own_within
        rest_within.append((int(np.searchsorted(everything, rest_q, side="right")) - own_within) / rest)
        tested.append(t)
        hits.append(k)
        calls.append(n_t)
        figures.append(
            {
                "p95_ms": _lower_quantile(own, HOTSPOT_QUANTILE),
                "rest_p95_ms": rest_q,
                "slow_calls": float(k),
            }
        )
    if not tested:
        return []
    p = binomial_tail_p(np.asarray(hits), np.asarray(calls), HOTSPOT_SHARE)
    return [
        Candidate(
            "performance_pattern", "hot_spot", (enc.tools[t],), "down", float(p[j]), calls[j],
            1.0 - hits[j] / calls[j], rest_within[j], Members(matrix=data.tool_runs, column=t), figures[j],
            unit="calls",
        )
        for j, t in enumerate(tested)
    ]


def _rest_quantile(everything: np.ndarray, own: np.ndarray, q: float) -> float:
    """The lower ``q`` quantile of ``everything`` without the values of ``own`` (both sorted)."""
    rest = everything.shape[0] - own.shape[0]
    target = max(int(np.ceil(q * rest)), 1)
    lo, hi = 0, everything.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        v = everything[mid]
        below = int(np.searchsorted(everything, v, side="right")) - int(np.searchsorted(own, v, side="right"))
        if below >= target:
            hi = mid
        else:
            lo = mid + 1
    return float(everything[lo])


def loop_candidates(data: MiningData) -> list[Candidate]:
    """Runs that call one tool ``LOOP_LENGTH`` times in a row, or repeat an identical call (same tool,
    same arguments digest), failing more often than the other runs."""
    enc = data.enc
    if enc.n_steps < 2:
        return []
    tool = enc.step_tool
    first = np.zeros(enc.n_steps, dtype=bool)  # a run's first step
    first[enc.offsets[:-1][np.diff(enc.offsets) > 0]] = True
    same = np.zeros(enc.n_steps, dtype=bool)
    same[1:] = (tool[1:] == tool[:-1]) & ~first[1:]
    del first
    looping = np.zeros(enc.n_steps, dtype=bool)
    if LOOP_LENGTH >= 2:
        streak = same.copy()
        for k in range(1, LOOP_LENGTH - 1):
            streak[k:] &= same[: enc.n_steps - k]
            streak[:k] = False
        looping |= streak
    identical = np.zeros(enc.n_steps, dtype=bool)
    identical[1:] = same[1:] & (enc.step_digest[1:] == enc.step_digest[:-1]) & (enc.step_digest[1:] != 0)
    looping |= identical
    idx = np.flatnonzero(looping)
    if not len(idx):
        return []
    V = max(len(enc.tools), 1)
    key = sorted_unique(enc.step_owner(idx) * V + tool[idx].astype(np.int64))
    rr, cc = np.divmod(key, V)
    matrix = sp.csc_matrix((np.ones(len(key), dtype=np.float32), (rr, cc)), shape=(enc.n_runs, V))
    return [
        Candidate.of(
            "performance_pattern", "repeated_call", (enc.tools[t.column],), t,
            Members(matrix=matrix, column=t.column), {"loop_length": float(LOOP_LENGTH)},
        )
        for t in association(data, matrix, ("down",))
    ]


def long_run_candidates(data: MiningData) -> list[Candidate]:
    """Runs beyond the upper Tukey fence (Q3 + 1.5 IQR) of the agent's run durations (tool-step counts
    when durations are unknown), failing more often than the others."""
    enc = data.enc
    if enc.n_runs == 0:
        return []
    by_time = bool(np.any(enc.duration_ms > 0))
    metric = enc.duration_ms if by_time else np.diff(enc.offsets).astype(np.float64)
    q1, median, q3 = np.percentile(metric, [25, 50, 75])
    fence = q3 + 1.5 * (q3 - q1)
    mask = metric > fence
    figures = {"fence": float(fence), "median": float(median), "by_time": float(by_time)}
    return mask_candidate(data, mask, "performance_pattern", {"down": "long_run"}, (), figures)

