"""Candidate patterns of every type: sequences and clusters, failure points, tool effectiveness and
thinking. Every rate candidate comes from ``association`` (``analyzers.mining._testing``): the same
within-task (or pooled) comparison, figures and effect interval for every kind.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from analyzers.mining._encoding import EncodedRuns
from analyzers.mining._features import binary_matrix, merge_counts, run_batches, sorted_unique, unique_inverse
from analyzers.mining._stats import StratifiedTest, cell_test, rate_difference_p, stratified_test
from analyzers.mining._testing import (
    Candidate,
    Kinds,
    Members,
    MiningData,
    association,
    mask_candidate,
    tested_columns,
)

__all__ = ["failure_candidates", "success_candidates", "thinking_candidates", "tool_candidates"]


def success_candidates(data: MiningData) -> list[Candidate]:
    """Tool n-grams (length >= 2) and clusters of runs whose success rate is above the rest's."""
    out: list[Candidate] = []
    long_cols = np.asarray([len(g) >= 2 for g in data.ngram_names], dtype=bool)
    if long_cols.any():
        sub_idx = np.flatnonzero(long_cols)
        support, successes = _column_counts(data, data.ngrams)
        pooled = stratified_test(data.ngrams, data.outcome, np.zeros(data.outcome.shape[0], dtype=np.int64))
        within = stratified_test(data.ngrams, data.outcome, data.strata) if data.grouped else pooled
        base_p = within.p_up
        vocabulary = {g: i for i, g in enumerate(data.ngram_names)}
        # each column's test is its own: those of the long n-grams, without a copy of their columns
        tested = tested_columns(data, pooled.take(sub_idx), within.take(sub_idx), ("up",))
        del pooled, within
        pairs = []
        for i, t in enumerate(tested):
            col = int(sub_idx[t.column])
            for part in _proper_parts(data.ngram_names[col]):
                h = vocabulary.get(part)
                if h is not None and support[h] >= ECHO_SUPPORT_RATIO * support[col] and base_p[h] < t.p_value:
                    pairs.append((i, col, h))
        echo = _echo_p(data, pairs, support, successes, len(tested))
        for i, t in enumerate(tested):
            col = int(sub_idx[t.column])
            tools = data.ngram_names[col]
            c = Candidate.of("success_pattern", "sequence", tools, t, Members(matrix=data.ngrams, column=col))
            out.append(_with_p(c, max(t.p_value, float(echo[i]))))
    labels = data.labels
    n_clusters = int(labels.max()) + 1 if labels.shape[0] else 0
    if n_clusters < 2:
        return out
    counts = cluster_counts(data.ngrams, labels, n_clusters)
    for k in range(n_clusters):
        mask = labels == k
        if mask.sum() < data.min_support:
            continue
        tools = _characteristic_sequence(counts, k, mask, data.ngram_names)
        if not tools:
            continue
        out.extend(
            mask_candidate(
                data, mask, "success_pattern", {"up": "cluster"}, tools, {"cluster_runs": float(mask.sum())}
            )
        )
    return out


#: A sequence is compared with a stronger part of it (a sub-sequence with a smaller p-value) when that
#: part occurs in at least this many times as many runs: the sequence may just echo its part.
ECHO_SUPPORT_RATIO = 2.0


def _proper_parts(tools: tuple[str, ...]) -> list[tuple[str, ...]]:
    k = len(tools)
    return [tools[i : i + m] for m in range(1, k) for i in range(k - m + 1)]


