"""Closed-form measures at any magnitude: scale invariance over the floating-point range,
unchanged values at ordinary scales, and no silent overflow."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

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
from sklearn_contrasim.measures._closed_form import (
    centre_columns,
    moderate_centred,
    power_of_two_rescale,
)

HYPOTHESIS = settings(max_examples=25, deadline=None, derandomize=True, database=None)

# Every measure documented as invariant to isotropic scaling (NormSimilarity: to the
# rescaling of any row).
SCALE_INVARIANT = [LinearCKA(), LinearCKA(debiased=True), RBFCKA(),
                   RBFCKA(threshold=0.5, debiased=True), MeanCCA(), SVCCA(), PWCCA(),
                   OrthogonalProcrustes(), NormSimilarity()]
SCALES = {
    np.float64: [1e-300, 1e-150, 1e-100, 1e-40, 1e40, 1e100, 1e150, 1e300],
    np.float32: [1e-30, 1e-20, 1e-10, 1e10, 1e20, 1e30],
}
CASES = [(dtype, scale) for dtype, scales in SCALES.items() for scale in scales]
RTOL = {np.float64: 1e-10, np.float32: 1e-6}


def case_id(case):
    dtype, scale = case
    return f"{np.dtype(dtype).name}-{scale:.0e}"


def paired_sets(n_samples=40, n_features=5, seed=0):
    """Related, translated sets of equal widths (the row-wise measures need them)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features) * rng.uniform(0.5, 2, size=n_features) + 1.0
    y = X @ rng.randn(n_features, n_features) + 0.5 * rng.randn(n_samples, n_features) - 2.0
    return X, y


def unscaled(X, scale):
    """The same numbers as ``X``, brought back near unit scale by a power of two.

    A power of two changes no mantissa, so this is exactly the rounded data ``X`` holds,
    at unit scale and in its dtype: comparing with it isolates what the measure's
    arithmetic does with the magnitude (rounding ``X * scale`` to float32 alone moves
    CKA by ~1e-6, as much as float32 arithmetic does).
    """
    return np.ldexp(X, -round(np.log2(scale))).astype(X.dtype)


def similarity(measure, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateSimilarityWarning)
        return clone(measure).fit(X, y).similarity(X, y)


def grid(measure, Xs, Ys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateSimilarityWarning)
        return pairwise_similarity(measure, Xs, Ys)


