"""Advice that names a condition: preconditions and recoveries.

- ``precondition`` (tools ``[P, X]``): the calls of ``X`` made after a call of ``P`` (in the same run)
  succeed more than its calls made without it ("Call P before X"; calls are the unit, as for a tool's
  call failures, and the advice needs the same outcome evidence: ``_advice``).
- ``recovery`` (tools ``[X, R]``): among the runs with a failed call of ``X``, those whose next tool call
  after the first failure was ``R`` succeed more than the others, including those that stopped there
  ("After X fails, call R").

Both are success patterns with their own share of the error budget (``group``) and the same
comparison as every rate pattern (``association``: within tasks when runs repeat tasks), restricted to
the calls or runs the condition is about. A recovery must also be specific (an intersection-union
test): its effect among the runs where ``X`` failed must exceed the effect of simply using ``R`` among
the other runs, else it only echoes a tool that helps everywhere. Stopping advice is the
``repeated_call`` kind (``_performance``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from scipy import special

from analyzers.mining._encoding import EncodedRuns
from analyzers.mining._features import binary_matrix, csr_from_keys, run_batches, stack_rows
from analyzers.mining._stats import StratifiedTest, stratified_test
from analyzers.mining._testing import Candidate, Members, MiningData, Tested, association


def _elsewhere(data: MiningData, others: np.ndarray) -> StratifiedTest:
    """The effect of using each tool among the ``others`` runs (what a condition must beat)."""
    return stratified_test(data.tool_runs, data.outcome, np.where(others, data.strata if data.grouped else 0, -1))


def _specific(data: MiningData, c: Candidate, t: Tested, plain: StratifiedTest) -> Candidate:
    """``c`` with the p-value of its specificity test: its effect against that of using its tool
    ``t.column`` among the other runs (``plain``; a z-test of the difference of the two effects)."""
    j = t.column
    if plain.n_with[j] < data.min_support or plain.n_without[j] < data.min_support:
        return c
    z = (t.effect - float(plain.effect[j])) / max(float(np.hypot(t.se, plain.se[j])), 1e-12)
    p = max(t.p_value, float(special.ndtr(-z)))
    return dataclasses.replace(c, p_value=p, pooled_p=max(p, c.pooled_p or 0.0))


def _first_steps(keys: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys and the position of each one's first occurrence (positions ascend)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    head = np.ones(ordered.shape[0], dtype=bool)
    head[1:] = ordered[1:] != ordered[:-1]
    return ordered[head], positions[order[head]]


def first_calls(enc: EncodedRuns, block_rows: int) -> sp.csr_matrix:
    """The (runs x tools) matrix whose values are the step index of each run's first call of each
    tool it calls (built ``block_rows`` runs at a time)."""
    V = len(enc.tools)
    width = max(V, 1)
    dtype = np.int32 if enc.n_steps < np.iinfo(np.int32).max else np.int64
    parts = []
    for start, stop, step_run in run_batches(enc, block_rows):
        a = int(enc.offsets[start])
        steps = enc.step_tool[a : int(enc.offsets[stop])]
        keys, first = _first_steps((step_run - start) * width + steps, np.arange(steps.shape[0]) + a)
        parts.append(csr_from_keys(keys, stop - start, V, data=first.astype(dtype)))
    return stack_rows(parts, V)


def _earlier(
    first: sp.csr_matrix, runs: np.ndarray, positions: np.ndarray, tool: int, block_rows: int
) -> sp.csr_matrix:
    """The 0/1 (len(runs) x tools) matrix of the tools other than ``tool`` whose first call in run
    ``runs[i]`` comes before step ``positions[i]`` (``first``: ``first_calls``), ``block_rows`` rows
    at a time."""
    V = first.shape[1]
    parts = []
    for a in range(0, max(runs.shape[0], 1), max(block_rows, 1)):
        rows = first[runs[a : a + block_rows]]
        keep = rows.data < np.repeat(positions[a : a + block_rows], np.diff(rows.indptr))
        keep &= rows.indices != tool
        kept = np.zeros(keep.shape[0] + 1, dtype=np.int64)
        np.cumsum(keep, out=kept[1:])
        m = sp.csr_matrix(
            (np.ones(int(kept[-1]), dtype=np.float32), rows.indices[keep], kept[rows.indptr]), shape=(rows.shape[0], V)
        )
        parts.append(m)
    return stack_rows(parts, V)


def precondition_candidates(data: MiningData) -> Iterator[Candidate]:
    """Tools called before a call of another tool ``X``, among ``X``'s calls (calls are the unit; the
    outcome is whether the call succeeded), for each ``X`` with failed calls; within the calls of
    each task when runs are grouped. The members are the runs with a call of ``X`` after ``P``.

    Yielded one ``X`` at a time, so that only one ``X``'s matrices are held; the runs and the calls of
    ``X`` are expanded ``data.block_rows`` at a time (a few MB per 10,000 rows)."""
    enc = data.enc
    block_rows = data.block_rows
    V = len(enc.tools)
    if enc.n_steps == 0 or V < 2:
        return
    failed = np.bincount(enc.step_tool[~enc.step_ok], minlength=V)
    calls = np.bincount(enc.step_tool, minlength=V)
    first = first_calls(enc, block_rows)
    for x in np.flatnonzero((failed >= data.min_support) & (calls - failed >= data.min_support)).tolist():
        steps_x = np.flatnonzero(enc.step_tool == x)
        owner = enc.step_owner(steps_x)
        matrix = _earlier(first, owner, steps_x, x, block_rows)
        # a run's tools called before any call of X: those before its last call of X
        last = np.flatnonzero(np.append(owner[1:] != owner[:-1], True))
        after = _earlier(first, owner[last], steps_x[last], x, block_rows)
        per_run = np.zeros(enc.n_runs, dtype=np.int64)
        per_run[owner[last]] = np.diff(after.indptr)
        indptr = np.zeros(enc.n_runs + 1, dtype=np.int64)
        np.cumsum(per_run, out=indptr[1:])
        runs_after = sp.csr_matrix((after.data, after.indices, indptr), shape=(enc.n_runs, V)).tocsc()
        del after, per_run, indptr
        outcome = enc.step_ok[steps_x].astype(np.int8)
        tested = association(data, matrix, ("up",), outcome=outcome, strata=data.strata[owner])
        del matrix
        for t in tested:
            yield Candidate.of(
                "success_pattern", "precondition", (enc.tools[t.column], enc.tools[x]), t,
                Members(matrix=runs_after, column=t.column), unit="calls", group="precondition",
            )


def recovery_candidates(data: MiningData) -> list[Candidate]:
    """The tool called right after the first failed call of a tool, among the runs where it failed."""
    enc = data.enc
    V = len(enc.tools)
    failed = np.flatnonzero(~enc.step_ok)
    if not len(failed) or V == 0:
        return []
    keys, first = _first_steps(enc.step_owner(failed) * V + enc.step_tool[failed].astype(np.int64), failed)
    runs, tools = np.divmod(keys, V)
    support = np.bincount(tools, minlength=V)
    has_next = (first + 1 < enc.n_steps) & (enc.step_owner(np.minimum(first + 1, enc.n_steps - 1)) == runs)
    out: list[Candidate] = []
    for x in np.flatnonzero(support >= 2 * data.min_support).tolist():
        of_x = tools == x
        scope = np.zeros(enc.n_runs, dtype=bool)
        scope[runs[of_x]] = True
        pick = of_x & has_next
        matrix = sp.csc_matrix(binary_matrix(runs[pick], enc.step_tool[first[pick] + 1].astype(np.int64), enc.n_runs, V))
        plain = _elsewhere(data, ~scope)
        for t in association(data, matrix, ("up",), rows=scope):
            c = Candidate.of(
                "success_pattern", "recovery", (enc.tools[x], enc.tools[t.column]), t,
                Members(matrix=matrix, column=t.column), group="recovery",
            )
            out.append(_specific(data, c, t, plain))
    return out
