"""Checks every similarity measure must pass, on top of scikit-learn's estimator checks.

:func:`check_similarity_measure` runs them all on an unfitted measure (learned measures
with settings small enough to fit in seconds) and raises an ``AssertionError`` naming
what is wrong: the layer grid equals ``similarity`` pair by pair, a set is most similar
to itself, the ``symmetric`` tag is honoured, ``score`` is in [0, 1] and deterministic,
a pickle round trip keeps the values, and a measure tagged ``requires_fit=False`` works
unfitted.
"""

import pickle
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils import get_tags

from ..exceptions import UnreliableScoreWarning
from ..measures import pairwise_similarity

__all__ = ["check_similarity_measure"]


def _paired_sets(n_samples=160, n_features=4, random_state=0):
    """Two related sets of one width, and a third unrelated to both."""
    rng = np.random.RandomState(random_state)
    X = rng.randn(n_samples, n_features)
    y = X @ rng.randn(n_features, n_features) + 0.5 * rng.randn(n_samples, n_features)
    return X, y, rng.randn(n_samples, n_features)


def _fitted(measure, X, y):
    return clone(measure).fit(X, y)


def _check_grid_matches_similarity(measure):
    """``pairwise_similarity`` gives ``similarity`` of every pair of layers."""
    X, y, unrelated = _paired_sets()
    fitted = _fitted(measure, X, y)
    layers = [X, y, unrelated]
    expected = [[fitted.similarity(A, B) for B in layers] for A in layers]
    np.testing.assert_allclose(
        pairwise_similarity(fitted, layers), expected, rtol=1e-6, atol=1e-6,
        err_msg=f"{type(measure).__name__}: the layer grid differs from similarity pair by pair",
    )


def _check_self_similarity_is_highest(measure):
    """A set is at least as similar to itself as to an unrelated set."""
    X, y, unrelated = _paired_sets()
    fitted = _fitted(measure, X, y)
    itself, other = fitted.similarity(X, X), fitted.similarity(X, unrelated)
    assert itself >= other - 1e-6, (
        f"{type(measure).__name__}: similarity(X, X) = {itself} is below the similarity "
        f"{other} of X with an unrelated set"
    )


def _check_symmetry_tag(measure):
    """A measure tagged ``similarity_tags.symmetric`` gives the same value both ways."""
    X, y, _ = _paired_sets()
    fitted = _fitted(measure, X, y)
    if not get_tags(fitted).similarity_tags.symmetric:
        return
    forward, backward = fitted.similarity(X, y), fitted.similarity(y, X)
    np.testing.assert_allclose(
        forward, backward, rtol=1e-6, atol=1e-6,
        err_msg=f"{type(measure).__name__} is tagged symmetric, but similarity(X, y) != "
        "similarity(y, X)",
    )


def _check_score_in_unit_interval(measure):
    """``score`` is a retrieval accuracy: a float in [0, 1], the same on a second call."""
    X, y, _ = _paired_sets()
    fitted = _fitted(measure, X, y)
    with warnings.catch_warnings():
        # 160 rows give few decisions: this check is about the range, not the value.
        warnings.simplefilter("ignore", UnreliableScoreWarning)
        first, second = fitted.score(X, y), fitted.score(X, y)
    assert isinstance(first, float) and 0.0 <= first <= 1.0, (
        f"{type(measure).__name__}.score gave {first!r}, not a float in [0, 1]"
    )
    assert first == second, f"{type(measure).__name__}.score is not deterministic"


def _check_pickle_round_trip(measure):
    """A fitted measure gives the same similarity after pickling and unpickling."""
    X, y, _ = _paired_sets()
    fitted = _fitted(measure, X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.similarity(X, y) == fitted.similarity(X, y), (
        f"{type(measure).__name__}: similarity changed after a pickle round trip"
    )


def _check_no_fit_needed_when_tagged(measure):
    """A measure tagged ``requires_fit=False`` gives, unfitted, its fitted values."""
    if get_tags(measure).requires_fit:
        return
    X, y, _ = _paired_sets()
    unfitted = clone(measure)
    assert unfitted.similarity(X, y) == _fitted(measure, X, y).similarity(X, y), (
        f"{type(measure).__name__} needs no fit, but its unfitted similarity differs"
    )
    assert not hasattr(unfitted, "n_features_in_"), (
        f"{type(measure).__name__}.similarity changed the unfitted measure"
    )


_CHECKS = (
    _check_grid_matches_similarity,
    _check_self_similarity_is_highest,
    _check_symmetry_tag,
    _check_score_in_unit_interval,
    _check_pickle_round_trip,
    _check_no_fit_needed_when_tagged,
)


def check_similarity_measure(measure):
    """Run every similarity check on ``measure``.

    Parameters
    ----------
    measure : BaseSimilarity
        An unfitted measure; learned measures should use small settings (a tiny encoder,
        few epochs), as every check fits a clone.

    Raises
    ------
    AssertionError
        From the first check that fails, naming the measure and what is wrong.

    Examples
    --------
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> from sklearn_contrasim.utils.estimator_checks import check_similarity_measure
    >>> check_similarity_measure(LinearCKA())
    """
    for check in _CHECKS:
        check(measure)