@pytest.mark.parametrize("scaled", ["X", "y", "both"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("measure", SCALE_INVARIANT, ids=repr)
def test_similarity_is_scale_invariant_over_the_float_range(measure, case, scaled):
    dtype, scale = case
    X, y = paired_sets()
    scale_x = scale if scaled in ("X", "both") else 1.0
    scale_y = scale if scaled in ("y", "both") else 1.0
    X_s, y_s = (X * scale_x).astype(dtype), (y * scale_y).astype(dtype)
    unit = similarity(measure, unscaled(X_s, scale_x), unscaled(y_s, scale_y))
    got = similarity(measure, X_s, y_s)
    assert got == pytest.approx(unit, rel=RTOL[dtype], abs=1e-12)
    # And close to the exact value of the unrounded data.
    assert got == pytest.approx(similarity(measure, X, y), rel=10 * RTOL[dtype])


@pytest.mark.parametrize("shape", [(40, 5), (12, 40)], ids=["tall", "wide"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("measure", SCALE_INVARIANT, ids=repr)
def test_grid_is_scale_invariant_over_the_float_range(measure, case, shape):
    # "wide" layers send linear CKA through the Gram route, "tall" ones through features.
    dtype, scale = case
    X, y = paired_sets(*shape)
    X2, y2 = paired_sets(*shape, seed=1)
    # One layer at the scale, one at its inverse, one left alone.
    Xs = [(X * scale).astype(dtype), X2.astype(dtype)]
    Ys = [(y * scale).astype(dtype), (y2 / scale).astype(dtype)]
    unit_xs = [unscaled(Xs[0], scale), unscaled(Xs[1], 1.0)]
    unit_ys = [unscaled(Ys[0], scale), unscaled(Ys[1], 1 / scale)]
    np.testing.assert_allclose(grid(measure, Xs, Ys), grid(measure, unit_xs, unit_ys),
                               rtol=RTOL[dtype], atol=1e-12)
    np.testing.assert_allclose(grid(measure, Xs, None), grid(measure, unit_xs, None),
                               rtol=RTOL[dtype], atol=1e-12)


@pytest.mark.parametrize("measure", SCALE_INVARIANT, ids=repr)
@HYPOTHESIS
@given(log_x=st.floats(-150, 150), log_y=st.floats(-150, 150))
def test_separate_scales_of_the_two_sets(measure, log_x, log_y):
    X, y = paired_sets()
    unit = similarity(measure, X, y)
    X_s, y_s = X * 10.0**log_x, y * 10.0**log_y
    assert similarity(measure, X_s, y_s) == pytest.approx(unit, rel=1e-10, abs=1e-12)
    assert grid(measure, [X_s], [y_s])[0, 0] == pytest.approx(unit, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norm_similarity_is_invariant_to_extreme_row_scales(dtype):
    X, y = paired_sets()
    unit = similarity(NormSimilarity(), X, y)
    rng = np.random.RandomState(0)
    largest = np.log10(np.finfo(dtype).max) - 2
    row_scales = 10.0 ** rng.uniform(-largest, largest, size=(X.shape[0], 1))
    X_s, y_s = (X * row_scales).astype(dtype), (y / row_scales).astype(dtype)
    assert similarity(NormSimilarity(), X_s, y_s) == pytest.approx(unit, rel=RTOL[dtype])


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_streaming_linear_cka_is_scale_invariant(case, debiased):
    dtype, scale = case
    X, y = paired_sets(n_samples=200)
    # Small first rows: later batches raise the scale exponents of the statistics, which
    # must then be rescaled by their degree in each set.
    X[:4] *= 1e-3
    y[:4] *= 1e-2
    X_s, y_s = (X * scale).astype(dtype), (y / scale).astype(dtype)
    unit = similarity(LinearCKA(debiased=debiased), unscaled(X_s, scale), unscaled(y_s, 1 / scale))
    cka = LinearCKA(debiased=debiased)
    for rows in np.split(np.arange(200), [4, 5, 60]):
        cka.partial_fit(X_s[rows], y_s[rows])
    assert cka.similarity_ == pytest.approx(unit, rel=RTOL[dtype])


def test_values_at_ordinary_scales_are_unchanged():
    # Grids computed before the rescaling was introduced (the stored benchmark numbers
    # rest on them): the power-of-two rescaling must leave them exactly as they were.
    rng = np.random.RandomState(7)
    n = 30
    Xs = [rng.randn(n, 5) + 1.0, rng.randn(n, 5) * [1, 2, 3, 4, 5]]
    Ys = [Xs[0] @ rng.randn(5, 5) + 0.5 * rng.randn(n, 5), rng.randn(n, 5) - 2.0,
          np.tanh(Xs[1])]
    wide = [rng.randn(12, 40), rng.randn(12, 40)]
    expected = {
        LinearCKA(): [0.6349900661367378, 0.23095500731556023, 0.09066979187837353,
                      0.035519759623072696, 0.09399403097879519, 0.7303146023913659],
        LinearCKA(debiased=True): [0.598712043033717, 0.10216433634571818,
                                   -0.07798447474532065, -0.06346864554994422,
                                   -0.035098765793417266, 0.6990551400235809],
        RBFCKA(): [0.66617671445215, 0.30279350609358985, 0.17281949258819482,
                   0.12243443268436038, 0.1720173044837098, 0.793855116041904],
        RBFCKA(threshold=0.5, debiased=True): [0.5021975122009139, 0.06197447215454666,
                                               -0.00345544841955132, -0.08398730570434465,
                                               -0.04285373621180659, 0.7198761822680094],
        MeanCCA(): [0.8442182310591363, 0.46593955593281206, 0.29069793920953796,
                    0.26988266323430515, 0.2762670641277201, 0.9207919579396382],
        SVCCA(): [0.9294732322119942, 0.46593955593281206, 0.29069793920953796,
                  0.28772442144375304, 0.2762670641277201, 0.9207919579396382],
        PWCCA(): [0.8377115117020975, 0.473732122796625, 0.27558313656130856,
                  0.2614115618441842, 0.3008217127660611, 0.9158766655960514],
        OrthogonalProcrustes(): [0.7629528885834093, 0.45237890873590075, 0.2646279230949766,
                                 0.19422050243195832, 0.2662856067751271, 0.8672828067033536],
        DotProduct(): [-1.1940305081161984, -9.513974543028066, -0.032675436583769306,
                       2.685153270549665, -0.7854681772008395, 10.785658893240285],
        NormSimilarity(): [-0.45905488171797293, -0.8184259447782443, -0.3608353953165313,
                           -0.30898226995858, -0.4470725162733551, 0.6183488078638346],
    }
    for measure, values in expected.items():
        computed = pairwise_similarity(measure, Xs, Ys)
        np.testing.assert_allclose(computed.ravel(), values, rtol=1e-12, atol=1e-12,
                                   err_msg=repr(measure))
        for i, j in [(0, 0), (1, 2)]:
            assert similarity(measure, Xs[i], Ys[j]) == pytest.approx(computed[i, j],
                                                                       rel=1e-12, abs=1e-12)
    expected_wide = {LinearCKA(): 0.7647861470287092, LinearCKA(debiased=True): 0.09635237669369506}
    for measure, value in expected_wide.items():
        assert pairwise_similarity(measure, wide)[0, 1] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("scale", [1e-150, 1e-40, 1e40, 1e150])
def test_dot_product_is_exact_at_any_representable_magnitude(scale):
    X, y = paired_sets()
    unit = similarity(DotProduct(), X, y)
    assert similarity(DotProduct(), X * scale, y) == pytest.approx(scale * unit, rel=1e-12)
    assert similarity(DotProduct(), X * scale, y * scale) == pytest.approx(
        scale * scale * unit, rel=1e-12)
    assert similarity(DotProduct(), X * scale, y / scale) == pytest.approx(unit, rel=1e-12)


def test_dot_product_beyond_the_float64_range_raises_a_clear_error():
    X, y = paired_sets()
    with pytest.raises(ValueError, match=r"about 1e401, beyond the float64 range"):
        similarity(DotProduct(), X * 1e200, y * 1e200)
    with pytest.raises(ValueError, match="beyond the float64 range"):
        pairwise_similarity(DotProduct(), [X * 1e300], [y * 1e300])
    # Underflow is no error: the value is the nearest float64, here 0.
    assert similarity(DotProduct(), X * 1e-200, y * 1e-200) == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_power_of_two_rescale_is_exact(dtype):
    rng = np.random.RandomState(0)
    X = rng.randn(6, 3).astype(dtype)
    scaled, exponent = power_of_two_rescale(X)
    assert scaled is X and exponent == 0  # moderate data: no copy
    for factor in (1e-25, 1e25):
        big = (X * factor).astype(dtype)
        scaled, exponent = power_of_two_rescale(big)
        assert scaled.dtype == dtype and 0.5 <= np.abs(scaled).max() < 1
        np.testing.assert_array_equal(np.ldexp(scaled, exponent), big)
    rows = X * np.array([[1e-30], [1e30], [0], [1], [1e10], [1e-10]], dtype=dtype)
    scaled, exponents = power_of_two_rescale(rows, axis=1)
    np.testing.assert_array_equal(np.ldexp(scaled, exponents[:, None]), rows)
    assert exponents[2] == exponents[3] == 0 and not scaled[2].any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("factor", [1.0, 1e-25, 1e25])
def test_moderate_centred_is_rescale_then_centre_to_the_last_bit(dtype, factor):
    rng = np.random.RandomState(0)
    X = (rng.randn(40, 5) * factor + 3 * factor).astype(dtype)
    X[:, 2] = X[0, 2]  # a constant column: exactly zero once centred
    centred = moderate_centred(X)
    assert centred.dtype == dtype
    np.testing.assert_array_equal(centred, centre_columns(power_of_two_rescale(X)[0]))
    assert not centred[:, 2].any() and centred[:, [0, 1, 3, 4]].all()
