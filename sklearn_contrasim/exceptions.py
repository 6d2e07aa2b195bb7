"""Exceptions and warnings raised by the measures and the retrieval protocol."""

__all__ = ["InapplicableMeasureError", "UnreliableScoreWarning"]


class InapplicableMeasureError(ValueError):
    """A measure cannot compare its inputs by its nature, whatever their values.

    For example :class:`~sklearn_contrasim.measures.DotProduct` compares row ``k`` of
    ``X`` with row ``k`` of ``y``, which needs both sets to have the same width. A
    benchmark skips a measure that raises this error, and only this one.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.exceptions import InapplicableMeasureError
    >>> from sklearn_contrasim.measures import DotProduct
    >>> try:
    ...     DotProduct().similarity(np.ones((4, 2)), np.ones((4, 3)))
    ... except InapplicableMeasureError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    InapplicableMeasureError True
    """


class UnreliableScoreWarning(UserWarning):
    """A retrieval score that should not be trusted as it stands.

    Issued when some similarities were not finite (NaN never wins, so those decisions
    count as misses) or when the score rests on too few decisions to measure anything.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_contrasim.exceptions import UnreliableScoreWarning
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> X = np.random.RandomState(0).randn(12, 3)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     score = LinearCKA().score(X, X)
    >>> caught[0].category is UnreliableScoreWarning
    True
    """
