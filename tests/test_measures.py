"""Closed-form measures: reference values, invariances, bounds, bad input, streaming CKA."""

import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils import get_tags

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
)
from sklearn_contrasim.measures import _cka_math, pairwise_similarity
from sklearn_contrasim.metrics import retrieval_accuracy

# Derandomised: the same examples on every run, so the suite never flakes.
HYPOTHESIS = settings(max_examples=25, deadline=None, derandomize=True, database=None)

# Every measure, with the transformations of one set (y) it claims to be invariant to.
# "shared_orthogonal" maps both sets by the same orthogonal matrix; "row_scaling" rescales
# every row of y by its own positive factor; "signed_permutation" permutes and flips y's
# features.
SPATIAL = {"orthogonal", "isotropic_scaling", "translation", "signed_permutation",
           "shared_orthogonal"}
INVARIANT_TO = {
    LinearCKA(): SPATIAL,
    LinearCKA(debiased=True): SPATIAL,
    RBFCKA(): SPATIAL,
    RBFCKA(threshold=0.5, debiased=True): SPATIAL,
    MeanCCA(): SPATIAL | {"invertible_linear"},
    SVCCA(): SPATIAL,
    PWCCA(): {"isotropic_scaling", "translation", "signed_permutation"},
    OrthogonalProcrustes(): SPATIAL,
    DotProduct(): {"shared_orthogonal"},
    NormSimilarity(): {"shared_orthogonal", "row_scaling"},
}
# What each measure explicitly does not claim, checked on inputs where it matters.
NOT_INVARIANT_TO = {
    LinearCKA(): {"invertible_linear"},
    LinearCKA(debiased=True): {"invertible_linear"},
    RBFCKA(): {"invertible_linear"},
    SVCCA(): {"invertible_linear"},
    PWCCA(): {"orthogonal", "invertible_linear"},
    OrthogonalProcrustes(): {"invertible_linear"},
    DotProduct(): {"translation", "isotropic_scaling", "orthogonal"},
    NormSimilarity(): {"translation", "orthogonal"},
}
MEASURES = list(INVARIANT_TO)
# Measures with similarity(X, X) = 1 and a [lower, 1] range; Dot is unbounded.
BOUNDED = {m: (-1.0 if getattr(m, "debiased", False) or isinstance(m, NormSimilarity) else 0.0)
           for m in MEASURES if not isinstance(m, DotProduct)}
SYMMETRIC = [m for m in MEASURES if not isinstance(m, PWCCA)]


def measure_id(measure):
    return repr(measure)


def kornblith_demo():
    rng = np.random.RandomState(1337)
    X = rng.randn(100, 10)
    return X, rng.randn(100, 10) + X


def value(measure, X, y):
    return clone(measure).fit(X, y).similarity(X, y)


def transform(name, X, y, rng):
    """Apply the transformation ``name`` to ``y`` (to both sets for shared maps)."""
    d = y.shape[1]
    if name == "orthogonal":
        return X, y @ ortho_group.rvs(d, random_state=rng) if d > 1 else -y
    if name == "isotropic_scaling":
        return X, rng.uniform(0.1, 10) * y
    if name == "translation":
        return X, y + rng.uniform(-5, 5, size=d)
    if name == "signed_permutation":
        return X, y[:, rng.permutation(d)] * rng.choice([-1.0, 1.0], size=d)
    if name == "invertible_linear":
        # Well conditioned but far from orthogonal: anisotropic stretch of a rotation.
        stretch = np.diag(np.geomspace(1, 30, d))
        rotation = ortho_group.rvs(d, random_state=rng) if d > 1 else np.eye(1)
        return X, y @ rotation @ stretch
    if name == "shared_orthogonal":
        rotation = ortho_group.rvs(d, random_state=rng)
        return X @ rotation, y @ rotation
    if name == "row_scaling":
        return X, y * rng.uniform(0.1, 10, size=(y.shape[0], 1))
    raise AssertionError(name)


