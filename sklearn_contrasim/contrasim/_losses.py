"""Logits, linear CKA and the training criteria of the learned measures.

Every criterion reads encoded instances in the layout ``(n_views, n_classes, n_rows,
dim)`` with unit-norm rows. An instance is ``(view, class)``: its positives are the same
class in the other views, its negatives every other instance. Example level (paired
rows): two views (``X`` and ``y``), one class per example, one row per instance. Set
level (layer sets): one view per model, one class per layer, one row per example of the
batch.
"""

import torch
from torch import nn
from torch.nn import functional as F


def pairwise_logits(a, b, logit):
    """Logits between every row of ``a`` and every row of ``b`` (unit-norm rows).

    ``"cosine"``: the dot product. ``"distance"``: ``1 - ||a_i - b_j||``, computed from
    the dot product (``||a - b||^2 = 2 - 2 a.b`` for unit vectors) with the square root
    kept away from 0, so that the gradient stays finite on identical rows.
    """
    dots = a @ b.T
    if logit == "cosine":
        return dots
    return 1.0 - torch.sqrt(torch.clamp(2.0 - 2.0 * dots, min=1e-12))


def paired_logits(a, b, logit):
    """Logit between row ``k`` of ``a`` and row ``k`` of ``b``, for every ``k``."""
    if logit == "cosine":
        return (a * b).sum(dim=-1)
    return 1.0 - torch.linalg.vector_norm(a - b, dim=-1)


def linear_cka(a, b):
    """Linear CKA between the sets ``a[..., :, :]`` and ``b[..., :, :]`` (rows = examples).

    Batched over leading dimensions. Sets whose centred Gram is zero (one row, or a
    constant set) get 0 instead of NaN, with a finite (zero) gradient: each self-term is
    kept away from 0 before its square root, whose derivative at 0 is infinite.
    """
    a = a - a.mean(dim=-2, keepdim=True)
    b = b - b.mean(dim=-2, keepdim=True)

    def hsic(u, v):
        return (u.transpose(-1, -2) @ v).square().sum(dim=(-2, -1))

    def norm(u):
        return torch.sqrt(torch.clamp(hsic(u, u), min=torch.finfo(u.dtype).tiny))

    return hsic(a, b) / (norm(a) * norm(b))


def _instances(embeddings):
    """Flatten each instance's rows and scale to unit Frobenius norm; return the labels.

    The dot product of two such instances is the mean row cosine of the two sets.
    """
    n_views, n_classes = embeddings.shape[:2]
    flat = F.normalize(embeddings.reshape(n_views * n_classes, -1), dim=1)
    labels = torch.arange(n_classes, device=embeddings.device).repeat(n_views)
    return flat, labels


def _positive_mask(labels):
    """Boolean matrix of positive pairs: same class, different instance."""
    same_class = labels[:, None] == labels[None, :]
    return same_class & ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)


class SupConLoss(nn.Module):
    """Supervised contrastive (InfoNCE) loss over the instances of a batch.

    For every anchor ``i``: ``-mean_{p in P(i)} log(exp(s_ip / T) / sum_{a != i}
    exp(s_ia / T))`` with ``s`` the ``logit`` between flattened, Frobenius-normalised
    instances and ``T`` the temperature; the mean over anchors is returned.
    """

    def __init__(self, temperature, logit):
        super().__init__()
        self.temperature = temperature
        self.logit = logit

    def forward(self, embeddings):
        instances, labels = _instances(embeddings)
        logits = pairwise_logits(instances, instances, self.logit) / self.temperature
        self_pairs = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        log_prob = logits - torch.logsumexp(logits.masked_fill(self_pairs, -torch.inf), dim=1,
                                            keepdim=True)
        positives = _positive_mask(labels)
        per_anchor = (log_prob * positives).sum(dim=1) / positives.sum(dim=1)
        return -per_anchor.mean()


class PositiveCosineLoss(nn.Module):
    """DeepDot's loss: minus the mean cosine of positive instance pairs (no negatives)."""

    def forward(self, embeddings):
        instances, labels = _instances(embeddings)
        positives = _positive_mask(labels)
        return -(instances @ instances.T)[positives].mean()


class PositiveCKALoss(nn.Module):
    """DeepCKA's loss: minus the mean linear CKA of positive set pairs (no negatives).

    At set level the sets are the instances (a layer of a model on the batch's rows); at
    example level an instance is one row, which has no CKA, so each view's whole batch
    is the set and the loss is minus the CKA of the encoded ``X`` and ``y`` batches.
    """

    def __init__(self, granularity):
        super().__init__()
        self.granularity = granularity

    def forward(self, embeddings):
        n_views, n_classes, n_rows, dim = embeddings.shape
        if self.granularity == "example":
            embeddings = embeddings.reshape(n_views, 1, n_classes * n_rows, dim)
        first, second = torch.triu_indices(n_views, n_views, offset=1, device=embeddings.device)
        return -linear_cka(embeddings[first], embeddings[second]).mean()
