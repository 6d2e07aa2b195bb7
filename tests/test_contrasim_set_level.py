"""Set-level training (fit_sets): layer prediction, one forward pass, determinism, errors."""

import numpy as np
import pytest
import torch

from sklearn_contrasim import ContraSim, DeepCKA, DeepDot
from sklearn_contrasim.contrasim import _encoder
from sklearn_contrasim.contrasim._losses import _instances

LEARNED = [ContraSim, DeepDot, DeepCKA]
FAST = dict(dim=16, hidden_layer_sizes=(64,), batch_size=100, lr=1e-3, max_epochs=15,
            random_state=0)
TINY = dict(dim=4, hidden_layer_sizes=(8,), batch_size=50, max_epochs=2, random_state=0)
N_LAYERS, N_TRAIN = 5, 300


def _layer_sets(n_models=3, n_samples=500, width=16, random_state=0):
    """Deep tanh networks of one architecture whose weights differ by model ("seeds").

    Layer ``l`` of model ``m`` is ``tanh(layer_{l-1} W_l^m)`` with ``W_l^m`` a shared
    ``W_l`` plus a model-specific perturbation, so the same layer of two models is alike
    and consecutive layers of one model are alike too.
    """
    rng = np.random.RandomState(random_state)
    inputs = rng.randn(n_samples, width)
    shared = [rng.randn(width, width) / np.sqrt(width) for _ in range(N_LAYERS)]
    sets = {}
    for model in range(n_models):
        layers, hidden = [], inputs
        for weights in shared:
            perturbed = weights + 0.3 * rng.randn(width, width) / np.sqrt(width)
            hidden = np.tanh(2 * hidden @ perturbed)
            layers.append(hidden + 0.3 * rng.randn(n_samples, width))
        sets[f"seed{model}"] = layers
    return sets


@pytest.fixture(scope="module")
def sets():
    return _layer_sets()


def _split(sets, rows):
    return {name: [layer[rows] for layer in layers] for name, layers in sets.items()}


@pytest.fixture(scope="module")
def train_sets(sets):
    """Train rows of the first two models; the third model is never trained on."""
    return _split({name: sets[name] for name in ("seed0", "seed1")}, slice(None, N_TRAIN))


@pytest.fixture(scope="module")
def fitted(train_sets):
    return ContraSim(**FAST).fit_sets(train_sets)


def _layer_prediction_accuracy(measure, sets, model_a, model_b):
    test = _split(sets, slice(N_TRAIN, None))
    hits = [
        np.argmax([measure.similarity(test[model_a][layer], other)
                   for other in test[model_b]]) == layer
        for layer in range(N_LAYERS)
    ]
    return np.mean(hits)


def test_set_level_contrasim_predicts_layers_of_unseen_models(sets, fitted):
    assert _layer_prediction_accuracy(fitted, sets, "seed0", "seed1") == 1.0
    assert _layer_prediction_accuracy(fitted, sets, "seed0", "seed2") == 1.0  # held-out model
    losses = fitted.history_[:, "train_loss"]
    assert losses[-1] < losses[0]


def test_after_fit_sets_the_ordinary_contract_works(sets, fitted):
    test = _split(sets, slice(N_TRAIN, None))
    X, y = test["seed0"][2], test["seed2"][2]
    assert (fitted.n_features_in_, fitted.n_features_y_) == (16, 16)
    module = fitted.net_.module_
    assert module.encoder_x is module.encoder_y
    X_embedded, y_embedded = fitted.encode(X, y)
    assert X_embedded.shape == (200, 16)
    assert fitted.similarity(X, y) == pytest.approx(
        np.mean(np.sum(X_embedded * y_embedded, axis=1)), rel=1e-5)
    assert 0 <= fitted.score(X, y) <= 1


def test_set_logit_is_mean_row_cosine():
    """Flattened, Frobenius-normalised sets: their dot product is the mean row cosine."""
    rng = np.random.RandomState(0)
    embeddings = torch.nn.functional.normalize(torch.from_numpy(rng.randn(2, 3, 7, 4)), dim=-1)
    instances, labels = _instances(embeddings)
    assert labels.tolist() == [0, 1, 2, 0, 1, 2]
    mean_cosine = (embeddings[0, 1] * embeddings[1, 2]).sum(dim=-1).mean()
    assert (instances[1] @ instances[5]).item() == pytest.approx(mean_cosine.item())


