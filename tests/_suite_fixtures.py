"""A tiny preset on fake loaders, so that run_benchmarks and the CLI run in seconds."""

import os
import warnings
from types import MappingProxyType

import numpy as np
import pytest
from sklearn.utils import Bunch

from sklearn_contrasim.benchmarks import BenchmarkSettings, _cli, _suite

TRAINING = {"dim": 4, "hidden_layer_sizes": (8,), "max_epochs": 2, "batch_size": 32, "lr": 1e-2}

#: The tiny preset: each fake loader's parameter ``size`` tells the data sets apart.
TINY_PRESET = MappingProxyType({
    "layer_prediction": BenchmarkSettings(
        datasets={"toy-seeds": {"size": 1}}, learned_params=TRAINING,
        runner_params={"return_similarities": True}),
    "multilingual": BenchmarkSettings(
        datasets={"toy-languages": {"size": 2}, "other-languages": {"size": 4}},
        learned_params=TRAINING, runner_params={"chunk_size": 4, "train_pairs": [("en", "de")]}),
    "image_caption": BenchmarkSettings(
        datasets={"toy-captions": {"size": 3}}, learned_params=TRAINING,
        runner_params={"chunk_size": 4}),
})

# joblib's warning when it replaces a worker process.
WORKER_STOPPED = ("A worker stopped while some jobs were given to the executor. This can be "
                  "caused by a too short worker timeout or by a memory leak.")


def fake_bunch(names, n_layers, n_samples=64, seed=0, widths=None, **extra):
    """A loader's Bunch: noisy copies of shared layers (the same examples seen by every
    name, 6 features or ``widths[name]``), every second row a test row."""
    rng = np.random.RandomState(seed)
    shared = [rng.randn(n_samples, 6) for _ in range(n_layers)]
    widths = widths or {}
    test_fold = np.where(np.arange(n_samples) % 2 == 0, -1, 0)
    return Bunch(
        representations={
            name: [(layer + 0.3 * rng.randn(n_samples, 6))[:, :widths.get(name, 6)]
                   for layer in shared]
            for name in names
        },
        layer_names={name: [f"layer{i}" for i in range(n_layers)] for name in names},
        test_fold=test_fold,
        description="fake", from_cache=True, **extra,
    )


FAKE_DATA = {
    "layer_prediction": fake_bunch([f"seed{i}" for i in range(4)], 3),
    "multilingual": fake_bunch(["en", "de", "fr", "es"], 2, sentences_hash="0123abcd"),
    # Image and caption features of different widths: no row-wise measure applies.
    "image_caption": fake_bunch(["vision", "text"], 2, widths={"vision": 5},
                                image_models=["vision"], text_models=["text"]),
}


@pytest.fixture
def fake_suite(monkeypatch):
    """Run the tiny preset (as "quick") on fake loaders; return the loaders' calls.

    Each call is recorded as (benchmark, loader parameters, n_jobs, HF_HUB_OFFLINE). The
    multilingual loader also raises joblib's worker-replacement warning.
    """
    calls = []

    def fake_loader(benchmark):
        def load(*, data_home=None, n_jobs=None, verbose=True, **params):
            calls.append((benchmark, params, n_jobs, os.environ.get("HF_HUB_OFFLINE")))
            if benchmark == "multilingual":
                warnings.warn(WORKER_STOPPED, UserWarning)
            return FAKE_DATA[benchmark]
        return load

    registry = {name: (fake_loader(name), runner)
                for name, (_, runner) in _suite.BENCHMARKS.items()}
    monkeypatch.setattr(_suite, "BENCHMARKS", MappingProxyType(registry))
    presets = MappingProxyType({"quick": TINY_PRESET})
    monkeypatch.setattr(_suite, "PRESETS", presets)
    monkeypatch.setattr(_cli, "PRESETS", presets)
    return calls


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test as soon as a data set would be loaded."""

    def load(**params):
        raise AssertionError("benchmark work started")

    registry = {name: (load, runner) for name, (_, runner) in _suite.BENCHMARKS.items()}
    monkeypatch.setattr(_suite, "BENCHMARKS", MappingProxyType(registry))
