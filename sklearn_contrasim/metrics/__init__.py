"""The retrieval protocol that scores measures, its scorer factory, and nearest neighbours."""

from ._neighbors import nearest_neighbors
from ._retrieval import make_retrieval_scorer, retrieval_accuracy

__all__ = ["make_retrieval_scorer", "nearest_neighbors", "retrieval_accuracy"]
