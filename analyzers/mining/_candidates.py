"""Candidate patterns of every type, each with the raw p-value of its minimum-effect test.

A candidate names what it is about (type, tools, kind, direction), which runs show it (its members),
the figures of its test and its one-sided p-value. ``success_rate``/``rest_success_rate``/``frequency``
are always the two groups the test compares (in ``unit``: runs, or calls for the call-level kinds), so a
pattern's figures are those behind its confidence. The miner adjusts the p-values of all candidates of
an agent together (``analyzers.mining._stats.holm_adjust``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from analyzers.mining._encoding import EncodedRuns
from analyzers.mining._features import binary_matrix, sorted_unique, unique_inverse
from analyzers.mining._stats import rate_difference_p
from analyzers.model import PatternType

#: "up": the property raises the success rate; "down": it raises the failure rate.
Direction = Literal["up", "down"]


@dataclass(frozen=True, eq=False)
class Members:
    """The runs that show a candidate: a boolean mask, or one column of a CSC indicator matrix."""

    mask: np.ndarray | None = None
    matrix: sp.csc_matrix | None = None
    column: int = 0

    def rows(self) -> np.ndarray:
        if self.mask is not None:
            return np.flatnonzero(self.mask)
        assert self.matrix is not None
        m = self.matrix
        return np.sort(m.indices[m.indptr[self.column] : m.indptr[self.column + 1]])


#: A pattern kind per direction of a two-sided property (``up``: it raises the success rate).
Kinds = Mapping[Direction, str]


@dataclass(frozen=True, eq=False)
class Candidate:
    """One tested pattern. ``qualifier`` is its kind (``Pattern.kind``); ``figures`` its other measures."""

    type: PatternType
    qualifier: str
    tools: tuple[str, ...]
    direction: Direction
    p_value: float
    frequency: int
    success_rate: float
    rest_success_rate: float
    members: Members
    figures: Mapping[str, float] = field(default_factory=dict)
    unit: Literal["runs", "calls"] = "runs"


@dataclass(frozen=True, eq=False)
class MiningData:
    """Everything the candidate generators read, computed once per fit."""

    enc: EncodedRuns
    ngrams: sp.csc_matrix
    ngram_names: tuple[tuple[str, ...], ...]
    labels: np.ndarray
    tool_runs: sp.csc_matrix
    min_support: int
    min_effect: float

    @property
    def outcome(self) -> np.ndarray:
        return self.enc.outcome


def association(
    data: MiningData,
    indicator: sp.csc_matrix,
    directions: tuple[Direction, ...],
) -> list[tuple[int, Direction, float, int, float, float]]:
    """Test every column of a run indicator matrix against the outcome.

    Returns ``(column, direction, p, support, success_rate_with, success_rate_without)`` for columns
    whose support and complement are both at least ``min_support``.
    """
    y = data.outcome.astype(np.float64)
    n = y.shape[0]
    total_s = float(y.sum())
    n_with = np.asarray(indicator.sum(axis=0)).ravel()
    s_with = np.asarray(indicator.T @ y).ravel()
    n_wo = n - n_with
    s_wo = total_s - s_with
    ok = (n_with >= data.min_support) & (n_wo >= data.min_support)
    out: list[tuple[int, Direction, float, int, float, float]] = []
    cols = np.flatnonzero(ok)
    if not len(cols):
        return out
    nw, sw, nwo, swo = n_with[cols], s_with[cols], n_wo[cols], s_wo[cols]
    for direction in directions:
        if direction == "up":
            p = rate_difference_p(sw, nw, swo, nwo, data.min_effect)
        else:
            p = rate_difference_p(nw - sw, nw, nwo - swo, nwo, data.min_effect)
        for j, c in enumerate(cols.tolist()):
            out.append((c, direction, float(p[j]), int(nw[j]), sw[j] / nw[j], swo[j] / nwo[j]))
    return out


def mask_candidate(
    data: MiningData,
    mask: np.ndarray,
    type_: PatternType,
    kinds: Kinds,
    tools: tuple[str, ...],
    figures: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Test the runs of ``mask`` against the others, in each direction ``kinds`` names."""
    col = sp.csc_matrix(mask.reshape(-1, 1).astype(np.float32))
    return [
        Candidate(type_, kinds[d], tools, d, p, n, sr, rsr, Members(mask=mask), dict(figures or {}))
        for _, d, p, n, sr, rsr in association(data, col, tuple(kinds))
    ]


