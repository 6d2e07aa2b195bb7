"""The 1-vs-k retrieval protocol, its scorer factory and the nearest-neighbour search."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.metrics import make_retrieval_scorer, nearest_neighbors, retrieval_accuracy


class MeanRowDot(BaseSimilarity):
    """Mean dot product of paired rows: a minimal measure for protocol tests."""

    def _compare(self, X, y):
        return np.mean(np.sum(X * y, axis=1))


class Constant(BaseSimilarity):
    """A collapsed measure: the same value for every pair."""

    def _compare(self, X, y):
        return 1.0


def fitted(measure, X, y):
    return measure.fit(X, y)


def test_aligned_pairs_are_always_retrieved():
    rng = np.random.RandomState(0)
    X = rng.randn(320, 6)
    assert fitted(MeanRowDot(), X, X).score(X, X) == 1.0


def test_independent_pairs_score_at_chance():
    rng = np.random.RandomState(0)
    X, y = rng.randn(2000, 6), rng.randn(2000, 6)
    accuracy, hits = retrieval_accuracy(
        fitted(MeanRowDot(), X, y), X, y, chunk_size=8, n_repeats=4, return_hits=True
    )
    assert hits.size == 4 * (2000 // 8)
    # Chance is 1 / 11; the bound is about five standard errors.
    assert abs(accuracy - 1 / 11) < 5 * np.sqrt((1 / 11) * (10 / 11) / hits.size)


def test_ties_count_as_misses():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    assert fitted(Constant(), X, X).score(X, X) == 0.0


def test_hard_negatives_are_harder_than_random():
    rng = np.random.RandomState(0)
    # Rows come in tight clusters, so a row's nearest neighbours are near-copies of it.
    centers = rng.randn(50, 10)
    y = np.repeat(centers, 8, axis=0) + 0.3 * rng.randn(400, 10)
    X = y + 0.3 * rng.randn(400, 10)
    measure = fitted(MeanRowDot(), X, y)
    kwargs = dict(chunk_size=4, n_repeats=3)
    random_accuracy = retrieval_accuracy(measure, X, y, negatives="random", **kwargs)
    hard_accuracy = retrieval_accuracy(measure, X, y, negatives="hard", **kwargs)
    assert random_accuracy > 0.9
    assert hard_accuracy < random_accuracy - 0.2


def test_same_random_state_same_decisions():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    y = X + 2 * rng.randn(200, 4)
    measure = fitted(MeanRowDot(), X, y)
    first = retrieval_accuracy(measure, X, y, chunk_size=5, random_state=3, return_hits=True)[1]
    second = retrieval_accuracy(measure, X, y, chunk_size=5, random_state=3, return_hits=True)[1]
    other = retrieval_accuracy(measure, X, y, chunk_size=5, random_state=4, return_hits=True)[1]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_chunk_size_is_capped_on_small_inputs():
    rng = np.random.RandomState(0)
    X = rng.randn(10, 3)
    accuracy, hits = retrieval_accuracy(fitted(MeanRowDot(), X, X), X, X, return_hits=True)
    assert hits.size == 2 and accuracy == 1.0


def test_too_few_samples_for_the_protocol():
    X = np.random.RandomState(0).randn(3, 2)
    measure = fitted(MeanRowDot(), X, X)
    with pytest.raises(ValueError, match="at least 4 samples"):
        measure.score(X, X)
    with pytest.raises(ValueError, match="n_negatives < n_samples"):
        retrieval_accuracy(measure, np.vstack([X, X]), np.vstack([X, X]), negatives="hard")


@pytest.mark.parametrize(
    "params", [{"chunk_size": 0}, {"n_negatives": 0}, {"negatives": "easy"}, {"n_repeats": 1.5}]
)
def test_invalid_protocol_parameters(params):
    with pytest.raises(ValueError):
        make_retrieval_scorer(**params)


def test_scorer_in_cross_val_score():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    scorer = make_retrieval_scorer(chunk_size=5, n_negatives=3)
    assert scorer.params["n_negatives"] == 3
    scores = cross_val_score(MeanRowDot(), X, X + 0.1 * rng.randn(300, 5), cv=3, scoring=scorer)
    np.testing.assert_array_equal(scores, [1.0, 1.0, 1.0])


def test_neighbors_backends_agree():
    Z = np.random.RandomState(0).randn(300, 16)
    np.testing.assert_array_equal(
        nearest_neighbors(Z, 5, backend="faiss"), nearest_neighbors(Z, 5, backend="sklearn")
    )


@pytest.mark.parametrize("backend", ["faiss", "sklearn"])
def test_neighbors_exclude_self_even_with_duplicates_and_zero_rows(backend):
    rng = np.random.RandomState(0)
    base = rng.randn(20, 4)
    Z = np.vstack([base, base, np.zeros((2, 4))])
    neighbors = nearest_neighbors(Z, 3, backend=backend)
    assert neighbors.shape == (42, 3)
    assert not np.any(neighbors == np.arange(42)[:, None])
    # A duplicate is the nearest neighbour of its twin.
    np.testing.assert_array_equal(neighbors[:20, 0], np.arange(20, 40))


def test_neighbors_bad_arguments():
    Z = np.ones((5, 2))
    with pytest.raises(ValueError, match="between 1 and"):
        nearest_neighbors(Z, 5)
    with pytest.raises(ValueError, match="backend"):
        nearest_neighbors(Z, 2, backend="annoy")


def test_scorer_accepts_a_pipeline_ending_in_a_measure():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    y = 3 * X + 0.1 * rng.randn(300, 5)
    pipeline = make_pipeline(StandardScaler(), MeanRowDot())
    scorer = make_retrieval_scorer(chunk_size=5)
    scores = cross_val_score(pipeline, X, y, cv=3, scoring=scorer)
    np.testing.assert_array_equal(scores, [1.0, 1.0, 1.0])
    fitted_pipeline = pipeline.fit(X, y)
    assert scorer(fitted_pipeline, X, y) == fitted_pipeline.score(X, y) == 1.0


def test_scorer_rejects_what_is_not_a_measure():
    from sklearn.linear_model import Ridge

    X = np.random.RandomState(0).randn(20, 2)
    with pytest.raises(TypeError, match="similarity measures"):
        retrieval_accuracy(Ridge().fit(X, X), X, X)


class WarnsEveryTime(MeanRowDot):
    def _compare(self, X, y):
        warnings.warn("degenerate", UserWarning)
        return super()._compare(X, y)


def test_warnings_of_chunk_comparisons_are_reported_once():
    X = np.random.RandomState(0).randn(40, 3)
    measure = WarnsEveryTime().fit(X, X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        retrieval_accuracy(measure, X, X, chunk_size=4, n_negatives=2)
    assert len(caught) == 1
    assert "30 warning(s) in 30 chunk comparisons; the first: degenerate" in str(caught[0].message)
