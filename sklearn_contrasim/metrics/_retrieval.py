"""The 1-vs-k retrieval protocol behind every measure's ``score`` and the benchmarks."""

from numbers import Integral

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from .._base import BaseSimilarity
from ..utils._sklearn_compat import Interval, StrOptions, validate_params

# The parameters of a scorer, documented once for make_retrieval_scorer and RetrievalScorer.
_SCORER_PARAMETERS = """chunk_size : int, default=32
        Rows per chunk (see :func:`retrieval_accuracy`).
    n_negatives : int, default=10
        Mismatched chunks compared with each positive.
    negatives : {"random", "hard"}, default="random"
        Random mismatched rows, or each row's nearest neighbours in ``y``.
    n_repeats : int, default=1
        Number of independent shuffles whose decisions are pooled.
    random_state : int, RandomState instance or None, default=0
        Seed of the shuffles and random negatives."""

_PROTOCOL_PARAMS = {
    "chunk_size": [Interval(Integral, 1, None, closed="left")],
    "n_negatives": [Interval(Integral, 1, None, closed="left")],
    "negatives": [StrOptions({"random", "hard"})],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
}


@validate_params(
    {"estimator": "no_validation", "X": ["array-like"], "y": ["array-like"], **_PROTOCOL_PARAMS,
     "neighbors": ["array-like", None], "return_hits": ["boolean"]},
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
    neighbors=None,
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
        A fitted measure (a closed-form one need not be fitted), or a fitted
        :class:`~sklearn.pipeline.Pipeline` ending in one (its earlier steps transform
        ``X``, as in ``Pipeline.score``).
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
    neighbors : array-like of int of shape (n_samples, k), default=None
        Precomputed hard negatives, ``k >= n_negatives``: row ``i`` holds the indices of
        row ``i``'s nearest neighbours in ``y``, nearest first, itself excluded, as
        returned by ``nearest_neighbors(y, k)``. Lets a caller that scores several
        measures on one ``y`` search once. Only used with ``negatives="hard"``; None
        searches them here.
    return_hits : bool, default=False
        Also return the boolean hit of every decision.

    Returns
    -------
    accuracy : float
        Fraction of hits, in [0, 1]. A
        :class:`~sklearn_contrasim.exceptions.UnreliableScoreWarning` says when some
        similarities were not finite (those decisions are misses) or when fewer than 20
        decisions were made.
    hits : ndarray of bool of shape (n_decisions,)
        Only when ``return_hits=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> from sklearn_contrasim.metrics import retrieval_accuracy
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(640, 8)
    >>> retrieval_accuracy(LinearCKA(), X, X + 0.1 * rng.randn(640, 8))
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
    hits = estimator._retrieval_hits(
        X, y, chunk_size=chunk_size, n_negatives=n_negatives, negatives=negatives,
        n_repeats=n_repeats, random_state=random_state, neighbors=neighbors,
    )
    accuracy = float(hits.mean())
    return (accuracy, hits) if return_hits else accuracy


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
    {scorer_parameters}

    Returns
    -------
    scorer : RetrievalScorer
        ``scorer(estimator, X, y) -> float``, higher is better; picklable.

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
    >>> scorer
    RetrievalScorer(chunk_size=10, negatives='hard')
    >>> cross_val_score(LinearCKA(), X, y, cv=3, scoring=scorer).round(2).tolist()
    [1.0, 1.0, 1.0]
    """
    return RetrievalScorer(
        chunk_size=chunk_size,
        n_negatives=n_negatives,
        negatives=negatives,
        n_repeats=n_repeats,
        random_state=random_state,
    )


class RetrievalScorer(BaseEstimator):
    """A scorer for ``scoring=`` that runs the 1-vs-k retrieval protocol.

    Made by :func:`make_retrieval_scorer` (which validates the parameters); a plain
    object, so a scorer, and a fitted search that used it, pickle. Two scorers with the
    same parameters are equal.

    Parameters
    ----------
    {scorer_parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> from sklearn_contrasim.metrics import RetrievalScorer
    >>> X = np.random.RandomState(0).randn(640, 3)
    >>> RetrievalScorer(chunk_size=8)(LinearCKA(), X, X)
    1.0
    """

    def __init__(
        self, *, chunk_size=32, n_negatives=10, negatives="random", n_repeats=1, random_state=0
    ):
        self.chunk_size = chunk_size
        self.n_negatives = n_negatives
        self.negatives = negatives
        self.n_repeats = n_repeats
        self.random_state = random_state

    def __call__(self, estimator, X, y):
        """Return ``retrieval_accuracy(estimator, X, y)`` with this scorer's parameters.

        Parameters
        ----------
        estimator : BaseSimilarity or Pipeline
            A fitted measure, or a fitted pipeline ending in one.
        X : array-like of shape (n_samples, n_features)
            First representation set.
        y : array-like of shape (n_samples, n_features_y)
            Second representation set, paired row by row with ``X``.

        Returns
        -------
        score : float
            The retrieval accuracy, in [0, 1].
        """
        return retrieval_accuracy(estimator, X, y, **self.get_params())

    def __eq__(self, other):
        return type(other) is type(self) and other.get_params() == self.get_params()

    __hash__ = None


for _documented in (make_retrieval_scorer, RetrievalScorer):
    _documented.__doc__ = _documented.__doc__.replace("{scorer_parameters}", _SCORER_PARAMETERS)
del _documented