def _column_counts(data: MiningData, indicator: sp.csc_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Runs and successful runs per column of a run indicator matrix."""
    support = np.asarray(indicator.sum(axis=0)).ravel()
    successes = np.asarray(indicator.T @ data.outcome.astype(np.float64)).ravel()
    return support, successes


def _echo_p(
    data: MiningData,
    pairs: list[tuple[int, int, int]],
    support: np.ndarray,
    successes: np.ndarray,
    n_candidates: int,
    *,
    up: bool = True,
) -> np.ndarray:
    """Require a specific pattern to beat its generalisations too (an intersection-union test).

    ``pairs`` holds ``(candidate, column, parent)``: every run showing ``column`` also shows ``parent``
    (a stronger, much more frequent sub-sequence, or the failed call a transition ends on); the pattern
    must also beat the parent's other runs in success (``up``) or failure rate (a pooled test of no
    difference), else it only echoes its parent. Returns, per candidate, the largest p-value of these
    tests (0 without a parent); a parent with fewer than ``min_support`` other runs is skipped.
    """
    out = np.zeros(n_candidates)
    if not pairs:
        return out
    idx, col, parent = (np.asarray(v, dtype=np.int64) for v in zip(*pairs))
    n_g, s_g = support[col], successes[col]
    n_rest, s_rest = support[parent] - n_g, successes[parent] - s_g
    ok = n_rest >= data.min_support
    if up:
        q = rate_difference_p(s_g, n_g, s_rest, np.maximum(n_rest, 1), 0.0)
    else:
        q = rate_difference_p(n_g - s_g, n_g, n_rest - s_rest, np.maximum(n_rest, 1), 0.0)
    np.maximum.at(out, idx[ok], q[ok])
    return out


def _with_p(c: Candidate, p: float) -> Candidate:
    return c if p == c.p_value else dataclasses.replace(c, p_value=p, pooled_p=max(p, c.pooled_p or 0.0))


#: Entries of the n-gram matrix ``cluster_counts`` reads at a time.
COUNT_ENTRIES = 1 << 20


def cluster_counts(ngrams: sp.csc_matrix, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """The (clusters x columns) number of runs of each cluster with each column of a 0/1 matrix,
    read ``COUNT_ENTRIES`` entries at a time (no copy of the matrix)."""
    n_cols = ngrams.shape[1]
    out = np.zeros((n_clusters, n_cols), dtype=np.int64)
    indptr = ngrams.indptr
    a = 0
    while a < n_cols:
        b = max(int(np.searchsorted(indptr, indptr[a] + COUNT_ENTRIES, side="right")) - 1, a + 1)
        b = min(b, n_cols)
        lengths = np.diff(indptr[a : b + 1])
        col = np.repeat(np.arange(b - a, dtype=np.int64), lengths)
        cluster = labels[ngrams.indices[indptr[a] : indptr[b]]].astype(np.int64)
        out[:, a:b] = np.bincount(cluster * (b - a) + col, minlength=n_clusters * (b - a)).reshape(n_clusters, b - a)
        a = b
    return out


def column_means(counts: np.ndarray, n_rows: int) -> np.ndarray:
    """``X.mean(axis=0)`` of a float32 0/1 sparse matrix ``X`` of ``n_rows`` rows whose columns hold
    ``counts`` ones, to the bit: scipy scales every one by ``float32(1 / n_rows)`` and adds them up one
    at a time in float32, so a column's mean is that running sum after ``count`` terms."""
    if n_rows == 0 or not counts.shape[0]:
        return np.zeros(counts.shape[0], dtype=np.float32)
    top = int(counts.max())
    running = np.zeros(top + 1, dtype=np.float32)
    if top:
        np.cumsum(np.full(top, np.float32(1.0 / n_rows), dtype=np.float32), out=running[1:])
    return running[counts]


def _characteristic_sequence(
    counts: np.ndarray, k: int, mask: np.ndarray, names: tuple[tuple[str, ...], ...]
) -> tuple[str, ...]:
    """The n-gram most over-represented in cluster ``k`` (the runs of ``mask``; ``counts``:
    ``cluster_counts``), longer n-grams first."""
    n_in = int(mask.sum())
    inside = column_means(counts[k], n_in)
    n_out = mask.shape[0] - n_in
    outside = column_means(counts.sum(axis=0) - counts[k], n_out) if n_out else np.zeros_like(inside)
    diff = inside - outside
    lengths = np.asarray([len(g) for g in names])
    for min_len in (2, 1):
        cand = np.flatnonzero((lengths >= min_len) & (diff > 0))
        if len(cand):
            return names[int(cand[np.argmax(diff[cand])])]
    return ()


