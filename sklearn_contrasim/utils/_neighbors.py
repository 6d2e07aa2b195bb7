"""Cosine nearest neighbours, with faiss when it is installed and scikit-learn otherwise."""

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ._validation import unit_rows


def _faiss_search(Z, k):
    import faiss

    index = faiss.IndexFlatIP(Z.shape[1])
    index.add(Z)
    return index.search(Z, k)[1]


def _sklearn_search(Z, k):
    search = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(Z)
    return search.kneighbors(Z, return_distance=False)


def cosine_neighbors(Z, n_neighbors, backend="auto"):
    """Return each row's ``n_neighbors`` nearest other rows of validated ``Z`` (2-D,
    finite, ``1 <= n_neighbors < n_samples``), nearest first; see
    :func:`~sklearn_contrasim.metrics.nearest_neighbors`."""
    Z = unit_rows(Z)
    n_samples = Z.shape[0]
    if backend == "auto":
        try:
            import faiss  # noqa: F401

            backend = "faiss"
        except ImportError:
            backend = "sklearn"
    searches = {"faiss": _faiss_search, "sklearn": _sklearn_search}
    # One extra neighbour so that the row itself can be dropped wherever it appears.
    candidates = searches[backend](np.ascontiguousarray(Z), n_neighbors + 1)
    not_self = candidates != np.arange(n_samples)[:, None]
    # Rows whose own index was not returned (ties among duplicates) drop the last candidate.
    not_self[not_self.all(axis=1), -1] = False
    return candidates[not_self].reshape(n_samples, n_neighbors)
