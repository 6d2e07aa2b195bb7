"""The canonical correlation family: mean CCA, SVCCA and PWCCA."""

import warnings
from numbers import Real

import numpy as np
from ..utils._sklearn_compat import Interval

from ._closed_form import (
    DegenerateSimilarityWarning,
    ClosedFormSimilarity,
    moderate_centred,
)


def _principal_directions(X):
    """SVD ``Xc = U diag(s) Vt`` of the centred set, kept to its numerical rank.

    Computed in float64 on the set rescaled by a power of two (exact, and free of overflow
    at any magnitude); singular values below ``s_max * max(n, d) * eps`` of the input
    precision are dropped, so constant and collinear features never reach a division.
    """
    centred = moderate_centred(X).astype(np.float64, copy=False)
    U, s, Vt = np.linalg.svd(centred, full_matrices=False)
    tolerance = (s[0] if s.size else 0.0) * max(X.shape) * np.finfo(X.dtype).eps
    rank = int(np.count_nonzero(s > tolerance))
    return U[:, :rank], s[:rank], Vt[:rank]


class _CanonicalCorrelations(ClosedFormSimilarity):
    """A measure built on the canonical correlations of two centred sets.

    A set's summary starts with an orthonormal basis ``Q`` (n x k) of its centred column
    space; the canonical correlations are the singular values of ``Qx^T Qy``.
    """

    def _correlations(self, basis_x, basis_y, compute_uv=False):
        """Canonical correlations (clipped to [0, 1]), with a warning when degenerate.

        ``Qx`` and ``Qy`` live in the ``n - 1`` dimensional space of centred vectors, so
        at least ``kx + ky - (n - 1)`` correlations are 1 whatever the data.
        """
        n, rank_x = basis_x.shape
        rank_y = basis_y.shape[1]
        forced = rank_x + rank_y - (n - 1)
        if forced > 0 and min(rank_x, rank_y) > 0:
            warnings.warn(
                f"{type(self).__name__}: with {n} samples and sets of rank {rank_x} and "
                f"{rank_y}, {min(forced, rank_x, rank_y)} of the {min(rank_x, rank_y)} "
                "canonical correlations are 1 whatever the data (all of them once a set has "
                "n_samples - 1 independent features); the value is degenerate. Use more "
                "samples than features, or reduce the dimension first (SVCCA).",
                DegenerateSimilarityWarning,
                stacklevel=4,
            )
        product = basis_x.T @ basis_y
        if not compute_uv:
            return np.clip(np.linalg.svd(product, compute_uv=False), 0.0, 1.0)
        left, correlations, right_t = np.linalg.svd(product, full_matrices=False)
        return left, np.clip(correlations, 0.0, 1.0), right_t

    def _combine(self, summary_x, summary_y):
        correlations = self._correlations(summary_x, summary_y)
        return float(correlations.mean()) if correlations.size else 0.0


class MeanCCA(_CanonicalCorrelations):
    """Mean canonical correlation of two representation sets.

    With ``rho_1 >= ... >= rho_m`` the canonical correlations of the centred sets
    (``m = min(rank X, rank Y)``), ``MeanCCA(X, Y) = (1/m) sum_i rho_i``. Computed from
    orthonormal bases of the centred column spaces (SVD with rank detection), so constant
    or collinear features are dropped rather than giving NaN.

    Range: [0, 1]. Symmetric. Invariant to translation and to any invertible linear map
    of either set (hence also to scaling and orthogonal maps). ``similarity(X, X) = 1``.
    A set with no variance has similarity 0. When ``rank X + rank Y > n_samples - 1``
    some correlations are 1 by construction (all of them when a set has at least
    ``n_samples`` features): a :class:`DegenerateSimilarityWarning` says so.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit``.

    See Also
    --------
    SVCCA : Mean CCA after keeping the leading principal directions.
    PWCCA : Canonical correlations weighted by their share of the representation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import MeanCCA
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 5)
    >>> Y = X @ rng.randn(5, 5) + 3.0  # an invertible linear map and a translation
    >>> round(MeanCCA().fit(X, Y).similarity(X, Y), 6)
    1.0
    """

    def _summarize(self, X):
        return _principal_directions(X)[0]


