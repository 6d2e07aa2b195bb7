"""sklearn-contrasim: scikit-learn compatible similarity measures for neural representations.

The learned measures (``ContraSim``, ``DeepDot``, ``DeepCKA``) are imported on first
access, so that ``import sklearn_contrasim`` does not import torch.
"""

from ._base import BaseSimilarity
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
from .preprocessing import RelativeRepresentation

__version__ = "0.1.0.dev0"

# Names imported from a subpackage on first access (PEP 562).
_LAZY = {"ContraSim": "contrasim", "DeepCKA": "contrasim", "DeepDot": "contrasim"}

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
    "RelativeRepresentation",
    "SVCCA",
    "__version__",
    "pairwise_similarity",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
