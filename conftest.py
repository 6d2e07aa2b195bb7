"""pytest configuration for the test suite and the package doctests.

Keeps the Hugging Face hub offline (no network here), plots headless, and skips the tests
marked ``cuda`` when no GPU is present.
"""

import os

import matplotlib
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
matplotlib.use("Agg")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_cuda = pytest.mark.skip(reason="needs a CUDA device; none is present")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip_cuda)
