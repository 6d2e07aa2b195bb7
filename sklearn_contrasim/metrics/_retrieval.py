"""The 1-vs-k retrieval protocol behind every measure's ``score`` and the benchmarks."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._base import BaseSimilarity
from ._neighbors import nearest_neighbors

_PROTOCOL_PARAMS = {
    "chunk_size": [Interval(Integral, 1, None, closed="left")],
    "n_negatives": [Interval(Integral, 1, None, closed="left")],
    "negatives": [StrOptions({"random", "hard"})],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
}


@validate_params(
    {"estimator": "no_validation", "X": ["array-like"], "y": ["array-like"], **_PROTOCOL_PARAMS,
     "return_hits": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def retrieval_accuracy(
    estimator,
    X,
    y,
    *,
    chunk_size=32,
    n_negatives=10,
    negatives="random",
    n_repeats=1,
    random_state=0,
    return_hits=False,
):
    """1-vs-k retrieval accuracy of a fitted measure on paired representation sets.

    The rows are shuffled (with ``random_state``) and cut into chunks of ``chunk_size``
    rows. For each chunk of ``X`` the measure compares the paired chunk of ``y`` (the
    positive) with ``n_negatives`` mismatched chunks of ``y``. The chunk is a hit only
    when the positive's similarity is strictly greater than every negative's, so ties
    (a collapsed encoder, a degenerate measure) count as misses. Chance is
    ``1 / (n_negatives + 1)``.

    Parameters
    ----------
    estimator : BaseSimilarity or Pipeline
        A fitted measure, or a fitted :class:`~sklearn.pipeline.Pipeline` ending in one
        (its earlier steps transform ``X``, as in ``Pipeline.score``).
    X : array-like of shape (n_samples, n_features)
        First representation set (held-out rows).
    y : array-like of shape (n_samples, n_features_y)
        Second representation set, paired row by row with ``X``.
    chunk_size : int, default=32
        Rows per chunk; lowered to ``n_samples // 2`` on small inputs so that a
        negative can always be drawn from outside the chunk.
    n_negatives : int, default=10
        Mismatched chunks compared with each positive.
    negatives : {"random", "hard"}, default="random"
        ``"random"``: each negative is ``chunk_size`` rows of ``y`` drawn at random from
        outside the chunk. ``"hard"``: negative ``j`` replaces each row of the chunk by
        its ``j``-th nearest neighbour in ``y`` (cosine, the row itself excluded; see
        :func:`nearest_neighbors`), so the negatives look like the positive.
    n_repeats : int, default=1
        Number of independent shuffles; decisions from all of them are pooled.
    random_state : int, RandomState instance or None, default=0
        Seed of the shuffles and random negatives. The default makes ``score``
        deterministic.
    return_hits : bool, default=False
        Also return the boolean hit of every decision.

    Returns
    -------
    accuracy : float
        Fraction of hits, in [0, 1].
    hits : ndarray of bool of shape (n_decisions,)
        Only when ``return_hits=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> from sklearn_contrasim.metrics import retrieval_accuracy
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(256, 8)
    >>> cka = LinearCKA().fit(X, X)
    >>> retrieval_accuracy(cka, X, X + 0.1 * rng.randn(256, 8))
    1.0
    """
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    if not isinstance(estimator, BaseSimilarity):
        raise TypeError(
            "The retrieval protocol scores similarity measures (BaseSimilarity instances, "
            f"or pipelines ending in one), got {type(estimator).__name__}."
        )
    X, y = estimator._validate_fitted(X, y)
    n_samples = X.shape[0]
    chunk_size = min(chunk_size, n_samples // 2)
    min_rows = estimator._min_samples()
    if chunk_size < min_rows:
        raise ValueError(
            f"The retrieval protocol needs chunks of at least {min_rows} rows for "
            f"{type(estimator).__name__} and at least two chunks, so at least "
            f"{2 * min_rows} samples; got {n_samples}."
        )
    if negatives == "hard":
        if n_negatives >= n_samples:
            raise ValueError(
                f"Hard negatives need n_negatives < n_samples, got {n_negatives} >= {n_samples}."
            )
        neighbors = nearest_neighbors(y, n_negatives)
    X_embedded, y_embedded = estimator._embed_x(X), estimator._embed_y(y)
    rng = check_random_state(random_state)
    n_chunks = n_samples // chunk_size
    hits = []
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
                X_chunk = X_embedded[chunk]
                positive = estimator._compare(X_chunk, y_embedded[chunk])
                best_negative = max(
                    estimator._compare(X_chunk, y_embedded[rows]) for rows in negative_rows
                )
                # NaN compares False, so a measure that returns NaN never scores a hit.
                hits.append(bool(positive > best_negative))
    _warn_once_per_category(caught, n_comparisons=len(hits) * (n_negatives + 1))
    hits = np.asarray(hits)
    accuracy = float(hits.mean())
    return (accuracy, hits) if return_hits else accuracy


def _warn_once_per_category(caught, n_comparisons):
    """Re-emit recorded warnings once per category, saying how many comparisons raised one."""
    by_category = {}
    for record in caught:
        by_category.setdefault(record.category, []).append(record)
    for category, records in by_category.items():
        warnings.warn(
            f"{len(records)} warning(s) in {n_comparisons} chunk comparisons; the first: "
            f"{records[0].message}",
            category,
            stacklevel=3,
        )


@validate_params(_PROTOCOL_PARAMS, prefer_skip_nested_validation=True)
def make_retrieval_scorer(
    *, chunk_size=32, n_negatives=10, negatives="random", n_repeats=1, random_state=0
):
    """Make a scorer for ``scoring=`` that runs the 1-vs-k retrieval protocol.

    Use it to tune a measure on a harder protocol (more negatives, hard negatives, smaller
    chunks) than its default ``score``. The scorer also accepts a
    :class:`~sklearn.pipeline.Pipeline` whose last step is a measure.

    Parameters
    ----------
    chunk_size : int, default=32
        Rows per chunk (see :func:`retrieval_accuracy`).
    n_negatives : int, default=10
        Mismatched chunks compared with each positive.
    negatives : {"random", "hard"}, default="random"
        Random mismatched rows, or each row's nearest neighbours in ``y``.
    n_repeats : int, default=1
        Number of independent shuffles whose decisions are pooled.
    random_state : int, RandomState instance or None, default=0
        Seed of the shuffles and random negatives.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> from sklearn_contrasim.metrics import make_retrieval_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(300, 5)
    >>> y = X @ rng.randn(5, 4) + 0.1 * rng.randn(300, 4)
    >>> scorer = make_retrieval_scorer(chunk_size=10, negatives="hard")
    >>> cross_val_score(LinearCKA(), X, y, cv=3, scoring=scorer).round(2).tolist()
    [1.0, 1.0, 1.0]
    """
    params = dict(
        chunk_size=chunk_size,
        n_negatives=n_negatives,
        negatives=negatives,
        n_repeats=n_repeats,
        random_state=random_state,
    )

    def retrieval_scorer(estimator, X, y):
        return retrieval_accuracy(estimator, X, y, **params)

    retrieval_scorer.params = params
    return retrieval_scorer
