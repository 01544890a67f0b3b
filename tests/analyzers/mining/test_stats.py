from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from analyzers.mining._stats import binomial_tail_p, holm_adjust, rate_difference_p, stratified_test, type_weights


def test_holm_adjust_matches_hand_computation() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.2])
    # sorted 0.01*4=0.04, 0.03*3=0.09, 0.04*2=0.08 -> 0.09 (monotone), 0.2*1=0.2
    assert np.allclose(holm_adjust(p), [0.04, 0.09, 0.09, 0.2])
    assert np.allclose(holm_adjust(p, np.ones(4) * 3.0), holm_adjust(p))
    assert holm_adjust(np.array([0.9, 0.8])).max() == 1.0


def test_weighted_holm_favours_heavier_tests() -> None:
    p = np.array([0.01, 0.02])
    adj = holm_adjust(p, np.array([3.0, 1.0]))
    assert np.allclose(adj, [0.01 / 1.5 * 2, 0.04 * 0.5])
    assert adj[0] < holm_adjust(p)[0]


def test_type_weights_give_each_type_the_same_share() -> None:
    w = type_weights(["a", "a", "a", "b"])
    assert np.isclose(w[:3].sum(), w[3])


def test_rate_difference_p_falls_with_more_runs_and_respects_min_effect() -> None:
    small = rate_difference_p(16, 20, 8, 20, 0.1)
    large = rate_difference_p(160, 200, 80, 200, 0.1)
    assert large < small
    # An observed difference equal to the minimum effect is not evidence of a larger one.
    assert rate_difference_p(60, 100, 50, 100, 0.1) > 0.4


def test_rate_difference_p_is_not_fooled_by_tiny_perfect_groups() -> None:
    # 8 successes out of 8 against a 50% rest: the exact tail (0.6 ** 8) bounds the p-value.
    assert rate_difference_p(8, 8, 246, 492, 0.1) >= 0.6**8 - 1e-12


def test_binomial_tail_p_is_exact() -> None:
    assert np.isclose(binomial_tail_p(np.array([3]), np.array([3]), 0.5)[0], 0.125)


def _tables(tables: list[tuple[int, int, int, int]]) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """Rows of 2x2 tables (with successes, with failures, without successes, without failures)."""
    x: list[int] = []
    y: list[int] = []
    s: list[int] = []
    for k, (a, b, c, d) in enumerate(tables):
        for count, with_, ok in ((a, 1, 1), (b, 1, 0), (c, 0, 1), (d, 0, 0)):
            x += [with_] * count
            y += [ok] * count
            s += [k] * count
    return sp.csc_matrix(np.asarray(x, float).reshape(-1, 1)), np.asarray(y), np.asarray(s)


def test_cmh_matches_the_published_penicillin_example() -> None:
    # Agresti (1990), penicillin and rabbits: R's mantelhaen.test (continuity-corrected) gives p = 0.047.
    x, y, s = _tables([(0, 6, 0, 5), (3, 3, 0, 6), (6, 0, 2, 4), (5, 1, 6, 0), (2, 0, 5, 0)])
    t = stratified_test(x, y, s)
    assert 2 * t.p_up[0] == pytest.approx(0.0475, abs=5e-4)
    assert t.strata[0] == 3  # two strata have only one outcome: no information within them


def test_one_stratum_is_the_pooled_comparison_with_a_wald_like_interval() -> None:
    x, y, s = _tables([(60, 40, 50, 50)])
    t = stratified_test(x, y, np.zeros_like(s))
    assert t.effect[0] == pytest.approx(0.1)
    assert t.se[0] == pytest.approx(np.sqrt(0.6 * 0.4 / 100 + 0.5 * 0.5 / 100))
    assert (t.n_with[0], t.s_with[0], t.n_without[0], t.s_without[0]) == (100, 60, 100, 50)
    low, high = t.interval(0)
    assert low == pytest.approx(0.1 - 1.6449 * t.se[0], abs=1e-4) and high > 0.2


def test_strata_take_out_a_confounder_and_rows_can_be_left_out() -> None:
    # Easy tasks use the tool and succeed; hard tasks rarely use it and fail; within a task it does nothing.
    x, y, s = _tables([(36, 4, 9, 1), (1, 9, 4, 36)])
    pooled = stratified_test(x, y, np.zeros_like(s))
    within = stratified_test(x, y, s)
    assert pooled.p_up[0] < 1e-4 and pooled.effect[0] > 0.4
    assert within.p_up[0] > 0.3 and abs(within.effect[0]) < 1e-9
    left_out = stratified_test(x, y, np.where(s == 0, s, -1))
    assert left_out.n_with[0] == 40 and left_out.n_without[0] == 10