def related_pair(seed, n_samples, n_features):
    """A random set and a noisy, mixed copy of it with the same width."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features) * rng.uniform(0.5, 2, size=n_features)
    y = X @ rng.randn(n_features, n_features) + 0.5 * rng.randn(n_samples, n_features)
    return X, y, rng


# --- reference values -------------------------------------------------------------------


@pytest.mark.parametrize(
    "measure, expected",
    [(LinearCKA(), 0.55761), (RBFCKA(threshold=0.5), 0.65483),
     (LinearCKA(debiased=True), 0.51346)],
    ids=measure_id,
)
def test_kornblith_demo_values(measure, expected):
    X, Y = kornblith_demo()
    assert value(measure, X, Y) == pytest.approx(expected, abs=1e-5)
    # Both routes of linear CKA (features and Gram matrices) agree.
    gram_route = measure._combine(measure._summarize(X), measure._summarize(Y))
    assert gram_route == pytest.approx(expected, abs=1e-5)


def test_kornblith_demo_in_float32():
    X, Y = kornblith_demo()
    got = value(LinearCKA(), X.astype(np.float32), Y.astype(np.float32))
    assert got == pytest.approx(0.55761, abs=1e-5)


def test_known_values_of_the_other_measures():
    rng = np.random.RandomState(0)
    scales = np.array([1.0, 2.0, 3.0])
    X = rng.randn(20_000, 3) * scales
    # Column i of y is neuron i of X plus independent noise: the canonical variates are
    # X's neurons, with correlations 1 / sqrt(1 + noise_i^2).
    noise = np.array([0.0, 1.0, 3.0])
    y = X / scales + rng.randn(20_000, 3) * noise
    correlations = 1 / np.sqrt(1 + noise**2)
    assert value(MeanCCA(), X, y) == pytest.approx(correlations.mean(), abs=0.01)
    assert value(SVCCA(variance=1.0), X, y) == pytest.approx(value(MeanCCA(), X, y))
    # PWCCA weights each correlation by the share of X's neurons its variate accounts
    # for, here the neuron's scale.
    expected = scales @ correlations / scales.sum()
    assert value(PWCCA(), X, y) == pytest.approx(expected, abs=0.01)
    # Procrustes: X^T y / n tends to diag(scales), so the value tends to the sum of the
    # scales over the product of the Frobenius norms (per row).
    expected = scales.sum() / np.sqrt(np.sum(scales**2) * np.sum(1 + noise**2))
    assert value(OrthogonalProcrustes(), X, y) == pytest.approx(expected, abs=0.01)
    assert value(DotProduct(), X, X) == pytest.approx(np.mean(np.sum(X**2, axis=1)))
    assert value(NormSimilarity(), X, -X) == pytest.approx(-1.0)
    assert value(NormSimilarity(), X, 3 * X) == pytest.approx(1.0)


def test_svcca_keeps_the_directions_holding_the_variance():
    rng = np.random.RandomState(0)
    signal = rng.randn(500, 2)
    X = np.hstack([10 * signal, 0.05 * rng.randn(500, 3)])  # 2 strong, 3 weak directions
    y = np.hstack([signal, rng.randn(500, 3)])
    # The weak, unrelated directions of X are dropped at 99 % but count at 100 %.
    assert value(SVCCA(variance=0.99), X, y) > 0.95
    assert value(SVCCA(variance=1.0), X, y) < 0.6


# --- invariances --------------------------------------------------------------------------


@pytest.mark.parametrize("measure", MEASURES, ids=measure_id)
@HYPOTHESIS
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(20, 40),
       n_features=st.integers(2, 5))
def test_claimed_invariances(measure, seed, n_samples, n_features):
    X, y, rng = related_pair(seed, n_samples, n_features)
    reference = value(measure, X, y)
    for name in sorted(INVARIANT_TO[measure]):
        X_t, y_t = transform(name, X, y, rng)
        # NormSimilarity works on float32 unit rows: float32 precision.
        assert value(measure, X_t, y_t) == pytest.approx(reference, rel=1e-6, abs=1e-6), name


@pytest.mark.parametrize("measure", list(NOT_INVARIANT_TO), ids=measure_id)
@HYPOTHESIS
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(60, 100))
def test_claimed_non_invariances(measure, seed, n_samples):
    # Four features, one of which dominates y's variance after the stretch, so that
    # SVCCA's truncation and CKA's weighting both see the map.
    # The transformed set goes first: PWCCA takes its weights from the first set on equal
    # ranks, and is invariant to invertible linear maps of the other one.
    X, y, rng = related_pair(seed, n_samples, 4)
    reference = value(measure, y, X)
    for name in sorted(NOT_INVARIANT_TO[measure]):
        X_t, y_t = transform(name, X, y, rng)
        assert abs(value(measure, y_t, X_t) - reference) > 1e-6, name


@pytest.mark.parametrize("measure", list(BOUNDED), ids=measure_id)
@HYPOTHESIS
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(4, 30),
       n_features=st.integers(1, 40))
def test_bounds_and_self_similarity(measure, seed, n_samples, n_features):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    y = rng.randn(n_samples, n_features) * rng.uniform(0.01, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateSimilarityWarning)
        assert BOUNDED[measure] - 1e-12 <= value(measure, X, y) <= 1 + 1e-12
        assert value(measure, X, X) == pytest.approx(1.0)


@pytest.mark.parametrize("measure", SYMMETRIC, ids=measure_id)
@HYPOTHESIS
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(10, 30))
def test_symmetry(measure, seed, n_samples):
    rng = np.random.RandomState(seed)
    X, y = rng.randn(n_samples, 3), rng.randn(n_samples, 3) + rng.randn(n_samples, 1)
    assert value(measure, X, y) == pytest.approx(value(measure, y, X), rel=1e-9)


def test_pwcca_is_not_symmetric():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    y = X @ rng.randn(3, 3) + rng.randn(200, 3)
    assert abs(value(PWCCA(), X, y) - value(PWCCA(), y, X)) > 1e-3


# --- score: the retrieval protocol ---------------------------------------------------------


@pytest.mark.parametrize("measure", MEASURES, ids=measure_id)
def test_score_high_when_paired_and_near_chance_when_independent(measure):
    rng = np.random.RandomState(0)
    X = rng.randn(384, 6)
    paired = X + 0.3 * rng.randn(384, 6)
    independent = rng.randn(384, 6)
    measure = clone(measure).fit(X, paired)
    assert measure.score(X, paired) >= 0.9
    # 10 shuffles of 12 chunks: 120 decisions against 10 negatives each (chance 1/11).
    chance = retrieval_accuracy(measure, X, independent, n_repeats=10)
    assert chance <= 0.25


def test_cross_val_score_and_grid_search_run_on_a_measure():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    y = np.tanh(X @ rng.randn(5, 4)) + 0.2 * rng.randn(300, 4)
    scores = cross_val_score(RBFCKA(), X, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and np.all(scores >= 0.8)
    search = GridSearchCV(SVCCA(), {"variance": [0.5, 0.99]}, cv=3).fit(X, y)
    assert search.best_params_["variance"] in (0.5, 0.99)
    assert search.cv_results_["mean_test_score"].shape == (2,)
    assert 0 <= search.best_score_ <= 1


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("measure", MEASURES, ids=measure_id)
@pytest.mark.parametrize(
    "make_inputs, error",
    [
        (lambda X: (X, X[:-1]), "paired row by row"),
        (lambda X: (np.where(X > 1.5, np.nan, X), X), "NaN"),
        (lambda X: (X, np.where(X > 1.5, np.inf, X)), "infinity"),
        (lambda X: (X[:1], X[:1]), "minimum of"),
        (lambda X: (X[:, 0], X), "2-D array"),
        (lambda X: (X[:, :, None], X), "2-D array"),
    ],
    ids=["rows", "nan", "inf", "one-sample", "1-d", "3-d"],
)
def test_bad_input_raises_a_clear_error(measure, make_inputs, error):
    X = np.random.RandomState(0).randn(20, 3)
    with pytest.raises(ValueError, match=error):
        clone(measure).fit(*make_inputs(X))


@pytest.mark.parametrize("measure", [LinearCKA(debiased=True), RBFCKA(debiased=True)],
                         ids=measure_id)
def test_debiased_cka_needs_four_samples(measure):
    X = np.random.RandomState(0).randn(4, 2)
    with pytest.raises(ValueError, match="minimum of 4"):
        clone(measure).fit(X[:3], X[:3])
    assert value(measure, X, X) == pytest.approx(1.0)


@pytest.mark.parametrize("measure", MEASURES, ids=measure_id)
def test_closed_form_measures_need_no_fit(measure):
    """A closed-form measure learns nothing (tag requires_fit=False): used unfitted, it
    gives the fitted values."""
    rng = np.random.RandomState(0)
    X = rng.randn(64, 3)
    y = X + rng.randn(64, 3)
    assert not get_tags(measure).requires_fit
    fitted = clone(measure).fit(X, y)
    assert clone(measure).similarity(X, y) == fitted.similarity(X, y)
    assert clone(measure).score(X, y) == fitted.score(X, y)


@pytest.mark.parametrize("measure", MEASURES, ids=measure_id)
def test_constant_features_and_constant_sets_never_give_nan(measure):
    rng = np.random.RandomState(0)
    X = rng.randn(30, 4)
    y = X + 0.1 * rng.randn(30, 4)
    with_constant = X.copy()
    with_constant[:, 1] = 0.1  # a constant feature: no variance, no information
    assert np.isfinite(value(measure, with_constant, y))
    constant = np.full((30, 4), 0.3)
    result = value(measure, constant, y)
    assert np.isfinite(result)
    if not isinstance(measure, (DotProduct, NormSimilarity)):
        # Documented convention: a set with no variance is similar to nothing.
        assert result == 0.0
        # Dropping a constant feature changes nothing.
        reduced = np.delete(with_constant, 1, axis=1)
        assert value(measure, with_constant, y) == pytest.approx(value(measure, reduced, y))


@pytest.mark.parametrize("measure", [MeanCCA(), SVCCA(variance=1.0), PWCCA()], ids=measure_id)
def test_cca_family_warns_when_features_outnumber_samples(measure):
    rng = np.random.RandomState(0)
    X, y = rng.randn(10, 12), rng.randn(10, 3)
    with pytest.warns(DegenerateSimilarityWarning, match="degenerate"):
        result = value(measure, X, y)
    assert result == pytest.approx(1.0)  # independent data, yet every correlation is 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateSimilarityWarning)
        value(measure, rng.randn(50, 3), rng.randn(50, 3))


def test_collinear_features_are_handled_by_rank():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3)
    collinear = np.column_stack([X, X[:, 0] + X[:, 1]])  # rank 3 in 4 columns
    y = X @ rng.randn(3, 3)
    for measure in (MeanCCA(), SVCCA(variance=1.0)):
        assert value(measure, collinear, y) == pytest.approx(1.0)


def test_row_wise_measures_need_equal_widths():
    X = np.random.RandomState(0).randn(20, 3)
    for measure in (DotProduct(), NormSimilarity()):
        # An InapplicableMeasureError (a ValueError): benchmarks skip only this error.
        with pytest.raises(InapplicableMeasureError, match="same number of features"):
            value(measure, X, X[:, :2])


@pytest.mark.parametrize(
    "measure", [RBFCKA(threshold=0), RBFCKA(threshold=-1), SVCCA(variance=0),
                SVCCA(variance=1.5), LinearCKA(debiased="yes")],
    ids=measure_id,
)
def test_invalid_parameters_raise(measure):
    X = np.random.RandomState(0).randn(20, 3)
    with pytest.raises(ValueError, match="parameter"):
        clone(measure).fit(X, X)


# --- large n and streaming linear CKA -------------------------------------------------------


def test_linear_cka_never_builds_an_n_by_n_matrix_when_n_exceeds_d():
    rng = np.random.RandomState(0)
    X = rng.randn(20_000, 5)
    y = X + rng.randn(20_000, 5)
    for debiased in (False, True):
        measure = LinearCKA(debiased=debiased).fit(X, y)
        tracemalloc.start()
        measure.similarity(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # An n x n float64 matrix would take 3.2 GB; a few copies of the data are 4 MB.
        assert peak < 20e6


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_streaming_equals_in_memory(debiased, dtype):
    rng = np.random.RandomState(0)
    # Far from the origin, with a constant feature: the shifted sums must stay exact.
    X = (rng.randn(1000, 6) + 50).astype(dtype)
    X[:, 2] = 7.0
    y = (X[:, :4] @ rng.randn(4, 5) + rng.randn(1000, 5) - 20).astype(dtype)
    in_memory = value(LinearCKA(debiased=debiased), X, y)
    reference = value(LinearCKA(debiased=debiased), X.astype(np.float64), y.astype(np.float64))
    for sizes in ([1000], [500, 500], [4, 1, 995], [137] * 7 + [41]):
        streamed = LinearCKA(debiased=debiased)
        for rows in np.split(np.arange(1000), np.cumsum(sizes)[:-1]):
            streamed.partial_fit(X[rows], y[rows])
        assert streamed.n_samples_seen_ == 1000
        assert streamed.similarity_ == pytest.approx(in_memory, abs=1e-10 if dtype == np.float64
                                                     else 1e-6)
        assert streamed.similarity_ == pytest.approx(reference, abs=1e-6)


def test_partial_fit_validates_batches_and_fit_starts_afresh():
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 3), rng.randn(40, 2)
    cka = LinearCKA().partial_fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="features"):
        cka.partial_fit(X[20:, :2], y[20:])
    with pytest.raises(ValueError, match="NaN"):
        cka.partial_fit(np.full((3, 3), np.nan), y[:3])
    assert cka.n_samples_seen_ == 20
    cka.partial_fit(X[20:21], y[20:21])  # later batches may hold a single row
    assert cka.n_samples_seen_ == 21
    with pytest.raises(ValueError, match="minimum of 4"):
        LinearCKA(debiased=True).partial_fit(X[:3], y[:3])
    cka.fit(X[:, :2], y)
    assert not hasattr(cka, "similarity_")
    cka.partial_fit(X[:10, :2], y[:10])
    assert cka.n_samples_seen_ == 10
    assert cka.similarity_ == pytest.approx(value(LinearCKA(), X[:10, :2], y[:10]))


# --- memory of kernel CKA ------------------------------------------------------------------


def test_rbf_cka_warns_before_building_large_matrices(monkeypatch):
    def unreachable(*args):
        raise AssertionError("the n x n matrices were built")

    # 15,000 rows: three float64 matrices of 15,000 x 15,000. The warning is an error
    # here, and the kernel is never reached, so nothing large is allocated.
    monkeypatch.setattr(RBFCKA, "_summarize", unreachable)
    X = np.random.RandomState(0).randn(15_000, 2)
    measure = RBFCKA().fit(X, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(UserWarning, match=r"RBFCKA on 15000 samples builds 3 float64 "
                           r"matrices of 15000 x 15000 and needs about 5\.4 GB.*LinearCKA"):
            measure.similarity(X, X)
        # A grid keeps one centred Gram matrix per layer as well.
        with pytest.raises(UserWarning, match=r"builds 7 float64 matrices.*about 12\.6 GB"):
            pairwise_similarity(RBFCKA(), [X, X], [X, X])


def test_rbf_cka_memory_threshold(monkeypatch):
    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 3), rng.randn(30, 3)
    needed = 3 * 30**2 * 8  # bytes: three float64 matrices of 30 x 30
    monkeypatch.setattr(_cka_math, "_KERNEL_MEMORY_WARNING_BYTES", needed - 1)
    with pytest.warns(UserWarning, match="needs about 2.16e-05 GB of memory"):
        warned = RBFCKA().fit(X, y).similarity(X, y)
    monkeypatch.setattr(_cka_math, "_KERNEL_MEMORY_WARNING_BYTES", needed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert RBFCKA().fit(X, y).similarity(X, y) == warned
        # Linear CKA builds no n x n matrix when n exceeds the widths: never warns.
        LinearCKA().fit(X, y).similarity(X, y)
