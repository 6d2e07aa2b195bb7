"""The retrieval protocol that scores measures, its scorer, and nearest neighbours."""

from ._neighbors import nearest_neighbors
from ._retrieval import RetrievalScorer, make_retrieval_scorer, retrieval_accuracy

__all__ = ["RetrievalScorer", "make_retrieval_scorer", "nearest_neighbors", "retrieval_accuracy"]
