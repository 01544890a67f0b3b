from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from analyzers.mining import RunClusterer, ToolSequenceFeaturizer, encode_runs
from analyzers.model import Run, Step


def test_featurizer_fit_returns_self_and_learns_ngrams() -> None:
    f = ToolSequenceFeaturizer(ngram_range=(1, 2))
    assert f.fit([["a", "b", "a"], ["b", "c"]]) is f
    assert set(f.ngrams_) == {("a",), ("b",), ("c",), ("a", "b"), ("b", "a"), ("b", "c")}
    assert f.vocabulary_[("a", "b")] == f.ngrams_.index(("a", "b"))
    assert f.n_features_out_ == 6


def test_featurizer_matrix_is_binary_presence_per_run() -> None:
    f = ToolSequenceFeaturizer(ngram_range=(1, 2))
    X = f.fit_transform([["a", "b", "a", "b"], ["b", "c"], []])
    assert X.shape == (3, f.n_features_out_)
    row0 = {f.ngrams_[j] for j in X[0].indices}
    assert row0 == {("a",), ("b",), ("a", "b"), ("b", "a")}
    assert X.max() == 1.0
    assert X[2].nnz == 0


def test_featurizer_counts_when_not_binary() -> None:
    f = ToolSequenceFeaturizer(ngram_range=(2, 2), binary=False)
    X = f.fit_transform([["a", "b", "a", "b"]])
    assert X[0, f.vocabulary_[("a", "b")]] == 2.0
    assert X[0, f.vocabulary_[("b", "a")]] == 1.0


def test_featurizer_ngrams_never_cross_runs() -> None:
    f = ToolSequenceFeaturizer(ngram_range=(2, 2))
    f.fit([["a"], ["b"]])
    assert f.ngrams_ == ()


def test_featurizer_min_support_drops_rare_ngrams() -> None:
    f = ToolSequenceFeaturizer(ngram_range=(1, 1), min_support=2).fit([["a", "b"], ["a"], ["c"]])
    assert f.ngrams_ == (("a",),)
    assert f.support_.tolist() == [2]


def test_featurizer_transform_ignores_unknown_tools() -> None:
    f = ToolSequenceFeaturizer(ngram_range=(1, 2)).fit([["a", "b"]])
    X = f.transform([["z", "a", "b", "z"], ["z"]])
    assert {f.ngrams_[j] for j in X[0].indices} == {("a",), ("b",), ("a", "b")}
    assert X[1].nnz == 0


def test_featurizer_follows_estimator_contract() -> None:
    f = ToolSequenceFeaturizer(ngram_range=(1, 2), min_support=3)
    assert f.get_params() == {"batch_runs": 1 << 14, "binary": True, "min_support": 3, "ngram_range": (1, 2)}
    assert not hasattr(clone(f), "ngrams_")
    with pytest.raises(ValueError, match="not fitted"):
        f.transform([["a"]])
    with pytest.raises(ValueError, match="ngram_range"):
        ToolSequenceFeaturizer(ngram_range=(2, 1)).fit([["a"]])
    with pytest.raises(ValueError, match="batch_runs"):
        ToolSequenceFeaturizer(batch_runs=0).fit([["a"]])


def test_featurizer_reads_encoded_runs_tool_steps_only() -> None:
    runs = [
        Run(
            "t1", "ag", True, 0, 1.0,
            (Step("thinking", "think", True, 1.0), Step("tool", "a", True, 1.0), Step("llm", "m", True, 1.0),
             Step("tool", "b", False, 1.0)),
        )
    ]
    enc = encode_runs(runs)
    X = ToolSequenceFeaturizer(ngram_range=(2, 2)).fit_transform(enc)
    assert X.shape == (1, 1)
    assert enc.tool_sequences() == [["a", "b"]]
    assert enc.think_first.tolist() == [True]


def test_clusterer_is_deterministic_and_separates_profiles() -> None:
    seqs = [["a", "b", "c"]] * 30 + [["x", "y", "z"]] * 30
    X = ToolSequenceFeaturizer().fit_transform(seqs)
    one = RunClusterer(n_clusters=2, min_cluster_runs=10, random_state=7).fit(X)
    two = RunClusterer(n_clusters=2, min_cluster_runs=10, random_state=7).fit(X)
    assert np.array_equal(one.labels_, two.labels_)
    assert len(set(one.labels_[:30])) == 1 and len(set(one.labels_[30:])) == 1
    assert one.labels_[0] != one.labels_[-1]
    assert np.array_equal(one.predict(X), one.labels_)


