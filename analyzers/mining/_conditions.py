"""Advice that names a condition: preconditions and recoveries.

- ``precondition`` (tools ``[P, X]``): among the runs that call ``X``, those that called ``P`` before
  their first call of ``X`` succeed more than those that called ``X`` without it ("Call P before X").
- ``recovery`` (tools ``[X, R]``): among the runs with a failed call of ``X``, those whose next tool call
  after the first failure was ``R`` succeed more than the others, including those that stopped there
  ("After X fails, call R").

Both are success patterns with their own share of the error budget (``group``) and the same
comparison as every rate pattern (``association``: within tasks when runs repeat tasks), restricted to
the runs the condition is about. A condition must also be specific (an intersection-union test): its
effect among the runs it is about must exceed the effect of simply using ``P`` (or ``R``) among the
other runs, else it only echoes a tool that helps everywhere. Stopping advice is the ``repeated_call``
kind (``_performance``).
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
    uniq, first = np.unique(keys, return_index=True)
    return uniq, positions[first]


def precondition_candidates(data: MiningData) -> list[Candidate]:
    """Tools called before the first call of another tool ``X``, among the runs that call ``X``, for
    each ``X`` whose runs succeed less often than the others (a tool failing runs use: the one a bare
    warning would be about). Choosing ``X`` by its runs' success rate leaves the comparison *among*
    them valid: under no effect, how those runs' outcomes fall between the two groups does not depend
    on their total."""
    enc = data.enc
    V = len(enc.tools)
    if enc.n_steps == 0 or V < 2:
        return []
    step_run = enc.step_run()
    keys, first = _first_steps(step_run * V + enc.step_tool.astype(np.int64), np.arange(enc.n_steps))
    runs, tools = np.divmod(keys, V)
    support = np.bincount(tools, minlength=V)
    n, y = float(enc.n_runs), data.outcome.astype(np.float64)
    wins = np.asarray(data.tool_runs.T @ y).ravel()
    total = float(y.sum())
    rest = np.maximum(n - support, 1.0)
    weaker = wins / np.maximum(support, 1) < (total - wins) / rest
    out: list[Candidate] = []
    for x in np.flatnonzero((support >= 2 * data.min_support) & weaker).tolist():
        first_x = np.full(enc.n_runs, -1, dtype=np.int64)
        first_x[runs[tools == x]] = first[tools == x]
        before = (tools != x) & (first_x[runs] >= 0) & (first < first_x[runs])
        matrix = binary_matrix(runs[before], tools[before], enc.n_runs, V).tocsc()
        calls_x = first_x >= 0
        plain = _elsewhere(data, ~calls_x)
        for t in association(data, matrix, ("up",), rows=calls_x):
            c = Candidate.of(
                "success_pattern", "precondition", (enc.tools[t.column], enc.tools[x]), t,
                Members(matrix=matrix, column=t.column), group="precondition",
            )
            out.append(_specific(data, c, t, plain))
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
