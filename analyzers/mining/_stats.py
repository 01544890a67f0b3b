"""The tests behind a pattern's ``confidence``.

Every candidate pattern is a one-sided *minimum-effect* test: the null hypothesis is not "no effect"
but "an effect of at most ``min_effect``" (for a rate difference: ``p_with - p_without <= min_effect``).
Under pure noise the true effect is 0, well inside that null, so noise rarely comes near significance,
while a real effect larger than ``min_effect`` is detected with enough runs. All the tests of one agent
form one family; their p-values are adjusted with Holm's step-down method (valid under any dependence
between the tests; weighted so that every pattern type gets the same share of the error budget) and
``confidence = 1 - adjusted p``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats


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
    """Weights that give every pattern type the same share of the error budget, split evenly among
    that type's tests (so a type with few tests is not drowned by a type with hundreds)."""
    if not types:
        return np.zeros(0)
    labels, inverse, counts = np.unique(np.asarray(types), return_inverse=True, return_counts=True)
    return 1.0 / (len(labels) * counts[inverse])