class SVCCA(_CanonicalCorrelations):
    """Singular vector CCA (Raghu et al., 2017).

    Each centred set is reduced to its leading principal directions holding a fraction
    ``variance`` of its variance (the smallest such number), then ``SVCCA`` is the mean
    canonical correlation of the two reduced sets.

    Range: [0, 1]. Symmetric. Invariant to translation, isotropic scaling and orthogonal
    maps (which leave principal variances unchanged); not invariant to general invertible
    linear maps, which change which directions are kept. ``similarity(X, X) = 1``. A set
    with no variance has similarity 0. Warns (:class:`DegenerateSimilarityWarning`) when
    the kept dimensions are too many for the number of samples.

    Parameters
    ----------
    variance : float, default=0.99
        Fraction of each set's variance the kept directions must hold, in (0, 1];
        1 keeps every direction (then SVCCA is :class:`MeanCCA`).

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit``.

    See Also
    --------
    MeanCCA : Mean CCA of all directions.

    References
    ----------
    Raghu, Gilmer, Yosinski and Sohl-Dickstein, "SVCCA: Singular Vector Canonical
    Correlation Analysis for Deep Learning Dynamics and Interpretability", NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import SVCCA
    >>> rng = np.random.RandomState(0)
    >>> signal = rng.randn(300, 3)
    >>> X = np.hstack([10 * signal, 0.01 * rng.randn(300, 5)])  # 3 strong directions
    >>> Y = signal @ rng.randn(3, 4)
    >>> round(SVCCA(variance=0.99).fit(X, Y).similarity(X, Y), 4)
    1.0
    """

    _parameter_constraints = {"variance": [Interval(Real, 0, 1, closed="right")]}

    def __init__(self, variance=0.99):
        self.variance = variance

    def _summarize(self, X):
        U, s, _ = _principal_directions(X)
        if not s.size:
            return U
        explained = np.cumsum(s**2) / np.sum(s**2)
        kept = min(int(np.searchsorted(explained, self.variance)) + 1, s.size)
        return U[:, :kept]


class PWCCA(_CanonicalCorrelations):
    """Projection-weighted CCA (Morcos et al., 2018).

    ``PWCCA(X, Y) = sum_i alpha_i rho_i / sum_i alpha_i``: the canonical correlations
    ``rho_i`` weighted by how much of the representation each canonical variate ``h_i``
    accounts for, ``alpha_i = sum_j |<h_i, x_j>|`` over the centred neurons ``x_j``
    (``h_i`` of unit norm). As in Morcos et al., the weights come from the set of lower
    rank (``X`` on ties).

    Range: [0, 1]. Not symmetric in general. Invariant to translation, isotropic
    scaling, permutations and sign flips of the neurons, and to any invertible linear
    map of the set that does not give the weights; not invariant to general orthogonal
    or invertible linear maps of the set that gives them (the weights use absolute
    projections on its individual neurons). ``similarity(X, X) = 1``. A set with no variance has
    similarity 0. Warns (:class:`DegenerateSimilarityWarning`) when the number of
    samples is too small for the ranks.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit``.

    See Also
    --------
    MeanCCA : Unweighted mean canonical correlation.

    References
    ----------
    Morcos, Raghu and Bengio, "Insights on representational similarity in neural
    networks with canonical correlation", NeurIPS 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import PWCCA
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(500, 4)
    >>> Y = np.hstack([X[:, :2], rng.randn(500, 2)])  # shares two of X's neurons
    >>> round(PWCCA().fit(X, Y).similarity(X, Y), 2)
    0.5
    """

    _symmetric = False

    def _summarize(self, X):
        U, s, Vt = _principal_directions(X)
        # Coordinates of the centred neurons in the basis U: Xc = U (s Vt).
        return U, s[:, None] * Vt

    def _combine(self, summary_x, summary_y):
        (basis_x, neurons_x), (basis_y, neurons_y) = summary_x, summary_y
        left, correlations, right_t = self._correlations(basis_x, basis_y, compute_uv=True)
        if not correlations.size:
            return 0.0
        # Canonical variates of the lower-rank set, as coefficients in its basis.
        if basis_x.shape[1] <= basis_y.shape[1]:
            variates, neurons = left.T, neurons_x
        else:
            variates, neurons = right_t, neurons_y
        weights = np.abs(variates @ neurons).sum(axis=1)
        return float(weights @ correlations / weights.sum())
