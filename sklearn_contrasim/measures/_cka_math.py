"""The arithmetic of centred kernel alignment: cross products, HSIC terms, kernels, grids.

Every set is first brought to a moderate magnitude by a power of two
(:func:`power_of_two_rescale`), so that CKA keeps its scale invariance over the whole
floating-point range; the rescaling is exact, so values at ordinary scales are unchanged.
"""

import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from sklearn import get_config
from tqdm.auto import tqdm

from ..utils._threads import blas_threads, one_blas_thread
from ._closed_form import centre_columns, moderate_centred, power_of_two_rescale

# Rows per block when float32 products are summed in float64.
_BLOCK_ROWS = 2048
# Grids of fewer floating-point operations run in the calling thread: for them, starting
# Python threads costs more than it saves (a retrieval benchmark scores thousands of grids
# of chunks of a few rows).
_THREADED_MIN_FLOPS = 1e8
# Kernel CKA warns when its n x n matrices would need more memory than this (bytes).
_KERNEL_MEMORY_WARNING_BYTES = 2 * 1024**3
# The least and the most columns of a block of the Gram route of linear CKA.
_GRAM_BLOCK_SIZES = (256, 1024)


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


def _scaled(X, exponent):
    """``X / 2**exponent`` in the dtype of ``X`` (``X`` itself when ``exponent`` is 0)."""
    return np.ldexp(X, -exponent).astype(X.dtype, copy=False) if exponent else X


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


def _linear_kernel(X):
    """Linear kernel ``Xc Xc^T`` of the column-centred set, in float64."""
    centred = centre_columns(X)
    return cross_product(centred.T, centred.T)


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


def _gram_summary(kernel, X, debiased):
    """The centred Gram matrix of ``kernel(X)`` and its squared Frobenius norm.

    ``X`` is first rescaled by a power of two (exact; the kernels are scale invariant up to
    that factor, which CKA's normalisation removes), so that no distance or product
    overflows or underflows.
    """
    n_samples = X.shape[0]
    if not np.ptp(X, axis=0).any():
        # All rows equal: centring leaves nothing (exactly, not up to rounding), so
        # the set is similar to nothing.
        return np.zeros((n_samples, n_samples)), 0.0
    gram = _centre_gram(kernel(power_of_two_rescale(X)[0]), debiased)
    return gram, np.vdot(gram, gram)


def _warn_if_kernels_are_large(measure_name, n_samples, n_stacked):
    """Warn when kernel CKA's ``n x n`` float64 matrices exceed the memory threshold.

    The peak (measured with ``tracemalloc``) is the ``n_stacked`` centred Gram matrices a
    grid keeps, plus three working ones: the kernel being built, the copy ``np.median``
    takes of its distances, and the other set's centred Gram matrix.
    """
    n_matrices = n_stacked + 3
    needed = n_matrices * n_samples**2 * np.dtype(np.float64).itemsize
    if needed > _KERNEL_MEMORY_WARNING_BYTES:
        warnings.warn(
            f"{measure_name} on {n_samples} samples builds {n_matrices} float64 matrices of "
            f"{n_samples} x {n_samples} and needs about {needed / 1e9:.3g} GB of memory. Use "
            "LinearCKA (no n x n matrix; partial_fit streams batches of rows) or fewer rows.",
            UserWarning,
            stacklevel=4,
        )


def _stacked_grams(summarize, Xs, verbose):
    """Return every set's flattened centred Gram matrix as a row of one array (each
    written in place as it is computed, so no second copy of the Grams is held),
    and their squared norms; ``summarize`` is :func:`_gram_summary` with its kernel."""
    n_samples = Xs[0].shape[0]
    grams = np.empty((len(Xs), n_samples * n_samples))
    squared_norms = np.empty(len(Xs))
    for row, X in enumerate(tqdm(Xs, disable=not verbose, desc="Gram")):
        gram, squared_norms[row] = summarize(X)
        grams[row] = gram.ravel()
    return grams, squared_norms


