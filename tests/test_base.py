"""The estimator contract owned by BaseSimilarity: validation, fitted state, tags."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.utils._validation import validate_paired


class MeanRowCosine(BaseSimilarity):
    """Minimal measure used to test the base class on its own."""

    def _compare(self, X, y):
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
        y = y / np.linalg.norm(y, axis=1, keepdims=True)
        return np.mean(np.sum(X * y, axis=1))


@pytest.fixture
def paired():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 5)
    return X, X + 0.01 * rng.randn(40, 5)


def test_fit_returns_self_and_records_widths(paired):
    X, y = paired
    measure = MeanRowCosine()
    assert measure.fit(X, y[:, :3]) is measure
    assert measure.n_features_in_ == 5
    assert measure.n_features_y_ == 3


def test_similarity_value(paired):
    X, _ = paired
    assert MeanRowCosine().fit(X, X).similarity(X, X) == pytest.approx(1.0)
    assert MeanRowCosine().fit(X, X).similarity(X, -X) == pytest.approx(-1.0)


def test_float32_is_kept_and_ints_become_float64(paired):
    X, y = paired
    measure = MeanRowCosine()
    X32, y32 = validate_paired(measure, X.astype(np.float32), y.astype(np.float32), reset=True)
    assert X32.dtype == np.float32 and y32.dtype == np.float32
    Xi, yi = validate_paired(measure, np.ones((4, 2), dtype=int), np.eye(4)[:, :2], reset=True)
    assert Xi.dtype == np.float64 and yi.dtype == np.float64


@pytest.mark.parametrize(
    "make_inputs, message",
    [
        (lambda X, y: (X, y[:-1]), "paired row by row"),
        (lambda X, y: (X, None), "requires y to be passed"),
        (lambda X, y: (X[:, 0], y), "2-D array"),
        (lambda X, y: (X[None], y), "2-D array"),
        (lambda X, y: (np.where(X > 1, np.nan, X), y), "NaN"),
        (lambda X, y: (X, np.where(y > 1, np.inf, y)), "infinity"),
        (lambda X, y: (X[:1], y[:1]), "minimum of 2"),
        (lambda X, y: (X.astype(str).astype(object) + "a", y), "could not convert"),
        (lambda X, y: (X + 1j, y), "Complex"),
    ],
)
def test_bad_input_gives_a_clear_error(paired, make_inputs, message):
    with pytest.raises(ValueError, match=message):
        MeanRowCosine().fit(*make_inputs(*paired))


def test_unfitted_use_raises(paired):
    with pytest.raises(NotFittedError):
        MeanRowCosine().similarity(*paired)
    with pytest.raises(NotFittedError):
        MeanRowCosine().score(*paired)


def test_widths_must_match_fit(paired):
    X, y = paired
    measure = MeanRowCosine().fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features"):
        measure.similarity(X[:, :4], y)
    with pytest.raises(ValueError, match="y has 4 features"):
        measure.similarity(X, y[:, :4])


def test_tags_say_y_is_a_two_dimensional_set():
    tags = get_tags(MeanRowCosine())
    assert tags.target_tags.required
    assert tags.target_tags.multi_output and not tags.target_tags.single_output
    assert tags.estimator_type is None


def test_base_class_is_abstract():
    with pytest.raises(TypeError):
        BaseSimilarity()
