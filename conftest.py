"""pytest configuration for the test suite and the package doctests.

Keeps the Hugging Face hub offline (no network here), plots headless, torch and BLAS on one
thread (pytest-xdist gives one worker per core), and skips the tests marked ``cuda`` when no
GPU is present.
"""

import os

import matplotlib
import pytest
import torch
from threadpoolctl import threadpool_limits

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
matplotlib.use("Agg")

# The tests' networks and arrays are tiny: they run fastest on one thread, and pytest-xdist
# already runs one worker per core (threads per worker would oversubscribe the machine and
# slow the suite down tenfold).
torch.set_num_threads(1)
threadpool_limits(limits=1)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_cuda = pytest.mark.skip(reason="needs a CUDA device; none is present")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip_cuda)