def _linear_grid_flops(n_samples, widths_x, widths_y):
    """Floating-point operations of the two routes of a linear-CKA grid: ``(features, gram)``.

    ``widths_y=None`` compares the layers of ``widths_x`` with themselves. A product of
    ``a x k`` by ``k x b`` counts ``2 a k b``; a symmetric product ``A^T A`` (``syrk``,
    one triangle) half of that, ``a^2 k``.

    - Feature route: ``2 n d_i d_j`` for the cross product of every pair of layers, and
      ``n d_i^2`` for the symmetric self-product of every layer (with ``widths_y=None``,
      the upper triangle of pairs, ``2 n d_i d_j`` each, whose diagonal holds the
      self-terms).
    - Gram route (:func:`_linear_gram_grid`): ``n^2 d_i`` for every layer's ``n x n``
      Gram, a symmetric product, and ``n^2`` for the Frobenius inner product of the two
      Grams of every pair that is needed (one triangle of each Gram, ``n^2 / 2``
      multiply-adds): ``L_x L_y`` cross terms and ``L_x + L_y`` self-terms, or the
      ``L (L + 1) / 2`` pairs of the upper triangle with ``widths_y=None``. The layers are
      centred before their products, so no ``n x n`` matrix is centred. This is the
      least either route can do; the bench reports a grid's time against it.
    """
    n = n_samples
    if widths_y is None:
        features = 2 * n * sum(d * sum(widths_x[i:]) for i, d in enumerate(widths_x))
        widths, pairs = widths_x, len(widths_x) * (len(widths_x) + 1) // 2
    else:
        features = 2 * n * sum(widths_x) * sum(widths_y) + n * (
            sum(d * d for d in widths_x) + sum(d * d for d in widths_y)
        )
        widths = [*widths_x, *widths_y]
        pairs = len(widths_x) * len(widths_y) + len(widths)
    gram = n * n * (sum(widths) + pairs)
    return features, gram


