"""Fashion-MNIST classifiers (an MLP and a small CNN) trained here from several seeds."""

from collections import OrderedDict
from functools import partial

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ...utils._threads import limit_threads
from ...utils._torch import seeded
from .._extract._torch import module_outputs
from .._sources._fashion_mnist import fashion_mnist_tensor, load_fashion_mnist
from .._splits import random_test_fold
from .._store import content_key
from ._seeds import train_seeds

VISION_ARCHITECTURES = ("mlp", "cnn")
ARCHITECTURE_KEYS = {"mlp": ("n_layers", "width"), "cnn": ("channels", "width")}
FIT_KEYS = ("epochs", "n_images", "batch_size", "learning_rate")
N_FASHION_MNIST_TEST = 10_000


def _make_mlp(*, n_layers=6, width=256):
    blocks = [("flatten", nn.Flatten())]
    in_features = 28 * 28
    for k in range(1, n_layers + 1):
        blocks.append((f"hidden{k}", nn.Sequential(nn.Linear(in_features, width), nn.ReLU())))
        in_features = width
    blocks.append(("logits", nn.Linear(in_features, 10)))
    return nn.Sequential(OrderedDict(blocks))


def _make_cnn(*, channels=(32, 32, 64, 64), width=128):
    # Max-pool after every second convolution: 28 -> 14 -> 7 pixels for four convolutions.
    blocks, in_channels, size = [], 1, 28
    for k, out_channels in enumerate(channels, start=1):
        layers = [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU()]
        if k % 2 == 0:
            layers.append(nn.MaxPool2d(2))
            size //= 2
        blocks.append((f"conv{k}", nn.Sequential(*layers)))
        in_channels = out_channels
    blocks.append(("flatten", nn.Flatten()))
    blocks.append(("fc", nn.Sequential(nn.Linear(in_channels * size * size, width), nn.ReLU())))
    blocks.append(("logits", nn.Linear(width, 10)))
    return nn.Sequential(OrderedDict(blocks))


_VISION_BUILDERS = {"mlp": _make_mlp, "cnn": _make_cnn}


def make_vision_model(architecture, seed, **architecture_params):
    """A freshly initialised Fashion-MNIST classifier, its weights drawn from ``seed``.

    Parameters
    ----------
    architecture : {"mlp", "cnn"}
        ``"mlp"``: ``n_layers`` hidden layers of ``width`` ReLU units (modules
        ``hidden1``, ...). ``"cnn"``: 3x3 ReLU convolutions with ``channels`` (modules
        ``conv1``, ..., max-pooled after every second one) and one ``width``-unit ReLU
        layer ``fc``.
    seed : int
        Seed of the weight initialisation (the global torch random state is left as it was).
    **architecture_params
        ``n_layers``/``width`` (mlp) or ``channels``/``width`` (cnn).

    Returns
    -------
    model : torch.nn.Sequential
        Ends with a ``logits`` layer of 10 classes.

    Examples
    --------
    >>> import torch
    >>> from sklearn_contrasim.datasets._models._seed_vision import make_vision_model
    >>> model = make_vision_model("mlp", seed=0, n_layers=2, width=8)
    >>> model(torch.zeros(3, 1, 28, 28)).shape
    torch.Size([3, 10])
    >>> [name for name, _ in model.named_children()]
    ['flatten', 'hidden1', 'hidden2', 'logits']
    """
    if architecture not in _VISION_BUILDERS:
        raise ValueError(
            f"architecture must be one of {VISION_ARCHITECTURES}, got {architecture!r}."
        )
    with seeded(seed):
        return _VISION_BUILDERS[architecture](**architecture_params)


def vision_layer_names(model):
    """Names of the hidden layers of a model from :func:`make_vision_model` (all but logits)."""
    return [name for name, _ in model.named_children() if name not in ("flatten", "logits")]


