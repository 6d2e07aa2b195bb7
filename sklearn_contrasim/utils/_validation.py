"""Validation of representation sets, shared by the measures, the protocol and the grids."""

import numpy as np
from sklearn.utils.validation import check_array, validate_data

FLOAT_DTYPES = (np.float64, np.float32)


def _check_shape_and_kind(estimator, array, input_name):
    """Reject complex data and anything that is not 2-D, with a short message."""
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported: {input_name} must be real-valued.")
    if np.ndim(array) != 2:
        raise ValueError(
            f"{type(estimator).__name__} expects {input_name} as a 2-D array of shape "
            f"(n_samples, n_features), got an array with {np.ndim(array)} dimension(s)."
        )


def _check_y_width(estimator, y):
    if y.shape[1] != estimator.n_features_y_:
        raise ValueError(
            f"y has {y.shape[1]} features, but {type(estimator).__name__} was fitted with "
            f"{estimator.n_features_y_} features in y."
        )


def validate_paired(estimator, X, y, *, reset, min_samples=2):
    """Validate two paired representation sets for ``estimator``.

    Both sets must be 2-D, finite and real, with the same number of rows (row ``k`` of
    both comes from the same example) and at least ``min_samples`` rows. ``reset=True``
    (in ``fit``) records ``n_features_in_`` and ``n_features_y_``; ``reset=False`` checks
    that later inputs have those widths.

    Returns
    -------
    X, y : ndarray
        Float arrays (float32 kept, everything else converted to float64).
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None: "
            "y is the second representation set, an array of shape (n_samples, "
            "n_features_y) paired row by row with X."
        )
    _check_shape_and_kind(estimator, X, "X")
    _check_shape_and_kind(estimator, y, "y")
    check_params = dict(dtype=FLOAT_DTYPES, ensure_min_samples=min_samples)
    fitted = hasattr(estimator, "n_features_in_")
    if reset or fitted:
        X, y = validate_data(
            estimator, X, y, reset=reset, validate_separately=(check_params, check_params)
        )
    else:
        X = check_array(X, input_name="X", **check_params)
        y = check_array(y, input_name="y", **check_params)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must be paired row by row, but X has {X.shape[0]} rows and "
            f"y has {y.shape[0]}."
        )
    if reset:
        estimator.n_features_y_ = y.shape[1]
    elif fitted:
        _check_y_width(estimator, y)
    return X, y


def validate_side(estimator, array, *, side, min_samples=1):
    """Validate one representation set against the widths a fitted ``estimator`` saw.

    ``side="X"`` checks the width against ``n_features_in_`` (and feature names),
    ``side="y"`` against ``n_features_y_``. Used where the two sides are not paired, such
    as encoding one side or comparing every layer of one list with every layer of another.
    """
    _check_shape_and_kind(estimator, array, side)
    if side == "X":
        return validate_data(
            estimator, array, reset=False, dtype=FLOAT_DTYPES, ensure_min_samples=min_samples
        )
    array = check_array(array, dtype=FLOAT_DTYPES, ensure_min_samples=min_samples, input_name="y")
    _check_y_width(estimator, array)
    return array


def validate_layers(Xs, Ys, *, min_samples):
    """Validate one or two lists of layers on the same examples.

    Each list must be non-empty and hold 2-D finite float arrays (a 3-D array is a stack
    of layers); every layer of both lists must have the same number of rows. ``Ys=None``
    stays None.

    Returns
    -------
    Xs, Ys : list of ndarray, and list of ndarray or None
    """
    Xs = _check_layer_list(Xs, "Xs", min_samples)
    Ys = None if Ys is None else _check_layer_list(Ys, "Ys", min_samples)
    n_samples = {layer.shape[0] for layer in Xs + (Ys or [])}
    if len(n_samples) > 1:
        raise ValueError(
            "Every layer must hold the same examples (the same number of rows); got "
            f"layers with {sorted(n_samples)} rows."
        )
    return Xs, Ys


def _check_layer_list(layers, name, min_samples):
    """Check a non-empty list of 2-D finite float arrays; return it as a list of arrays."""
    if isinstance(layers, np.ndarray) and layers.ndim != 3:
        raise ValueError(
            f"{name} must be a list of 2-D arrays (or a 3-D array of layers), "
            f"got an array with {layers.ndim} dimension(s)."
        )
    arrays = [
        check_array(layer, dtype=FLOAT_DTYPES, ensure_min_samples=min_samples,
                    input_name=f"{name}[{index}]")
        for index, layer in enumerate(layers)
    ]
    if not arrays:
        raise ValueError(f"{name} must hold at least one layer, got none.")
    return arrays


def unit_rows(Z, dtype=np.float32):
    """Return rows scaled to unit L2 norm; all-zero rows stay zero (never NaN)."""
    Z = np.asarray(Z, dtype=dtype)
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.where(norms > 0, norms, 1.0)
