"""The 1-vs-k retrieval decisions on embedded arrays, for any compare function.

Nothing here knows about estimators: :class:`~sklearn_contrasim.BaseSimilarity` validates
and embeds the sets, then hands them over with its compare function.
"""

import sys
import warnings

import numpy as np
from sklearn.utils import check_random_state

from .exceptions import UnreliableScoreWarning
from .utils._neighbors import cosine_neighbors

#: The protocol of ``score``, and the defaults of ``retrieval_accuracy``.
DEFAULT_PROTOCOL = dict(
    chunk_size=32, n_negatives=10, negatives="random", n_repeats=1, random_state=0
)

#: Fewer decisions than this and the retrieval score is not a measurement.
MIN_DECISIONS = 20


def capped_chunk_size(n_samples, chunk_size, min_rows, name):
    """Return ``chunk_size`` lowered to ``n_samples // 2``; raise when it falls below
    ``min_rows``, the fewest rows ``name`` compares."""
    chunk_size = min(chunk_size, n_samples // 2)
    if chunk_size < min_rows:
        raise ValueError(
            f"The retrieval protocol needs chunks of at least {min_rows} rows for {name} "
            f"and at least two chunks, so at least {2 * min_rows} samples; got {n_samples}."
        )
    return chunk_size


def hard_negative_neighbors(y, n_negatives, neighbors=None):
    """Return each row's ``n_negatives`` nearest other rows of ``y``, nearest first.

    ``neighbors`` (precomputed, as returned by ``nearest_neighbors(y, k)`` with
    ``k >= n_negatives``) is checked and cut to ``n_negatives`` columns; None computes
    them.
    """
    n_samples = y.shape[0]
    if n_negatives >= n_samples:
        raise ValueError(
            f"Hard negatives need n_negatives < n_samples, got {n_negatives} >= {n_samples}."
        )
    if neighbors is None:
        return cosine_neighbors(y, n_negatives)
    neighbors = np.asarray(neighbors)
    if neighbors.ndim != 2 or neighbors.shape[0] != n_samples:
        raise ValueError(
            f"neighbors must have shape (n_samples, >= n_negatives) = ({n_samples}, >= "
            f"{n_negatives}), one row of neighbour indices per row of y; got shape "
            f"{neighbors.shape}."
        )
    if neighbors.shape[1] < n_negatives:
        raise ValueError(
            f"neighbors holds {neighbors.shape[1]} neighbours per row, fewer than "
            f"n_negatives={n_negatives}."
        )
    if not np.issubdtype(neighbors.dtype, np.integer):
        raise ValueError(f"neighbors must hold integer row indices, got dtype {neighbors.dtype}.")
    neighbors = neighbors[:, :n_negatives]
    if neighbors.size and (neighbors.min() < 0 or neighbors.max() >= n_samples):
        raise ValueError(
            f"neighbors must hold row indices of y in [0, {n_samples - 1}], got values from "
            f"{neighbors.min()} to {neighbors.max()}."
        )
    if np.any(neighbors == np.arange(n_samples)[:, None]):
        raise ValueError("neighbors must exclude each row itself (row i lists rows other than i).")
    return neighbors


def retrieval_hits(
    X, y, compare, *, chunk_size, n_negatives, negatives, n_repeats, random_state, neighbors,
    name,
):
    """Return the hit (bool) of every 1-vs-k decision on paired, embedded sets.

    Parameters
    ----------
    X, y : ndarray of shape (n_samples, ...)
        Embedded paired sets.
    compare : callable
        ``compare(X_rows, y_rows) -> float``, higher is more similar.
    chunk_size : int
        Rows per chunk, already capped (see :func:`capped_chunk_size`).
    n_negatives, negatives, n_repeats, random_state
        As in :func:`~sklearn_contrasim.metrics.retrieval_accuracy`.
    neighbors : ndarray of int of shape (n_samples, n_negatives) or None
        Hard negatives of each row (see :func:`hard_negative_neighbors`); used only when
        ``negatives="hard"``.
    name : str
        The measure's name, for warnings.

    Returns
    -------
    hits : ndarray of bool of shape (n_decisions,)
    """
    rng = check_random_state(random_state)
    n_samples = X.shape[0]
    n_chunks = n_samples // chunk_size
    hits, n_not_finite = [], 0
    # A measure may warn on every chunk (a degenerate CCA, say): collect the warnings and
    # report each kind once, with how often it happened, instead of flooding the output.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(n_repeats):
            order = rng.permutation(n_samples)
            for chunk in order[: n_chunks * chunk_size].reshape(n_chunks, chunk_size):
                if negatives == "hard":
                    negative_rows = neighbors[chunk].T
                else:
                    outside = np.setdiff1d(order, chunk, assume_unique=True)
                    negative_rows = [
                        rng.choice(outside, size=chunk_size, replace=False)
                        for _ in range(n_negatives)
                    ]
                X_chunk = X[chunk]
                similarities = np.array(
                    [compare(X_chunk, y[chunk])]
                    + [compare(X_chunk, y[rows]) for rows in negative_rows],
                    dtype=float,
                )
                n_not_finite += int(np.count_nonzero(~np.isfinite(similarities)))
                # NaN compares False, so a measure that returns NaN never scores a hit.
                hits.append(bool(similarities[0] > similarities[1:].max()))
    n_comparisons = len(hits) * (n_negatives + 1)
    stacklevel = _caller_stacklevel()
    _warn_once_per_category(caught, n_comparisons, stacklevel + 1)
    if n_not_finite:
        warnings.warn(
            f"{name} gave {n_not_finite} non-finite similarities in {n_comparisons} chunk "
            "comparisons; a decision with a non-finite similarity counts as a miss, so the "
            "score is not the measure's.",
            UnreliableScoreWarning,
            stacklevel=stacklevel,
        )
    if len(hits) < MIN_DECISIONS:
        warnings.warn(
            f"A score from {len(hits)} decisions is not a measurement (fewer than "
            f"{MIN_DECISIONS}); use more rows, a smaller chunk_size or more n_repeats.",
            UnreliableScoreWarning,
            stacklevel=stacklevel,
        )
    return np.asarray(hits, dtype=bool)


def _caller_stacklevel():
    """Return the ``stacklevel`` that points a warning of the caller at the first frame
    outside this package and scikit-learn (the user's ``score`` or ``fit`` call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in (
        "sklearn_contrasim", "sklearn"
    ):
        frame, level = frame.f_back, level + 1
    return level


def _warn_once_per_category(caught, n_comparisons, stacklevel):
    """Re-emit recorded warnings once per category, saying how many comparisons raised one."""
    by_category = {}
    for record in caught:
        by_category.setdefault(record.category, []).append(record)
    for category, records in by_category.items():
        warnings.warn(
            f"{len(records)} warning(s) in {n_comparisons} chunk comparisons; the first: "
            f"{records[0].message}",
            category,
            stacklevel=stacklevel,
        )
