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

logger = logging.getLogger(__name__)


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
        self._tfidf_ = TfidfTransformer(sublinear_tf=True).fit(X)
        self.idf_ = self._tfidf_.idf_
        if self.n_clusters_ == 1 or X.shape[1] == 0:
            self.n_clusters_ = 1
            self._kmeans_ = None
            self.cluster_centers_ = np.zeros((1, X.shape[1]))
            self.labels_ = np.zeros(n, dtype=np.int32)
            return self
        Z = self._tfidf_.transform(X)
        rng = np.random.default_rng(self.random_state)
        fit_rows = Z if n <= self.max_fit_runs else Z[np.sort(rng.choice(n, self.max_fit_runs, replace=False))]
        km = MiniBatchKMeans(
            n_clusters=self.n_clusters_,
            batch_size=2048,
            n_init=3,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # Fewer distinct rows than clusters: k-means then leaves clusters empty, which is fine here.
            warnings.simplefilter("ignore", ConvergenceWarning)
            km.fit(fit_rows)
        self._kmeans_ = km
        self.cluster_centers_ = km.cluster_centers_
        self.labels_ = km.predict(Z).astype(np.int32)
        logger.debug("clustered %d runs into %d clusters", n, self.n_clusters_)
        return self

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        """The nearest cluster of each row of ``X``."""
        if not hasattr(self, "labels_"):
            raise ValueError("this RunClusterer is not fitted yet; call fit() first")
        if self._kmeans_ is None:
            return np.zeros(X.shape[0], dtype=np.int32)
        return self._kmeans_.predict(self._tfidf_.transform(sp.csr_matrix(X))).astype(np.int32)
