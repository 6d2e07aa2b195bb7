"""Similarity of every pair of layers: the grids of the layer-prediction benchmark."""

from .._base import BaseSimilarity


def pairwise_similarity(measure, Xs, Ys=None, *, verbose=False):
    """Similarity of every layer of ``Xs`` with every layer of ``Ys``, on the same examples.

    Closed-form measures summarise each layer once (not once per pair). For CKA the
    self-terms are computed once per layer and the cross terms in batched products; linear
    CKA works in feature space (no ``n x n`` matrix) or through Gram matrices streamed in
    blocks, whichever needs fewer operations (see :class:`LinearCKA`), and sums float32
    products in float64. A learned measure must already be fitted; it embeds each layer once and
    compares the embeddings of every pair.

    Parameters
    ----------
    measure : BaseSimilarity
        The measure; its parameters are used, its fitted state only for learned measures.
    Xs : list of array-like of shape (n_samples, n_features_i)
        First list of layers (row ``k`` of every layer comes from example ``k``).
    Ys : list of array-like of shape (n_samples, n_features_j), default=None
        Second list of layers on the same examples; ``None`` compares ``Xs`` with itself
        (for symmetric measures only one triangle is computed).
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    similarities : ndarray of shape (len(Xs), len(Ys))
        ``similarities[i, j] = measure.similarity(Xs[i], Ys[j])``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import LinearCKA, pairwise_similarity
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 4)
    >>> layers = [X, X @ rng.randn(4, 6), rng.randn(50, 3)]
    >>> pairwise_similarity(LinearCKA(), layers).round(2)
    array([[1.  , 0.73, 0.04],
           [0.73, 1.  , 0.05],
           [0.04, 0.05, 1.  ]])
    """
    if not isinstance(measure, BaseSimilarity):
        raise TypeError(
            "measure must be a similarity measure (a BaseSimilarity), got "
            f"{type(measure).__name__}."
        )
    return measure._similarity_grid(Xs, Ys, verbose=verbose)
