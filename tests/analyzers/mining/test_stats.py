from __future__ import annotations

import numpy as np

from analyzers.mining._stats import binomial_tail_p, holm_adjust, rate_difference_p, type_weights


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