def test_all_layers_of_all_models_are_encoded_in_one_forward_pass(train_sets, monkeypatch):
    calls = []
    forward = _encoder.MLPEncoder.forward

    def counting_forward(self, rows):
        calls.append(tuple(rows.shape))
        return forward(self, rows)

    monkeypatch.setattr(_encoder.MLPEncoder, "forward", counting_forward)
    ContraSim(**{**TINY, "batch_size": 128, "max_epochs": 1}).fit_sets(train_sets)
    # 300 rows in batches of 128: three encoder calls, each on every layer of every model.
    assert calls == [(128, 2, N_LAYERS, 16), (128, 2, N_LAYERS, 16), (44, 2, N_LAYERS, 16)]


@pytest.mark.parametrize("cls", LEARNED)
def test_fit_sets_is_deterministic_and_accepts_lists(cls, train_sets, sets):
    torch_state = torch.get_rng_state()
    first = cls(**TINY).fit_sets(train_sets)
    second = cls(**TINY).fit_sets(list(train_sets.values()))
    assert torch.equal(torch.get_rng_state(), torch_state)
    X, y = sets["seed0"][0][N_TRAIN:], sets["seed2"][1][N_TRAIN:]
    assert first.similarity(X, y) == second.similarity(X, y)
    assert first.history_[:, "train_loss"] == second.history_[:, "train_loss"]


def test_positive_only_baselines_train_at_set_level(train_sets):
    deep_dot = DeepDot(**{**FAST, "lr": 1e-2}).fit_sets(train_sets)
    assert deep_dot.history_[-1, "train_loss"] < -0.9  # same-layer sets made alike
    deep_cka = DeepCKA(**FAST).fit_sets(train_sets)
    assert deep_cka.history_[-1, "train_loss"] < deep_cka.history_[0, "train_loss"]


def test_early_stopping_at_set_level(train_sets):
    measure = ContraSim(**{**TINY, "early_stopping": True, "max_epochs": 3}).fit_sets(train_sets)
    assert "valid_loss" in measure.history_[-1]


def test_fit_sets_after_fit_resets_the_widths(train_sets):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.RandomState(0).randn(50, 3), columns=list("abc"))
    measure = ContraSim(**TINY).fit(X, X.to_numpy()[:, :2])
    assert hasattr(measure, "feature_names_in_")
    measure.fit_sets(train_sets)
    assert not hasattr(measure, "feature_names_in_")
    assert (measure.n_features_in_, measure.n_features_y_) == (16, 16)


@pytest.mark.parametrize("bad_sets, error, match", [
    (np.zeros((2, 3, 10, 4)), TypeError, "dict mapping"),
    ({"a": [np.zeros((10, 4))] * 3}, ValueError, "at least two models"),
    ({"a": [np.ones((10, 4))] * 3, "b": [np.ones((10, 4))] * 2}, ValueError, "same number"),
    ({"a": [np.ones((10, 4))], "b": [np.ones((10, 4))]}, ValueError, "at least two"),
    ({"a": [np.ones((10, 4))] * 2, "b": [np.ones((10, 4)), np.ones((10, 5))]}, ValueError,
     "same width"),
    ({"a": [np.ones((10, 4))] * 2, "b": [np.ones((9, 4))] * 2}, ValueError, "aligned"),
    ({"a": [np.ones((10, 4))] * 2, "b": np.ones((10, 4))}, TypeError, "list of layer"),
    ({"a": [np.ones((10, 4))] * 2, "b": [np.ones((10, 4)), np.full((10, 4), np.nan)]},
     ValueError, "NaN"),
    ({"a": [np.ones(10)] * 2, "b": [np.ones(10)] * 2}, ValueError, "2D array"),
])
def test_bad_sets_raise_clear_errors(bad_sets, error, match):
    with pytest.raises(error, match=match):
        ContraSim(**TINY).fit_sets(bad_sets)


def test_fit_sets_needs_a_shared_encoder(train_sets):
    with pytest.raises(ValueError, match="shared"):
        ContraSim(**{**TINY, "shared_encoder": False}).fit_sets(train_sets)
    with pytest.raises(ValueError):
        ContraSim(**{**TINY, "temperature": -1.0}).fit_sets(train_sets)