def success_candidates(data: MiningData) -> list[Candidate]:
    """Tool n-grams (length >= 2) and clusters of runs whose success rate is above the rest's."""
    out: list[Candidate] = []
    long_cols = np.asarray([len(g) >= 2 for g in data.ngram_names], dtype=bool)
    if long_cols.any():
        sub_idx = np.flatnonzero(long_cols)
        sub = data.ngrams[:, sub_idx]
        support, successes = _column_counts(data, data.ngrams)
        n, total = float(data.outcome.shape[0]), float(data.outcome.sum())
        base_p = rate_difference_p(successes, support, total - successes, n - support, data.min_effect)
        vocabulary = {g: i for i, g in enumerate(data.ngram_names)}
        for c, d, p, n, sr, rsr in association(data, sub, ("up",)):
            col = int(sub_idx[c])
            tools = data.ngram_names[col]
            parents = [
                h
                for h in (vocabulary.get(part) for part in _proper_parts(tools))
                if h is not None and support[h] >= ECHO_SUPPORT_RATIO * support[col] and base_p[h] < p
            ]
            p = _productive_p(data, p, support, successes, col, parents)
            out.append(
                Candidate(
                    "success_pattern", "sequence", tools, d, p, n, sr, rsr,
                    Members(matrix=data.ngrams, column=col),
                )
            )
    labels = data.labels
    n_clusters = int(labels.max()) + 1 if labels.shape[0] else 0
    if n_clusters < 2:
        return out
    X = data.ngrams.tocsr()
    for k in range(n_clusters):
        mask = labels == k
        if mask.sum() < data.min_support:
            continue
        tools = _characteristic_sequence(X, mask, data.ngram_names)
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


def _productive_p(
    data: MiningData,
    p: float,
    support: np.ndarray,
    successes: np.ndarray,
    col: int,
    parents: list[int],
    *,
    up: bool = True,
) -> float:
    """Require a specific pattern to beat its generalisations too (an intersection-union test).

    Every run showing ``col`` also shows each parent (a stronger, much more frequent sub-sequence, or
    the failed call a transition ends on); the pattern must also beat the parent's other runs by
    ``min_effect`` in success (``up``) or failure rate, else it only echoes its parent. The p-value is
    the largest of the tests; a parent with fewer than ``min_support`` other runs is skipped.
    """
    n_g, s_g = support[col], successes[col]
    for h in parents:
        n_rest, s_rest = support[h] - n_g, successes[h] - s_g
        if n_rest < data.min_support:
            continue
        if up:
            q = rate_difference_p(s_g, n_g, s_rest, n_rest, data.min_effect)
        else:
            q = rate_difference_p(n_g - s_g, n_g, n_rest - s_rest, n_rest, data.min_effect)
        p = max(p, float(q))
    return p


def _characteristic_sequence(
    X: sp.csr_matrix, mask: np.ndarray, names: tuple[tuple[str, ...], ...]
) -> tuple[str, ...]:
    """The n-gram most over-represented in the cluster (longer n-grams first)."""
    inside = np.asarray(X[mask].mean(axis=0)).ravel()
    outside = np.asarray(X[~mask].mean(axis=0)).ravel() if (~mask).any() else np.zeros_like(inside)
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
    other tools' calls; calls are the unit, the members are the runs with a failed call of it)."""
    enc = data.enc
    out: list[Candidate] = []
    lift: Kinds = {"up": "outcome_lift", "down": "outcome_drop"}
    for c, d, p, n, sr, rsr in association(data, data.tool_runs, tuple(lift)):
        out.append(
            Candidate(
                "tool_effectiveness", lift[d], (enc.tools[c],), d, p, n, sr, rsr,
                Members(matrix=data.tool_runs, column=c),
            )
        )
    n_calls = np.bincount(enc.step_tool, minlength=len(enc.tools)).astype(np.float64)
    failed_steps = ~enc.step_ok
    n_failed = np.bincount(enc.step_tool[failed_steps], minlength=len(enc.tools)).astype(np.float64)
    total_calls, total_failed = n_calls.sum(), n_failed.sum()
    testable = np.flatnonzero((n_calls >= data.min_support) & (total_calls - n_calls >= data.min_support))
    if not len(testable):
        return out
    rest_calls = total_calls - n_calls[testable]
    rest_failed = total_failed - n_failed[testable]
    call_p = rate_difference_p(
        n_failed[testable], n_calls[testable], rest_failed, rest_calls, data.min_effect
    )
    failed_runs = binary_matrix(
        enc.step_run()[failed_steps], enc.step_tool[failed_steps].astype(np.int64), enc.n_runs, len(enc.tools)
    ).tocsc()
    for j, t in enumerate(testable.tolist()):
        out.append(
            Candidate(
                "tool_effectiveness", "call_failures", (enc.tools[t],), "down", float(call_p[j]),
                int(n_calls[t]), 1.0 - n_failed[t] / n_calls[t], 1.0 - rest_failed[j] / rest_calls[j],
                Members(matrix=failed_runs, column=t), {"failed_calls": float(n_failed[t])}, unit="calls",
            )
        )
    return out


