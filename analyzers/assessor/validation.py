"""How well a run score separates successes from failures: ROC AUC, a bootstrap interval that
resamples whole groups (the trials of one task move together), and out-of-sample scores from a
model fitted on other data (cross-dataset transfer, grouped k-fold).

Used by ``benchmarks/judge_auc.py`` and the dataset test of the heuristic judge.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class AucEstimate:
    """An AUC with its bootstrap interval (``level`` two-sided) over ``groups`` resampled groups."""

    auc: float
    low: float
    high: float
    runs: int
    positives: int
    groups: int
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.auc:.3f} ({self.level:.0%} CI {self.low:.3f}-{self.high:.3f})"


def auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """ROC AUC: the probability that a success outscores a failure (ties count half); NaN when one
    class is absent."""
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(np.asarray(scores, dtype=float), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]  # 1-based, ties share their mean rank
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def grouped_bootstrap(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    groups: Sequence[Hashable] | None = None,
    *,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> AucEstimate:
    """The AUC and a percentile bootstrap interval that resamples groups with replacement (every
    run of a picked group comes along); ``groups=None`` resamples runs."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    keys: list[Hashable] = list(range(len(s))) if groups is None else list(groups)
    index: dict[Hashable, list[int]] = {}
    for i, key in enumerate(keys):
        index.setdefault(key, []).append(i)
    members = [np.asarray(v) for v in index.values()]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        picked = rng.integers(0, len(members), len(members))
        rows = np.concatenate([members[g] for g in picked])
        a = auc(s[rows], y[rows])
        if not np.isnan(a):
            values.append(a)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail]) if values else (float("nan"), float("nan"))
    return AucEstimate(auc(s, y), float(low), float(high), len(s), int(y.sum()), len(members), level)


def _model(random_state: int = 0):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000, random_state=random_state))


def transfer_scores(
    train_x: Sequence[Sequence[float]], train_y: Sequence[bool], test_x: Sequence[Sequence[float]]
) -> list[float]:
    """Success probabilities for ``test_x`` from a standardised logistic regression fitted on the
    training data only."""
    model = _model().fit(np.asarray(train_x, dtype=float), np.asarray(train_y, dtype=bool))
    return [float(p) for p in model.predict_proba(np.asarray(test_x, dtype=float))[:, 1]]


def grouped_cv_scores(
    x: Sequence[Sequence[float]], y: Sequence[bool], groups: Sequence[Hashable], *, folds: int = 5, seed: int = 0
) -> list[float]:
    """Out-of-fold success probabilities: stratified k-fold over groups, so no group (task) has runs
    on both sides of a split; each run is scored by a model that never saw its group."""
    from sklearn.model_selection import StratifiedGroupKFold

    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=bool)
    out = np.zeros(len(ys))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(xs, ys, groups=list(groups)):
        out[test] = _model().fit(xs[train], ys[train]).predict_proba(xs[test])[:, 1]
    return [float(p) for p in out]
