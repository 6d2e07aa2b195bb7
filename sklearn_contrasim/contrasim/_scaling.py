"""The input scale of the learned measures: learned in float64, applied before float32.

The encoders compute in float32, whose range (about 1e-38 to 3e38) and relative precision
are far from float64's. Dividing every input by the root mean square of the training
data (one number per side, computed in float64) brings any data a float64 can hold to
unit scale before it reaches the encoder, so the measures behave the same whatever the
unit of the representations.
"""

import numpy as np

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def root_mean_square(arrays):
    """Return the root mean square of every entry of ``arrays``, in float64.

    Computed on the entries divided by their largest magnitude, so that neither the squares
    of huge values overflow nor those of tiny values underflow. All-zero data gives 1.0
    (there is no scale to remove).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.contrasim._scaling import root_mean_square
    >>> float(root_mean_square([np.full((2, 2), 3e200), np.full((2, 2), -3e200)]))
    3e+200
    >>> float(root_mean_square([np.zeros((3, 2))]))
    1.0
    """
    peak = max(float(np.max(np.abs(array))) for array in arrays)
    if peak == 0.0:
        return 1.0
    total = sum(np.sum(np.square(np.asarray(array, dtype=np.float64) / peak)) for array in arrays)
    return peak * float(np.sqrt(total / sum(array.size for array in arrays)))


def to_encoder_scale(array, scale, *, name, side):
    """Return ``array / scale`` as float32, or raise if it leaves float32's range.

    Parameters
    ----------
    array : ndarray
        Validated rows (float32 or float64).
    scale : float
        The side's scale learned in ``fit``.
    name, side : str
        The measure's name and the side (``"X"`` or ``"y"``), for the error message.

    Returns
    -------
    scaled : ndarray of float32
        A new, writable, C-contiguous array.
    """
    scaled = np.asarray(array, dtype=np.float64) / scale
    peak = float(np.max(np.abs(scaled), initial=0.0))
    if peak > _FLOAT32_MAX:
        raise ValueError(
            f"{name}: {side} has values up to {peak * scale:.3g}, {peak:.3g} times the scale "
            f"the measure was fitted on ({scale:.3g}); its encoder works in float32, which "
            f"cannot hold them. Fit the measure on data of this scale."
        )
    return np.ascontiguousarray(scaled, dtype=np.float32)
