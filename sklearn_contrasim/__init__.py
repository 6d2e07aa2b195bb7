"""sklearn-contrasim: scikit-learn compatible similarity measures for neural representations."""

from ._base import BaseSimilarity

__version__ = "0.1.0.dev0"

__all__ = ["BaseSimilarity", "__version__"]
