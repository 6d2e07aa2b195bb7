"""ContraSim and its learned baselines, trained through skorch.

The estimators are imported on first access, so that importing this subpackage (for
example to discover what it offers) does not import torch.
"""

__all__ = ["ContraSim", "DeepCKA", "DeepDot"]


def __getattr__(name):
    if name in __all__:
        from . import _estimators

        return getattr(_estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