def train_vision_model(
    architecture,
    seed,
    *,
    epochs=2,
    n_images=None,
    batch_size=128,
    learning_rate=1e-3,
    images_dir=None,
    verbose=False,
    **architecture_params,
):
    """Train a Fashion-MNIST classifier from ``seed`` with Adam and cross-entropy.

    Parameters
    ----------
    architecture : {"mlp", "cnn"}
        See :func:`make_vision_model`.
    seed : int
        Seeds both the initialisation and the order of the training images.
    epochs : int, default=2
        Passes over the training images.
    n_images : int, default=None
        Train on the first ``n_images`` of the 60,000 training images (all when None).
    batch_size : int, default=128
    learning_rate : float, default=1e-3
    images_dir : path-like, default=None
        Folder of the Fashion-MNIST files (see :func:`load_fashion_mnist`).
    verbose : bool, default=False
        Show a progress bar over steps.
    **architecture_params
        Passed to :func:`make_vision_model`.

    Returns
    -------
    model : torch.nn.Sequential
        The trained model, in evaluation mode.
    losses : ndarray of shape (n_steps,)
        Training loss of every step.
    """
    images, labels = load_fashion_mnist(subset="train", directory=images_dir)
    if n_images is not None:
        images, labels = images[:n_images], labels[:n_images]
    inputs, targets = fashion_mnist_tensor(images), torch.as_tensor(labels)
    model = make_vision_model(architecture, seed, **architecture_params)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    n_batches = -(-len(inputs) // batch_size)
    losses = []
    model.train()
    progress = tqdm(
        total=epochs * n_batches, desc=f"{architecture} seed {seed}", disable=not verbose
    )
    with limit_threads(1), progress as bar:
        for _ in range(epochs):
            order = torch.randperm(len(inputs), generator=generator)
            for batch in order.split(batch_size):
                logits = model(inputs.index_select(0, batch))
                loss = nn.functional.cross_entropy(logits, targets[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                bar.update()
    return model.eval(), np.asarray(losses, dtype=np.float32)


def build_vision_set(spec):
    """Train (or load) the seeds of ``spec`` and extract every hidden layer of each.

    Parameters
    ----------
    spec : SeedSetSpec
        With ``spec.model`` in ``{"mlp", "cnn"}``.

    Returns
    -------
    representations, arrays, meta
        What :func:`~sklearn_contrasim.datasets._store.load_or_build` stores: per seed the
        layer outputs of the drawn Fashion-MNIST test images; the rows' ``image_indices``,
        ``labels`` and ``test_fold`` and the per-seed ``losses_seed<k>``; the layer names,
        description and training seconds.
    """
    model, training = spec.model, spec.training
    images, labels = load_fashion_mnist(subset="test")
    architecture = {key: training[key] for key in ARCHITECTURE_KEYS[model] if key in training}
    fit_params = {key: training[key] for key in FIT_KEYS if key in training}
    models, losses, seconds = train_seeds(
        model,
        spec.seeds,
        spec.checkpoint_root / f"{model}-{content_key(training)}",
        make_model=partial(make_vision_model, model, **architecture),
        train=partial(train_vision_model, model, verbose=spec.verbose, **fit_params, **architecture),
        force=spec.force,
        verbose=spec.verbose,
        n_jobs=spec.n_jobs,
    )
    n_rows = spec.n_train + spec.n_test
    rng = np.random.default_rng(spec.random_state)
    image_indices = np.sort(rng.choice(len(images), n_rows, replace=False))
    inputs = fashion_mnist_tensor(images[image_indices])
    names = vision_layer_names(models[0])
    representations = {
        f"seed{seed}": module_outputs(trained, inputs, names, batch_size=256)
        for seed, trained in zip(spec.seeds, models)
    }
    arrays = {
        "image_indices": image_indices,
        "labels": labels[image_indices],
        "test_fold": random_test_fold(n_rows, test_size=spec.n_test, random_state=spec.random_state),
        **{f"losses_{name}": values for name, values in losses.items()},
    }
    description = (
        f"Fashion-MNIST test images through {len(spec.seeds)} {model.upper()} classifiers "
        f"trained here from seeds {spec.seeds[0]}..{spec.seeds[-1]}; one representation per "
        "hidden layer" + (" (convolution maps globally average-pooled)." if model == "cnn" else ".")
    )
    meta = {"layer_names": names, "description": description, "training_seconds": seconds}
    return representations, arrays, meta