def tool_candidates(data: MiningData) -> list[Candidate]:
    """Per tool: the outcome lift of using it, both ways (``outcome_lift``, ``outcome_drop``: runs that
    use it against runs that do not), and its call failures (``call_failures``: its calls against the
    other tools' calls, within the tasks' calls when runs are grouped; calls are the unit, the members
    are the runs with a failed call of it).

    ``success_share`` (a measure of both outcome kinds) is the share of the agent's successful runs that
    use the tool: a tool that successful runs need too never gets a bare warning (``_advice``)."""
    enc = data.enc
    out: list[Candidate] = []
    lift: Kinds = {"up": "outcome_lift", "down": "outcome_drop"}
    _, successes = _column_counts(data, data.tool_runs)
    total_successes = max(float(data.outcome.sum()), 1.0)
    for t in association(data, data.tool_runs, tuple(lift)):
        share = {"success_share": float(successes[t.column] / total_successes)}
        out.append(
            Candidate.of(
                "tool_effectiveness", lift[t.direction], (enc.tools[t.column],), t,
                Members(matrix=data.tool_runs, column=t.column), share,
            )
        )
    if enc.n_steps == 0:
        return out
    failed_steps = np.flatnonzero(~enc.step_ok)
    n_failed = np.bincount(enc.step_tool[failed_steps], minlength=len(enc.tools)).astype(np.float64)
    failed_runs = binary_matrix(
        enc.step_owner(failed_steps), enc.step_tool[failed_steps].astype(np.int64), enc.n_runs, len(enc.tools)
    ).tocsc()
    pooled = call_test(enc, np.zeros(enc.n_runs, dtype=np.int64), data.block_rows)
    within = call_test(enc, data.strata, data.block_rows) if data.grouped else pooled
    for t in tested_columns(data, pooled, within, ("down",)):
        out.append(
            Candidate.of(
                "tool_effectiveness", "call_failures", (enc.tools[t.column],), t,
                Members(matrix=failed_runs, column=t.column), {"failed_calls": float(n_failed[t.column])},
                unit="calls",
            )
        )
    return out


