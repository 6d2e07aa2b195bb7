"""The paper's baselines on raw vectors: Dot and Norm."""

import math

import numpy as np

from ..exceptions import InapplicableMeasureError
from ..utils._validation import unit_rows
from ._closed_form import ClosedFormSimilarity, power_of_two_rescale


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
    the mean squared row norm, not 1. Exact at any magnitude of the inputs: a value
    beyond the float64 range (about ``1.8e308``) raises a ``ValueError`` rather than
    giving ``inf`` or NaN.

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
        # Products of sets rescaled by powers of two, so that no term overflows.
        (X, exponent_x), (Y, exponent_y) = map(power_of_two_rescale, (summary_x, summary_y))
        scaled_mean = np.einsum("ij,ij->", X, Y, dtype=np.float64) / X.shape[0]
        try:
            return math.ldexp(scaled_mean, exponent_x + exponent_y)
        except OverflowError:
            magnitude = math.log10(abs(scaled_mean)) + (exponent_x + exponent_y) * math.log10(2)
            raise ValueError(
                f"{type(self).__name__}: the mean dot product of these sets is about "
                f"1e{magnitude:.0f}, beyond the float64 range (about 1.8e308). Rescale the "
                "sets, or use a scale invariant measure (e.g. NormSimilarity, LinearCKA)."
            ) from None


class NormSimilarity(_RowWiseSimilarity):
    """One minus the mean distance of L2-normalised paired rows: the paper's ``Norm``.

    ``Norm(X, Y) = (1/n) sum_k (1 - ||x_k / ||x_k|| - y_k / ||y_k|| ||)``. All-zero rows
    stay zero (never NaN). Each row is rescaled by a power of two before its norm is
    taken, so the value does not depend on the magnitude of any row, however extreme.

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
        return unit_rows(power_of_two_rescale(X, axis=1)[0], dtype=np.float64)

    def _combine(self, summary_x, summary_y):
        self._check_widths(summary_x, summary_y)
        distances = np.linalg.norm(summary_x - summary_y, axis=1)
        return float(1.0 - distances.mean(dtype=np.float64))
