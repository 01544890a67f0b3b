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

import numpy as np
import scipy.sparse as sp
from scipy import special

from analyzers.mining._features import binary_matrix
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


def precondition_candidates(data: MiningData) -> list[Candidate]:
    """Tools called before a call of another tool ``X``, among ``X``'s calls (calls are the unit; the
    outcome is whether the call succeeded), for each ``X`` with failed calls; within the calls of
    each task when runs are grouped. The members are the runs with a call of ``X`` after ``P``."""
    enc = data.enc
    V = len(enc.tools)
    if enc.n_steps == 0 or V < 2:
        return []
    step_run = enc.step_run()
    tool = enc.step_tool.astype(np.int64)
    keys, first = _first_steps(step_run * V + tool, np.arange(enc.n_steps))
    runs, tools = np.divmod(keys, V)
    # the (run, tool, first position) triples of each run are contiguous in ``keys`` (sorted by run)
    starts = np.searchsorted(runs, np.arange(enc.n_runs + 1))
    failed = np.bincount(tool[~enc.step_ok], minlength=V)
    calls = np.bincount(tool, minlength=V)
    ok = enc.step_ok.astype(np.int8)
    out: list[Candidate] = []
    for x in np.flatnonzero((failed >= data.min_support) & (calls - failed >= data.min_support)).tolist():
        steps_x = np.flatnonzero(tool == x)
        owner = step_run[steps_x]
        count = starts[owner + 1] - starts[owner]
        pair_step = np.repeat(steps_x, count)
        pair = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(starts[owner], count)
        before = (first[pair] < pair_step) & (tools[pair] != x)
        local = np.repeat(np.arange(steps_x.shape[0]), count)[before]  # the row of each X call
        matrix = binary_matrix(local, tools[pair][before], steps_x.shape[0], V)
        runs_after = binary_matrix(step_run[pair_step[before]], tools[pair][before], enc.n_runs, V).tocsc()
        tested = association(data, matrix, ("up",), outcome=ok[steps_x], strata=data.strata[owner])
        for t in tested:
            out.append(
                Candidate.of(
                    "success_pattern", "precondition", (enc.tools[t.column], enc.tools[x]), t,
                    Members(matrix=runs_after, column=t.column), unit="calls", group="precondition",
                )
            )
    return out


def recovery_candidates(data: MiningData) -> list[Candidate]:
    """The tool called right after the first failed call of a tool, among the runs where it failed."""
    enc = data.enc
    V = len(enc.tools)
    failed = np.flatnonzero(~enc.step_ok)
    if not len(failed) or V == 0:
        return []
    step_run = enc.step_run()
    keys, first = _first_steps(step_run[failed] * V + enc.step_tool[failed].astype(np.int64), failed)
    runs, tools = np.divmod(keys, V)
    support = np.bincount(tools, minlength=V)
    has_next = (first + 1 < enc.n_steps) & (step_run[np.minimum(first + 1, enc.n_steps - 1)] == runs)
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
