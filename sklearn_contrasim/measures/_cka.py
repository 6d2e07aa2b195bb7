"""Centred kernel alignment (Kornblith et al., 2019): linear and RBF, biased and debiased."""

from numbers import Real

import numpy as np
from tqdm.auto import tqdm

from ..utils._sklearn_compat import Interval
from ..utils._validation import validate_paired
from ._closed_form import ClosedFormSimilarity, centre_columns

# Rows per block when float32 products are summed in float64.
_BLOCK_ROWS = 2048


def cross_product(A, B):
    """Return ``A.T @ B`` in float64.

    Float64 inputs take one product. Otherwise the products of blocks of rows run in the
    input precision (fast) and are summed in float64, so the rounding error does not
    grow with the number of rows.
    """
    if A.dtype == np.float64 and B.dtype == np.float64:
        return A.T @ B
    product = np.zeros((A.shape[1], B.shape[1]))
    for start in range(0, A.shape[0], _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        product += A[rows].T @ B[rows]
    return product


def _row_sq_norms(X):
    """Squared L2 norm of every row, in float64."""
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def _normalise(cross, self_x, self_y, lower):
    """Return ``cross / sqrt(self_x * self_y)`` clipped to ``[lower, 1]``.

    Vectors of self-terms give the grid of their outer product. Wherever a set has no
    variance (a self-term of zero) the value is 0, never NaN.
    """
    denominator = np.sqrt(np.multiply.outer(np.maximum(self_x, 0), np.maximum(self_y, 0)))
    ratio = np.divide(
        cross, denominator, out=np.zeros(np.shape(denominator)), where=denominator > 0
    )
    return np.clip(ratio, lower, 1.0)


def _debiased_hsic(squared_frobenius, row_norm_dot, row_norm_sum_product, n):
    """``n (n - 3)`` times the unbiased HSIC estimator (Song et al., 2012) of linear kernels.

    With centred data, ``K = Xc Xc^T`` and ``r_x`` its diagonal (the squared row norms),
    ``tr(K~ L~) + 1^T K~ 1 1^T L~ 1 / ((n-1)(n-2)) - 2 / (n-2) 1^T K~ L~ 1`` (``K~``: ``K``
    with a zero diagonal) reduces to ``||Xc^T Yc||_F^2 - n / (n-2) r_x . r_y +
    sum(r_x) sum(r_y) / ((n-1)(n-2))``. Works elementwise on arrays of pairs.
    """
    return (
        squared_frobenius
        - n / (n - 2) * row_norm_dot
        + row_norm_sum_product / ((n - 1) * (n - 2))
    )


def _centre_gram(K, debiased):
    """Centre a symmetric Gram matrix in place: ``H K H``, or U-centring when debiased.

    U-centring (Szekely & Rizzo, 2014) zeroes the diagonal and removes row and column
    effects so that ``<U(K), U(L)> = n (n - 3) HSIC_unbiased``.
    """
    n = K.shape[0]
    if debiased:
        np.fill_diagonal(K, 0)
        sums = K.sum(axis=0)
        K -= sums[:, None] / (n - 2)
        K -= sums[None, :] / (n - 2)
        K += sums.sum() / ((n - 1) * (n - 2))
        np.fill_diagonal(K, 0)
    else:
        means = K.mean(axis=0)
        K -= means[:, None]
        K -= means[None, :]
        K += means.mean()
    return K


def _rbf_kernel(X, threshold):
    """Gaussian kernel with ``sigma^2 = threshold^2 * median squared distance``.

    The median runs over all ``n^2`` squared distances, the zero diagonal included
    (Kornblith et al.'s convention). When that median is zero the kernel is its
    ``sigma -> 0`` limit: 1 between identical rows, 0 otherwise.
    """
    Xc = centre_columns(X.astype(np.float64))
    sq_norms = _row_sq_norms(Xc)
    sq_distances = Xc @ Xc.T
    sq_distances *= -2
    sq_distances += sq_norms[:, None]
    sq_distances += sq_norms[None, :]
    np.maximum(sq_distances, 0, out=sq_distances)
    np.fill_diagonal(sq_distances, 0)
    sq_median = np.median(sq_distances)
    if sq_median == 0:
        return (sq_distances == 0).astype(np.float64)
    sq_distances /= -2 * threshold**2 * sq_median
    return np.exp(sq_distances, out=sq_distances)


def _use_gram_route(n_samples, widths_x, widths_y):
    """Whether linear CKA should go through n x n Gram matrices rather than features.

    Only when some layer is wider than ``n_samples`` (never an n x n matrix otherwise)
    and the Gram route needs fewer multiplications.
    """
    n = n_samples
    feature_cost = n * (
        sum(d * d for d in widths_x) + sum(d * d for d in widths_y) + sum(widths_x) * sum(widths_y)
    )
    gram_cost = n * n * (sum(widths_x) + sum(widths_y) + len(widths_x) * len(widths_y))
    return n < max(*widths_x, *widths_y) and gram_cost < feature_cost


class _LinearMoments:
    """Float64 statistics of paired rows from which linear CKA is exact, batch by batch.

    Rows are shifted by the first row seen (CKA is translation invariant): the sums stay of
    the order of the data's spread, and constant columns are exactly zero. Centred
    quantities follow from the shifted sums, e.g. ``Xc^T Yc = U^T V - n m_u m_v^T``.
    """

    def __init__(self, debiased):
        self.debiased = debiased
        self.n_samples = 0

    def update(self, X, Y):
        """Accumulate a batch of paired rows; returns ``self``."""
        if self.n_samples == 0:
            self.shift_x, self.shift_y = X[0].copy(), Y[0].copy()
            self.sum_u = np.zeros(X.shape[1])
            self.sum_v = np.zeros(Y.shape[1])
            self.uu, self.vv, self.uv = 0.0, 0.0, 0.0
            # Debiased CKA: columns (a, b) are the squared row norms of U and V.
            self.ab_u, self.ab_v, self.ab_ab = 0.0, 0.0, 0.0
        self.n_samples += X.shape[0]
        # Block by block, so that the shifted copies stay small whatever the batch size.
        for start in range(0, X.shape[0], _BLOCK_ROWS):
            U = X[start : start + _BLOCK_ROWS] - self.shift_x
            V = Y[start : start + _BLOCK_ROWS] - self.shift_y
            self.sum_u += U.sum(axis=0, dtype=np.float64)
            self.sum_v += V.sum(axis=0, dtype=np.float64)
            self.uu += cross_product(U, U)
            self.vv += cross_product(V, V)
            self.uv += cross_product(U, V)
            if self.debiased:
                ab = np.column_stack([_row_sq_norms(U), _row_sq_norms(V)])
                self.ab_u += cross_product(U, ab)
                self.ab_v += cross_product(V, ab)
                self.ab_ab += ab.T @ ab
        return self

    def similarity(self):
        """Linear CKA of every row accumulated so far."""
        n = self.n_samples
        m_u, m_v = self.sum_u / n, self.sum_v / n
        cov_uv = self.uv - n * np.outer(m_u, m_v)
        cov_uu = self.uu - n * np.outer(m_u, m_u)
        cov_vv = self.vv - n * np.outer(m_v, m_v)
        cross, self_x, self_y = (np.sum(c * c) for c in (cov_uv, cov_uu, cov_vv))
        if not self.debiased:
            return float(_normalise(cross, self_x, self_y, lower=0.0))
        # Sums of the squared norms of centred rows: trace(W^T W) - n |m|^2.
        sum_r_x = np.trace(self.uu) - n * (m_u @ m_u)
        sum_r_y = np.trace(self.vv) - n * (m_v @ m_v)
        return float(
            _normalise(
                _debiased_hsic(cross, self._centred_row_norm_dot(0, 1), sum_r_x * sum_r_y, n),
                _debiased_hsic(self_x, self._centred_row_norm_dot(0, 0), sum_r_x**2, n),
                _debiased_hsic(self_y, self._centred_row_norm_dot(1, 1), sum_r_y**2, n),
                lower=-1.0,
            )
        )

    def _centred_row_norm_dot(self, p, q):
        """``sum_i r_p,i r_q,i``, ``r`` the squared norms of centred rows, from shifted sums.

        ``p`` and ``q`` are 0 (the X side) or 1 (the Y side). With ``a`` the squared norms
        of the shifted rows ``w`` and ``m`` their mean, ``r = a - 2 w.m + |m|^2``; expanding
        the product and summing over rows leaves only accumulated sums.
        """
        n = self.n_samples
        sums = (self.sum_u, self.sum_v)
        grams = {(0, 0): self.uu, (1, 1): self.vv, (0, 1): self.uv, (1, 0): self.uv.T}
        # weighted[s][:, t] = sum_i a_t,i w_s,i
        weighted = (self.ab_u, self.ab_v)
        sum_a = (np.trace(self.uu), np.trace(self.vv))
        m_p, m_q = sums[p] / n, sums[q] / n
        sq_p, sq_q = m_p @ m_p, m_q @ m_q
        return (
            self.ab_ab[p, q]
            - 2 * m_q @ weighted[q][:, p]
            - 2 * m_p @ weighted[p][:, q]
            + 4 * m_p @ grams[(p, q)] @ m_q
            + sq_q * sum_a[p]
            + sq_p * sum_a[q]
            - 3 * n * sq_p * sq_q
        )


def _block_frobenius(A, B, block_starts):
    """Squared Frobenius norm of the cross-covariance ``Ac^T Bc`` for each column block of ``B``.

    ``A`` and ``B`` are (nearly) centred; their residual column means are removed here,
    in float64. ``block_starts`` are the first columns of the blocks of ``B``.
    """
    product = cross_product(A, B)
    product -= A.shape[0] * np.outer(
        A.mean(axis=0, dtype=np.float64), B.mean(axis=0, dtype=np.float64)
    )
    return np.add.reduceat(np.einsum("ij,ij->j", product, product), block_starts)


def _centred_row_norms(X):
    """Squared norms of the rows of ``X`` once its columns are centred, in float64."""
    return _row_sq_norms(X - X.mean(axis=0, dtype=np.float64))


def _linear_feature_grid(Xs, Ys, debiased, verbose):
    """Linear CKA of every pair of layers in feature space (never an n x n matrix).

    The centred layers of ``Ys`` are laid side by side, so each layer of ``Xs`` meets all
    of them in one product (in blocks of rows summed in float64); every self-term is
    computed once. ``Ys=None`` pairs ``Xs`` with itself: only the upper triangle is
    computed and the self-terms are its diagonal.
    """
    n = Xs[0].shape[0]
    layers_y = Xs if Ys is None else Ys
    side_by_side = np.concatenate([centre_columns(Y) for Y in layers_y], axis=1)
    bounds = np.cumsum([0] + [Y.shape[1] for Y in layers_y])
    centred_y = [side_by_side[:, start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]
    centred_x = centred_y if Ys is None else [centre_columns(X) for X in Xs]
    cross = np.empty((len(centred_x), len(centred_y)))
    for i in tqdm(range(len(centred_x)), disable=not verbose, desc="LinearCKA layer grid"):
        first = i if Ys is None else 0
        cross[i, first:] = _block_frobenius(
            centred_x[i], side_by_side[:, bounds[first] :], bounds[first:-1] - bounds[first]
        )
        if Ys is None:
            cross[i:, i] = cross[i, i:]
    if Ys is None:
        self_x = self_y = cross.diagonal().copy()
    else:
        self_x, self_y = (
            np.array([_block_frobenius(Z, Z, [0])[0] for Z in layers])
            for layers in (centred_x, centred_y)
        )
    if not debiased:
        return _normalise(cross, self_x, self_y, lower=0.0)
    norms_y = np.stack([_centred_row_norms(Y) for Y in centred_y])
    norms_x = norms_y if Ys is None else np.stack([_centred_row_norms(X) for X in centred_x])
    sums_x, sums_y = norms_x.sum(axis=1), norms_y.sum(axis=1)
    return _normalise(
        _debiased_hsic(cross, norms_x @ norms_y.T, np.outer(sums_x, sums_y), n),
        _debiased_hsic(self_x, _row_sq_norms(norms_x), sums_x**2, n),
        _debiased_hsic(self_y, _row_sq_norms(norms_y), sums_y**2, n),
        lower=-1.0,
    )


class _CKA(ClosedFormSimilarity):
    """CKA of two kernels: a set's summary is its centred Gram matrix and its squared norm."""

    def _min_samples(self):
        return 4 if self.debiased else 2

    @property
    def _lower_bound(self):
        return -1.0 if self.debiased else 0.0

    def _summarize(self, X):
        n_samples = X.shape[0]
        if not np.ptp(X, axis=0).any():
            # All rows equal: centring leaves nothing (exactly, not up to rounding), so
            # the set is similar to nothing.
            return np.zeros((n_samples, n_samples)), 0.0
        gram = _centre_gram(self._kernel(X), self.debiased)
        return gram, np.vdot(gram, gram)

    def _combine(self, summary_x, summary_y):
        (gram_x, self_x), (gram_y, self_y) = summary_x, summary_y
        return float(_normalise(np.vdot(gram_x, gram_y), self_x, self_y, self._lower_bound))

    def _grid(self, Xs, Ys, verbose=False):
        """All cross terms ``<K_i, L_j>`` in one product of the stacked Gram matrices."""
        grams_x, self_x = self._stacked_grams(Xs, verbose)
        grams_y, self_y = (grams_x, self_x) if Ys is None else self._stacked_grams(Ys, verbose)
        return _normalise(grams_x @ grams_y.T, self_x, self_y, self._lower_bound)

    def _stacked_grams(self, Xs, verbose):
        """Return every set's flattened centred Gram matrix as a row of one array (each
        written in place as it is computed, so no second copy of the Grams is held),
        and their squared norms."""
        n_samples = Xs[0].shape[0]
        grams = np.empty((len(Xs), n_samples * n_samples))
        squared_norms = np.empty(len(Xs))
        for row, X in enumerate(tqdm(Xs, disable=not verbose, desc="Gram")):
            gram, squared_norms[row] = self._summarize(X)
            grams[row] = gram.ravel()
        return grams, squared_norms


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
    unless a set is wider than the number of samples and the Gram route is cheaper.
    Float32 input is multiplied in float32 and summed in float64. :meth:`partial_fit`
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
        centred = centre_columns(X)
        return cross_product(centred.T, centred.T)

    def _compare(self, X, y):
        if _use_gram_route(X.shape[0], [X.shape[1]], [y.shape[1]]):
            return super()._compare(X, y)
        return _LinearMoments(self.debiased).update(X, y).similarity()

    def _grid(self, Xs, Ys, verbose=False):
        widths_y = [Y.shape[1] for Y in (Xs if Ys is None else Ys)]
        if _use_gram_route(Xs[0].shape[0], [X.shape[1] for X in Xs], widths_y):
            return super()._grid(Xs, Ys, verbose)
        return _linear_feature_grid(Xs, Ys, self.debiased, verbose)


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
    has similarity 0 with everything, never NaN. Builds ``n x n`` matrices: for large
    ``n`` use :class:`LinearCKA`.

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
