"""Transformers applied to representations before they are compared."""

from ._relative import RelativeRepresentation

__all__ = ["RelativeRepresentation"]
