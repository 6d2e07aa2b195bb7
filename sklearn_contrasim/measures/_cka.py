"""Centred kernel alignment (Kornblith et al., 2019): linear and RBF, biased and debiased."""

from numbers import Real

import numpy as np
from ..utils._sklearn_compat import Interval

from ..utils._validation import validate_paired
from ._cka_math import (
    _gram_summary,
    _linear_kernel,
    _LinearMoments,
    _normalise,
    _rbf_kernel,
    _stacked_grams,
    _warn_if_kernels_are_large,
    linear_cka_grid,
    plan_linear_grid,
)
from ._closed_form import ClosedFormSimilarity


class _CKA(ClosedFormSimilarity):
    """CKA of two kernels: a set's summary is its centred Gram matrix and its squared norm."""

    def _min_samples(self):
        return 4 if self.debiased else 2

    @property
    def _lower_bound(self):
        return -1.0 if self.debiased else 0.0

    def _summarize(self, X):
        return _gram_summary(self._kernel, X, self.debiased)

    def _combine(self, summary_x, summary_y):
        (gram_x, self_x), (gram_y, self_y) = summary_x, summary_y
        return float(_normalise(np.vdot(gram_x, gram_y), self_x, self_y, self._lower_bound))

    def _grid(self, Xs, Ys, verbose=False):
        """All cross terms ``<K_i, L_j>`` in one product of the stacked Gram matrices."""
        grams_x, self_x = _stacked_grams(self._summarize, Xs, verbose)
        grams_y, self_y = (
            (grams_x, self_x) if Ys is None else _stacked_grams(self._summarize, Ys, verbose)
        )
        return _normalise(grams_x @ grams_y.T, self_x, self_y, self._lower_bound)


class LinearCKA(_CKA):
    """Linear centred kernel alignment (Kornblith et al., 2019).

    With ``Xc`` and ``Yc`` the column-centred sets,

    ``CKA(X, Y) = ||Xc^T Yc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)``,

    the alignment of the linear Gram matrices ``Xc Xc^T`` and ``Yc Yc^T``. The debiased
    variant replaces each HSIC term by its unbiased estimator (Song et al., 2012), which
    removes the upward bias of CKA on few samples with many features.

    Range: [0, 1] (debiased: [-1, 1], near 0 for independent sets). Symmetric.
    Invariant to translation, isotropic scaling and orthogonal maps of either set; not
    invariant to general invertible linear maps. ``similarity(X, X) = 1``. A set with no
    variance (all rows equal) has similarity 0 with everything, never NaN.

    The value is computed in feature space (``d x d`` matrices, never an ``n x n`` one)
    or through the ``n x n`` Gram matrices, whichever needs fewer operations, the Grams
    formed in blocks of columns that fit in scikit-learn's ``working_memory``
    (:func:`sklearn.config_context`), never whole; the rule is the same for a layer grid
    (:func:`pairwise_similarity`), whose layers are shared among as many threads as the
    BLAS pool has, each running its products on one BLAS thread. Float32 input is
    multiplied in float32 and summed in float64. Each set is rescaled by a power of two before any product (exact), so the
    value is the same at every magnitude the dtype can hold, never 0 or NaN from
    overflow. :meth:`partial_fit`
    accumulates the exact statistics over batches of rows, for data too large for memory.

    Parameters
    ----------
    debiased : bool, default=False
        Use the unbiased HSIC estimator; needs at least 4 samples.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit`` or ``partial_fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit`` or ``partial_fit``.
    n_samples_seen_ : int
        Rows accumulated by :meth:`partial_fit` (only after ``partial_fit``).
    similarity_ : float
        Linear CKA of all rows accumulated by :meth:`partial_fit` (only after
        ``partial_fit``).

    See Also
    --------
    RBFCKA : CKA with a Gaussian kernel.
    pairwise_similarity : CKA of every pair of layers, self-terms computed once.

    References
    ----------
    Kornblith, Norouzi, Lee and Hinton, "Similarity of Neural Network Representations
    Revisited", ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> rng = np.random.RandomState(1337)
    >>> X = rng.randn(100, 10)
    >>> Y = rng.randn(100, 10) + X
    >>> round(LinearCKA().fit(X, Y).similarity(X, Y), 5)
    0.55761
    >>> round(LinearCKA(debiased=True).fit(X, Y).similarity(X, Y), 5)
    0.51346

    The same at any magnitude:

    >>> round(LinearCKA().fit(X, Y).similarity(1e150 * X, 1e-150 * Y), 5)
    0.55761

    Streaming over batches gives the in-memory value:

    >>> cka = LinearCKA()
    >>> for rows in np.array_split(np.arange(100), 4):
    ...     cka = cka.partial_fit(X[rows], Y[rows])
    >>> cka.n_samples_seen_, round(cka.similarity_, 5)
    (100, 0.55761)
    """

    _parameter_constraints = {"debiased": ["boolean"]}

    def __init__(self, debiased=False):
        self.debiased = debiased

    def _fit(self, X, y):
        super()._fit(X, y)
        # fit starts afresh: drop what partial_fit accumulated.
        for name in ("_moments", "n_samples_seen_", "similarity_"):
            vars(self).pop(name, None)

    def partial_fit(self, X, y):
        """Accumulate the statistics of linear CKA over one batch of paired rows.

        The statistics (float64 sums of ``d x d`` size) are exact: after the last batch,
        ``similarity_`` equals ``similarity`` on all the rows at once, whatever the
        batching. :meth:`fit` discards them.

        Parameters
        ----------
        X : array-like of shape (n_batch, n_features)
            A batch of rows of the first representation set.
        y : array-like of shape (n_batch, n_features_y)
            The paired batch of the second set.

        Returns
        -------
        self : object
            The measure, with ``n_samples_seen_`` and ``similarity_`` updated.
        """
        first_call = not hasattr(self, "_moments")
        if first_call:
            self._validate_params()
        seen = 0 if first_call else self._moments.n_samples
        X, y = validate_paired(
            self, X, y, reset=first_call, min_samples=max(1, self._min_samples() - seen)
        )
        if first_call:
            self._moments = _LinearMoments(self.debiased)
        self._moments.update(X, y)
        self.n_samples_seen_ = self._moments.n_samples
        self.similarity_ = self._moments.similarity()
        return self

    def _kernel(self, X):
        return _linear_kernel(X)

    def _compare(self, X, y):
        plan = plan_linear_grid([X], [y])
        if plan[0] == "gram":
            return float(linear_cka_grid([X], [y], self.debiased, plan=plan)[0, 0])
        return _LinearMoments(self.debiased).update(X, y).similarity()

    def _grid(self, Xs, Ys, verbose=False):
        return linear_cka_grid(Xs, Ys, self.debiased, verbose)


