from __future__ import annotations

import random

import pytest
from sklearn.metrics import roc_auc_score

from analyzers.assessor.validation import auc, grouped_bootstrap, grouped_cv_scores, transfer_scores


def test_auc_matches_scikit_learn_with_ties() -> None:
    rng = random.Random(3)
    for _ in range(20):
        scores = [rng.choice([0.0, 0.25, 0.5, 1.0]) for _ in range(40)]
        labels = [rng.random() < 0.4 for _ in range(40)]
        assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert auc([1.0, 2.0], [True, True]) != auc([1.0, 2.0], [True, True])  # NaN: one class only


def test_grouped_bootstrap_resamples_whole_groups() -> None:
    rng = random.Random(5)
    base = [(rng.random(), rng.random() < 0.5) for _ in range(30)]
    # Four identical trials per task: resampling runs pretends to have 4x the evidence.
    scores = [s for s, _ in base for _ in range(4)]
    labels = [y for _, y in base for _ in range(4)]
    groups = [i for i in range(30) for _ in range(4)]
    by_run = grouped_bootstrap(scores, labels, resamples=500)
    by_task = grouped_bootstrap(scores, labels, groups, resamples=500)
    assert by_task.auc == by_run.auc and by_task.groups == 30 and by_run.groups == 120
    assert by_task.high - by_task.low > 1.5 * (by_run.high - by_run.low)
    assert by_task.low <= by_task.auc <= by_task.high


def test_fitted_scores_are_out_of_sample_and_separate_a_real_signal() -> None:
    rng = random.Random(7)
    labels = [rng.random() < 0.5 for _ in range(120)]
    x = [(float(y) + rng.gauss(0, 0.7), rng.gauss(0, 1)) for y in labels]
    groups = [i // 3 for i in range(120)]
    cv = grouped_cv_scores(x, labels, groups)
    assert len(cv) == 120 and auc(cv, labels) > 0.7
    assert auc(transfer_scores(x[:60], labels[:60], x[60:]), labels[60:]) > 0.7
    noise = [(rng.gauss(0, 1), rng.gauss(0, 1)) for _ in labels]
    assert abs(auc(grouped_cv_scores(noise, labels, groups), labels) - 0.5) < 0.2
