"""
=========================================
Comparing two models layer by layer
=========================================

Two networks with the same architecture, trained from different random seeds, compute
the same function with different weights. Do their layers still correspond? A good
similarity measure, comparing every layer of one network with every layer of the other,
should put the highest similarity on the diagonal: layer ``l`` of model A is most similar
to layer ``l`` of model B. This is the *layer prediction* sanity check of Kornblith et al.
(2019), and the first benchmark of this package.

Here we train two small multi-layer perceptrons on scikit-learn's bundled digits images
(seconds on a CPU), extract the output of every hidden layer with
:func:`~sklearn_contrasim.datasets.module_outputs`, and compare all pairs of layers with
:func:`~sklearn_contrasim.measures.pairwise_similarity`, first with linear CKA, then with
a ContraSim trained to tell layers apart.
"""

# %%
# Two models trained from different seeds
# ---------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from sklearn_contrasim.contrasim import ContraSim
from sklearn_contrasim.datasets import module_outputs
from sklearn_contrasim.measures import LinearCKA, pairwise_similarity
from sklearn_contrasim.plotting import plot_similarity_heatmap

digits = load_digits()
images = (digits.data / 16.0).astype(np.float32)
train_images, test_images, train_labels, _ = train_test_split(
    images, digits.target, test_size=0.5, random_state=0
)


def train_mlp(seed, n_layers=5, width=64, n_steps=300):
    """Train an MLP of ``n_layers`` hidden ReLU layers on the digits, from ``seed``."""
    torch.manual_seed(seed)
    layers, in_width = [], images.shape[1]
    for _ in range(n_layers):
        layers += [nn.Linear(in_width, width), nn.ReLU()]
        in_width = width
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, targets = torch.from_numpy(train_images), torch.from_numpy(train_labels)
    for _ in range(n_steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
    return model.eval()


model_a, model_b = train_mlp(seed=0), train_mlp(seed=1)

# %%
# The representations: one set per hidden layer
# ---------------------------------------------
# The ReLU modules are the hidden layers' outputs. ``module_outputs`` runs the model once
# per batch of held-out images and returns one ``(n_images, width)`` array per module.
relu_names = [name for name, module in model_a.named_children() if isinstance(module, nn.ReLU)]
layers_a = module_outputs(model_a, torch.from_numpy(test_images), relu_names)
layers_b = module_outputs(model_b, torch.from_numpy(test_images), relu_names)
print([layer.shape for layer in layers_a])

# %%
# Every layer of A against every layer of B
# -----------------------------------------
# Linear CKA is invariant to rotations and isotropic scaling of the neurons, which is part
# of what differs between two seeds.
grid_cka = pairwise_similarity(LinearCKA(), layers_a, layers_b)


def layer_prediction_accuracy(grid):
    """Fraction of layers of A whose most similar layer of B is the one at the same depth."""
    return np.mean(grid.argmax(axis=1) == np.arange(len(grid)))


print(f"linear CKA: most similar layer of B for each layer of A: {grid_cka.argmax(axis=1)}, "
      f"accuracy {layer_prediction_accuracy(grid_cka):.2f} (chance {1 / len(layers_a):.2f})")

# %%
# Neighbouring layers of a network are alike, so CKA confuses some of them: its heat map
# is high almost everywhere and a row's maximum is often off the diagonal.
#
# ContraSim, trained at set level
# -------------------------------
# :meth:`~sklearn_contrasim.contrasim.ContraSim.fit_sets` trains one encoder on every
# layer of both models, on the *training* images: the positives of a layer are the same
# layer of the other model, the negatives every other layer. The grid is then computed on
# the held-out images. (Training on some seeds and testing on others is stricter; the
# benchmark runner :func:`~sklearn_contrasim.benchmarks.layer_prediction` does both.)
train_a = module_outputs(model_a, torch.from_numpy(train_images), relu_names)
train_b = module_outputs(model_b, torch.from_numpy(train_images), relu_names)
contrasim = ContraSim(
    dim=32, hidden_layer_sizes=(64,), batch_size=256, lr=3e-3, max_epochs=50,
    temperature=0.1, random_state=0,
).fit_sets({"model A": train_a, "model B": train_b})
grid_contrasim = pairwise_similarity(contrasim, layers_a, layers_b)
print(f"ContraSim accuracy {layer_prediction_accuracy(grid_contrasim):.2f}")

# %%
# The two heat maps, drawn with
# :func:`~sklearn_contrasim.plotting.plot_similarity_heatmap` (each row's maximum is
# marked):
fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
names = [f"relu {l + 1}" for l in range(len(layers_a))]
for ax, grid, title in [(axes[0], grid_cka, "linear CKA"), (axes[1], grid_contrasim, "ContraSim")]:
    plot_similarity_heatmap(pd.DataFrame(grid, index=names, columns=names), ax=ax, title=title)

# %%
# The :doc:`layer prediction benchmark <../benchmark_results>` makes this comparison on
# several models trained from different seeds, with the spread over pairs of models.
