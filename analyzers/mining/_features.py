"""``ToolSequenceFeaturizer``: runs' tool sequences to a sparse matrix of tool n-grams."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from analyzers.mining._encoding import EncodedRuns

logger = logging.getLogger(__name__)

#: What the featurizer accepts: encoded runs, or one sequence of tool names per run.
SequencesLike = EncodedRuns | Iterable[Sequence[str]]


def _as_encoded(X: SequencesLike) -> EncodedRuns:
    if isinstance(X, EncodedRuns):
        return X
    vocab: dict[str, int] = {}
    tool: list[int] = []
    offsets = [0]
    for seq in X:
        if isinstance(seq, str):
            raise TypeError("each run must be a sequence of tool names, not a string")
        for name in seq:
            tool.append(vocab.setdefault(name, len(vocab)))
        offsets.append(len(tool))
    n = len(offsets) - 1
    zeros = np.zeros(n, dtype=np.int64)
    return EncodedRuns(
        agent=None,
        tools=tuple(vocab),
        trace_ids=tuple(str(i) for i in range(n)),
        outcome=np.zeros(n, dtype=np.int8),
        duration_ms=zeros.astype(np.float64),
        think_count=zeros.astype(np.int32),
        think_first=zeros.astype(np.bool_),
        think_chars=zeros,
        offsets=np.asarray(offsets, dtype=np.int64),
        step_tool=np.asarray(tool, dtype=np.int32),
        step_ok=np.ones(len(tool), dtype=np.bool_),
        step_duration_ms=np.zeros(len(tool), dtype=np.float32),
        step_digest=np.zeros(len(tool), dtype=np.int64),
    )


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort-based ``np.unique``: much faster on large integer arrays
    than numpy 2's hash-based one)."""
    a = np.sort(values, kind="stable" if values.dtype.kind not in "iu" else "quicksort")
    if a.shape[0] == 0:
        return a
    keep = np.empty(a.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sorted_unique(values)`` and the index of each value in it."""
    uniq = sorted_unique(values)
    return uniq, np.searchsorted(uniq, values)


def ngram_codes(tool: np.ndarray, step_run: np.ndarray, n: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """The run index and integer code (``sum t_k * base**(n-1-k)``) of every n-gram inside a run.

    Steps whose tool is negative (unknown to a fitted vocabulary) break n-grams.
    """
    m = tool.shape[0] - n + 1
    if m <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    valid = step_run[: m] == step_run[n - 1 :]
    code = np.zeros(m, dtype=np.int64)
    for k in range(n):
        part = tool[k : k + m].astype(np.int64)
        valid &= part >= 0
        code = code * base + part
    return step_run[:m][valid], code[valid]


def binary_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """A 0/1 CSR matrix with a one at each (row, col) pair (duplicates collapse)."""
    key = sorted_unique(rows.astype(np.int64) * max(n_cols, 1) + cols)
    r, c = np.divmod(key, max(n_cols, 1))
    data = np.ones(key.shape[0], dtype=np.float32)
    return sp.csr_matrix((data, (r, c)), shape=(n_rows, n_cols))


class ToolSequenceFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Turn each run's ordered tool names into a row of tool n-gram features.

    Parameters
    ----------
    ngram_range : (min_n, max_n)
        The n-gram lengths to extract (contiguous tool sub-sequences within one run).
    min_support : int or float
        Keep n-grams that occur in at least this many runs (a float in (0, 1) is a fraction of runs),
        like ``min_df`` of scikit-learn's text vectorizers.
    binary : bool
        ``True``: 1 when the n-gram occurs in the run; ``False``: how many times it occurs.

    Learned attributes: ``tools_`` (the tool vocabulary), ``ngrams_`` (one tuple of tool names per
    column), ``vocabulary_`` (n-gram tuple to column), ``support_`` (runs containing each column's
    n-gram) and ``n_features_out_``.
    """

    def __init__(
        self, ngram_range: tuple[int, int] = (1, 3), min_support: float = 1, binary: bool = True
    ) -> None:
        self.ngram_range = ngram_range
        self.min_support = min_support
        self.binary = binary

    def _validate(self, n_runs: int) -> tuple[int, int, int]:
        lo, hi = self.ngram_range
        if not (1 <= lo <= hi):
            raise ValueError(f"ngram_range must satisfy 1 <= min_n <= max_n, got {self.ngram_range!r}")
        ms = self.min_support
        if isinstance(ms, float) and 0 < ms < 1:
            threshold = max(1, int(np.ceil(ms * n_runs)))
        elif ms >= 1:
            threshold = int(ms)
        else:
            raise ValueError(f"min_support must be >= 1 or a fraction in (0, 1), got {ms!r}")
        return lo, hi, threshold

    def fit(self, X: SequencesLike, y: object = None) -> ToolSequenceFeaturizer:
        """Learn the n-gram vocabulary of ``X`` (encoded runs or sequences of tool names)."""
        self._fit_transform(_as_encoded(X), transform=False)
        return self

    def fit_transform(self, X: SequencesLike, y: object = None) -> sp.csr_matrix:
        """``fit(X).transform(X)``, in one pass."""
        out = self._fit_transform(_as_encoded(X), transform=True)
        assert out is not None
        return out

    def _fit_transform(self, enc: EncodedRuns, *, transform: bool) -> sp.csr_matrix | None:
        lo, hi, threshold = self._validate(enc.n_runs)
        base = max(len(enc.tools), 1)
        step_run = enc.step_run()
        tool = enc.step_tool.astype(np.int64)
        kept_codes: list[np.ndarray] = []
        support: list[np.ndarray] = []
        pairs: list[tuple[np.ndarray, np.ndarray, int]] = []
        for n in range(lo, hi + 1):
            runs, code = ngram_codes(tool, step_run, n, base)
            uniq, inverse = unique_inverse(code)
            pair_key = sorted_unique(runs * max(len(uniq), 1) + inverse)
            df = np.bincount(pair_key % max(len(uniq), 1), minlength=len(uniq))
            keep = df >= threshold
            kept_codes.append(uniq[keep])
            support.append(df[keep])
            if transform:
                pairs.append((runs, code, n))
        self.tools_ = enc.tools
        self._codes_ = kept_codes
        self._lo_ = lo
        self._offsets_ = np.cumsum([0] + [len(c) for c in kept_codes])
        ngrams: list[tuple[str, ...]] = []
        for n, codes in zip(range(lo, hi + 1), kept_codes):
            for code in codes.tolist():
                digits = []
                for _ in range(n):
                    code, d = divmod(code, base)
                    digits.append(enc.tools[d])
                ngrams.append(tuple(reversed(digits)))
        self.ngrams_ = tuple(ngrams)
        self.vocabulary_ = {g: i for i, g in enumerate(ngrams)}
        self.support_ = np.concatenate(support) if support else np.zeros(0, np.int64)
        self.n_features_out_ = len(ngrams)
        logger.debug("featurizer: %d runs, %d n-gram features", enc.n_runs, self.n_features_out_)
        if not transform:
            return None
        return self._matrix(pairs, enc.n_runs)

    def transform(self, X: SequencesLike) -> sp.csr_matrix:
        """The (n_runs, n_features_out_) n-gram matrix of ``X`` under the learned vocabulary."""
        if not hasattr(self, "tools_"):
            raise ValueError("this ToolSequenceFeaturizer is not fitted yet; call fit() first")
        enc = _as_encoded(X)
        lookup = {name: i for i, name in enumerate(self.tools_)}
        remap = np.asarray([lookup.get(name, -1) for name in enc.tools] or [0], dtype=np.int64)
        tool = remap[enc.step_tool] if enc.n_steps else np.zeros(0, np.int64)
        step_run = enc.step_run()
        base = max(len(self.tools_), 1)
        lo = self._lo_
        pairs = []
        for i in range(len(self._codes_)):
            runs, code = ngram_codes(tool, step_run, lo + i, base)
            pairs.append((runs, code, lo + i))
        return self._matrix(pairs, enc.n_runs)

    def _matrix(self, pairs: list[tuple[np.ndarray, np.ndarray, int]], n_runs: int) -> sp.csr_matrix:
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for runs, code, n in pairs:
            kept = self._codes_[n - self._lo_]
            if not len(kept):
                continue
            pos = np.minimum(np.searchsorted(kept, code), len(kept) - 1)
            hit = kept[pos] == code
            rows.append(runs[hit])
            cols.append(pos[hit] + self._offsets_[n - self._lo_])
        n_cols = int(self.n_features_out_)
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        if self.binary:
            return binary_matrix(r, c, n_runs, n_cols)
        data = np.ones(r.shape[0], dtype=np.float32)
        m = sp.csr_matrix((data, (r, c)), shape=(n_runs, n_cols))
        m.sum_duplicates()
        return m
