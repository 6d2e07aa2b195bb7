"""Doctest configuration for the package modules (tests/conftest.py covers the test suite)."""

import os

import matplotlib

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
matplotlib.use("Agg")