def failure_candidates(data: MiningData) -> list[Candidate]:
    """Failure points over-represented in failing runs: a failed call of a tool, the last tool of the
    run, and the transition into a failed call (previous tool, failing tool)."""
    enc = data.enc
    V = max(len(enc.tools), 1)
    step_run = enc.step_run()
    tool = enc.step_tool.astype(np.int64)
    failed = np.flatnonzero(~enc.step_ok)
    rows = [step_run[failed]]
    codes = [tool[failed]]
    has_steps = np.diff(enc.offsets) > 0
    last = enc.offsets[1:][has_steps] - 1
    rows.append(np.flatnonzero(has_steps))
    codes.append(V + tool[last])
    prev = failed[failed > 0]
    prev = prev[step_run[prev - 1] == step_run[prev]]
    rows.append(step_run[prev])
    codes.append(2 * V + tool[prev - 1] * V + tool[prev])
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
    for col, d, p, n, sr, rsr in association(data, matrix, ("down",)):
        code = int(uniq[col])
        tools: tuple[str, ...]
        if code < V:
            qualifier, tools = "failed_call", (enc.tools[code],)
        elif code < 2 * V:
            qualifier, tools = "last_step", (enc.tools[code - V],)
        else:
            a, b = divmod(code - 2 * V, V)
            qualifier, tools = "transition", (enc.tools[a], enc.tools[b])
            p = _productive_p(data, p, support, successes, col, [failed_col[b]], up=False)
        out.append(
            Candidate(
                "failure_pattern", qualifier, tools, d, p, n, sr, rsr, Members(matrix=matrix, column=col)
            )
        )
    return out


def thinking_candidates(data: MiningData) -> list[Candidate]:
    """Thinking before the first tool call, thinking at all, and long against short reasoning."""
    enc = data.enc
    out: list[Candidate] = []
    both: tuple[Direction, ...] = ("up", "down")
    out += mask_candidate(data, enc.think_first, "thinking_pattern", {"up": "think_first", "down": "act_first"}, ())
    out += mask_candidate(
        data, enc.think_count > 0, "thinking_pattern", {"up": "any_thinking", "down": "no_thinking"}, ()
    )
    known = enc.think_chars > 0
    if known.sum() >= 2 * data.min_support:
        median = float(np.median(enc.think_chars[known]))
        long_mask = enc.think_chars > median
        # Compare long reasoning with short reasoning only, among runs whose reasoning length is known.
        y = enc.outcome[known].astype(np.float64)
        lm = long_mask[known]
        nw, nwo = float(lm.sum()), float((~lm).sum())
        if nw >= data.min_support and nwo >= data.min_support:
            sw, swo = float(y[lm].sum()), float(y[~lm].sum())
            for d in both:
                if d == "up":
                    p = rate_difference_p(sw, nw, swo, nwo, data.min_effect)
                else:
                    p = rate_difference_p(nw - sw, nw, nwo - swo, nwo, data.min_effect)
                out.append(
                    Candidate(
                        "thinking_pattern", "long_reasoning" if d == "up" else "short_reasoning", (), d,
                        float(p), int(nw), sw / nw, swo / nwo, Members(mask=long_mask), {"median_chars": median},
                    )
                )
    return out
