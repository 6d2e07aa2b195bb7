"""Similarity of every pair of layers: the grids of the layer-prediction benchmark."""

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted
from tqdm.auto import tqdm

from .._base import BaseSimilarity
from .._validation import FLOAT_DTYPES, validate_side
from ._closed_form import _SummarySimilarity


def _validate_layers(layers, name, min_samples):
    """Check a non-empty list of 2-D finite float arrays; return it as a list of arrays."""
    if isinstance(layers, np.ndarray) and layers.ndim != 3:
        raise ValueError(
            f"{name} must be a list of 2-D arrays (or a 3-D array of layers), "
            f"got an array with {layers.ndim} dimension(s)."
        )
    arrays = [
        check_array(layer, dtype=FLOAT_DTYPES, ensure_min_samples=min_samples,
                    input_name=f"{name}[{index}]")
        for index, layer in enumerate(layers)
    ]
    if not arrays:
        raise ValueError(f"{name} must hold at least one layer, got none.")
    return arrays


def pairwise_similarity(measure, Xs, Ys=None, *, verbose=False):
    """Similarity of every layer of ``Xs`` with every layer of ``Ys``, on the same examples.

    Closed-form measures summarise each layer once (not once per pair). For CKA the
    self-terms are computed once per layer and the cross terms in batched products; linear
    CKA works in feature space (no ``n x n`` matrix) unless layers are wider than the
    number of examples and the Gram route is cheaper, and sums float32 products in
    float64. A learned measure must already be fitted; it embeds each layer once and
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
    min_samples = measure._min_samples()
    Xs = _validate_layers(Xs, "Xs", min_samples)
    if Ys is not None:
        Ys = _validate_layers(Ys, "Ys", min_samples)
    n_samples = {layer.shape[0] for layer in Xs + (Ys or [])}
    if len(n_samples) > 1:
        raise ValueError(
            "Every layer must hold the same examples (the same number of rows); got "
            f"layers with {sorted(n_samples)} rows."
        )
    if isinstance(measure, _SummarySimilarity):
        measure._validate_params()
        return measure._grid(Xs, Ys, verbose)
    check_is_fitted(measure)
    # A learned measure embeds each layer once (2 L encodings, not L^2), then compares.
    embedded_x = [measure._embed_x(validate_side(measure, X, side="X")) for X in Xs]
    embedded_y = [measure._embed_y(validate_side(measure, Y, side="y")) for Y in Ys or Xs]
    grid = np.empty((len(embedded_x), len(embedded_y)))
    for i in tqdm(range(len(embedded_x)), disable=not verbose, desc=type(measure).__name__):
        for j, Y in enumerate(embedded_y):
            grid[i, j] = measure._compare(embedded_x[i], Y)
    return grid
