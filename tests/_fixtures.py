"""Shared test pieces (one copy, imported by the test modules): skip markers, tiny
settings and fixtures of the data-set tests; toy representations of the three benchmarks,
fake loader Bunches, test measures and a result table."""

import os
import struct
import warnings
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ortho_group
from sklearn.utils import Bunch

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.benchmarks import RESULT_COLUMNS, BenchmarkSettings, _cli, _suite
from sklearn_contrasim.datasets._models._e5 import load_e5_model
from sklearn_contrasim.datasets._sources import _catalogs, _fashion_mnist
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


def write_mo(path, messages, charset="utf-8"):
    """Write a compiled (little-endian) gettext catalog of ``messages``, msgid -> msgstr."""
    header = {"": f"Content-Type: text/plain; charset={charset}\n"}
    entries = sorted({**header, **messages}.items())
    n_entries = len(entries)
    tables, blob = [[], []], b""
    data_at = 28 + 16 * n_entries
    for column, encoding in ((0, "utf-8"), (1, charset)):
        for entry in entries:
            raw = entry[column].encode(encoding)
            tables[column] += [len(raw), data_at + len(blob)]
            blob += raw + b"\0"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        struct.pack("<7I", 0x950412DE, 0, n_entries, 28, 28 + 8 * n_entries, 0, 0)
        + struct.pack(f"<{4 * n_entries}I", *tables[0], *tables[1])
        + blob
    )


# Two pinned fake packages; each English message is translated into German and French.
FAKE_MANIFEST = (("fake-editor", "fakeeditor"), ("fake-utils", "fakeutils"))
FAKE_CATALOGS = {
    "fakeeditor": {
        "The file could not be saved to the disk": {
            "de": "Die Datei konnte nicht auf der Platte gespeichert werden",
            "fr": "Le fichier n'a pas pu être enregistré sur le disque",
        },
        "Close the window without saving the changes": {
            "de": "Das Fenster schließen ohne die Änderungen zu speichern",
            "fr": "Fermer la fenêtre sans enregistrer les modifications",
        },
        "Too short to keep": {"de": "Zu kurz", "fr": "Trop court"},
    },
    "fakeutils": {
        "The archive does not contain any files at all": {
            "de": "Das Archiv enthält überhaupt keine Dateien",
            "fr": "L'archive ne contient aucun fichier",
        },
        "Remove the temporary files when the program exits": {
            "de": "Die temporären Dateien beim Beenden des Programms entfernen",
            "fr": "Supprimer les fichiers temporaires à la sortie du programme",
        },
        "Print the version number of this program and exit": {
            "de": "Die Versionsnummer dieses Programms ausgeben und beenden",
            "fr": "Afficher le numéro de version de ce programme et quitter",
        },
    },
}


def write_fake_catalog(root, domain, language, messages):
    """Write ``<root>/<language>/LC_MESSAGES/<domain>.mo`` from msgid -> {language: msgstr}."""
    write_mo(
        root / language / "LC_MESSAGES" / f"{domain}.mo",
        {msgid: translations[language] for msgid, translations in messages.items()},
    )


@pytest.fixture
def fake_locale(tmp_path, monkeypatch):
    """A locale folder holding the German and French catalogs of the fake pinned packages."""
    root = tmp_path / "locale"
    for domain, messages in FAKE_CATALOGS.items():
        for language in ("de", "fr"):
            write_fake_catalog(root, domain, language, messages)
    monkeypatch.setattr(_catalogs, "LOCALE_DIR", root)
    monkeypatch.setattr(_catalogs, "CATALOG_MANIFEST", FAKE_MANIFEST)
    return root


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


#: Shape of the synthetic seed networks of :func:`network_layers`.
N_LAYERS, WIDTH, N_INPUTS = 6, 16, 8


def network_layers(inputs, seed, weight_noise=0.1):
    """The ``N_LAYERS`` hidden layers of the network of ``seed`` on ``inputs``.

    The shared weights are drawn with a fixed seed; ``seed`` perturbs them and draws the
    basis in which each layer's neurons are stored.
    """
    shared = np.random.RandomState(0)
    fan_ins = [N_INPUTS] + [WIDTH] * (N_LAYERS - 1)
    weights = [shared.randn(fan_in, WIDTH) * np.sqrt(2 / fan_in) for fan_in in fan_ins]
    rng = np.random.RandomState(1000 + seed)
    hidden, layers = inputs, []
    for weight in weights:
        noise = weight_noise * rng.randn(*weight.shape) / np.sqrt(weight.shape[0])
        hidden = np.maximum(hidden @ (weight + noise), 0.0)
        layers.append(hidden @ ortho_group.rvs(WIDTH, random_state=rng))
    return layers


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
                rows.append(dict(benchmark="lp", dataset="d", representation="raw",
                                 heldout="examples", fold=0,
                                 trained_on="", x=pair, y="z", layer=layer, layer_name=str(layer),
                                 measure=measure, negatives="layers", accuracy=float(hit),
                                 n_hits=hit, n_decisions=1, chance=0.5, fit_time=0.0,
                                 score_time=0.0))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


# A tiny preset on fake loaders, so that run_benchmarks and the CLI run in seconds (8
# anchors for --representations relative).
TRAINING = {"dim": 4, "hidden_layer_sizes": (8,), "max_epochs": 2, "batch_size": 32, "lr": 1e-2}

#: The tiny preset: each fake loader's parameter ``size`` tells the data sets apart.
TINY_PRESET = MappingProxyType({
    "layer_prediction": BenchmarkSettings(
        datasets={"toy-seeds": {"size": 1}}, learned_params=TRAINING,
        runner_params={"return_similarities": True, "n_anchors": 8}),
    "multilingual": BenchmarkSettings(
        datasets={"toy-languages": {"size": 2}, "other-languages": {"size": 4}},
        learned_params=TRAINING, runner_params={"chunk_size": 4, "train_pairs": [("en", "de")],
                                                "n_anchors": 8}),
    "image_caption": BenchmarkSettings(
        datasets={"toy-captions": {"size": 3}}, learned_params=TRAINING,
        runner_params={"chunk_size": 4, "n_anchors": 8}),
})

# joblib's warning when it replaces a worker process.
WORKER_STOPPED = ("A worker stopped while some jobs were given to the executor. This can be "
                  "caused by a too short worker timeout or by a memory leak.")



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
