"""Validation of paired representation sets, shared by every measure."""

import numpy as np
from sklearn.utils.validation import validate_data

FLOAT_DTYPES = (np.float64, np.float32)


def validate_paired(estimator, X, y, *, reset, min_samples=2):
    """Validate two paired representation sets for ``estimator``.

    Both sets must be 2-D, finite and numeric, with the same number of rows (row ``k`` of
    both comes from the same example) and at least ``min_samples`` rows. ``reset=True``
    (in ``fit``) records ``n_features_in_`` and ``n_features_y_``; ``reset=False`` checks
    that later inputs have those widths.

    Returns
    -------
    X, y : ndarray
        Float arrays (float32 kept, everything else converted to float64).
    """
    name = type(estimator).__name__
    if y is None:
        raise ValueError(
            f"{name} compares two paired representation sets: y, an array of shape "
            "(n_samples, n_features_y) paired row by row with X, is required."
        )
    for input_name, array in (("X", X), ("y", y)):
        if np.ndim(array) != 2:
            raise ValueError(
                f"{name} expects {input_name} as a 2-D array of shape (n_samples, n_features), "
                f"got an array with {np.ndim(array)} dimension(s)."
            )
    check_params = dict(dtype=FLOAT_DTYPES, ensure_2d=True, ensure_min_samples=min_samples)
    X, y = validate_data(
        estimator,
        X,
        y,
        reset=reset,
        validate_separately=(check_params, check_params),
    )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must be paired row by row, but X has {X.shape[0]} rows and "
            f"y has {y.shape[0]}."
        )
    if reset:
        estimator.n_features_y_ = y.shape[1]
    elif y.shape[1] != estimator.n_features_y_:
        raise ValueError(
            f"y has {y.shape[1]} features, but {name} was fitted with "
            f"{estimator.n_features_y_} features in y."
        )
    return X, y
