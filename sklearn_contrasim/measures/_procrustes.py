"""Orthogonal Procrustes similarity."""

import numpy as np

from ._closed_form import ClosedFormSimilarity, moderate_centred


class OrthogonalProcrustes(ClosedFormSimilarity):
    """Orthogonal Procrustes similarity of two centred representation sets.

    ``OP(X, Y) = ||Xc^T Yc||_* / (||Xc||_F ||Yc||_F)`` with ``||.||_*`` the nuclear norm
    (sum of singular values): the largest correlation ``<Xc, Yc R>`` over orthogonal maps
    ``R`` (padding the narrower set with zero features). The normalised Procrustes
    distance is ``sqrt(2 - 2 OP)``.

    Range: [0, 1]; 1 exactly when ``Y`` is a translated, scaled, orthogonal map of
    ``X``. Symmetric. Invariant to translation, isotropic scaling and orthogonal maps of
    either set; not invariant to general invertible linear maps. A set with no variance
    has similarity 0, never NaN.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of ``X`` seen during ``fit``.
    n_features_y_ : int
        Number of features of ``y`` seen during ``fit``.

    See Also
    --------
    LinearCKA : Alignment of Gram matrices, with the same invariances.

    References
    ----------
    Ding, Denain and Steinhardt, "Grounding Representation Similarity with Statistical
    Testing", NeurIPS 2021. Williams, Kunz, Kornblith and Linderman, "Generalized Shape
    Metrics on Neural Representations", NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from sklearn_contrasim.measures import OrthogonalProcrustes
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 6)
    >>> Y = 2.0 * X @ ortho_group.rvs(6, random_state=0) + 1.0
    >>> round(OrthogonalProcrustes().fit(X, Y).similarity(X, Y), 6)
    1.0
    """

    def _summarize(self, X):
        # Rescaled by a power of two (exact): no product overflows at any magnitude.
        centred = moderate_centred(X).astype(np.float64, copy=False)
        n_samples, n_features = centred.shape
        if n_features > n_samples:
            # Xc = R^T Q^T with Q orthonormal: Xc^T Yc has the singular values of R_x R_y^T.
            centred = np.linalg.qr(centred.T, mode="r").T
        return centred, np.linalg.norm(centred)

    def _combine(self, summary_x, summary_y):
        (factor_x, norm_x), (factor_y, norm_y) = summary_x, summary_y
        if norm_x == 0 or norm_y == 0:
            return 0.0
        nuclear = np.linalg.svd(factor_x.T @ factor_y, compute_uv=False).sum()
        return float(np.clip(nuclear / (norm_x * norm_y), 0.0, 1.0))
