"""The one train/test split encoding of the loaders: ``test_fold``, as PredefinedSplit takes it."""

import numpy as np
from sklearn.model_selection import train_test_split


def test_fold(n_samples, test_rows):
    """``-1`` for training rows and ``0`` for the rows in ``test_rows``.

    Parameters
    ----------
    n_samples : int
    test_rows : array-like of int
        Indices of the test rows.

    Returns
    -------
    test_fold : ndarray of shape (n_samples,), dtype int64
        What :class:`sklearn.model_selection.PredefinedSplit` accepts.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._splits import test_fold
    >>> test_fold(4, [1, 3]).tolist()
    [-1, 0, -1, 0]
    """
    fold = np.full(n_samples, -1, dtype=np.int64)
    fold[np.asarray(test_rows, dtype=np.intp)] = 0
    return fold


def random_test_fold(n_samples, *, test_size, random_state):
    """A seeded random split of ``n_samples`` rows into train (``-1``) and test (``0``).

    The test rows are those of :func:`sklearn.model_selection.train_test_split`.

    Parameters
    ----------
    n_samples : int
    test_size : float or int
        Fraction (float) or number (int) of test rows.
    random_state : int

    Returns
    -------
    test_fold : ndarray of shape (n_samples,), dtype int64

    Examples
    --------
    >>> from sklearn_contrasim.datasets._splits import random_test_fold
    >>> fold = random_test_fold(10, test_size=0.3, random_state=0)
    >>> int((fold == 0).sum()), int((fold == -1).sum())
    (3, 7)
    """
    _, test_rows = train_test_split(
        np.arange(n_samples), test_size=test_size, random_state=random_state
    )
    return test_fold(n_samples, test_rows)