def test_clusterer_uses_one_cluster_for_few_runs() -> None:
    X = ToolSequenceFeaturizer().fit_transform([["a"], ["b"], ["c"]])
    c = RunClusterer(n_clusters=8, min_cluster_runs=20).fit(X)
    assert c.n_clusters_ == 1
    assert c.labels_.tolist() == [0, 0, 0]


def _random_sequences(n_runs: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [[f"t{k}" for k in rng.integers(0, 6, size=rng.integers(0, 9))] for _ in range(n_runs)]


@pytest.mark.parametrize("binary", [True, False])
def test_featurizer_batches_of_runs_give_the_same_matrix_as_one_batch(binary: bool) -> None:
    seqs, other = _random_sequences(300, 0), _random_sequences(40, 1) + [["unknown", "t1", "t2"]]
    whole = ToolSequenceFeaturizer((1, 3), min_support=4, binary=binary, batch_runs=10_000)
    X = whole.fit_transform(seqs)
    assert X.nnz > 300 and (X.data > 1).any() != binary
    for batch in (1, 7, 299):
        part = ToolSequenceFeaturizer((1, 3), min_support=4, binary=binary, batch_runs=batch)
        Y = part.fit_transform(seqs)
        assert part.ngrams_ == whole.ngrams_ and part.support_.tolist() == whole.support_.tolist()
        assert (Y != X).nnz == 0 and Y.has_canonical_format and Y.indices.dtype == np.int32
        assert (part.transform(other) != whole.transform(other)).nnz == 0


def test_tool_run_matrix_marks_each_tool_a_run_called_once() -> None:
    from analyzers.mining._features import tool_run_matrix

    runs = [Run(f"t{i}", "ag", True, 0, 1.0, tuple(Step("tool", name, True, 1.0) for name in seq))
            for i, seq in enumerate([["a", "b", "a"], [], ["c"], ["b", "b"]])]
    enc = encode_runs(runs)
    for batch in (1, 3, 100):
        M = tool_run_matrix(enc, batch)
        rows = [sorted(enc.tools[j] for j in M[i].indices) for i in range(enc.n_runs)]
        assert rows == [["a", "b"], [], ["c"], ["b"]] and M.max() == 1.0


@pytest.mark.parametrize("entries", [1, 37, 400])
def test_stratified_test_over_column_blocks_equals_the_whole_matrix(entries: int) -> None:
    import scipy.sparse as sp

    from analyzers.mining._features import column_blocks
    from analyzers.mining._stats import _joined, stratified_test

    rng = np.random.default_rng(3)
    X = sp.random(600, 40, density=0.08, format="csc", random_state=4, data_rvs=np.ones).astype(np.float32)
    X = sp.hstack([X, sp.csc_matrix(np.ones((600, 1), np.float32))]).tocsc()  # one column over the block
    outcome = (rng.random(600) < 0.5).astype(np.int8)
    strata = rng.integers(-1, 30, size=600)
    blocks = column_blocks(X, entries)
    assert blocks is not None and len(blocks) > 1 and sum(b.shape[1] for b in blocks) == 41
    whole, joined = stratified_test(X, outcome, strata), _joined([stratified_test(b, outcome, strata) for b in blocks])
    for name in ("p_up", "p_down", "effect", "se", "n_with", "s_with", "n_without", "s_without", "strata"):
        assert np.array_equal(getattr(whole, name), getattr(joined, name)), name
    assert column_blocks(X, X.nnz) is None


@pytest.mark.parametrize("n_rows", [1000, 200_000])
def test_cluster_means_from_counts_equal_scipys_row_subset_means_to_the_bit(n_rows: int) -> None:
    import scipy.sparse as sp

    from analyzers.mining._candidates import cluster_counts, column_means

    rng = np.random.default_rng(n_rows)
    X = sp.csr_matrix((rng.random((n_rows, 12)) < np.linspace(0.01, 0.9, 12)).astype(np.float32))
    labels = rng.integers(0, 4, n_rows)
    counts = cluster_counts(X.tocsc(), labels, 4)
    for k in range(4):
        mask = labels == k
        assert np.array_equal(column_means(counts[k], int(mask.sum())), np.asarray(X[mask].mean(axis=0)).ravel())
        rest = counts.sum(axis=0) - counts[k]
        assert np.array_equal(column_means(rest, int((~mask).sum())), np.asarray(X[~mask].mean(axis=0)).ravel())
