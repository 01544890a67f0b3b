"""The tests behind a pattern's ``confidence`` and the interval behind its ``effect``.

Two questions are kept apart (docs/mining.md):

- *is the effect real*: a one-sided test of "no effect" (``stratified_test``: the Cochran-Mantel-Haenszel
  test within tasks, one stratum when runs are pooled), every candidate of an agent in one family whose
  p-values are adjusted with weighted Holm (family-wise error control under any dependence);
  ``confidence = 1 - adjusted p``;
- *is it worth a guideline*: the Mantel-Haenszel risk difference and its Sato (1989) variance give the
  effect and its interval; a guideline needs the interval's lower end above a floor.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy import special, stats

from analyzers.mining._features import column_blocks, unique_inverse


def rate_difference_p(
    hits_with: ArrayLike,
    n_with: ArrayLike,
    hits_without: ArrayLike,
    n_without: ArrayLike,
    min_effect: float,
) -> np.ndarray:
    """One-sided p-values of ``H0: rate_with - rate_without <= min_effect``.

    The larger of two p-values: a Wald z-test on the Agresti-Caffo adjusted proportions (one success
    and one failure added to each group), and the exact binomial tail of ``hits_with`` given the other
    group's observed rate plus ``min_effect``. The z-test accounts for the uncertainty of both rates;
    the exact tail keeps small groups with rates near 0 or 1 (8 successes out of 8) from looking more
    significant than they are, where the normal approximation fails.
    """
    n1 = np.asarray(n_with, dtype=np.float64) + 2.0
    n0 = np.asarray(n_without, dtype=np.float64) + 2.0
    p1 = (np.asarray(hits_with, dtype=np.float64) + 1.0) / n1
    p0 = (np.asarray(hits_without, dtype=np.float64) + 1.0) / n0
    se = np.sqrt(p1 * (1.0 - p1) / n1 + p0 * (1.0 - p0) / n0)
    z = (p1 - p0 - min_effect) / se
    wald = special.ndtr(-z)
    hits = np.asarray(hits_with, dtype=np.float64)
    n = np.asarray(n_with, dtype=np.float64)
    rest_rate = np.divide(
        np.asarray(hits_without, dtype=np.float64),
        np.asarray(n_without, dtype=np.float64),
        out=np.zeros_like(p0),
        where=np.asarray(n_without) > 0,
    )
    exact = stats.binom.sf(hits - 1, n, np.minimum(rest_rate + min_effect, 1.0))
    return np.asarray(np.maximum(wald, exact), dtype=np.float64)


def binomial_tail_p(hits: ArrayLike, n: ArrayLike, p0: float) -> np.ndarray:
    """Exact one-sided p-values of ``H0: rate <= p0`` given ``hits`` out of ``n``."""
    k = np.asarray(hits, dtype=np.int64)
    size = np.asarray(n, dtype=np.int64)
    return np.asarray(stats.binom.sf(k - 1, size, p0), dtype=np.float64)


def holm_adjust(p_values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Holm's step-down adjusted p-values, optionally weighted (Holm 1979).

    Family-wise error control under any dependence between the tests. With ``weights`` (positive; they
    are rescaled to sum to the number of tests), test ``i`` is judged by ``p_i / w_i`` against the
    level divided by the total weight of the hypotheses not yet rejected; equal weights give the
    ordinary Holm method.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.shape[0]
    if m == 0:
        return p.copy()
    w = np.ones(m) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != p.shape or np.any(w <= 0):
        raise ValueError("weights must be positive, one per p-value")
    w = w * (m / w.sum())
    ratio = p / w
    order = np.argsort(ratio, kind="stable")
    remaining = np.cumsum(w[order][::-1])[::-1]
    scaled = ratio[order] * remaining
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty(m, dtype=np.float64)
    out[order] = adjusted_sorted
    return out


def type_weights(types: list[str]) -> np.ndarray:
    """Weights that give every group of tests (a pattern type, or a kind with its own family such as
    preconditions) the same share of the error budget, split evenly among that group's tests (so a group
    with few tests is not drowned by a group with hundreds)."""
    if not types:
        return np.zeros(0)
    labels, inverse, counts = np.unique(np.asarray(types), return_inverse=True, return_counts=True)
    return 1.0 / (len(labels) * counts[inverse])


#: The reported interval of an effect: 90% two-sided, so its lower end is a one-sided 95% bound.
INTERVAL_Z = 1.6448536269514722


@dataclass(frozen=True, eq=False)
class StratifiedTest:
    """Per column of an indicator matrix: the within-stratum comparison of the runs with the property
    (``with``) against the runs without it, over the *informative* strata (those holding runs of both
    groups; the others carry no within-stratum information and drop out of every sum).

    ``p_up``/``p_down``: one-sided CMH p-values of "no effect" against a higher / lower success rate
    with the property (continuity-corrected). ``effect``: the Mantel-Haenszel risk difference (success
    rate with minus without); ``se``: its Sato standard error. ``n_with``/``s_with`` and
    ``n_without``/``s_without``: runs and successes of each group in the informative strata;
    ``strata``: how many strata are informative.
    """

    p_up: np.ndarray
    p_down: np.ndarray
    effect: np.ndarray
    se: np.ndarray
    n_with: np.ndarray
    s_with: np.ndarray
    n_without: np.ndarray
    s_without: np.ndarray
    strata: np.ndarray

    def take(self, columns: np.ndarray) -> StratifiedTest:
        """The tests of ``columns`` only (each column's test is its own)."""
        return StratifiedTest(**{f.name: getattr(self, f.name)[columns] for f in fields(StratifiedTest)})

    def interval(self, j: int) -> tuple[float, float]:
        """The 90% interval of column ``j``'s effect, clipped to [-1, 1]."""
        half = INTERVAL_Z * float(self.se[j])
        e = float(self.effect[j])
        return max(e - half, -1.0), min(e + half, 1.0)


def stratified_test(indicator: sp.spmatrix, outcome: np.ndarray, strata: np.ndarray) -> StratifiedTest:
    """Compare, within strata, the rows of each column of a 0/1 ``indicator`` (rows by columns) with
    the other rows, on a 0/1 ``outcome``. ``strata`` holds one integer per row; a negative value leaves
    the row out. One stratum for every row is the pooled comparison.

    Cochran-Mantel-Haenszel: per stratum the successes of the ``with`` group are hypergeometric given
    the margins under "no effect"; the sum over strata of observed minus expected, with a continuity
    correction of 1/2, over the square root of the summed variances is the one-sided z. It is valid for
    many small strata (the number of strata grows, not their size: a handful of trials per task), and
    vectorises over every column at once. Only (stratum, column) cells with a run of the column are
    touched: a stratum without one contributes nothing to any sum.
    """
    if (blocks := column_blocks(indicator)) is not None:  # columns are independent: bounded memory
        return _joined([stratified_test(block, outcome, strata) for block in blocks])
    coo = sp.coo_matrix(indicator)
    n_cols = coo.shape[1]
    y = np.asarray(outcome, dtype=np.float64)
    strata = np.asarray(strata, dtype=np.int64)
    keep = strata[coo.row] >= 0
    rows, cols = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    valid = strata >= 0
    k_count = int(strata.max()) + 1 if valid.any() else 0
    n_k = np.bincount(strata[valid], minlength=k_count).astype(np.float64)
    y_k = np.bincount(strata[valid], weights=y[valid], minlength=k_count)
    cell, inverse = unique_inverse(strata[rows] * max(n_cols, 1) + cols)
    n = np.bincount(inverse, minlength=len(cell)).astype(np.float64)
    x = np.bincount(inverse, weights=y[rows], minlength=len(cell))
    return cell_test(cell, n, x, n_k, y_k, n_cols)


def cell_test(
    cell: np.ndarray, n: np.ndarray, x: np.ndarray, n_k: np.ndarray, y_k: np.ndarray, n_cols: int
) -> StratifiedTest:
    """``stratified_test`` from its counts: the sorted, distinct cells ``stratum * n_cols + column``
    that hold a row of the column, the rows ``n`` and successes ``x`` of each, and the rows ``n_k``
    and successes ``y_k`` of each stratum (all whole numbers, as float64). Counts gathered a batch of
    rows at a time give the very same test as the indicator matrix would."""
    k, col = np.divmod(cell, max(n_cols, 1))
    big_n, big_y = n_k[k], y_k[k]
    m = big_n - n
    yb = big_y - x
    informative = m > 0
    safe_n = np.where(informative, big_n, 1.0)
    observed_minus_expected = np.where(informative, x - n * big_y / safe_n, 0.0)
    variance = np.where(
        informative & (big_n > 1),
        n * m * big_y * (big_n - big_y) / (safe_n**2 * np.maximum(big_n - 1.0, 1.0)),
        0.0,
    )
    weight = np.where(informative, n * m / safe_n, 0.0)
    sato_p = np.where(informative, (n**2 * yb - m**2 * x + n * m * (m - n) / 2.0) / safe_n**2, 0.0)
    sato_q = np.where(informative, (x * (m - yb) + yb * (n - x)) / (2.0 * safe_n), 0.0)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(col, weights=values, minlength=n_cols)

    o_e, var, w = total(observed_minus_expected), total(variance), total(weight)
    sd = np.sqrt(var)
    has_var = sd > 0
    safe_sd = np.where(has_var, sd, 1.0)
    p_up = np.where(has_var, special.ndtr(-(o_e - 0.5) / safe_sd), 1.0)
    p_down = np.where(has_var, special.ndtr((o_e + 0.5) / safe_sd), 1.0)
    safe_w = np.where(w > 0, w, 1.0)
    effect = np.where(w > 0, o_e / safe_w, 0.0)
    sato_var = np.maximum((effect * total(sato_p) + total(sato_q)) / safe_w**2, 0.0)
    se = np.where(w > 0, np.sqrt(sato_var), 1.0)
    return StratifiedTest(
        p_up=np.minimum(p_up, 1.0),
        p_down=np.minimum(p_down, 1.0),
        effect=effect,
        se=se,
        n_with=total(np.where(informative, n, 0.0)),
        s_with=total(np.where(informative, x, 0.0)),
        n_without=total(np.where(informative, m, 0.0)),
        s_without=total(np.where(informative, yb, 0.0)),
        strata=total(informative & (big_y > 0) & (big_y < big_n)),
    )


def _joined(parts: list[StratifiedTest]) -> StratifiedTest:
    """The tests of consecutive column blocks as one (every field is per column)."""
    return StratifiedTest(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                             for f in fields(StratifiedTest)})
