"""The paper's baselines on raw vectors: Dot and Norm."""

import numpy as np

from ..exceptions import InapplicableMeasureError
from ..utils._validation import unit_rows
from ._closed_form import ClosedFormSimilarity


class _RowWiseSimilarity(ClosedFormSimilarity):
    """A measure comparing row ``k`` of ``X`` with row ``k`` of ``y``: equal widths needed.

    The widths are checked when comparing (``similarity``, ``score``, grids), not in
    ``fit``, which learns nothing for these measures; different widths raise
    :class:`~sklearn_contrasim.exceptions.InapplicableMeasureError`.
    """

    def _check_widths(self, X, y):
        if X.shape[1] != y.shape[1]:
            raise InapplicableMeasureError(
                f"{type(self).__name__} compares row k of X with row k of y, so both need "
                f"the same number of features; got {X.shape[1]} and {y.shape[1]}."
            )


class DotProduct(_RowWiseSimilarity):
    """Mean dot product of paired rows: the paper's ``Dot`` baseline.

    ``Dot(X, Y) = (1/n) sum_k <x_k, y_k>`` on the raw vectors. (The paper sums over rows;
    the mean ranks equal-size sets identically and does not grow with ``n``.)

    Range: unbounded (any real). Symmetric. Invariant only to the same orthogonal map
    applied to both sets; not to translation, scaling or separate maps. ``X`` and ``y``
    need the same number of features (checked when comparing). ``similarity(X, X)`` is
    the mean squared row norm, not 1.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit`` (equal to ``n_features_in_``).

    See Also
    --------
    NormSimilarity : Distance of L2-normalised paired rows.

    References
    ----------
    Rahamim and Belinkov, "ContraSim - Analyzing Neural Representations Based on
    Contrastive Learning", NAACL 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import DotProduct
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> Y = np.array([[3.0, 1.0], [1.0, 1.0]])
    >>> DotProduct().fit(X, Y).similarity(X, Y)
    2.5
    """

    def _summarize(self, X):
        return X

    def _combine(self, summary_x, summary_y):
        self._check_widths(summary_x, summary_y)
        total = np.einsum("ij,ij->", summary_x, summary_y, dtype=np.float64)
        return float(total / summary_x.shape[0])


class NormSimilarity(_RowWiseSimilarity):
    """One minus the mean distance of L2-normalised paired rows: the paper's ``Norm``.

    ``Norm(X, Y) = (1/n) sum_k (1 - ||x_k / ||x_k|| - y_k / ||y_k|| ||)``. All-zero rows
    stay zero (never NaN).

    Range: [-1, 1]; 1 when paired rows point the same way. Symmetric. Invariant to the
    same orthogonal map applied to both sets and to positive rescaling of any row; not
    to translation or separate maps. ``similarity(X, X) = 1`` (for rows that are not all
    zero). ``X`` and ``y`` need the same number of features (checked when comparing).

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit`` (equal to ``n_features_in_``).

    See Also
    --------
    DotProduct : Mean dot product of paired rows.

    References
    ----------
    Rahamim and Belinkov, "ContraSim - Analyzing Neural Representations Based on
    Contrastive Learning", NAACL 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.measures import NormSimilarity
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> Y = np.array([[5.0, 0.0], [2.0, 0.0]])
    >>> round(NormSimilarity().fit(X, Y).similarity(X, Y), 4)
    0.2929
    """

    def _summarize(self, X):
        return unit_rows(X, dtype=np.float64)

    def _combine(self, summary_x, summary_y):
        self._check_widths(summary_x, summary_y)
        distances = np.linalg.norm(summary_x - summary_y, axis=1)
        return float(1.0 - distances.mean(dtype=np.float64))
