"""Helpers shared by the subpackages (private modules; no public helpers yet)."""
