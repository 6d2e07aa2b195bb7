"""Machinery shared by the closed-form measures: a summary per set, combined pair by pair."""

from abc import abstractmethod

import numpy as np
from tqdm.auto import tqdm

from .._base import BaseSimilarity


class DegenerateSimilarityWarning(UserWarning):
    """Warning issued when a measure's value is fixed by the shapes of the data.

    With more features than samples, centred data span the whole space orthogonal to the
    constant vector, so canonical correlations reach 1 whatever the data: the CCA family
    then says nothing about the representations. Use more samples than features, or
    reduce the dimension first (:class:`SVCCA`).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import DegenerateSimilarityWarning, MeanCCA
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(5, 8), rng.randn(5, 8)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     value = MeanCCA().fit(X, y).similarity(X, y)
    >>> round(value, 6), caught[0].category is DegenerateSimilarityWarning
    (1.0, True)
    """


def centre_columns(X, constant=None):
    """Return ``X`` minus its column means, with constant columns exactly zero.

    The means are computed in float64 and the result keeps the dtype of ``X``. A constant
    column (maximum equal to minimum; ``constant``, a boolean mask, when the caller knows
    them already) is set to exact zeros, so that rounding in its mean can never turn it
    into spurious variance.
    """
    means = X.mean(axis=0, dtype=np.float64)
    centred = X - means.astype(X.dtype, copy=False)
    if constant is None:
        constant = np.ptp(X, axis=0) == 0
    if constant.any():
        centred[:, constant] = 0
    return centred


# Sets whose largest magnitude lies within 2**±_MODERATE_EXPONENT are used as they are.
_MODERATE_EXPONENT = 20


def _moderating_exponents(largest):
    """The powers of two that bring magnitudes ``largest`` into ``[0.5, 1)``, or 0 where
    they are already moderate (within ``2**±20``) or zero."""
    exponent = np.frexp(largest)[1]
    return np.where(np.abs(exponent) <= _MODERATE_EXPONENT, 0, exponent)


def power_of_two_rescale(X, axis=None):
    """Return ``(scaled, exponent)`` with ``X == scaled * 2**exponent`` exactly.

    Multiplying by a power of two changes only the exponents of the entries, so a scale
    invariant measure computed from ``scaled`` gives, to the last bit, its value on
    ``X``, while products and sums of squares of ``scaled`` can neither overflow nor
    underflow. ``exponent`` (an int, or one per row with ``axis=1``) is 0 and ``X`` is
    returned as is (no copy) when its largest magnitude is already moderate (within
    ``2**±20``); otherwise it brings the largest magnitude into ``[0.5, 1)``. All-zero
    sets and rows keep exponent 0.
    """
    largest = np.maximum(X.max(axis=axis, keepdims=True), -X.min(axis=axis, keepdims=True))
    exponent = _moderating_exponents(largest)
    if not exponent.any():
        return X, (0 if axis is None else np.zeros(X.shape[0], dtype=int))
    scaled = np.ldexp(X, -exponent).astype(X.dtype, copy=False)
    return scaled, (int(exponent.item()) if axis is None else exponent.ravel())


def moderate_centred(X):
    """Return ``centre_columns(power_of_two_rescale(X)[0])``, reading the column extremes
    once: they give both the power of two and the constant columns."""
    column_max, column_min = X.max(axis=0), X.min(axis=0)
    exponent = int(_moderating_exponents(np.maximum(column_max.max(), -column_min.min())))
    if exponent:
        X = np.ldexp(X, -exponent).astype(X.dtype, copy=False)
    return centre_columns(X, constant=column_max == column_min)


class ClosedFormSimilarity(BaseSimilarity):
    """A closed-form measure: an expensive summary per set, a cheap combination per pair.

    ``similarity(X, y)`` is ``_combine(_summarize(X), _summarize(y))``. A layer grid
    (:func:`~sklearn_contrasim.measures.pairwise_similarity`) summarises every layer once
    and combines every pair, so its cost is one summary per layer, not per pair. The
    measure learns nothing (tag ``requires_fit=False``): it is used with or without
    ``fit``.
    """

    # Whether _combine(a, b) == _combine(b, a) (the tag similarity_tags.symmetric); the
    # grid of a list with itself then computes one triangle only.
    _symmetric = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.similarity_tags.symmetric = self._symmetric
        return tags

    def _compare(self, X, y):
        return self._combine(self._summarize(X), self._summarize(y))

    @abstractmethod
    def _summarize(self, X):
        """Return what ``_combine`` needs to know about one validated set."""

    @abstractmethod
    def _combine(self, summary_x, summary_y):
        """Return the similarity (a float) of two summarised sets."""

    def _grid(self, Xs, Ys, verbose=False):
        """Return the ``len(Xs) x len(Ys)`` similarity matrix; ``Ys=None`` pairs Xs with itself."""
        summaries_x = [self._summarize(X) for X in Xs]
        summaries_y = summaries_x if Ys is None else [self._summarize(Y) for Y in Ys]
        mirror = Ys is None and self._symmetric
        grid = np.empty((len(summaries_x), len(summaries_y)))
        for i in tqdm(range(len(summaries_x)), disable=not verbose, desc=type(self).__name__):
            for j in range(i if mirror else 0, len(summaries_y)):
                grid[i, j] = self._combine(summaries_x[i], summaries_y[j])
                if mirror:
                    grid[j, i] = grid[i, j]
        return grid
