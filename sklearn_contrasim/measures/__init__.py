"""Closed-form similarity measures (CKA, the CCA family, Procrustes, raw baselines) and grids."""

from ._cca import PWCCA, SVCCA, MeanCCA
from ._cka import RBFCKA, LinearCKA
from ._closed_form import DegenerateSimilarityWarning
from ._pairwise import pairwise_similarity
from ._procrustes import OrthogonalProcrustes
from ._raw import DotProduct, NormSimilarity

__all__ = [
    "DegenerateSimilarityWarning",
    "DotProduct",
    "LinearCKA",
    "MeanCCA",
    "NormSimilarity",
    "OrthogonalProcrustes",
    "PWCCA",
    "RBFCKA",
    "SVCCA",
    "pairwise_similarity",
]
