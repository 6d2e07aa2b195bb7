"""Seeded torch randomness that leaves the global generator as it was."""

from contextlib import contextmanager

import torch


@contextmanager
def seeded(seed, devices=()):
    """Draw from torch's global generators seeded with ``seed`` inside the block only.

    The CPU generator (and those of the CUDA ``devices`` given) is saved before the block
    and restored after it, so no random state leaks in or out.

    Parameters
    ----------
    seed : int
        Seed of the block's draws.
    devices : sequence of int, default=()
        CUDA devices whose generators are also forked and seeded.

    Examples
    --------
    >>> import torch
    >>> from sklearn_contrasim.utils._torch import seeded
    >>> with seeded(0):
    ...     first = torch.rand(2)
    >>> with seeded(0):
    ...     second = torch.rand(2)
    >>> bool((first == second).all())
    True
    """
    with torch.random.fork_rng(devices=list(devices)):
        torch.manual_seed(seed)
        yield
