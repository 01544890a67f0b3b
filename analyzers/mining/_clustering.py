"""``RunClusterer``: groups runs with similar tool n-gram profiles."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

#: Below this many rows k-means runs single-threaded.
_THREADED_ROWS = 50_000
#: Rows weighted and assigned at a time: the tf-idf copy of the rows is one batch's, never all of them.
_PREDICT_ROWS = 1 << 16


class RunClusterer(ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """Cluster runs on their tool n-gram rows (tf-idf weighted, L2-normalised).

    The algorithm is scikit-learn's ``MiniBatchKMeans``: it takes sparse input as is, its cost grows
    linearly with the number of runs (it is fitted on at most ``max_fit_runs`` rows drawn with
    ``random_state`` and then assigns every run to its nearest centre, one sparse product), it needs no
    pairwise distance matrix (unlike agglomerative clustering or DBSCAN, which are quadratic in time or
    memory at a million runs), and with ``random_state`` fixed its result is deterministic. On
    L2-normalised tf-idf rows, Euclidean k-means is spherical k-means, i.e. cosine similarity of the
    runs' n-gram profiles.

    Parameters: ``n_clusters`` (upper bound; fewer when there are few runs: at most one cluster per
    ``min_cluster_runs`` runs), ``min_cluster_runs``, ``max_fit_runs``, ``random_state``.
    Learned: ``n_clusters_``, ``labels_`` (one per fitted run), ``cluster_centers_``, ``idf_``.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        min_cluster_runs: int = 20,
        max_fit_runs: int = 20_000,
        random_state: int | None = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.min_cluster_runs = min_cluster_runs
        self.max_fit_runs = max_fit_runs
        self.random_state = random_state

    def fit(self, X: sp.spmatrix, y: object = None) -> RunClusterer:
        """Cluster the rows of ``X`` (runs by n-gram features)."""
        if self.n_clusters < 1:
            raise ValueError(f"n_clusters must be >= 1, got {self.n_clusters!r}")
        X = sp.csr_matrix(X)
        n = X.shape[0]
        k = int(min(self.n_clusters, n // max(self.min_cluster_runs, 1)))
        self.n_clusters_ = max(k, 1)
        self._tfidf_ = TfidfTransformer(sublinear_tf=True).fit(X) if n and X.shape[1] else None
        self.idf_ = self._tfidf_.idf_ if self._tfidf_ is not None else np.zeros(X.shape[1])
        if self.n_clusters_ == 1 or self._tfidf_ is None:
            self.n_clusters_ = 1
            self._kmeans_ = None
            self.cluster_centers_ = np.zeros((1, X.shape[1]))
            self.labels_ = np.zeros(n, dtype=np.int32)
            return self
        rng = np.random.default_rng(self.random_state)
        # tf-idf weighting and normalising act on each row alone: weighting the sampled rows only
        # gives exactly the rows weighting all of them would
        sample = X if n <= self.max_fit_runs else X[np.sort(rng.choice(n, self.max_fit_runs, replace=False))]
        fit_rows = self._tfidf_.transform(sample)
        km = MiniBatchKMeans(
            n_clusters=self.n_clusters_,
            batch_size=2048,
            n_init=3,
            random_state=self.random_state,
        )
        # On small inputs, starting OpenMP threads costs more than the work (20 ms per step).
        with warnings.catch_warnings(), threadpool_limits(1 if fit_rows.shape[0] < _THREADED_ROWS else None):
            # Fewer distinct rows than clusters: k-means then leaves clusters empty, which is fine here.
            warnings.simplefilter("ignore", ConvergenceWarning)
            km.fit(fit_rows)
        self._kmeans_ = km
        self.cluster_centers_ = km.cluster_centers_
        self.labels_ = self.predict(X)
        logger.debug("clustered %d runs into %d clusters", n, self.n_clusters_)
        return self

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        """The nearest cluster of each row of ``X``."""
        if not hasattr(self, "_kmeans_"):
            raise ValueError("this RunClusterer is not fitted yet; call fit() first")
        if self._kmeans_ is None or self._tfidf_ is None:
            return np.zeros(X.shape[0], dtype=np.int32)
        X = sp.csr_matrix(X)
        labels = np.zeros(X.shape[0], dtype=np.int32)
        with threadpool_limits(1 if X.shape[0] < _THREADED_ROWS else None):
            for start in range(0, X.shape[0], _PREDICT_ROWS):
                rows = X[start : start + _PREDICT_ROWS]
                labels[start : start + rows.shape[0]] = self._kmeans_.predict(self._tfidf_.transform(rows))
        return labels