class RBFCKA(_CKA):
    """Centred kernel alignment with Gaussian (RBF) kernels (Kornblith et al., 2019).

    ``CKA(X, Y) = <H K H, H L H>_F / (||H K H||_F ||H L H||_F)`` with ``H`` the centring
    matrix and ``K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))``, where ``sigma^2 =
    threshold^2 * median squared distance`` of the set (the median over all ``n^2``
    entries, the zero diagonal included: Kornblith et al.'s convention). Each set gets
    its own bandwidth. The debiased variant U-centres the kernels (unbiased HSIC).

    Range: [0, 1] (debiased: [-1, 1]). Symmetric. Invariant to translation, isotropic
    scaling (the bandwidth scales with the data) and orthogonal maps; not invariant to
    general invertible linear maps. ``similarity(X, X) = 1``. A set with no variance
    has similarity 0 with everything, never NaN. Builds ``n x n`` float64 matrices (three
    for ``similarity``, three plus one per layer for a grid) and warns when they would
    need more than 2 GiB: for large ``n`` use :class:`LinearCKA`.

    Parameters
    ----------
    threshold : float, default=1.0
        Bandwidth as a fraction of the median distance: ``sigma = threshold *
        sqrt(median squared distance)``.
    debiased : bool, default=False
        Use the unbiased HSIC estimator; needs at least 4 samples.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit``.

    See Also
    --------
    LinearCKA : CKA with linear kernels, scalable to large ``n``.

    References
    ----------
    Kornblith, Norouzi, Lee and Hinton, "Similarity of Neural Network Representations
    Revisited", ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import RBFCKA
    >>> rng = np.random.RandomState(1337)
    >>> X = rng.randn(100, 10)
    >>> Y = rng.randn(100, 10) + X
    >>> round(RBFCKA(threshold=0.5).fit(X, Y).similarity(X, Y), 5)
    0.65483
    """

    _parameter_constraints = {
        "threshold": [Interval(Real, 0, None, closed="neither")],
        "debiased": ["boolean"],
    }

    def __init__(self, threshold=1.0, debiased=False):
        self.threshold = threshold
        self.debiased = debiased

    def _kernel(self, X):
        return _rbf_kernel(X, self.threshold)

    def _compare(self, X, y):
        _warn_if_kernels_are_large(type(self).__name__, X.shape[0], n_stacked=0)
        return super()._compare(X, y)

    def _grid(self, Xs, Ys, verbose=False):
        n_stacked = len(Xs) + (0 if Ys is None else len(Ys))
        _warn_if_kernels_are_large(type(self).__name__, Xs[0].shape[0], n_stacked)
        return super()._grid(Xs, Ys, verbose)
