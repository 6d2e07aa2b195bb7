"""The estimator contract every similarity measure follows, and the protocol built on it."""

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field, fields

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import Tags, get_tags
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ._retrieval import (
    DEFAULT_PROTOCOL,
    capped_chunk_size,
    hard_negative_neighbors,
    retrieval_hits,
)
from .utils._validation import validate_layers, validate_paired, validate_side


@dataclass(slots=True)
class SimilarityTags:
    """Tags that describe a similarity measure, under ``get_tags(measure).similarity_tags``.

    Parameters
    ----------
    set_level : bool, default=False
        The measure can also be fitted at set level, on whole layers of several models
        (it offers ``fit_sets``).
    symmetric : bool, default=False
        ``similarity(X, y) == similarity(y, X)`` whenever both are defined.
    """

    set_level: bool = False
    symmetric: bool = False


@dataclass(slots=True)
class SimilarityMeasureTags(Tags):
    """scikit-learn's :class:`~sklearn.utils.Tags` plus the :class:`SimilarityTags`."""

    similarity_tags: SimilarityTags = field(default_factory=SimilarityTags)


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

    A measure that learns nothing declares the scikit-learn tag ``requires_fit=False``:
    ``similarity``, ``score`` and layer grids then work without ``fit``.
    ``get_tags(measure).similarity_tags`` says whether the measure offers set-level
    training (``set_level``) and whether it is symmetric (``symmetric``).

    Validation and the protocols (the value, the retrieval decisions, the layer grid)
    live here, the only caller of the private hooks subclasses implement:

    - ``_compare(X, y)`` (required): the similarity of two validated, embedded sets.
    - ``_fit(X, y)``: learn state from validated inputs; the default learns nothing.
    - ``_embed_x(X)`` / ``_embed_y(y)``: map validated inputs of each side to the space
      ``_compare`` works in; the default is the identity.
    - ``_grid(Xs, Ys, verbose)``: the similarity of every pair of validated layers; the
      default embeds each layer once and compares every pair.
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
    >>> X = rng.randn(1000, 4)
    >>> measure = MeanRowCosine().fit(X, X)
    >>> round(measure.similarity(X, 2 * X), 6)
    1.0
    >>> measure.score(X, X + 0.01 * rng.randn(1000, 4))
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
        X, y = self._validate_pair(X, y)
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
        return float(self._retrieval_hits(X, y, **DEFAULT_PROTOCOL).mean())

    def _validate_pair(self, X, y):
        """Check the measure may be used (fitted, or a measure that needs no fit) and
        validate paired inputs against what it was fitted on."""
        check_is_fitted(self)
        if not get_tags(self).requires_fit:
            self._validate_params()
        return validate_paired(self, X, y, reset=False, min_samples=self._min_samples())

    def _retrieval_hits(
        self, X, y, *, chunk_size, n_negatives, negatives, n_repeats, random_state,
        neighbors=None,
    ):
        """Validate, embed each set once and return the hit of every 1-vs-k decision
        (the protocol of :func:`~sklearn_contrasim.metrics.retrieval_accuracy`)."""
        X, y = self._validate_pair(X, y)
        name = type(self).__name__
        chunk_size = capped_chunk_size(X.shape[0], chunk_size, self._min_samples(), name)
        if negatives == "hard":
            neighbors = hard_negative_neighbors(y, n_negatives, neighbors)
        return retrieval_hits(
            self._embed_x(X), self._embed_y(y), self._compare, chunk_size=chunk_size,
            n_negatives=n_negatives, negatives=negatives, n_repeats=n_repeats,
            random_state=random_state, neighbors=neighbors, name=name,
        )

    def _similarity_grid(self, Xs, Ys=None, *, verbose=False):
        """Validate lists of layers and return the similarity of every pair (the protocol
        of :func:`~sklearn_contrasim.measures.pairwise_similarity`)."""
        check_is_fitted(self)
        self._validate_params()
        Xs, Ys = validate_layers(Xs, Ys, min_samples=self._min_samples())
        return self._grid(Xs, Ys, verbose)

    def _embed(self, array, *, side):
        """Validate one set (``side="X"`` or ``"y"``) and return its embedding."""
        check_is_fitted(self)
        array = validate_side(self, array, side=side)
        return self._embed_x(array) if side == "X" else self._embed_y(array)

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

    def _grid(self, Xs, Ys, verbose=False):
        """Return the ``len(Xs) x len(Ys)`` similarity matrix of validated layers
        (``Ys=None``: Xs with itself), embedding each layer once (2 L embeddings, not
        L^2)."""
        embedded_x = [self._embed(X, side="X") for X in Xs]
        embedded_y = [self._embed(Y, side="y") for Y in (Xs if Ys is None else Ys)]
        grid = np.empty((len(embedded_x), len(embedded_y)))
        for i in tqdm(range(len(embedded_x)), disable=not verbose, desc=type(self).__name__):
            for j, Y in enumerate(embedded_y):
                grid[i, j] = self._compare(embedded_x[i], Y)
        return grid

    def _min_samples(self):
        """Return the fewest rows this measure accepts."""
        return 2

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags = SimilarityMeasureTags(
            **{tag.name: getattr(tags, tag.name) for tag in fields(Tags)},
            similarity_tags=SimilarityTags(),
        )
        # y is a second 2-D representation set, never a 1-D target.
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
