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
    assert f.get_params() == {"binary": True, "min_support": 3, "ngram_range": (1, 2)}
    assert not hasattr(clone(f), "ngrams_")
    with pytest.raises(ValueError, match="not fitted"):
        f.transform([["a"]])
    with pytest.raises(ValueError, match="ngram_range"):
        ToolSequenceFeaturizer(ngram_range=(2, 1)).fit([["a"]])


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
