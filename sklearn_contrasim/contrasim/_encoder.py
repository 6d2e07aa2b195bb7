"""The torch modules trained by the learned measures."""

import torch
from torch import nn
from torch.nn import functional as F


class MLPEncoder(nn.Module):
    """Multi-layer perceptron whose output rows have unit L2 norm (all-zero rows stay zero).

    ``n_features -> hidden_layer_sizes[0] -> ReLU -> ... -> dim``, no dropout and no
    batch normalisation (method.md, section 1).
    """

    def __init__(self, n_features, hidden_layer_sizes, dim):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes]
        layers = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, rows):
        outputs = self.layers(rows)
        # Dividing by the largest magnitude first keeps the squared norm within float32 on
        # any output (normalising is scale-invariant, so this changes neither the result
        # nor the gradient); an all-zero row stays zero.
        peaks = outputs.detach().abs().amax(dim=-1, keepdim=True)
        return F.normalize(outputs / torch.clamp(peaks, min=torch.finfo(peaks.dtype).tiny),
                           dim=-1)


class PairEncoder(nn.Module):
    """Encoders of two paired sets, for example-level training.

    One encoder serves both sides when ``shared`` (the sets must then have the same
    width); otherwise two towers map each side into the same ``dim``-dimensional space.
    The output has the layout every criterion reads, ``(n_views, n_classes, n_rows,
    dim)``: two views (``X`` and ``y``), one class per example, one row per instance.
    """

    def __init__(self, n_features_x, n_features_y, hidden_layer_sizes, dim, shared):
        super().__init__()
        self.encoder_x = MLPEncoder(n_features_x, hidden_layer_sizes, dim)
        self.encoder_y = (
            self.encoder_x if shared else MLPEncoder(n_features_y, hidden_layer_sizes, dim)
        )

    def forward(self, x, y):
        return torch.stack([self.encoder_x(x), self.encoder_y(y)]).unsqueeze(2)


class SetEncoder(nn.Module):
    """One encoder shared by every layer of every model, for set-level training.

    ``forward`` takes a batch of rows of shape ``(n_rows, n_models, n_layers,
    n_features)`` and encodes all of it in one pass; the output layout is ``(n_views,
    n_classes, n_rows, dim)`` with the models as views and the layers as classes.
    """

    def __init__(self, n_features, hidden_layer_sizes, dim):
        super().__init__()
        self.encoder_x = MLPEncoder(n_features, hidden_layer_sizes, dim)
        self.encoder_y = self.encoder_x

    def forward(self, sets):
        return self.encoder_x(sets).permute(1, 2, 0, 3)
