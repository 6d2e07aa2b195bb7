"""sklearn-contrasim: scikit-learn compatible similarity measures for neural representations."""

from ._base import BaseSimilarity
from .contrasim import ContraSim, DeepCKA, DeepDot
from .measures import (
    PWCCA,
    RBFCKA,
    SVCCA,
    DegenerateSimilarityWarning,
    DotProduct,
    LinearCKA,
    MeanCCA,
    NormSimilarity,
    OrthogonalProcrustes,
    pairwise_similarity,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "BaseSimilarity",
    "ContraSim",
    "DeepCKA",
    "DeepDot",
    "DegenerateSimilarityWarning",
    "DotProduct",
    "LinearCKA",
    "MeanCCA",
    "NormSimilarity",
    "OrthogonalProcrustes",
    "PWCCA",
    "RBFCKA",
    "SVCCA",
    "__version__",
    "pairwise_similarity",
]
