"""ContraSim on anchor-relative representations identifies layers of networks it never saw.

Small synthetic "networks": every seed computes the same ReLU network of a shared input,
with its weights perturbed by seed-specific noise, and stores each layer in its own random
orthogonal basis of neurons. Layers of two seeds thus correspond only up to a rotation of
the neurons, as (approximately) for networks trained from different seeds. ContraSim is
trained at set level on the layers of three seeds and must tell the layers of three other
seeds apart (layer prediction: for each layer of one unseen seed, the most similar layer
of another unseen seed must be the one at the same depth).
"""

from itertools import permutations

import numpy as np
import pytest
from _fixtures import N_INPUTS, N_LAYERS, network_layers

from sklearn_contrasim.contrasim import ContraSim
from sklearn_contrasim.measures import pairwise_similarity
from sklearn_contrasim.preprocessing import RelativeRepresentation

TRAINING_SEEDS, UNSEEN_SEEDS = (0, 1, 2), (3, 4, 5)
CHANCE = 1 / N_LAYERS


def relative_layers(train_layers, test_layers):
    """Relative representations of every layer, on the same anchor examples everywhere.

    One transformer per layer, fitted on that layer's training rows: the same number of
    rows and the same int ``random_state`` give the same anchor rows in every model.
    """
    transformers = [RelativeRepresentation(n_anchors=32, random_state=0).fit(layer)
                    for layer in train_layers]
    return ([t.transform(layer) for t, layer in zip(transformers, train_layers)],
            [t.transform(layer) for t, layer in zip(transformers, test_layers)])


def layer_prediction_accuracy(measure, sets):
    """Mean over ordered pairs of models of the fraction of layers predicted right."""
    hits = [pairwise_similarity(measure, sets[a], sets[b]).argmax(axis=1) == np.arange(N_LAYERS)
            for a, b in permutations(sets, 2)]
    return float(np.mean(hits))


@pytest.fixture(scope="module")
def representations():
    """``{"raw"|"relative": (training sets, held-out sets)}``, keyed by seed."""
    rng = np.random.RandomState(0)
    train_inputs, test_inputs = rng.randn(300, N_INPUTS), rng.randn(100, N_INPUTS)
    raw_train, raw_test, relative_train, relative_test = {}, {}, {}, {}
    for seed in TRAINING_SEEDS + UNSEEN_SEEDS:
        raw_train[seed] = network_layers(train_inputs, seed)
        raw_test[seed] = network_layers(test_inputs, seed)
        relative_train[seed], relative_test[seed] = relative_layers(raw_train[seed],
                                                                    raw_test[seed])
    return {"raw": (raw_train, raw_test), "relative": (relative_train, relative_test)}


def fitted_contrasim(train_sets):
    contrasim = ContraSim(dim=16, hidden_layer_sizes=(32,), batch_size=100, lr=3e-3,
                          max_epochs=20, temperature=0.1, random_state=0)
    return contrasim.fit_sets({f"seed{seed}": train_sets[seed] for seed in TRAINING_SEEDS})


def test_raw_contrasim_identifies_layers_of_seen_networks_only(representations):
    train_sets, test_sets = representations["raw"]
    contrasim = fitted_contrasim(train_sets)
    seen = layer_prediction_accuracy(contrasim, {s: test_sets[s] for s in TRAINING_SEEDS})
    unseen = layer_prediction_accuracy(contrasim, {s: test_sets[s] for s in UNSEEN_SEEDS})
    # It learned the layers of the networks it saw (on held-out examples) ...
    assert seen >= 0.9
    # ... but their neurons say nothing about another network's: near chance (1/6).
    assert unseen < 0.5


def test_relative_contrasim_identifies_layers_of_unseen_networks(representations):
    train_sets, test_sets = representations["relative"]
    contrasim = fitted_contrasim(train_sets)
    assert contrasim.n_features_in_ == 32  # every layer, any width: one per anchor
    unseen = layer_prediction_accuracy(contrasim, {s: test_sets[s] for s in UNSEEN_SEEDS})
    assert unseen >= 0.8 > 4 * CHANCE
