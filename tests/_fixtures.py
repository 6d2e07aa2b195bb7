"""Shared pieces of the data-set tests: skip markers, tiny settings, fixtures."""

import pytest

from sklearn_contrasim.datasets._models._e5 import load_e5_model
from sklearn_contrasim.datasets._sources import _fashion_mnist


needs_fashion_mnist = pytest.mark.skipif(
    not _fashion_mnist.FASHION_MNIST_DIR.is_dir(), reason="Debian dataset-fashion-mnist not installed"
)


TINY_MLP = {"n_layers": 3, "width": 32, "epochs": 1, "n_images": 2000}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def e5():
    return load_e5_model()
