"""Cosine nearest neighbours: the hard negatives of the retrieval protocol."""

from numbers import Integral

from sklearn.utils.validation import check_array

from ..utils._neighbors import cosine_neighbors
from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ..utils._validation import FLOAT_DTYPES


@validate_params(
    {
        "Z": ["array-like"],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "backend": [StrOptions({"auto", "faiss", "sklearn"})],
    },
    prefer_skip_nested_validation=True,
)
def nearest_neighbors(Z, n_neighbors, *, backend="auto"):
    """Return each row's nearest other rows of ``Z`` by cosine similarity.

    The row itself is never among its neighbours, even when ``Z`` holds duplicate rows
    (a duplicate of a row is a legitimate, maximally hard neighbour). All-zero rows are
    handled without producing NaN.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        The base representation: 2-D, finite.
    n_neighbors : int
        Neighbours per row; at most ``n_samples - 1``.
    backend : {"auto", "faiss", "sklearn"}, default="auto"
        ``"faiss"`` uses an exact inner-product index on unit rows (fast for large sets);
        ``"sklearn"`` uses :class:`~sklearn.neighbors.NearestNeighbors`; ``"auto"``
        uses faiss when it is installed.

    Returns
    -------
    neighbors : ndarray of shape (n_samples, n_neighbors)
        Row indices, nearest first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.metrics import nearest_neighbors
    >>> Z = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> nearest_neighbors(Z, 1, backend="sklearn").ravel().tolist()
    [1, 0, 3, 2]
    """
    Z = check_array(Z, dtype=FLOAT_DTYPES, input_name="Z")
    n_samples = Z.shape[0]
    if n_neighbors >= n_samples:
        raise ValueError(
            f"n_neighbors must be between 1 and n_samples - 1 = {n_samples - 1}, "
            f"got {n_neighbors}."
        )
    return cosine_neighbors(Z, n_neighbors, backend)
