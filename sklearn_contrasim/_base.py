"""The estimator contract every similarity measure follows."""

from abc import ABCMeta, abstractmethod

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._validation import validate_paired


class BaseSimilarity(BaseEstimator, metaclass=ABCMeta):
    """Base class of every similarity measure between two paired representation sets.

    A measure compares ``X`` (n_samples, n_features) with ``y`` (n_samples, n_features_y),
    where row ``k`` of both comes from the same example (a stimulus shown to two networks,
    a sentence and its translation, an image and its caption). Every measure offers:

    - ``fit(X, y)``: learn what the measure needs (nothing for closed-form measures, an
      encoder for ContraSim); returns ``self``.
    - ``similarity(X, y)``: the measure's value on these pairs; higher means more similar.
    - ``score(X, y)``: how well the fitted measure tells matched from mismatched pairs on
      these (held-out) rows, the benchmarks' 1-vs-k retrieval accuracy (see
      :func:`~sklearn_contrasim.metrics.retrieval_accuracy`). This is what
      :class:`~sklearn.model_selection.GridSearchCV` maximises by default.

    Validation lives here; subclasses implement private hooks:

    - ``_compare(X, y)`` (required): the similarity of two validated, embedded sets.
    - ``_fit(X, y)``: learn state from validated inputs; the default learns nothing.
    - ``_embed_x(X)`` / ``_embed_y(y)``: map validated inputs of each side to the space
      ``_compare`` works in; the default is the identity.
    - ``_min_samples()``: the fewest rows the measure accepts; 2 by default.

    Subclasses declare their hyper-parameters' constraints in ``_parameter_constraints``
    (scikit-learn's format); ``fit`` validates them.

    Examples
    --------
    A measure only implements ``_compare``; validation, fitted state and the retrieval
    ``score`` come from the base class:

    >>> import numpy as np
    >>> from sklearn_contrasim import BaseSimilarity
    >>> class MeanRowCosine(BaseSimilarity):
    ...     def _compare(self, X, y):
    ...         X = X / np.linalg.norm(X, axis=1, keepdims=True)
    ...         y = y / np.linalg.norm(y, axis=1, keepdims=True)
    ...         return np.mean(np.sum(X * y, axis=1))
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 4)
    >>> measure = MeanRowCosine().fit(X, X)
    >>> round(measure.similarity(X, 2 * X), 6)
    1.0
    >>> measure.score(X, X + 0.01 * rng.randn(100, 4))
    1.0
    """

    _parameter_constraints = {}

    def fit(self, X, y):
        """Learn what the measure needs from paired representation sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First representation set.
        y : array-like of shape (n_samples, n_features_y)
            Second representation set, paired row by row with ``X``.

        Returns
        -------
        self : object
            The fitted measure.
        """
        self._validate_params()
        X, y = validate_paired(self, X, y, reset=True, min_samples=self._min_samples())
        self._fit(X, y)
        return self

    def similarity(self, X, y):
        """Return the measure's value on paired representation sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First representation set.
        y : array-like of shape (n_samples, n_features_y)
            Second representation set, paired row by row with ``X``.

        Returns
        -------
        similarity : float
            Higher means more similar; each measure documents its range.
        """
        X, y = self._validate_fitted(X, y)
        return float(self._compare(self._embed_x(X), self._embed_y(y)))

    def score(self, X, y):
        """Return the 1-vs-k retrieval accuracy of the measure on held-out pairs.

        Rows are split into chunks; a chunk is a hit when the measure gives the paired
        chunk of ``y`` a strictly higher similarity than each of ``k`` randomly drawn
        mismatched chunks. Chance is ``1 / (k + 1)``. The defaults are those of
        :func:`~sklearn_contrasim.metrics.retrieval_accuracy`; use
        :func:`~sklearn_contrasim.metrics.make_retrieval_scorer` to change them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First representation set.
        y : array-like of shape (n_samples, n_features_y)
            Second representation set, paired row by row with ``X``.

        Returns
        -------
        score : float
            Fraction of chunks for which the paired chunk strictly wins, in [0, 1].
        """
        from .metrics import retrieval_accuracy

        return retrieval_accuracy(self, X, y)

    def _validate_fitted(self, X, y):
        """Check the measure is fitted and validate inputs against what it was fitted on."""
        check_is_fitted(self)
        return validate_paired(self, X, y, reset=False, min_samples=self._min_samples())

    def _fit(self, X, y):
        """Learn from validated inputs; closed-form measures learn nothing."""

    def _embed_x(self, X):
        """Map validated rows of the first set to the space in which ``_compare`` works."""
        return X

    def _embed_y(self, y):
        """Map validated rows of the second set to the space in which ``_compare`` works."""
        return y

    @abstractmethod
    def _compare(self, X, y):
        """Return the similarity (a float) of two validated, embedded sets."""

    def _min_samples(self):
        """Return the fewest rows this measure accepts."""
        return 2

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # y is a second 2-D representation set, never a 1-D target.
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
