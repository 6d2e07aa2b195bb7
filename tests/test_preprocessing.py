"""RelativeRepresentation: values, invariances, anchors, edge cases and sklearn compatibility."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group
from sklearn.exceptions import NotFittedError
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_contrasim.preprocessing import RelativeRepresentation

# Derandomised: the same examples on every run, so the suite never flakes.
HYPOTHESIS = settings(max_examples=25, deadline=None, derandomize=True, database=None)

# The feature maps the output is invariant to, applied to every row of a layer (the
# rows seen in fit and the rows transformed alike). "isometric_embedding" maps into a
# wider space by orthonormal rows, as a wider layer holding the same geometry would.
INVARIANT_TO = ("orthogonal", "permutation", "isotropic_scaling", "translation",
                "isometric_embedding")


def feature_map(name, n_features, rng):
    """Return the map ``name`` of ``n_features`` features as a function of the rows."""
    if name == "orthogonal":
        rotation = ortho_group.rvs(n_features, random_state=rng)
        return lambda rows: rows @ rotation
    if name == "permutation":
        order = rng.permutation(n_features)
        return lambda rows: rows[:, order]
    if name == "isotropic_scaling":
        scale = rng.uniform(0.01, 100)
        return lambda rows: scale * rows
    if name == "translation":
        shift = rng.uniform(-10, 10, size=n_features)
        return lambda rows: rows + shift
    if name == "isometric_embedding":
        wider = n_features + rng.randint(1, 20)
        embedding = ortho_group.rvs(wider, random_state=rng)[:n_features]
        return lambda rows: rows @ embedding
    if name == "invertible_linear":
        stretch = np.diag(np.geomspace(1, 30, n_features))
        rotation = ortho_group.rvs(n_features, random_state=rng)
        return lambda rows: rows @ rotation @ stretch
    raise AssertionError(name)


def layer(seed, n_samples, n_features):
    """Rows of a layer with features of unequal scales and a non-zero mean."""
    rng = np.random.RandomState(seed)
    rows = rng.randn(n_samples, n_features) * rng.uniform(0.5, 2, size=n_features)
    return rows + rng.uniform(-1, 1, size=n_features), rng


def relative(rows_fit, rows, **params):
    params = {"n_anchors": 7, "random_state": 0, **params}
    return RelativeRepresentation(**params).fit(rows_fit).transform(rows)


# --- sklearn compatibility ---------------------------------------------------------------


@parametrize_with_checks([
    RelativeRepresentation(n_anchors=5, random_state=0),
    RelativeRepresentation(n_anchors=5, center=False, random_state=0),
    RelativeRepresentation(n_anchors=None),
])
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)


def test_pickled_transformer_gives_the_same_output():
    X, _ = layer(0, 50, 6)
    fitted = RelativeRepresentation(n_anchors=10, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(restored.anchor_indices_, fitted.anchor_indices_)


# --- values ------------------------------------------------------------------------------


def test_output_is_the_cosine_to_the_centred_anchors():
    X, rng = layer(0, 60, 5)
    rows = rng.randn(20, 5)
    fitted = RelativeRepresentation(n_anchors=8, random_state=0).fit(X)
    mean = X.mean(axis=0)
    expected = cosine_similarity(rows - mean, X[fitted.anchor_indices_] - mean)
    np.testing.assert_allclose(fitted.transform(rows), expected, atol=1e-12)
    uncentred = RelativeRepresentation(n_anchors=8, center=False, random_state=0).fit(X)
    np.testing.assert_allclose(
        uncentred.transform(rows), cosine_similarity(rows, X[uncentred.anchor_indices_]),
        atol=1e-12,
    )
    np.testing.assert_array_equal(uncentred.mean_, np.zeros(5))


@HYPOTHESIS
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(2, 40),
       n_features=st.integers(1, 30), n_anchors=st.integers(1, 40))
def test_anchors_have_cosine_one_with_themselves_and_values_lie_in_the_unit_range(
    seed, n_samples, n_features, n_anchors
):
    n_anchors = min(n_anchors, n_samples)
    X, _ = layer(seed, n_samples, n_features)
    fitted = RelativeRepresentation(n_anchors=n_anchors, random_state=seed).fit(X)
    X_relative = fitted.transform(X)
    assert X_relative.shape == (n_samples, n_anchors)
    assert np.all(np.abs(X_relative) <= 1.0)
    # An anchor with a direction (here: any anchor away from the mean) is itself.
    has_direction = np.abs(fitted.anchors_).sum(axis=1) > 0
    own = X_relative[fitted.anchor_indices_, np.arange(n_anchors)]
    np.testing.assert_allclose(own[has_direction], 1.0, rtol=1e-12)


# --- invariances -------------------------------------------------------------------------


@HYPOTHESIS
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(8, 40),
       n_features=st.integers(1, 12))
def test_claimed_invariances(seed, n_samples, n_features):
    X, rng = layer(seed, n_samples, n_features)
    new_rows = rng.randn(15, n_features)
    reference = relative(X, new_rows)
    for name in INVARIANT_TO:
        mapped = feature_map(name, n_features, rng)
        np.testing.assert_allclose(relative(mapped(X), mapped(new_rows)), reference,
                                   atol=1e-9, err_msg=name)


@HYPOTHESIS
@given(seed=st.integers(0, 2**31 - 1), n_samples=st.integers(20, 40))
def test_claimed_non_invariances(seed, n_samples):
    X, rng = layer(seed, n_samples, 4)
    new_rows = rng.randn(15, 4)
    stretched = feature_map("invertible_linear", 4, rng)
    assert not np.allclose(relative(stretched(X), stretched(new_rows)), relative(X, new_rows))
    # Without centring, a translation changes the angles.
    shifted = feature_map("translation", 4, rng)
    assert not np.allclose(relative(shifted(X), shifted(new_rows), center=False),
                           relative(X, new_rows, center=False))


def test_layers_of_any_width_map_to_n_anchors_features_with_the_same_anchor_rows():
    rng = np.random.RandomState(0)
    widths = (1, 3, 64, 500)
    fitted = [RelativeRepresentation(n_anchors=20, random_state=3).fit(rng.randn(100, width))
              for width in widths]
    for transformer, width in zip(fitted, widths):
        assert transformer.transform(rng.randn(9, width)).shape == (9, 20)
    # The anchors are the same examples in every layer: the protocol of the Notes.
    for transformer in fitted[1:]:
        np.testing.assert_array_equal(transformer.anchor_indices_, fitted[0].anchor_indices_)


# --- anchors -----------------------------------------------------------------------------


def test_same_random_state_gives_the_same_anchors_and_output():
    X, _ = layer(0, 80, 6)
    first = RelativeRepresentation(n_anchors=10, random_state=42).fit(X)
    second = RelativeRepresentation(n_anchors=10, random_state=42).fit(X)
    np.testing.assert_array_equal(first.anchor_indices_, second.anchor_indices_)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    other = RelativeRepresentation(n_anchors=10, random_state=7).fit(X)
    assert not np.array_equal(other.anchor_indices_, first.anchor_indices_)
    # Anchors are distinct rows, in increasing order.
    assert np.all(np.diff(first.anchor_indices_) > 0)


def test_given_anchors_are_used_in_their_order_and_override_n_anchors():
    X, _ = layer(0, 30, 4)
    fitted = RelativeRepresentation(n_anchors=2, anchors=[12, 3, 29]).fit(X)
    np.testing.assert_array_equal(fitted.anchor_indices_, [12, 3, 29])
    X_relative = fitted.transform(X)
    assert X_relative.shape == (30, 3)
    np.testing.assert_allclose(X_relative[[12, 3, 29], [0, 1, 2]], 1.0)


def test_n_anchors_none_makes_every_fitted_row_an_anchor():
    # The explicit protocol: fit on the anchor inputs' representation, transform others.
    anchor_rows, rng = layer(0, 12, 5)
    fitted = RelativeRepresentation(n_anchors=None).fit(anchor_rows)
    np.testing.assert_array_equal(fitted.anchor_indices_, np.arange(12))
    np.testing.assert_allclose(fitted.mean_, anchor_rows.mean(axis=0))
    assert fitted.transform(rng.randn(40, 5)).shape == (40, 12)


def test_feature_names_out_name_the_anchors():
    pd = pytest.importorskip("pandas")
    X, _ = layer(0, 20, 3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    fitted = RelativeRepresentation(n_anchors=4, random_state=0).set_output(transform="pandas")
    output = fitted.fit_transform(frame)
    expected = ["anchor0", "anchor1", "anchor2", "anchor3"]
    assert list(fitted.get_feature_names_out()) == expected
    assert list(output.columns) == expected
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        fitted.get_feature_names_out(["x", "y", "z"])


# --- zero rows and dtypes ----------------------------------------------------------------


def test_zero_rows_give_zero_cosines_never_nan():
    X, _ = layer(0, 20, 4)
    rows = np.vstack([np.zeros(4), X[:3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        uncentred = RelativeRepresentation(n_anchors=5, center=False, random_state=0).fit(X)
        output = uncentred.transform(rows)
        # A row equal to the mean has no direction once centred.
        centred = RelativeRepresentation(n_anchors=5, random_state=0).fit(X)
        at_mean = centred.transform(X.mean(axis=0, keepdims=True))
    np.testing.assert_array_equal(output[0], 0.0)
    assert np.all(np.abs(output[1:]).max(axis=1) > 0)
    np.testing.assert_array_equal(at_mean, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [0.0, 0.3, 1e4 / 3])
def test_constant_layers_give_zeros_not_rounding_noise(dtype, value):
    # The mean of a constant column is the constant only up to rounding: the centred rows
    # are rounding noise, which must not turn into cosines of +-1.
    X = np.full((37, 6), value, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = RelativeRepresentation(n_anchors=5, random_state=0).fit(X)
        output = fitted.transform(X)
    np.testing.assert_array_equal(output, 0.0)
    np.testing.assert_array_equal(fitted.anchors_, 0.0)


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transform_dtype", [np.float32, np.float64])
def test_float32_stays_float32_and_float64_stays_float64(fit_dtype, transform_dtype):
    X, _ = layer(0, 30, 4)
    fitted = RelativeRepresentation(n_anchors=6, random_state=0).fit(X.astype(fit_dtype))
    output = fitted.transform(X.astype(transform_dtype))
    assert output.dtype == transform_dtype
    np.testing.assert_allclose(output, relative(X, X, n_anchors=6), atol=1e-5)


# --- errors ------------------------------------------------------------------------------


def test_more_anchors_than_rows_is_a_clear_error():
    X, _ = layer(0, 10, 3)
    with pytest.raises(ValueError, match=r"n_anchors=11 anchors cannot be drawn from the "
                                         r"n_samples=10 rows of X"):
        RelativeRepresentation(n_anchors=11).fit(X)


@pytest.mark.parametrize("anchors, message", [
    ([0, 10], r"row indices of X, from 0 to 9; got indices from 0 to 10"),
    ([-1, 2], r"row indices of X, from 0 to 9; got indices from -1 to 2"),
    ([1, 2, 1], r"distinct row indices of X; some are repeated"),
    ([0.0, 1.0], r"1-D array of row indices \(ints\) of X, got an array of dtype float64"),
    ([[0, 1]], r"1-D array of row indices \(ints\) of X, got an array of dtype int64 and "
               r"shape \(1, 2\)"),
    ([], r"non-empty 1-D array of row indices"),
])
def test_bad_anchors_are_a_clear_error(anchors, message):
    X, _ = layer(0, 10, 3)
    with pytest.raises(ValueError, match=message):
        RelativeRepresentation(anchors=anchors).fit(X)


@pytest.mark.parametrize("params, message", [
    (dict(n_anchors=0), r"'n_anchors' parameter of RelativeRepresentation must be"),
    (dict(n_anchors=2.5), r"'n_anchors' parameter of RelativeRepresentation must be"),
    (dict(center="yes"), r"'center' parameter of RelativeRepresentation must be"),
    (dict(anchors=3), r"'anchors' parameter of RelativeRepresentation must be"),
])
def test_invalid_parameters_raise(params, message):
    X, _ = layer(0, 10, 3)
    with pytest.raises(InvalidParameterError, match=message):
        RelativeRepresentation(**params).fit(X)


def test_transform_checks_fitted_state_width_and_values():
    X, _ = layer(0, 10, 3)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        RelativeRepresentation().transform(X)
    fitted = RelativeRepresentation(n_anchors=4, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but RelativeRepresentation is "
                                         "expecting 3 features"):
        fitted.transform(np.ones((5, 4)))
    with_nan = X.copy()
    with_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.transform(with_nan)
