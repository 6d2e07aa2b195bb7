"""Anchor-relative representations: each example described by its cosine to anchor examples."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._sklearn_compat import Interval, _check_feature_names_in, _fit_context
from ..utils._validation import FLOAT_DTYPES

# A centred row whose norm is within this many rounding units of the magnitudes it was
# computed from (the row and the mean) has no direction left: it counts as a zero row.
_ROUNDING_UNITS = 16


def _centred_unit_rows(rows, mean):
    """Return ``rows - mean`` scaled to unit L2 norm; rows with no direction become zero.

    A row is zero when its centred norm is no larger than the rounding error of the
    centring (exactly zero rows when ``mean`` is zero), so that a row equal to the mean
    gives zeros, never NaN or the direction of rounding noise.
    """
    mean = mean.astype(rows.dtype, copy=False)
    centred = rows - mean
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    rounding = (_ROUNDING_UNITS * np.finfo(rows.dtype).eps
                * (np.linalg.norm(rows, axis=1, keepdims=True) + np.linalg.norm(mean)))
    has_direction = norms > rounding
    return np.divide(centred, norms, out=np.zeros_like(centred), where=has_direction)


class RelativeRepresentation(TransformerMixin, BaseEstimator):
    """Describe every example by its cosine similarity to a fixed set of anchor examples.

    The relative representation of Moschella et al. (2023): a row ``x`` of a layer's
    representation becomes the vector of cosines ``cos(x - mean, a_j - mean)`` to the
    layer's representations ``a_1, ..., a_m`` of ``m`` anchor examples. Two networks
    trained from different seeds rarely agree neuron by neuron, but they tend to agree on
    which examples are alike: the relative representations of their layers can be
    compared, and a learned measure such as
    :class:`~sklearn_contrasim.contrasim.ContraSim` trained on some networks applies to
    networks it never saw. Every layer, whatever its width, maps to ``m`` features.

    ``fit`` chooses the anchors among the rows of ``X`` (``n_anchors`` rows drawn with
    ``random_state``, the rows given by ``anchors``, or every row) and ``transform``
    computes the cosines of any rows of the same width to them.

    Parameters
    ----------
    n_anchors : int or None, default=256
        Number of anchors drawn at random (without replacement) from the rows of ``X`` in
        ``fit``; ``None`` makes every row of ``X`` an anchor (fit on the representation of
        the anchor examples themselves). Ignored when ``anchors`` is given.
    anchors : array-like of int of shape (n_anchors,), default=None
        Row indices of ``X`` to use as anchors, in the order of the output columns.
    center : bool, default=True
        Subtract the mean of the rows of ``X`` seen in ``fit`` from the anchors and from
        every transformed row before taking cosines, which makes the representation
        invariant to translations of the features.
    random_state : int, RandomState instance or None, default=None
        Draws the anchors when ``anchors`` is None. Use an int: the same int and the same
        number of rows give the same anchor rows, which the anchor protocol needs (see
        Notes); a shared ``RandomState`` instance would draw different anchors for every
        model.

    Attributes
    ----------
    anchor_indices_ : ndarray of int of shape (n_anchors,)
        Rows of the fitted ``X`` used as anchors; output column ``j`` is the cosine to
        row ``anchor_indices_[j]``.
    anchors_ : ndarray of shape (n_anchors, n_features)
        The anchors, centred with ``mean_`` and scaled to unit norm (zero for an anchor
        equal to the mean).
    mean_ : ndarray of shape (n_features,)
        Mean of the fitted rows subtracted before taking cosines; zeros when
        ``center=False``.
    n_features_in_ : int
        Width of the fitted ``X``.
    feature_names_in_ : ndarray of str of shape (n_features,)
        Column names of ``X``, when ``X`` is a DataFrame with string column names.

    See Also
    --------
    sklearn_contrasim.contrasim.ContraSim : A learned measure to train on the output, for
        example at set level with ``fit_sets``.

    Notes
    -----
    **Invariances.** The output is unchanged when the features of ``X`` (in ``fit`` and in
    ``transform`` alike) are mapped by any orthogonal map (rotations, reflections, and
    permutations of the neurons, also into a wider space: appending zero features
    changes nothing), scaled by a positive factor, and, with ``center=True``, translated.
    It changes under general invertible linear maps.

    **The anchor protocol.** Anchors must be the *same examples* in every model and
    layer: fit one ``RelativeRepresentation`` per model and layer, each on that model's
    representation of the same inputs in the same order, with the same int
    ``random_state`` (or the same ``anchors``), so that every fit picks the same anchor
    examples. With ``n_anchors=None`` the protocol is explicit: fit each model on its
    representation of the anchor inputs only, then transform any other inputs. Different
    anchor examples per model make the outputs incomparable.

    **Zero rows.** A row equal to the centring mean (for ``center=False``, an all-zero
    row), up to rounding, has no direction: its cosine to every anchor is defined as 0,
    and an anchor equal to the mean gives a column of zeros. Constant layers thus give
    zeros, never NaN.

    ``transform`` costs one ``(n_samples, n_features) @ (n_features, n_anchors)`` product;
    float32 input gives float32 output, float64 stays float64.

    References
    ----------
    Moschella, Maiorca, Fumero, Norelli, Locatello and Rodolà, "Relative representations
    enable zero-shot latent space communication", ICLR 2023.

    Examples
    --------
    Two models whose layers differ by a rotation, a scaling and a translation of the
    neurons have the same relative representation when their anchors are the same
    examples (here: the same rows, drawn with the same ``random_state``):

    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from sklearn_contrasim.preprocessing import RelativeRepresentation
    >>> rng = np.random.RandomState(0)
    >>> layer_a = rng.randn(100, 8)
    >>> layer_b = 3.0 * layer_a @ ortho_group.rvs(8, random_state=0) + 1.0
    >>> relative_a = RelativeRepresentation(n_anchors=10, random_state=0).fit(layer_a)
    >>> relative_b = RelativeRepresentation(n_anchors=10, random_state=0).fit(layer_b)
    >>> relative_a.transform(layer_a).shape
    (100, 10)
    >>> bool(np.allclose(relative_a.transform(layer_a), relative_b.transform(layer_b)))
    True

    A layer of another width maps to the same width:

    >>> wide_layer = np.hstack([layer_a, np.zeros((100, 24))])
    >>> relative_wide = RelativeRepresentation(n_anchors=10, random_state=0).fit(wide_layer)
    >>> bool(np.allclose(relative_wide.transform(wide_layer), relative_a.transform(layer_a)))
    True
    """

    _parameter_constraints = {
        "n_anchors": [Interval(Integral, 1, None, closed="left"), None],
        "anchors": ["array-like", None],
        "center": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_anchors=256, *, anchors=None, center=True, random_state=None):
        self.n_anchors = n_anchors
        self.anchors = anchors
        self.center = center
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Choose the anchors among the rows of ``X`` and keep what ``transform`` needs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One model's representation (one layer) of the examples; the anchors are rows
            of it.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=FLOAT_DTYPES)
        self.anchor_indices_ = self._anchor_indices(X.shape[0])
        self.mean_ = X.mean(axis=0) if self.center else np.zeros(X.shape[1], dtype=X.dtype)
        self.anchors_ = _centred_unit_rows(X[self.anchor_indices_], self.mean_)
        return self

    def transform(self, X):
        """Return the cosine similarities of the rows of ``X`` to the anchors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the same model and layer as the fitted ``X`` (the same width).

        Returns
        -------
        X_relative : ndarray of shape (n_samples, n_anchors)
            ``X_relative[i, j]`` is the cosine of row ``i`` and anchor ``j``, in
            [-1, 1]; 0 for a row with no direction (see Notes).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        anchors = self.anchors_.astype(X.dtype, copy=False)
        cosines = _centred_unit_rows(X, self.mean_) @ anchors.T
        return np.clip(cosines, -1.0, 1.0, out=cosines)

    def get_feature_names_out(self, input_features=None):
        """Return the output feature names, ``anchor0`` to ``anchor{n_anchors - 1}``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; only checked against ``feature_names_in_`` or
            ``n_features_in_``, since the output features are the anchors.

        Returns
        -------
        feature_names_out : ndarray of str objects of shape (n_anchors,)
            ``anchor{j}`` is the cosine to the anchor in row ``anchor_indices_[j]``.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return np.asarray([f"anchor{j}" for j in range(len(self.anchor_indices_))], dtype=object)

    def _anchor_indices(self, n_samples):
        """Return the anchors' row indices among ``n_samples`` fitted rows."""
        if self.anchors is None:
            n_anchors = n_samples if self.n_anchors is None else self.n_anchors
            if n_anchors > n_samples:
                raise ValueError(
                    f"n_anchors={n_anchors} anchors cannot be drawn from the n_samples="
                    f"{n_samples} rows of X; pass n_anchors <= {n_samples}, or "
                    "n_anchors=None to make every row an anchor."
                )
            rng = check_random_state(self.random_state)
            return np.sort(rng.choice(n_samples, n_anchors, replace=False))
        indices = np.asarray(self.anchors)
        if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(
                "anchors must be a non-empty 1-D array of row indices (ints) of X, got "
                f"an array of dtype {indices.dtype} and shape {indices.shape}."
            )
        if indices.min() < 0 or indices.max() >= n_samples:
            raise ValueError(
                f"anchors must be row indices of X, from 0 to {n_samples - 1}; got indices "
                f"from {indices.min()} to {indices.max()}."
            )
        if np.unique(indices).size != indices.size:
            raise ValueError("anchors must be distinct row indices of X; some are repeated.")
        return indices.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
