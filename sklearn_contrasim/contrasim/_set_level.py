"""Set-level training data: whole layers of several models on aligned rows."""

from collections.abc import Mapping, Sequence

import torch
from sklearn.utils.validation import check_array

from ..utils._validation import FLOAT_DTYPES
from ._net import BatchedDataset


def check_layer_sets(sets, estimator_name):
    """Validate set-level training data and return it as float arrays.

    Parameters
    ----------
    sets : mapping of str to sequence of array-like, or sequence of sequences
        ``sets[model][layer]`` of shape ``(n_samples, n_features)``.
    estimator_name : str
        Used in error messages.

    Returns
    -------
    layers : list of list of ndarray
        ``layers[model][layer]``, finite float32 or float64 arrays of shape
        ``(n_samples, n_features)``.
    """
    if isinstance(sets, Mapping):
        model_names = list(sets)
        models = [sets[name] for name in model_names]
    elif isinstance(sets, Sequence) and not isinstance(sets, str):
        model_names = [str(position) for position in range(len(sets))]
        models = list(sets)
    else:
        raise TypeError(
            f"{estimator_name}.fit_sets expects a dict mapping each model's name to its list "
            f"of layer representations (or a list of such lists), got {type(sets).__name__}."
        )
    if len(models) < 2:
        raise ValueError(
            f"Set-level training needs at least two models (the positives of a layer are the "
            f"same layer in the other models), got {len(models)}."
        )
    layers = []
    for name, model_layers in zip(model_names, models):
        if isinstance(model_layers, (str, Mapping)) or not isinstance(model_layers, Sequence):
            raise TypeError(
                f"Model {name!r} must give a list of layer representations, "
                f"got {type(model_layers).__name__}."
            )
        layers.append([
            check_array(layer, dtype=FLOAT_DTYPES, ensure_min_samples=2,
                        input_name=f"layer {position} of model {name!r}")
            for position, layer in enumerate(model_layers)
        ])
    n_layers = {len(model_layers) for model_layers in layers}
    if len(n_layers) != 1 or min(n_layers) < 2:
        raise ValueError(
            "Every model must give the same number of layers, at least two (the negatives of "
            "a layer are the other layers); got "
            + ", ".join(f"{name!r}: {len(ls)}" for name, ls in zip(model_names, layers)) + "."
        )
    shapes = {layer.shape for model_layers in layers for layer in model_layers}
    n_rows = {n_samples for n_samples, _ in shapes}
    if len(n_rows) != 1:
        raise ValueError(
            f"The rows of every layer must be aligned across models (row k = example k), but "
            f"the layers have different numbers of rows: {sorted(n_rows)}."
        )
    widths = {n_features for _, n_features in shapes}
    if len(widths) != 1:
        raise ValueError(
            f"Set-level training encodes every layer of every model with one shared encoder, "
            f"so all layers must have the same width; got widths {sorted(widths)}. Reduce "
            f"them to a common width first (for example PCA fitted on each layer)."
        )
    return layers


class LayerSetDataset(BatchedDataset):
    """Rows of every layer of every model; a batch has shape (rows, models, layers, features).

    ``layers[model][layer]`` are float32 tensors of shape ``(n_samples, n_features)``.
    """

    def __init__(self, layers):
        self.layers = [layer for model_layers in layers for layer in model_layers]
        self.n_models = len(layers)
        self.n_layers = len(layers[0])

    def __len__(self):
        return len(self.layers[0])

    def gather(self, index):
        batch = torch.stack([layer[index] for layer in self.layers], dim=1)
        return batch.reshape(len(index), self.n_models, self.n_layers, -1)
