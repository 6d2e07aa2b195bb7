"""The 1-vs-k retrieval protocol, its scorer factory and the nearest-neighbour search."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.exceptions import UnreliableScoreWarning
from sklearn_contrasim.measures import LinearCKA
from sklearn_contrasim.metrics import (
    RetrievalScorer,
    make_retrieval_scorer,
    nearest_neighbors,
    retrieval_accuracy,
)


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
    X = rng.randn(640, 6)
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
    X = rng.randn(640, 3)
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
    with pytest.warns(UnreliableScoreWarning, match="A score from 2 decisions is not a"):
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
    (name,) = params
    with pytest.raises(ValueError, match=f"The '{name}' parameter of make_retrieval_scorer"):
        make_retrieval_scorer(**params)


def test_scorer_in_cross_val_score():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    scorer = make_retrieval_scorer(chunk_size=5, n_negatives=3)
    assert scorer.get_params()["n_negatives"] == 3
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
    X = np.random.RandomState(0).randn(80, 3)
    measure = WarnsEveryTime().fit(X, X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        retrieval_accuracy(measure, X, X, chunk_size=4, n_negatives=2)
    assert len(caught) == 1
    assert "60 warning(s) in 60 chunk comparisons; the first: degenerate" in str(caught[0].message)


def test_scorer_and_a_search_that_used_it_pickle():
    """Regression: make_retrieval_scorer returned a closure, which pickle refuses."""
    rng = np.random.RandomState(0)
    X = rng.randn(600, 5)
    y = X @ rng.randn(5, 4) + 2.0 * rng.randn(600, 4)
    scorer = make_retrieval_scorer(chunk_size=4, negatives="hard")
    search = GridSearchCV(LinearCKA(), {"debiased": [False, True]}, cv=2, scoring=scorer)
    search.fit(X, y)
    scorer_copy, search_copy = pickle.loads(pickle.dumps((scorer, search)))
    assert scorer_copy == scorer
    assert scorer_copy(search_copy.best_estimator_, X, y) == scorer(search.best_estimator_, X, y)
    assert search_copy.score(X, y) == search.score(X, y)


def test_scorer_repr_shows_the_parameters_that_differ_from_the_defaults():
    scorer = make_retrieval_scorer(chunk_size=4, negatives="hard")
    assert repr(scorer) == "RetrievalScorer(chunk_size=4, negatives='hard')"
    assert repr(make_retrieval_scorer()) == "RetrievalScorer()"
    assert scorer != make_retrieval_scorer(chunk_size=4)
    assert scorer == RetrievalScorer(chunk_size=4, negatives="hard")


def test_protocol_defaults_are_those_of_score():
    rng = np.random.RandomState(0)
    X = rng.randn(800, 4)
    y = X + 3 * rng.randn(800, 4)
    measure = fitted(MeanRowDot(), X, y)
    assert measure.score(X, y) == retrieval_accuracy(measure, X, y) == RetrievalScorer()(
        measure, X, y
    )


def test_precomputed_neighbors_give_the_same_decisions():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    y = X + rng.randn(300, 4)
    measure = fitted(MeanRowDot(), X, y)
    kwargs = dict(chunk_size=5, n_negatives=3, negatives="hard", return_hits=True)
    searched = retrieval_accuracy(measure, X, y, **kwargs)[1]
    # More neighbours than needed: the first n_negatives are used.
    given = retrieval_accuracy(measure, X, y, neighbors=nearest_neighbors(y, 6), **kwargs)[1]
    np.testing.assert_array_equal(searched, given)


@pytest.mark.parametrize(
    "make_neighbors, message",
    [
        (lambda n: np.zeros((n - 1, 3), dtype=int), r"shape \(n_samples, >= n_negatives\)"),
        (lambda n: np.zeros(n, dtype=int), r"shape \(n_samples, >= n_negatives\)"),
        (lambda n: np.ones((n, 2), dtype=int), "fewer than n_negatives=3"),
        (lambda n: np.ones((n, 3)), "integer row indices"),
        (lambda n: np.full((n, 3), n), "row indices of y in"),
        (lambda n: np.full((n, 3), -1), "row indices of y in"),
        (lambda n: np.tile(np.arange(n)[:, None], 3), "exclude each row itself"),
    ],
    ids=["rows", "1-d", "too-few", "float", "too-large", "negative", "self"],
)
def test_bad_precomputed_neighbors_raise(make_neighbors, message):
    X = np.random.RandomState(0).randn(40, 3)
    measure = fitted(MeanRowDot(), X, X)
    with pytest.raises(ValueError, match=message):
        retrieval_accuracy(measure, X, X, chunk_size=2, n_negatives=3, negatives="hard",
                           neighbors=make_neighbors(40))


class NaNOnMismatches(MeanRowDot):
    """Returns NaN for every mismatched chunk: a broken measure."""

    def _compare(self, X, y):
        value = super()._compare(X, y)
        return value if value > 0.5 else np.nan


def test_non_finite_similarities_are_reported():
    """Regression: a measure that returned NaN scored 0.0 (or more) without a word."""
    X = np.random.RandomState(0).randn(640, 3)
    measure = fitted(NaNOnMismatches(), X, X)
    with pytest.warns(UnreliableScoreWarning, match=r"NaNOnMismatches gave \d+ non-finite"):
        measure.score(X, X)


def test_few_decisions_are_reported_and_enough_are_silent():
    X = np.random.RandomState(0).randn(640, 3)
    measure = fitted(MeanRowDot(), X, X)
    with pytest.warns(UnreliableScoreWarning, match="A score from 6 decisions"):
        measure.score(X[:200], X[:200])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert measure.score(X, X) == 1.0


@pytest.mark.parametrize(
    "Z, n_neighbors, message",
    [
        (np.arange(5.0), 1, "Expected 2D array"),
        (np.array([[1.0, 0.0], [np.nan, 1.0], [0.0, 1.0]]), 1, "NaN"),
        (np.array([[1.0, 0.0], [np.inf, 1.0], [0.0, 1.0]]), 1, "infinity"),
        (np.ones((3, 2)), 3, "between 1 and n_samples - 1 = 2"),
        (np.ones((3, 2)), 0, "'n_neighbors' parameter"),
    ],
    ids=["1-d", "nan", "inf", "too-many", "zero"],
)
def test_neighbors_validate_their_input(Z, n_neighbors, message):
    """Regression: a NaN row came back with neighbour -1 from faiss; 1-D input raised
    numpy's AxisError."""
    with pytest.raises(ValueError, match=message):
        nearest_neighbors(Z, n_neighbors)


def test_protocol_warnings_point_at_the_callers_line():
    X = np.random.RandomState(0).randn(40, 3)
    measure = fitted(MeanRowDot(), X, X)
    for score in (measure.score, lambda X, y: retrieval_accuracy(measure, X, y),
                  lambda X, y: RetrievalScorer()(measure, X, y)):
        with pytest.warns(UnreliableScoreWarning) as caught:
            score(X, X)
        assert caught[0].filename == __file__