def _gram_block_size(n_samples, n_layers, itemsize, memory_budget=None):
    """Columns per block of the Gram route, or 0 when even the smallest block does not fit.

    ``n / 8`` columns within ``[256, 1024]`` (products of fewer columns run markedly below
    the machine's peak; wider ones take more memory, and the inner products read the
    squares on the diagonal whole, both triangles, but the panels below them only once)
    and ``n``, and no more than fit in ``memory_budget`` bytes (default: scikit-learn's
    ``working_memory``): a block holds its columns of every layer's Gram.
    """
    if memory_budget is None:
        memory_budget = get_config()["working_memory"] * 2**20
    fitting = memory_budget // (n_samples * n_layers * itemsize)
    least = min(n_samples, _GRAM_BLOCK_SIZES[0])
    if fitting < least:
        return 0
    wanted = min(n_samples, max(least, min(n_samples // 8, _GRAM_BLOCK_SIZES[1])))
    return int(min(wanted, fitting))


def _linear_grid_route(n_samples, widths_x, widths_y, itemsize, memory_budget=None):
    """Return ``(route, block_size, flops)``: the route of a linear-CKA grid,
    ``"features"`` or ``"gram"``, the columns per block of the Gram route and the
    floating-point operations of the chosen route.

    The rule: the Gram route when it needs fewer floating-point operations
    (:func:`_linear_grid_flops`) and a block of its Grams fits in ``memory_budget`` bytes
    (:func:`_gram_block_size`; default: scikit-learn's ``working_memory``, 1 GiB unless set
    with :func:`sklearn.config_context`); otherwise the feature route, which builds no
    ``n x n`` matrix. For 13 x 13 layers of width ``d`` this means the Gram route for
    ``n`` below about ``15 d`` (e.g. ``n = 4,000``, ``d = 768``) and the feature route
    above (e.g. ``n = 20,000``, ``d <= 1,024``). ``widths_y=None``: the layers of
    ``widths_x`` with themselves; ``itemsize``: bytes per value of the layers.
    """
    n_layers = len(widths_x) + (0 if widths_y is None else len(widths_y))
    block_size = _gram_block_size(n_samples, n_layers, itemsize, memory_budget)
    features, gram = _linear_grid_flops(n_samples, widths_x, widths_y)
    if block_size and gram < features:
        return "gram", block_size, gram
    return "features", block_size, features


@contextmanager
def _workers(n_workers):
    """Yield a ``map`` over ``n_workers`` Python threads, each with a one-thread BLAS; with
    one worker, the builtin ``map`` in the calling thread (no thread started, the BLAS left
    as it is)."""
    if n_workers == 1:
        yield map
        return
    with one_blas_thread(), ThreadPoolExecutor(n_workers) as pool:
        yield pool.map


def _inner_products(parallel_map, n_workers, blocks):
    """Frobenius inner products of the layers' ``blocks`` (first axis: the layers), float64.

    The flattened blocks are cut into groups of ``_BLOCK_ROWS`` columns, whose symmetric
    products run in the input precision and are summed in float64, so the rounding error
    does not grow with ``n``; each worker takes a range of whole groups (the same groups
    whatever the number of workers, so the result only changes by float64 rounding).
    """
    flat = blocks.reshape(len(blocks), -1)
    n_groups = -(-flat.shape[1] // _BLOCK_ROWS)
    bounds = np.minimum(
        np.linspace(0, n_groups, n_workers + 1).astype(int) * _BLOCK_ROWS, flat.shape[1]
    )

    def part(first, last):
        total = np.zeros((len(flat), len(flat)))
        for start in range(first, last, _BLOCK_ROWS):
            columns = flat[:, start : min(start + _BLOCK_ROWS, last)]
            total += columns @ columns.T
        return total

    return sum(parallel_map(part, bounds[:-1], bounds[1:]))


def _linear_gram_grid(Xs, Ys, debiased, verbose, block_size, n_workers):
    """Linear CKA of every pair of layers through the layers' ``n x n`` Gram matrices.

    Each layer is rescaled by a power of two and centred, so its Gram ``Xc Xc^T`` is
    already centred and ``<K_i, L_j> = ||Xc_i^T Yc_j||_F^2``. The Grams are never held
    whole (unless ``block_size`` is ``n``): they are formed ``block_size`` columns at a
    time in the input precision, from the block's first row on, the square on the
    diagonal as a symmetric product (``syrk``) and the panel below it as a plain one, so
    forming a Gram costs ``n^2 d`` whatever the block size. The inner products of every
    layer's block with every other's are summed in float64, the panel's twice (it stands
    for the block right of the square too).

    The products are too small to gain much from a multithreaded BLAS (and lose much
    when cores are shared), so the work runs on as many Python threads as the BLAS pool
    has, each with a one-thread BLAS: a layer at a time for centring and forming, a range
    of columns at a time for the inner products.
    """
    n = Xs[0].shape[0]
    with _workers(n_workers) as parallel_map:
        centred_x = list(parallel_map(moderate_centred, Xs))
        centred_y = centred_x if Ys is None else list(parallel_map(moderate_centred, Ys))
        layers = centred_x if Ys is None else centred_x + centred_y
        dtype = np.result_type(*layers)
        inner = np.zeros((len(layers), len(layers)))
        buffer = np.empty(len(layers) * block_size * n, dtype)  # reused by every block
        for start in tqdm(range(0, n, block_size), disable=not verbose, desc="LinearCKA Grams"):
            stop = min(start + block_size, n)
            # Columns start:stop of every Gram from row start on: the square, then the
            # panel (the tall product runs faster than its transpose).
            shape = (len(layers), n - start, stop - start)
            blocks = buffer[: np.prod(shape)].reshape(shape)

            def form(block, Z):
                columns = Z[start:stop]
                np.matmul(columns, columns.T, out=block[: stop - start])
                np.matmul(Z[stop:], columns.T, out=block[stop - start :])

            list(parallel_map(form, blocks, layers))
            inner += _inner_products(parallel_map, n_workers, blocks[:, : stop - start])
            inner += 2 * _inner_products(parallel_map, n_workers, blocks[:, stop - start :])
    self_terms, n_x = inner.diagonal().copy(), len(Xs)
    cross = inner if Ys is None else inner[:n_x, n_x:]
    self_x, self_y = (
        (self_terms, self_terms) if Ys is None else (self_terms[:n_x], self_terms[n_x:])
    )
    if not debiased:
        return _linear_cka_from_terms(cross, self_x, self_y, n, None, None)
    norms_x = np.stack([_centred_row_norms(X) for X in centred_x])
    norms_y = norms_x if Ys is None else np.stack([_centred_row_norms(Y) for Y in centred_y])
    return _linear_cka_from_terms(cross, self_x, self_y, n, norms_x, norms_y)


class _LinearMoments:
    """Float64 statistics of paired rows from which linear CKA is exact, batch by batch.

    Rows are shifted by the first row seen (CKA is translation invariant): the sums stay of
    the order of the data's spread, and constant columns are exactly zero. Centred
    quantities follow from the shifted sums, e.g. ``Xc^T Yc = U^T V - n m_u m_v^T``.

    Each side is held divided by a power of two, ``2**exponent_x`` and ``2**exponent_y``
    (see :func:`power_of_two_rescale`), so that no sum overflows or underflows whatever
    the magnitude of the data. A batch larger than those seen so far raises the exponent,
    and the statistics are rescaled exactly by their degree in each side.
    """

    def __init__(self, debiased):
        self.debiased = debiased
        self.n_samples = 0

    def update(self, X, Y):
        """Accumulate a batch of paired rows; returns ``self``."""
        exponent_x, exponent_y = power_of_two_rescale(X)[1], power_of_two_rescale(Y)[1]
        if self.n_samples == 0:
            self.exponent_x, self.exponent_y = exponent_x, exponent_y
            self.shift_x, self.shift_y = X[0].copy(), Y[0].copy()
            self.sum_u = np.zeros(X.shape[1])
            self.sum_v = np.zeros(Y.shape[1])
            self.uu, self.vv, self.uv = 0.0, 0.0, 0.0
            # Debiased CKA: columns (a, b) are the squared row norms of U and V.
            self.ab_u, self.ab_v, self.ab_ab = 0.0, 0.0, 0.0
        self._raise_exponents(max(exponent_x, self.exponent_x), max(exponent_y, self.exponent_y))
        self.n_samples += X.shape[0]
        shift_x = _scaled(self.shift_x, self.exponent_x)
        shift_y = _scaled(self.shift_y, self.exponent_y)
        # Block by block, so that the shifted copies stay small whatever the batch size.
        for start in range(0, X.shape[0], _BLOCK_ROWS):
            U = _scaled(X[start : start + _BLOCK_ROWS], self.exponent_x) - shift_x
            V = _scaled(Y[start : start + _BLOCK_ROWS], self.exponent_y) - shift_y
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

    def _raise_exponents(self, exponent_x, exponent_y):
        """Rescale the statistics to new (larger) exponents of the two sides.

        A statistic of degree ``p`` in ``X`` and ``q`` in ``Y`` is divided by
        ``2**(p * dx + q * dy)``; the columns of the debiased terms, squared row norms,
        have degree 2 in their side.
        """
        dx, dy = exponent_x - self.exponent_x, exponent_y - self.exponent_y
        if not (dx or dy):
            return
        self.exponent_x, self.exponent_y = exponent_x, exponent_y
        self.sum_u, self.sum_v = np.ldexp(self.sum_u, -dx), np.ldexp(self.sum_v, -dy)
        self.uu, self.vv = np.ldexp(self.uu, -2 * dx), np.ldexp(self.vv, -2 * dy)
        self.uv = np.ldexp(self.uv, -dx - dy)
        if self.debiased:
            d_ab = np.array([2 * dx, 2 * dy])
            self.ab_u = np.ldexp(self.ab_u, -(dx + d_ab))
            self.ab_v = np.ldexp(self.ab_v, -(dy + d_ab))
            self.ab_ab = np.ldexp(self.ab_ab, -np.add.outer(d_ab, d_ab))

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


def _block_frobenius(A, B, means_a, means_b, block_starts):
    """Squared Frobenius norm of the cross-covariance ``Ac^T Bc`` for each column block of ``B``.

    ``A`` and ``B`` are (nearly) centred; their residual column means, ``means_a`` and
    ``means_b`` (float64), are removed here. ``block_starts`` are the first columns of the
    blocks of ``B``.
    """
    product = cross_product(A, B)
    product -= A.shape[0] * np.outer(means_a, means_b)
    return np.add.reduceat(np.einsum("ij,ij->j", product, product), block_starts)


def _centred_row_norms(X):
    """Squared norms of the rows of ``X`` once its columns are centred, in float64."""
    return _row_sq_norms(X - X.mean(axis=0, dtype=np.float64))


def _linear_cka_from_terms(cross, self_x, self_y, n_samples, norms_x, norms_y):
    """Linear CKA of every pair from its HSIC terms: ``cross[i, j] = ||Xc_i^T Yc_j||_F^2``,
    the self-terms ``||Xc_i^T Xc_i||_F^2`` and ``||Yc_j^T Yc_j||_F^2``, and, debiased, the
    squared norms of the centred rows of every layer (one row per layer; ``None``: biased).
    """
    if norms_x is None:
        return _normalise(cross, self_x, self_y, lower=0.0)
    n = n_samples
    sums_x, sums_y = norms_x.sum(axis=1), norms_y.sum(axis=1)
    return _normalise(
        _debiased_hsic(cross, norms_x @ norms_y.T, np.outer(sums_x, sums_y), n),
        _debiased_hsic(self_x, _row_sq_norms(norms_x), sums_x**2, n),
        _debiased_hsic(self_y, _row_sq_norms(norms_y), sums_y**2, n),
        lower=-1.0,
    )


def _linear_feature_grid(Xs, Ys, debiased, verbose, n_workers):
    """Linear CKA of every pair of layers in feature space (never an n x n matrix).

    Each layer is first rescaled by a power of two (exact, see
    :func:`power_of_two_rescale`) and centred. The centred layers of ``Ys`` are laid side
    by side, so each layer of ``Xs`` meets all of them in one product (in blocks of rows
    summed in float64); the layers of ``Xs`` are centred one at a time (one copy of a
    layer per worker at once), and every self-term is computed once. ``Ys=None`` pairs
    ``Xs`` with itself: only the upper triangle is computed and the self-terms are its
    diagonal. The layers are shared among as many Python threads as the BLAS pool has,
    each with a one-thread BLAS (no barrier between threads in every product); with
    ``Ys``, each layer of ``Xs`` meets the layers of ``Ys`` in as many parts as there are
    threads (it is centred once per part), so that the threads finish together.
    """
    n = Xs[0].shape[0]
    layers_y = Xs if Ys is None else Ys
    bounds = np.cumsum([0] + [Y.shape[1] for Y in layers_y])
    side_by_side = np.empty((n, bounds[-1]), np.result_type(*layers_y))
    means_y = np.empty(bounds[-1])  # residual column means of the centred layers
    centred_y = [side_by_side[:, start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]
    cross = np.zeros((len(Xs), len(layers_y)))
    self_x = np.empty(len(Xs))
    norms_x = np.empty((len(Xs), n)) if debiased else None

    def centre_y(j):
        centred_y[j][...] = moderate_centred(layers_y[j])
        means_y[bounds[j] : bounds[j + 1]] = centred_y[j].mean(axis=0, dtype=np.float64)

    def row(i, first, last):
        # Layer i of Xs against layers first:last of Ys; the task at the first layer of
        # the row also takes the self-terms.
        centred = centred_y[i] if Ys is None else moderate_centred(Xs[i])
        means = means_y[bounds[i] : bounds[i + 1]] if Ys is None else centred.mean(
            axis=0, dtype=np.float64
        )
        columns = slice(bounds[first], bounds[last])
        cross[i, first:last] = _block_frobenius(
            centred, side_by_side[:, columns], means, means_y[columns],
            bounds[first:last] - bounds[first],
        )
        if first != (i if Ys is None else 0):
            return
        self_x[i] = (
            cross[i, i] if Ys is None else _block_frobenius(centred, centred, means, means, [0])[0]
        )
        if debiased:
            norms_x[i] = _centred_row_norms(centred)

    def self_term_y(j):
        means = means_y[bounds[j] : bounds[j + 1]]
        return _block_frobenius(centred_y[j], centred_y[j], means, means, [0])[0]

    if Ys is None:  # the upper triangle: rows of decreasing length
        tasks = [(i, i, len(Xs)) for i in range(len(Xs))]
    else:  # each row in as many parts as workers, so that the workers finish together
        edges = np.linspace(0, len(Ys), min(n_workers, len(Ys)) + 1).astype(int)
        tasks = [(i, *part) for i in range(len(Xs)) for part in zip(edges[:-1], edges[1:])]
    with _workers(n_workers) as parallel_map:
        list(parallel_map(centre_y, range(len(layers_y))))
        rows = parallel_map(row, *zip(*tasks))
        list(tqdm(rows, total=len(tasks), disable=not verbose, desc="LinearCKA layer grid"))
        if Ys is not None:
            self_y = np.array(list(parallel_map(self_term_y, range(len(layers_y)))))
    if Ys is None:
        cross += np.triu(cross, 1).T
        return _linear_cka_from_terms(cross, self_x, self_x, n, norms_x, norms_x)
    norms_y = np.stack([_centred_row_norms(Y) for Y in centred_y]) if debiased else None
    return _linear_cka_from_terms(cross, self_x, self_y, n, norms_x, norms_y)


def plan_linear_grid(Xs, Ys):
    """The route of the linear-CKA grid of ``Xs`` against ``Ys`` (``None``: ``Xs``), as
    :func:`_linear_grid_route` returns it for their shapes and dtype."""
    widths_y = None if Ys is None else [Y.shape[1] for Y in Ys]
    itemsize = np.result_type(*Xs, *(Ys or [])).itemsize
    return _linear_grid_route(Xs[0].shape[0], [X.shape[1] for X in Xs], widths_y, itemsize)


def linear_cka_grid(Xs, Ys, debiased, verbose=False, plan=None):
    """Linear CKA of every layer of ``Xs`` with every layer of ``Ys`` (``None``: ``Xs``),
    by the route of ``plan`` (default: :func:`plan_linear_grid`'s)."""
    route, block_size, flops = plan_linear_grid(Xs, Ys) if plan is None else plan
    # Threads only pay off on grids of many operations (read before the BLAS is limited).
    n_workers = blas_threads() if flops >= _THREADED_MIN_FLOPS else 1
    if route == "gram":
        return _linear_gram_grid(Xs, Ys, debiased, verbose, block_size, n_workers)
    return _linear_feature_grid(Xs, Ys, debiased, verbose, n_workers)
