"""Synthetic paired representation sets with known shared structure."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._sklearn_compat import Interval, validate_params


@validate_params(
    {
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "n_features_x": [Interval(Integral, 1, None, closed="left")],
        "n_features_y": [Interval(Integral, 1, None, closed="left")],
        "n_latent": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "nonlinear": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_paired_representations(
    n_samples=500,
    n_features_x=64,
    n_features_y=64,
    *,
    n_latent=8,
    noise=1.0,
    nonlinear=False,
    random_state=None,
):
    """Generate two representation sets that share a known low-dimensional latent.

    Row ``k`` of both sets encodes the same latent vector ``z_k ~ N(0, I)`` of
    ``n_latent`` dimensions: ``X = z A + noise * E_x`` and ``y = h(z B) + noise * E_y``
    with random Gaussian maps ``A``, ``B`` (scaled so each feature of the signal has unit
    variance), ``h`` the identity, or ``tanh`` of a further random mixing when
    ``nonlinear=True``, and independent standard Gaussian noise ``E``. Only the latent is
    shared, so a good measure finds the pairing; ``noise`` sets how hard that is.

    Parameters
    ----------
    n_samples : int, default=500
        Number of paired rows.
    n_features_x, n_features_y : int, default=64
        Widths of the two sets.
    n_latent : int, default=8
        Dimension of the shared latent.
    noise : float, default=1.0
        Standard deviation of the independent noise added to every feature.
    nonlinear : bool, default=False
        Pass ``y``'s signal through ``tanh`` of a random mixing, so that ``X`` and ``y``
        are related non-linearly.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features_x)
    y : ndarray of shape (n_samples, n_features_y)
    latent : ndarray of shape (n_samples, n_latent)
        The shared latent, the ground truth of the pairing.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import make_paired_representations
    >>> X, y, latent = make_paired_representations(100, 32, 16, random_state=0)
    >>> X.shape, y.shape, latent.shape
    ((100, 32), (100, 16), (100, 8))
    """
    rng = check_random_state(random_state)
    latent = rng.standard_normal((n_samples, n_latent))
    to_x = rng.standard_normal((n_latent, n_features_x)) / np.sqrt(n_latent)
    to_y = rng.standard_normal((n_latent, n_features_y)) / np.sqrt(n_latent)
    signal_y = latent @ to_y
    if nonlinear:
        mixing = rng.standard_normal((n_features_y, n_features_y)) / np.sqrt(n_features_y)
        signal_y = np.tanh(2.0 * signal_y) @ mixing
        signal_y /= signal_y.std(axis=0, keepdims=True)
    X = latent @ to_x + noise * rng.standard_normal((n_samples, n_features_x))
    y = signal_y + noise * rng.standard_normal((n_samples, n_features_y))
    return X, y, latent
