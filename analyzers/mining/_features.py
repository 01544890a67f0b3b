"""``ToolSequenceFeaturizer``: runs' tool sequences to a sparse matrix of tool n-grams."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from analyzers.mining._encoding import EncodedRuns, TraceIds

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
        trace_ids=TraceIds.of(str(i) for i in range(n)),
        outcome=np.zeros(n, dtype=np.int8),
        duration_ms=zeros.astype(np.float64),
        think_count=zeros.astype(np.int32),
        think_first=zeros.astype(np.bool_),
        think_chars=zeros,
        offsets=np.asarray(offsets, dtype=np.int64),
        step_tool=np.asarray(tool, dtype=np.int32),
        step_ok=np.ones(len(tool), dtype=np.bool_),
        step_duration_ms=np.zeros(len(tool), dtype=np.float32),
        step_digest=np.zeros(len(tool), dtype=np.int32),
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
    width = max(n_cols, 1)
    key = rows.astype(np.int64)  # a copy: sorted in place below
    key *= width
    key += cols
    key.sort()
    if key.shape[0]:
        keep = np.empty(key.shape[0], dtype=bool)
        keep[0] = True
        np.not_equal(key[1:], key[:-1], out=keep[1:])
        key = key[keep]
    return csr_from_keys(key, n_rows, n_cols)


def csr_from_keys(
    key: np.ndarray, n_rows: int, n_cols: int, data: np.ndarray | None = None
) -> sp.csr_matrix:
    """The CSR matrix with ``data`` (ones by default) at the sorted, distinct ``row * n_cols + col``
    keys, built directly (no COO intermediate) with 32-bit indices whenever they fit."""
    width = max(n_cols, 1)
    index = np.int32 if max(key.shape[0], width, n_rows) < np.iinfo(np.int32).max else np.int64
    indptr = np.searchsorted(key, np.arange(n_rows + 1, dtype=np.int64) * width).astype(index)
    indices = np.remainder(key, width).astype(index)
    values = np.ones(key.shape[0], dtype=np.float32) if data is None else data
    m = sp.csr_matrix((values, indices, indptr), shape=(n_rows, n_cols))
    m.has_sorted_indices = True
    m.has_canonical_format = True
    return m


def stack_rows(parts: list[sp.csr_matrix], n_cols: int) -> sp.csr_matrix:
    """The CSR blocks of consecutive rows ``parts``, one under the other (one copy of their entries;
    the values keep the first block's dtype)."""
    if len(parts) == 1:
        return parts[0]
    nnz = sum(p.nnz for p in parts)
    n_rows = sum(p.shape[0] for p in parts)
    index = np.int32 if max(nnz, n_cols, n_rows) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n_rows + 1, dtype=index)
    indices = np.empty(nnz, dtype=index)
    data = np.empty(nnz, dtype=parts[0].data.dtype)
    row = at = 0
    for p in parts:
        r, k = p.shape[0], p.nnz
        indptr[row + 1 : row + r + 1] = p.indptr[1:]
        indptr[row + 1 : row + r + 1] += at
        indices[at : at + k] = p.indices
        data[at : at + k] = p.data
        row, at = row + r, at + k
    m = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
    m.has_sorted_indices = True
    m.has_canonical_format = True
    return m


#: Entries of an indicator matrix a column-wise computation reads at a time (``column_blocks``).
BLOCK_ENTRIES = 1 << 22


