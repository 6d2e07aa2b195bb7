"""Layer grids: pairwise_similarity equals pair-by-pair similarity, and is efficient."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.exceptions import InapplicableMeasureError
from sklearn_contrasim.measures import (
    PWCCA,
    RBFCKA,
    SVCCA,
    DegenerateSimilarityWarning,
    DotProduct,
    LinearCKA,
    MeanCCA,
    NormSimilarity,
    OrthogonalProcrustes,
    pairwise_similarity,
)
from sklearn_contrasim.measures import _cka_math
from sklearn_contrasim.utils import _threads

MEASURES = [LinearCKA(), LinearCKA(debiased=True), RBFCKA(), RBFCKA(debiased=True),
            MeanCCA(), SVCCA(), PWCCA(), OrthogonalProcrustes()]


def network(n_samples, widths, seed=0, dtype=np.float64):
    """Layers of one network: successive noisy mixtures, so neighbours are similar."""
    rng = np.random.RandomState(seed)
    current = rng.randn(n_samples, widths[0])
    layers = []
    for width in widths:
        current = np.tanh(current @ rng.randn(current.shape[1], width))
        current = current + 0.3 * rng.randn(n_samples, width)
        layers.append(current.astype(dtype))
    return layers


def pair_by_pair(measure, Xs, Ys):
    return np.array([[clone(measure).fit(X, Y).similarity(X, Y) for Y in Ys] for X in Xs])


@pytest.mark.parametrize("measure", MEASURES, ids=repr)
@pytest.mark.parametrize("n_samples", [40, 6], ids=["n>d", "n<d"])
def test_grid_equals_pair_by_pair(measure, n_samples):
    Xs = network(n_samples, [3, 8, 5])
    Ys = network(n_samples, [4, 9], seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateSimilarityWarning)  # CCA with n < d
        grid = pairwise_similarity(measure, Xs, Ys)
        square = pairwise_similarity(measure, Xs)
        assert grid.shape == (3, 2) and square.shape == (3, 3)
        np.testing.assert_allclose(grid, pair_by_pair(measure, Xs, Ys), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(square, pair_by_pair(measure, Xs, Xs), rtol=1e-9, atol=1e-12)


def test_row_wise_measures_and_an_asymmetric_grid():
    Xs = network(30, [4, 4, 4])
    for measure in (DotProduct(), NormSimilarity(), PWCCA()):
        np.testing.assert_allclose(pairwise_similarity(measure, Xs), pair_by_pair(measure, Xs, Xs),
                                   rtol=1e-9)
    assert not np.allclose(pairwise_similarity(PWCCA(), Xs), pairwise_similarity(PWCCA(), Xs).T)
    with pytest.raises(InapplicableMeasureError, match="same number of features"):
        pairwise_similarity(DotProduct(), [Xs[0]], [Xs[0][:, :2]])


def test_layer_prediction_diagonal_wins_on_two_seeds_of_one_network():
    # Two "seeds": the same layers seen through different rotations plus noise.
    rng = np.random.RandomState(0)
    model_a = network(200, [6, 6, 6, 6])
    model_b = [layer @ np.linalg.qr(rng.randn(6, 6))[0] + 0.1 * rng.randn(200, 6)
               for layer in model_a]
    grid = pairwise_similarity(LinearCKA(), model_a, model_b)
    assert list(grid.argmax(axis=1)) == [0, 1, 2, 3]


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("n_samples", [300, 12], ids=["features", "gram"])
def test_float32_grid_accumulates_in_float64(debiased, n_samples):
    # Far from the origin, where float32 sums would lose the variance.
    Xs = [layer + 100 for layer in network(n_samples, [20, 30, 25], dtype=np.float32)]
    Ys = network(n_samples, [40, 20], seed=1, dtype=np.float32)
    measure = LinearCKA(debiased=debiased)
    grid = pairwise_similarity(measure, Xs, Ys)
    exact = pair_by_pair(measure, [X.astype(np.float64) for X in Xs],
                         [Y.astype(np.float64) for Y in Ys])
    np.testing.assert_allclose(grid, exact, atol=1e-5)


def test_cka_self_terms_once_and_cross_terms_batched(monkeypatch):
    calls = []

    def counting(A, B, means_a, means_b, block_starts):
        calls.append(len(block_starts))
        return original(A, B, means_a, means_b, block_starts)

    original = _cka_math._block_frobenius
    monkeypatch.setattr(_cka_math, "_block_frobenius", counting)
    Xs, Ys = network(100, [5, 6, 7]), network(100, [4, 5, 6, 7], seed=1)
    pairwise_similarity(LinearCKA(), Xs, Ys)
    # One product per layer of Xs against all of Ys at once (4 blocks), then one
    # self-term per layer: 3 + 3 + 4 products for 12 pairs.
    assert sorted(calls) == [1] * 7 + [4] * 3
    calls.clear()
    pairwise_similarity(LinearCKA(), Xs)
    # A list with itself: the upper triangle, self-terms on its diagonal.
    assert sorted(calls) == [1, 2, 3]


def test_gram_route_summarises_each_layer_once(monkeypatch):
    calls = []
    original = RBFCKA._summarize

    def counting(self, X):
        calls.append(X.shape)
        return original(self, X)

    monkeypatch.setattr(RBFCKA, "_summarize", counting)
    pairwise_similarity(RBFCKA(), network(30, [3, 4]), network(30, [5, 6, 7], seed=1))
    assert len(calls) == 5


def test_route_flops_are_counted_per_route():
    n, d, L = 4000, 768, 13
    features, gram = _cka_math._linear_grid_flops(n, [d] * L, [d] * L)
    # Features: every cross product, and every self-term as a symmetric product. Grams:
    # each of the 26 Grams as a symmetric product, then one triangle of the two Grams of
    # each pair that is needed: 169 cross terms and 26 self-terms.
    assert features == 2 * n * d * d * L * L + n * d * d * 2 * L
    assert gram == n * n * 2 * L * d + n * n * (L * L + 2 * L)
    assert round(features / 1e12, 3) == 0.859 and round(gram / 1e12, 3) == 0.323
    # A list with itself: the upper triangle of pairs only.
    features, gram = _cka_math._linear_grid_flops(n, [d, 2 * d], None)
    assert features == 2 * n * (d * 3 * d + 2 * d * 2 * d)
    assert gram == n * n * 3 * d + n * n * 3


def test_route_choice_by_flops_and_memory_budget():
    def route(*args, **kwargs):
        return _cka_math._linear_grid_route(*args, **kwargs)[0]

    bert = [768] * 13
    assert route(4000, bert, bert, 4, memory_budget=2**30) == "gram"
    assert route(20_000, bert, bert, 4, memory_budget=2**30) == "features"
    assert route(20_000, [1024] * 13, [1024] * 13, 4, memory_budget=2**40) == "features"
    assert route(1000, [256] * 13, None, 4, memory_budget=2**30) == "gram"
    assert route(4000, [256] * 13, None, 4, memory_budget=2**30) == "features"
    # The Gram route needs a block of 256 columns of every layer's Gram within the budget.
    block = 256 * 4000 * 26 * 4
    assert route(4000, bert, bert, 4, memory_budget=block) == "gram"
    assert route(4000, bert, bert, 4, memory_budget=block - 1) == "features"
    assert route(4000, bert, bert, 8, memory_budget=block) == "features"
    # Few samples: the block is all of them.
    assert route(50, bert, bert, 8, memory_budget=50 * 50 * 26 * 8) == "gram"
    # The default budget is scikit-learn's working_memory (MiB).
    with config_context(working_memory=block // 2**20 + 1):
        assert route(4000, bert, bert, 4) == "gram"
    with config_context(working_memory=block // 2**20 - 1):
        assert route(4000, bert, bert, 4) == "features"


def test_gram_blocks_are_an_eighth_of_the_samples_within_bounds_and_memory():
    size = _cka_math._gram_block_size
    assert size(4000, 26, 4, memory_budget=2**30) == 500
    assert size(100_000, 26, 4, memory_budget=2**40) == 1024
    assert size(1000, 26, 4, memory_budget=2**30) == 256
    assert size(100, 26, 8, memory_budget=2**30) == 100
    assert size(20_000, 26, 4, memory_budget=2**30) == 2**30 // (20_000 * 26 * 4) == 516
    assert size(20_000, 26, 4, memory_budget=256 * 20_000 * 26 * 4 - 1) == 0
    with config_context(working_memory=64):
        assert size(20_000, 26, 4) == 0  # 32 columns would fit
        assert size(20_000, 2, 4) == 64 * 2**20 // (20_000 * 2 * 4) == 419


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("debiased", [False, True], ids=["biased", "debiased"])
@pytest.mark.parametrize("with_ys", [False, True], ids=["Ys=None", "Ys"])
def test_gram_route_equals_feature_route_and_pairs(dtype, debiased, with_ys):
    # Far from the origin, where float32 products of uncentred data would lose the variance.
    Xs = [layer + 100 for layer in network(150, [20, 30, 25], dtype=dtype)]
    noise = network(150, [10, 20], seed=1, dtype=dtype)
    Ys = [np.hstack([Xs[1] - 100, noise[0]]), 3 * Xs[2][:, :20] + noise[1]] if with_ys else None
    routes = [
        _cka_math._linear_feature_grid(Xs, Ys, debiased, False, n_workers=1),
        _cka_math._linear_feature_grid(Xs, Ys, debiased, False, n_workers=2),
        _cka_math._linear_gram_grid(Xs, Ys, debiased, False, block_size=150, n_workers=1),
        _cka_math._linear_gram_grid(Xs, Ys, debiased, False, block_size=7, n_workers=2),
    ]
    exact = pair_by_pair(LinearCKA(debiased=debiased), [X.astype(np.float64) for X in Xs],
                         [Y.astype(np.float64) for Y in (Ys or Xs)])
    assert np.ptp(exact) > 0.2  # varied values, not all near 0 or 1
    tolerance = {"rtol": 1e-10, "atol": 1e-13} if dtype == np.float64 else {"atol": 1e-6}
    for grid in routes:
        np.testing.assert_allclose(grid, exact, **tolerance)


def test_pairwise_similarity_and_similarity_take_the_chosen_route(monkeypatch):
    calls = []
    original = _cka_math._linear_gram_grid

    def counting(Xs, Ys, debiased, verbose, block_size, n_workers):
        calls.append(len(Xs))
        return original(Xs, Ys, debiased, verbose, block_size, n_workers)

    monkeypatch.setattr(_cka_math, "_linear_gram_grid", counting)
    wide, narrow = network(30, [60, 50]), network(200, [5, 6])
    pairwise_similarity(LinearCKA(), wide)
    assert calls == [2]
    pairwise_similarity(LinearCKA(), narrow)
    assert calls == [2]
    with config_context(working_memory=0):  # no room for a block of Grams
        pairwise_similarity(LinearCKA(), wide)
    assert calls == [2]


def test_streamed_gram_route_holds_one_block_of_columns():
    Xs = network(2000, [40, 50, 60])
    expected = _cka_math._linear_feature_grid(Xs, None, True, False, n_workers=1)
    tracemalloc.start()
    streamed = _cka_math._linear_gram_grid(Xs, None, True, False, block_size=16, n_workers=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(streamed, expected, rtol=1e-10)
    # Three whole 2000 x 2000 float64 Grams would take 96 MB; the centred layers take
    # 2.4 MB, a block of 16 columns of the three Grams 0.8 MB.
    assert peak < 8e6


def test_feature_grid_builds_no_n_by_n_matrix():
    Xs = network(20_000, [4, 5, 6])
    tracemalloc.start()
    pairwise_similarity(LinearCKA(debiased=True), Xs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 30e6  # one n x n float64 matrix would take 3.2 GB


@pytest.mark.parametrize(
    "Xs, Ys, error, message",
    [
        ([], None, ValueError, "at least one layer"),
        ([np.ones((10, 2))], [np.ones((11, 2))], ValueError, "same examples"),
        ([np.full((10, 2), np.nan)], None, ValueError, "NaN"),
        ([np.ones(10)], None, ValueError, "2D array"),
        ([np.ones((10, 2, 2))], None, ValueError, "dim 3"),
        (np.ones((10, 2)), None, ValueError, "list of 2-D arrays"),
        ([np.ones((1, 2))], None, ValueError, "minimum of 2"),
    ],
    ids=["empty", "rows", "nan", "1-d", "3-d", "one-array", "one-sample"],
)
def test_bad_layers_raise_a_clear_error(Xs, Ys, error, message):
    with pytest.raises(error, match=message):
        pairwise_similarity(LinearCKA(), Xs, Ys)


def test_bad_measures_raise():
    X = np.random.RandomState(0).randn(10, 2)
    with pytest.raises(TypeError, match="BaseSimilarity"):
        pairwise_similarity("cka", [X])
    with pytest.raises(ValueError, match="parameter"):
        pairwise_similarity(RBFCKA(threshold=-1.0), [X])
    with pytest.raises(ValueError, match="minimum of 4"):
        pairwise_similarity(LinearCKA(debiased=True), [X[:3]])


class FittedScale(BaseSimilarity):
    """A 'learned' measure: cosine of mean rows after a scale learned in fit."""

    def _fit(self, X, y):
        self.scale_ = np.abs(X).mean()

    def _compare(self, X, y):
        a, b = X.mean(axis=0) * self.scale_, y.mean(axis=0)
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_learned_measures_must_be_fitted_and_are_applied_as_is():
    Xs = network(20, [3, 3])
    with pytest.raises(NotFittedError):
        pairwise_similarity(FittedScale(), Xs)
    measure = FittedScale().fit(Xs[0], Xs[1])
    np.testing.assert_allclose(
        pairwise_similarity(measure, Xs),
        [[measure.similarity(X, Y) for Y in Xs] for X in Xs],
    )


@pytest.mark.parametrize("route", ["features", "gram"])
@pytest.mark.parametrize("with_ys", [False, True], ids=["Ys=None", "Ys"])
def test_linear_routes_split_work_over_the_blas_threads(monkeypatch, route, with_ys):
    # The layers (and the Grams' inner products) are shared among as many Python threads
    # as the BLAS pool has, each on a one-thread BLAS; the result does not depend on how
    # many there are (beyond float32 rounding: the products' shapes differ), and the BLAS
    # limit is restored afterwards.
    workers = []
    original = _cka_math.ThreadPoolExecutor

    def recording(n_workers):
        workers.append((n_workers, _threads.blas_threads()))
        return original(n_workers)

    monkeypatch.setattr(_cka_math, "ThreadPoolExecutor", recording)
    Xs = [layer + 50 for layer in network(120, [9, 14, 11], dtype=np.float32)]
    Ys = network(120, [12, 8], seed=1, dtype=np.float32) if with_ys else None
    grids = []
    for n_threads in (1, 3):
        with threadpool_limits(n_threads, user_api="blas"):
            if route == "gram":
                grids.append(_cka_math._linear_gram_grid(Xs, Ys, True, False, block_size=50,
                                                         n_workers=n_threads))
            else:
                grids.append(_cka_math._linear_feature_grid(Xs, Ys, True, False,
                                                            n_workers=n_threads))
            assert _threads.blas_threads() == n_threads
    # One worker runs in the calling thread: no pool, the BLAS left as it is.
    assert workers == [(3, 1)]
    np.testing.assert_allclose(grids[0], grids[1], atol=1e-7)
    exact = pair_by_pair(LinearCKA(debiased=True), [X.astype(np.float64) for X in Xs],
                         [Y.astype(np.float64) for Y in (Ys or Xs)])
    np.testing.assert_allclose(grids[1], exact, atol=1e-6)


@pytest.mark.parametrize("n_samples, widths, expected", [
    (8, [384] * 2, "calling thread"),  # a retrieval chunk: threads would cost more than the work
    (400, [300] * 6, "threads"),
])
def test_only_large_grids_start_threads(monkeypatch, n_samples, widths, expected):
    started = []
    original = _cka_math.ThreadPoolExecutor

    def recording(n_workers):
        started.append(n_workers)
        return original(n_workers)

    monkeypatch.setattr(_cka_math, "ThreadPoolExecutor", recording)
    Xs = network(n_samples, widths, dtype=np.float32)
    with threadpool_limits(2, user_api="blas"):
        grid = _cka_math.linear_cka_grid(Xs, None, debiased=False)
    assert started == ([] if expected == "calling thread" else [2])
    exact = pair_by_pair(LinearCKA(), [X.astype(np.float64) for X in Xs],
                         [X.astype(np.float64) for X in Xs])
    np.testing.assert_allclose(grid, exact, atol=1e-6)