def call_test(enc: EncodedRuns, run_strata: np.ndarray, batch_runs: int) -> StratifiedTest:
    """The stratified test of each tool's calls against the other tools' calls (calls are the rows, a
    call's outcome is whether it succeeded, its stratum its run's; a negative stratum leaves the run's
    calls out): ``stratified_test`` of the (calls x tools) indicator, counted a batch of runs at a time
    instead of building that matrix (one entry per call)."""
    V = len(enc.tools)
    width = max(V, 1)
    n_strata = int(run_strata.max()) + 1 if run_strata.shape[0] else 0
    n_k = np.zeros(max(n_strata, 1), dtype=np.int64)
    y_k = np.zeros(max(n_strata, 1), dtype=np.int64)
    empty = np.zeros(0, np.int64)
    cells: tuple[np.ndarray, np.ndarray] = (empty, empty)
    for start, stop, step_run in run_batches(enc, batch_runs):
        a, b = int(enc.offsets[start]), int(enc.offsets[stop])
        stratum = run_strata[step_run]
        valid = stratum >= 0
        stratum, ok = stratum[valid], enc.step_ok[a:b][valid]
        n_k += np.bincount(stratum, minlength=n_k.shape[0])
        y_k += np.bincount(stratum[ok], minlength=n_k.shape[0])
        key = stratum * width + enc.step_tool[a:b][valid]
        # each call counted in slot 2 * cell, each successful one also in slot 2 * cell + 1
        cells = merge_counts(cells, *_counts(np.concatenate([2 * key, 2 * key[ok] + 1])))
    slots, counts = cells
    calls = slots % 2 == 0
    both = slots[calls] // 2
    n = counts[calls].astype(np.float64)
    x = np.zeros(both.shape[0])
    x[np.searchsorted(both, slots[~calls] // 2)] = counts[~calls]
    return cell_test(both, n, x, n_k.astype(np.float64), y_k.astype(np.float64), V)


def _counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = unique_inverse(values)
    return uniq, np.bincount(inverse, minlength=uniq.shape[0])


def failure_candidates(data: MiningData) -> list[Candidate]:
    """Failure points over-represented in failing runs: a failed call of a tool, the last tool of the
    run, and the transition into a failed call (previous tool, failing tool)."""
    enc = data.enc
    V = max(len(enc.tools), 1)

    def tool(steps: np.ndarray) -> np.ndarray:
        return enc.step_tool[steps].astype(np.int64)

    failed = np.flatnonzero(~enc.step_ok)
    failed_run = enc.step_owner(failed)
    rows = [failed_run]
    codes = [tool(failed)]
    has_steps = np.diff(enc.offsets) > 0
    last = enc.offsets[1:][has_steps] - 1
    rows.append(np.flatnonzero(has_steps))
    codes.append(V + tool(last))
    inside = failed > 0
    prev, prev_run = failed[inside], failed_run[inside]
    same = enc.step_owner(prev - 1) == prev_run
    prev, prev_run = prev[same], prev_run[same]
    rows.append(prev_run)
    codes.append(2 * V + tool(prev - 1) * V + tool(prev))
    r = np.concatenate(rows)
    c = np.concatenate(codes)
    uniq, inverse = unique_inverse(c)
    key = sorted_unique(r * max(len(uniq), 1) + inverse)
    rr, cc = np.divmod(key, max(len(uniq), 1))
    matrix = sp.csc_matrix(
        (np.ones(len(key), dtype=np.float32), (rr, cc)), shape=(enc.n_runs, len(uniq))
    )
    out: list[Candidate] = []
    support, successes = _column_counts(data, matrix)
    failed_col = {int(code): i for i, code in enumerate(uniq.tolist()) if code < V}
    for t in association(data, matrix, ("down",)):
        code = int(uniq[t.column])
        tools: tuple[str, ...]
        if code < V:
            qualifier, tools = "failed_call", (enc.tools[code],)
        elif code < 2 * V:
            qualifier, tools = "last_step", (enc.tools[code - V],)
        else:
            a, b = divmod(code - 2 * V, V)
            qualifier, tools = "transition", (enc.tools[a], enc.tools[b])
        cand = Candidate.of("failure_pattern", qualifier, tools, t, Members(matrix=matrix, column=t.column))
        if qualifier == "transition":
            pair = [(0, t.column, failed_col[divmod(code - 2 * V, V)[1]])]
            cand = _with_p(cand, max(t.p_value, float(_echo_p(data, pair, support, successes, 1, up=False)[0])))
        out.append(cand)
    return out


def thinking_candidates(data: MiningData) -> list[Candidate]:
    """Thinking before the first tool call, thinking at all, and long against short reasoning.

    When every run that thinks thinks first, "thinking at all" splits the runs exactly as "thinking
    first" does: it is the same hypothesis, tested once (as ``think_first``), so it does not take a
    second share of the family's error budget. The choice looks at the runs' steps only, never at their
    outcomes, so the family stays valid."""
    enc = data.enc
    out: list[Candidate] = []
    out += mask_candidate(data, enc.think_first, "thinking_pattern", {"up": "think_first", "down": "act_first"}, ())
    thinks = enc.think_count > 0
    if not np.array_equal(thinks, enc.think_first):
        out += mask_candidate(data, thinks, "thinking_pattern", {"up": "any_thinking", "down": "no_thinking"}, ())
    known = enc.think_chars > 0
    if known.sum() >= 2 * data.min_support:
        median = float(np.median(enc.think_chars[known]))
        # Compare long reasoning with short reasoning only, among runs whose reasoning length is known.
        out += mask_candidate(
            data, enc.think_chars > median, "thinking_pattern", {"up": "long_reasoning", "down": "short_reasoning"},
            (), {"median_chars": median}, rows=known,
        )
    return out