def column_blocks(indicator: sp.spmatrix, entries: int = BLOCK_ENTRIES) -> list[sp.csc_matrix] | None:
    """``indicator`` as consecutive blocks of whole columns of about ``entries`` entries each (a column
    with more is a block of its own), or ``None`` when it has at most ``entries`` (one block)."""
    if indicator.nnz <= entries or indicator.shape[1] < 2:
        return None
    m = sp.csc_matrix(indicator)
    cuts = np.searchsorted(m.indptr, np.arange(entries, m.nnz, entries, dtype=np.int64), side="right") - 1
    bounds = np.unique(np.concatenate([[0], np.maximum(cuts, 1), [m.shape[1]]]))
    return [m[:, a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


def run_batches(enc: EncodedRuns, batch_runs: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """Consecutive ranges ``[start, stop)`` of at most ``batch_runs`` runs, with the run index of each
    of their tool steps (``enc.step_run()`` one slice at a time)."""
    step = max(int(batch_runs), 1)
    for start in range(0, enc.n_runs, step):
        stop = min(start + step, enc.n_runs)
        lengths = np.diff(enc.offsets[start : stop + 1])
        yield start, stop, np.repeat(np.arange(start, stop, dtype=np.int64), lengths)
    if enc.n_runs == 0:
        yield 0, 0, np.zeros(0, np.int64)


def tool_run_matrix(enc: EncodedRuns, batch_runs: int = 1 << 16) -> sp.csr_matrix:
    """The (runs x tools) 0/1 matrix of which tools each run called, built ``batch_runs`` runs at a time."""
    V = len(enc.tools)
    parts = []
    for start, stop, step_run in run_batches(enc, batch_runs):
        tools = enc.step_tool[enc.offsets[start] : enc.offsets[stop]]
        parts.append(binary_matrix(step_run - start, tools, stop - start, V))
    return stack_rows(parts, V)


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
    batch_runs : int
        Runs processed at a time: the working arrays are those of one batch's steps, so memory beyond
        the result stays bounded however many runs there are. The result does not depend on it.

    Learned attributes: ``tools_`` (the tool vocabulary), ``ngrams_`` (one tuple of tool names per
    column), ``vocabulary_`` (n-gram tuple to column), ``support_`` (runs containing each column's
    n-gram) and ``n_features_out_``.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 3),
        min_support: float = 1,
        binary: bool = True,
        batch_runs: int = 1 << 14,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_support = min_support
        self.binary = binary
        self.batch_runs = batch_runs

    def _validate(self, n_runs: int) -> tuple[int, int, int]:
        lo, hi = self.ngram_range
        if not (1 <= lo <= hi):
            raise ValueError(f"ngram_range must satisfy 1 <= min_n <= max_n, got {self.ngram_range!r}")
        if self.batch_runs < 1:
            raise ValueError(f"batch_runs must be >= 1, got {self.batch_runs!r}")
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
        self._fit(_as_encoded(X))
        return self

    def fit_transform(self, X: SequencesLike, y: object = None) -> sp.csr_matrix:
        """``fit(X).transform(X)``."""
        enc = _as_encoded(X)
        self._fit(enc)
        return self._matrix(enc, None)

    def _fit(self, enc: EncodedRuns) -> None:
        lo, hi, threshold = self._validate(enc.n_runs)
        base = max(len(enc.tools), 1)
        # per n: the distinct codes seen so far and how many runs contain each (merged batch by batch)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        seen: list[tuple[np.ndarray, np.ndarray]] = [empty] * (hi - lo + 1)
        for start, stop, step_run in run_batches(enc, self.batch_runs):
            tool = enc.step_tool[enc.offsets[start] : enc.offsets[stop]].astype(np.int64)
            local = step_run - start
            for i, n in enumerate(range(lo, hi + 1)):
                runs, code = ngram_codes(tool, local, n, base)
                uniq, inverse = unique_inverse(code)
                width = max(len(uniq), 1)
                df = np.bincount(sorted_unique(runs * width + inverse) % width, minlength=len(uniq))
                seen[i] = merge_counts(seen[i], uniq, df)
        kept_codes = [codes[df >= threshold] for codes, df in seen]
        support = [df[df >= threshold] for _, df in seen]
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
        self.support_ = np.concatenate(support).astype(np.int64) if support else np.zeros(0, np.int64)
        self.n_features_out_ = len(ngrams)
        logger.debug("featurizer: %d runs, %d n-gram features", enc.n_runs, self.n_features_out_)

    def transform(self, X: SequencesLike) -> sp.csr_matrix:
        """The (n_runs, n_features_out_) n-gram matrix of ``X`` under the learned vocabulary."""
        if not hasattr(self, "tools_"):
            raise ValueError("this ToolSequenceFeaturizer is not fitted yet; call fit() first")
        enc = _as_encoded(X)
        lookup = {name: i for i, name in enumerate(self.tools_)}
        remap = np.asarray([lookup.get(name, -1) for name in enc.tools] or [0], dtype=np.int64)
        return self._matrix(enc, remap)

    def _matrix(self, enc: EncodedRuns, remap: np.ndarray | None) -> sp.csr_matrix:
        """The n-gram rows of ``enc``, one batch of runs at a time; ``remap`` maps ``enc``'s tool ids
        to the learned vocabulary's (``None``: they are the learned ones)."""
        base = max(len(self.tools_), 1)
        n_cols = int(self.n_features_out_)
        parts = []
        for start, stop, step_run in run_batches(enc, self.batch_runs):
            steps = enc.step_tool[enc.offsets[start] : enc.offsets[stop]]
            tool = steps.astype(np.int64) if remap is None else remap[steps]
            local = step_run - start
            rows: list[np.ndarray] = []
            cols: list[np.ndarray] = []
            for i, kept in enumerate(self._codes_):
                if not len(kept):
                    continue
                runs, code = ngram_codes(tool, local, self._lo_ + i, base)
                pos = np.minimum(np.searchsorted(kept, code), len(kept) - 1)
                hit = kept[pos] == code
                rows.append(runs[hit])
                cols.append(pos[hit] + self._offsets_[i])
            r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
            if self.binary:
                parts.append(binary_matrix(r, c, stop - start, n_cols))
                continue
            key = r * max(n_cols, 1) + c
            key.sort()
            uniq = sorted_unique(key)
            counts = np.diff(np.searchsorted(key, uniq, side="left"), append=key.shape[0]).astype(np.float32)
            parts.append(csr_from_keys(uniq, stop - start, n_cols, counts))
        return stack_rows(parts, n_cols)


def merge_counts(
    seen: tuple[np.ndarray, np.ndarray], codes: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``seen`` (sorted distinct codes and their counts) with ``codes``/``counts`` added."""
    if not len(seen[0]):
        return codes, counts.astype(np.int64)
    uniq, inverse = unique_inverse(np.concatenate([seen[0], codes]))
    total = np.bincount(inverse, weights=np.concatenate([seen[1], counts]), minlength=len(uniq))
    return uniq, total.astype(np.int64)
