"""
===========================================================
Comparing networks never seen in training: relative inputs
===========================================================

A ContraSim encoder trained at set level reads the neurons of a layer. Networks trained
from different random seeds compute similar functions with neurons that do not correspond
one to one (any rotation or permutation of a layer's neurons can be undone by the next
layer's weights), so an encoder trained on the neurons of some networks knows nothing
about the neurons of another: on a network it never saw, it is at chance.

:class:`~sklearn_contrasim.preprocessing.RelativeRepresentation` describes each example
instead by its cosine similarity to a fixed set of *anchor examples* in the same network
and layer (Moschella et al., 2023). Rotations, permutations and rescalings of the neurons
leave those cosines unchanged, and every layer maps to one width, the number of anchors.
Here we train four small networks on a synthetic task, train ContraSim on the layers of
three of them, and compare layers of a seen network with layers of the fourth, once on the
raw neurons and once on relative representations.
"""

# %%
# Four networks trained from different seeds
# ------------------------------------------
# Multi-layer perceptrons with six hidden ReLU layers, trained on a five-class synthetic
# task (a few seconds on a CPU).
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import make_classification
from torch import nn

from sklearn_contrasim.contrasim import ContraSim
from sklearn_contrasim.datasets import module_outputs
from sklearn_contrasim.measures import LinearCKA, pairwise_similarity
from sklearn_contrasim.plotting import plot_similarity_heatmap
from sklearn_contrasim.preprocessing import RelativeRepresentation

inputs, labels = make_classification(
    n_samples=1500, n_features=20, n_informative=12, n_classes=5, random_state=0
)
inputs = inputs.astype(np.float32)
train_inputs, train_labels, test_inputs = inputs[:1000], labels[:1000], inputs[1000:]


def train_mlp(seed, n_layers=6, width=32, n_steps=200):
    """Train an MLP of ``n_layers`` hidden ReLU layers on the task, from ``seed``."""
    torch.manual_seed(seed)
    layers, in_width = [], inputs.shape[1]
    for _ in range(n_layers):
        layers += [nn.Linear(in_width, width), nn.ReLU()]
        in_width = width
    model = nn.Sequential(*layers, nn.Linear(width, 5))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    features, targets = torch.from_numpy(train_inputs), torch.from_numpy(train_labels)
    for _ in range(n_steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(features), targets).backward()
        optimizer.step()
    return model.eval()


models = {f"seed {seed}": train_mlp(seed) for seed in range(4)}
seen, unseen = ["seed 0", "seed 1", "seed 2"], "seed 3"

# %%
# Raw representations: the outputs of the ReLU modules
# ----------------------------------------------------
# :func:`~sklearn_contrasim.datasets.module_outputs` returns one ``(n_inputs, 32)`` array
# per hidden layer, for the training inputs (to train ContraSim) and the held-out inputs
# (to compare layers).
relu_names = [name for name, module in models["seed 0"].named_children()
              if isinstance(module, nn.ReLU)]


def layer_outputs(rows):
    """Every hidden layer of every model on ``rows``: ``{model: [layer arrays]}``."""
    return {name: module_outputs(model, torch.from_numpy(rows), relu_names)
            for name, model in models.items()}


raw_train, raw_test = layer_outputs(train_inputs), layer_outputs(test_inputs)

# %%
# Relative representations: cosines to the same anchor inputs
# -----------------------------------------------------------
# The anchors must be the same *examples* in every network and layer: here the first 64
# training inputs. Each network runs on them, and one
# :class:`~sklearn_contrasim.preprocessing.RelativeRepresentation` per network and layer
# is fitted on that layer's representation of the anchors (``n_anchors=None``: every
# fitted row is an anchor). It then maps any input of that layer to its 64 cosines.
anchor_inputs = train_inputs[:64]
anchor_outputs = layer_outputs(anchor_inputs)
relative = {name: [RelativeRepresentation(n_anchors=None).fit(layer) for layer in layers]
            for name, layers in anchor_outputs.items()}


def to_relative(representations):
    """Map every layer of every model through that model and layer's transformer."""
    return {name: [transformer.transform(layer)
                   for transformer, layer in zip(relative[name], layers)]
            for name, layers in representations.items()}


relative_train, relative_test = to_relative(raw_train), to_relative(raw_test)
print(f"raw layer: {raw_test['seed 3'][0].shape}, "
      f"relative layer: {relative_test['seed 3'][0].shape}")

# %%
# ContraSim on three networks, tested on the fourth
# -------------------------------------------------
# :meth:`~sklearn_contrasim.contrasim.ContraSim.fit_sets` trains one encoder on every
# layer of the three seen networks (positives: the same layer of another network;
# negatives: the other layers). The layer × layer grid between seen network ``seed 0``
# and unseen network ``seed 3`` is computed on held-out inputs; a layer is identified
# when its most similar layer in the other network is the one at the same depth.


def fitted_contrasim(train_sets):
    contrasim = ContraSim(dim=32, hidden_layer_sizes=(64,), batch_size=250, lr=3e-3,
                          max_epochs=30, temperature=0.1, random_state=0)
    return contrasim.fit_sets({name: train_sets[name] for name in seen})


def layer_prediction_accuracy(grid):
    """Fraction of layers whose most similar layer is the one at the same depth."""
    return np.mean(grid.argmax(axis=1) == np.arange(len(grid)))


grids = {}
for kind, train_sets, test_sets in [("raw", raw_train, raw_test),
                                    ("relative", relative_train, relative_test)]:
    contrasim = fitted_contrasim(train_sets)
    seen_grid = pairwise_similarity(contrasim, test_sets["seed 0"], test_sets["seed 1"])
    grids[kind] = pairwise_similarity(contrasim, test_sets["seed 0"], test_sets[unseen])
    print(f"ContraSim on {kind} representations: layer accuracy "
          f"{layer_prediction_accuracy(seen_grid):.2f} between two seen networks, "
          f"{layer_prediction_accuracy(grids[kind]):.2f} against the unseen network")
cka_grid = pairwise_similarity(LinearCKA(), raw_test["seed 0"], raw_test[unseen])
print(f"linear CKA (nothing to train): {layer_prediction_accuracy(cka_grid):.2f}; "
      f"chance: {1 / len(relu_names):.2f}")

# %%
# On raw neurons, ContraSim has learned the layers of the networks it saw, and nothing
# that carries over to a new network. On relative representations, the layers of the new
# network are recognised. The heat maps (each row's maximum marked, drawn with
# :func:`~sklearn_contrasim.plotting.plot_similarity_heatmap`):
fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
names = [f"relu {layer + 1}" for layer in range(len(relu_names))]
for ax, kind in zip(axes, ["raw", "relative"]):
    plot_similarity_heatmap(
        pd.DataFrame(grids[kind], index=names, columns=names), ax=ax,
        title=f"ContraSim on {kind} representations",
        xlabel="layer of seed 3 (unseen)", ylabel="layer of seed 0 (seen)",
    )

# %%
# See :ref:`relative` in the user guide for the invariances, the anchor protocol and
# when to use relative representations.
