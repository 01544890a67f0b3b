"""What every candidate pattern shares: its record (``Candidate``), the data the generators read
(``MiningData``) and the one comparison behind every rate pattern (``association``).

A candidate names what it is about (type, tools, kind, direction), which runs show it (its members),
the figures of its test and its one-sided p-values: ``p_value`` of the test its confidence comes from
(within tasks when the agent's runs repeat tasks, else pooled) and ``pooled_p`` of the pooled test.
``success_rate``/``rest_success_rate``/``frequency`` are the two groups the test compares (in ``unit``:
runs, or calls for the call-level kinds): for a within-task test, the runs of the tasks that have runs
with and without the property. ``effect`` is the Mantel-Haenszel difference in success rate (with minus
without) and ``effect_low``/``effect_high`` its 90% interval. The miner adjusts the p-values of all
candidates of an agent together (``analyzers.mining._stats.holm_adjust``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy import special

from analyzers.mining._encoding import EncodedRuns
from analyzers.mining._stats import StratifiedTest, stratified_test
from analyzers.model import PatternType

#: "up": the property raises the success rate; "down": it raises the failure rate.
Direction = Literal["up", "down"]
#: How a candidate was compared: within tasks, or pooled over every run.
Scope = Literal["within_task", "pooled"]


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
class Tested:
    """One column's comparison in one direction (see the module docstring for the fields)."""

    column: int
    direction: Direction
    p_value: float
    pooled_p: float
    frequency: int
    success_rate: float
    rest_success_rate: float
    effect: float
    effect_low: float
    effect_high: float
    tasks: int
    scope: Scope
    se: float = 0.0


@dataclass(frozen=True, eq=False)
class Candidate:
    """One tested pattern. ``qualifier`` is its kind (``Pattern.kind``); ``figures`` its other measures.
    ``group`` is the family share of its test (the type, or its own for preconditions and recoveries)."""

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
    pooled_p: float | None = None
    effect: float | None = None
    effect_low: float | None = None
    effect_high: float | None = None
    tasks: int = 0
    scope: Scope = "pooled"
    group: str = ""
    se: float | None = None

    def floor_p(self, floor: float) -> float:
        """One-sided p-value of "the effect does not exceed ``floor`` on the pattern's side" (a z-test
        of the Mantel-Haenszel difference with its Sato standard error), never below ``p_value`` (so a
        guideline's claim also passes every test the pattern's confidence passed). Without an effect
        (a latency hot spot) it is ``p_value``."""
        if self.effect is None or self.se is None or self.se <= 0.0:
            return self.p_value
        margin = self.effect - floor if self.direction == "up" else -self.effect - floor
        return max(self.p_value, float(special.ndtr(-margin / self.se)))

    @classmethod
    def of(
        cls,
        type_: PatternType,
        kind: str,
        tools: tuple[str, ...],
        t: Tested,
        members: Members,
        figures: Mapping[str, float] | None = None,
        *,
        unit: Literal["runs", "calls"] = "runs",
        group: str = "",
    ) -> Candidate:
        return cls(
            type_, kind, tools, t.direction, t.p_value, t.frequency, t.success_rate, t.rest_success_rate,
            members, dict(figures or {}), unit, t.pooled_p, t.effect, t.effect_low, t.effect_high, t.tasks,
            t.scope, group or type_, t.se,
        )


@dataclass(frozen=True, eq=False)
class MiningData:
    """Everything the candidate generators read, computed once per fit. ``strata`` is each run's task
    stratum (``analyzers.mining._tasks``); ``grouped`` says whether rate patterns are compared within
    tasks. ``block_rows``: the runs (or calls) a call-level computation expands at a time; the
    candidates do not depend on it."""

    enc: EncodedRuns
    ngrams: sp.csc_matrix
    ngram_names: tuple[tuple[str, ...], ...]
    labels: np.ndarray
    tool_runs: sp.csc_matrix
    min_support: int
    strata: np.ndarray
    grouped: bool
    block_rows: int = 1 << 16

    @property
    def outcome(self) -> np.ndarray:
        return self.enc.outcome


def association(
    data: MiningData,
    indicator: sp.spmatrix,
    directions: tuple[Direction, ...],
    *,
    rows: np.ndarray | None = None,
    outcome: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> list[Tested]:
    """Test every column of a 0/1 indicator matrix against the outcome, in each direction.

    Rows are runs (``outcome`` and ``strata`` default to the runs'); ``rows`` (a boolean mask) keeps
    the comparison to some of them (the runs that call a tool, for a precondition). A column is tested
    when it has at least ``min_support`` rows with it and without it; when the runs are grouped by
    task, its confidence test is the within-task one and needs ``min_support`` rows of each group in
    the tasks that have both, else it cannot be told apart from the task (p = 1).
    """
    y = data.outcome if outcome is None else outcome
    base = data.strata if strata is None else strata
    pooled_strata = np.zeros(y.shape[0], dtype=np.int64)
    if rows is not None:
        pooled_strata[~rows] = -1
        base = np.where(rows, base, -1)
    pooled = stratified_test(indicator, y, pooled_strata)
    within = stratified_test(indicator, y, base) if data.grouped else pooled
    return tested_columns(data, pooled, within, directions)


def tested_columns(
    data: MiningData, pooled: StratifiedTest, within: StratifiedTest, directions: tuple[Direction, ...]
) -> list[Tested]:
    """``association`` from its two tests already made: the pooled one and the within-task one
    (``pooled`` itself when the runs are not grouped)."""
    grouped = data.grouped
    ms = data.min_support
    cols = np.flatnonzero((pooled.n_with >= ms) & (pooled.n_without >= ms))
    out: list[Tested] = []
    for c in cols.tolist():
        testable = not grouped or (within.n_with[c] >= ms and within.n_without[c] >= ms)
        t = within if testable else pooled
        low, high = t.interval(c)
        for d in directions:
            p = (t.p_up if d == "up" else t.p_down)[c] if testable else 1.0
            out.append(
                Tested(
                    c, d, float(p), float((pooled.p_up if d == "up" else pooled.p_down)[c]),
                    int(t.n_with[c]), float(t.s_with[c] / t.n_with[c]), float(t.s_without[c] / t.n_without[c]),
                    float(t.effect[c]), low, high, int(within.strata[c]) if testable and grouped else 0,
                    "within_task" if grouped and testable else "pooled", float(t.se[c]),
                )
            )
    return out


def mask_candidate(
    data: MiningData,
    mask: np.ndarray,
    type_: PatternType,
    kinds: Kinds,
    tools: tuple[str, ...],
    figures: Mapping[str, float] | None = None,
    *,
    rows: np.ndarray | None = None,
) -> list[Candidate]:
    """Test the runs of ``mask`` against the others (of ``rows``), in each direction ``kinds`` names."""
    col = sp.csc_matrix(mask.reshape(-1, 1).astype(np.float32))
    return [
        Candidate.of(type_, kinds[t.direction], tools, t, Members(mask=mask), figures)
        for t in association(data, col, tuple(kinds), rows=rows)
    ]
