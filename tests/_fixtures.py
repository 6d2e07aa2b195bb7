"""Shared test pieces (one copy, imported by the test modules): skip markers, tiny
settings and fixtures of the data-set tests; toy representations of the three benchmarks,
fake loader Bunches, test measures and a result table."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.benchmarks import RESULT_COLUMNS
from sklearn_contrasim.datasets._models._e5 import load_e5_model
from sklearn_contrasim.datasets._sources import _fashion_mnist
from sklearn_contrasim.measures import LinearCKA, NormSimilarity

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


LANGUAGES = ["en", "de", "fr", "es", "ru"]

#: The timing columns of a result table: the only ones that differ between two runs.
TIMINGS = ["fit_time", "score_time"]

#: Two closed-form measures, named.
CLOSED_FORM = {"LinearCKA": LinearCKA(), "Norm": NormSimilarity()}


def aligned_languages(n_samples=96, n_features=6, n_layers=2, seed=0):
    """Every language holds the same sentences' representation, per layer."""
    rng = np.random.RandomState(seed)
    meanings = [rng.randn(n_samples, n_features) for _ in range(n_layers)]
    return {lang: [meaning.copy() for meaning in meanings] for lang in LANGUAGES}


def seed_models(n_models=4, n_samples=80, n_features=6, n_layers=3, seed=0):
    """Every seed holds the same layers."""
    rng = np.random.RandomState(seed)
    layers = [rng.randn(n_samples, n_features) for _ in range(n_layers)]
    return {f"seed{m}": [layer.copy() for layer in layers] for m in range(n_models)}


def image_caption_data(captions_from_images=True, n_samples=120, seed=0):
    """A vision model (two layers, the last one the images) and a text model whose
    captions are the images (or noise); every third row is a test row."""
    rng = np.random.RandomState(seed)
    images = rng.randn(n_samples, 6)
    captions = images.copy() if captions_from_images else rng.randn(n_samples, 6)
    return {
        "representations": {"vision": [rng.randn(n_samples, 3), images], "text": [captions]},
        "image_models": ["vision"],
        "text_models": ["text"],
        "test_fold": np.where(np.arange(n_samples) % 3 == 0, 0, -1),
    }


def fake_bunch(names, n_layers, n_samples=64, seed=0, **extra):
    """A loader's Bunch: noisy copies of shared layers, the same examples seen by every
    name, every second row a test row."""
    rng = np.random.RandomState(seed)
    shared = [rng.randn(n_samples, 6) for _ in range(n_layers)]
    return Bunch(
        representations={name: [layer + 0.3 * rng.randn(n_samples, 6) for layer in shared]
                         for name in names},
        layer_names={name: [f"layer{i}" for i in range(n_layers)] for name in names},
        test_fold=np.where(np.arange(n_samples) % 2 == 0, -1, 0),
        description="fake", from_cache=True, **extra,
    )


class LeakDetector(BaseSimilarity):
    """Fails loudly when it is scored on a language, model or row it was trained on.

    Column 0 of every array names its language / model, column 1 its row; the rest is
    data. ``fit`` and ``fit_sets`` record what they saw; every comparison checks it
    (the source only with ``check_sources``: image-caption tests the models it trained on).
    """

    def __init__(self, check_sources=True):
        self.check_sources = check_sources

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.similarity_tags.set_level = True  # it offers fit_sets
        return tags

    def _fit(self, X, y):
        self.seen_sources_ = {X[0, 0], y[0, 0]}
        self.seen_rows_ = set(X[:, 1]) | set(y[:, 1])

    def fit_sets(self, sets):
        arrays = [layer for layers in sets.values() for layer in layers]
        self.n_features_in_ = self.n_features_y_ = arrays[0].shape[1]
        self.seen_sources_ = {layer[0, 0] for layer in arrays}
        self.seen_rows_ = set(np.concatenate([layer[:, 1] for layer in arrays]))
        return self

    def _compare(self, X, y):
        for Z in (X, y):
            if self.check_sources:
                assert Z[0, 0] not in self.seen_sources_, f"source {Z[0, 0]} leaked in training"
            assert not set(Z[:, 1]) & self.seen_rows_, "a test row leaked into training"
        return float(np.mean(np.sum(X[:, 2:] * y[:, 2:], axis=1)))


def tagged(arrays_by_name, n_samples):
    """Prepend the name's index and the row index as columns 0 and 1 of every array."""
    return {
        name: [np.column_stack([np.full(n_samples, index), np.arange(n_samples), layer])
               for layer in layers]
        for index, (name, layers) in enumerate(arrays_by_name.items())
    }


def synthetic_results():
    """Two measures on two units each (two pairs), one decision per layer."""
    rows = []
    for measure, per_pair in [("good", [[1, 1], [1, 0]]), ("bad", [[0, 1], [0, 0]])]:
        for pair, per_layer in zip(["a", "b"], per_pair):
            for layer, hit in enumerate(per_layer):
                rows.append(dict(benchmark="lp", dataset="d", heldout="examples", fold=0,
                                 trained_on="", x=pair, y="z", layer=layer, layer_name=str(layer),
                                 measure=measure, negatives="layers", accuracy=float(hit),
                                 n_hits=hit, n_decisions=1, chance=0.5, fit_time=0.0,
                                 score_time=0.0))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)
