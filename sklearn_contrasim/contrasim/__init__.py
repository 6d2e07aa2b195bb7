"""ContraSim and its learned baselines, trained through skorch."""

from ._estimators import ContraSim, DeepCKA, DeepDot

__all__ = ["ContraSim", "DeepCKA", "DeepDot"]
