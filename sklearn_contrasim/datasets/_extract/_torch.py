"""Outputs of chosen modules of any torch model, collected with forward hooks."""

import numbers

import numpy as np
import torch
from tqdm.auto import tqdm

POOLINGS = ("mean", "max", "flatten")


def _resolve_modules(model, modules):
    """Return ``(names, module objects)`` for ``modules`` given as names or modules of ``model``."""
    if isinstance(modules, (str, torch.nn.Module)) or len(modules) == 0:
        raise TypeError(
            "modules must be a non-empty list of module names or torch.nn.Module objects, "
            f"got {modules!r}."
        )
    by_name = dict(model.named_modules())
    name_of = {id(module): name for name, module in by_name.items()}
    names, objects = [], []
    for module in modules:
        if isinstance(module, str):
            if module not in by_name:
                raise ValueError(
                    f"{type(model).__name__} has no module named {module!r}; its modules are "
                    f"{[name for name in by_name if name][:20]} ..."
                )
            names.append(module)
            objects.append(by_name[module])
        elif isinstance(module, torch.nn.Module):
            if id(module) not in name_of:
                raise ValueError(f"{module!r} is not a sub-module of the model.")
            names.append(name_of[id(module)])
            objects.append(module)
        else:
            raise TypeError(
                f"modules must hold str or torch.nn.Module, got {type(module).__name__}."
            )
    return names, objects


def _pool(output, pool):
    """Reduce one module output of shape (batch, channels, *spatial) to (batch, features)."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"A hooked module returned {type(output).__name__}, not a tensor.")
    output = output.detach().float()
    if output.ndim > 2 and pool != "flatten":
        spatial = tuple(range(2, output.ndim))
        output = output.mean(dim=spatial) if pool == "mean" else output.amax(dim=spatial)
    return output.reshape(len(output), -1).cpu().numpy()


def module_outputs(
    model, inputs, modules, *, batch_size=64, pool="mean", device="cpu", verbose=False
):
    """Outputs of chosen modules of a torch model, one array per module.

    The model runs in evaluation mode without gradients, one forward pass per batch
    of ``inputs``; a forward hook on each requested module records its output. The
    hooks are removed and the model's training mode restored when the function
    returns, also when the forward pass raises.

    Parameters
    ----------
    model : torch.nn.Module
        The model; it is moved to ``device``.
    inputs : array-like or sequence
        The examples, batched along the first axis: a numpy array, a tensor, or any
        object with ``len()`` whose slices ``inputs[start:stop]`` are arrays or
        tensors (e.g. a lazy image loader), so the whole input set never has to sit
        in memory. Floating-point batches are cast to the dtype of the model's
        parameters.
    modules : list of str or torch.nn.Module
        The modules to record, by name (as in ``model.named_modules()``) or as module
        objects. Each must run exactly once per forward pass. A module returning a
        tuple is recorded by its first element.
    batch_size : int, default=64
        Examples per forward pass.
    pool : {"mean", "max", "flatten"}, default="mean"
        How an output of shape ``(batch, channels, *spatial)`` (torch's
        channels-first convention, e.g. a 4-D convolution map) becomes a vector:
        global average or max pooling over the spatial axes, or flattening.
        Outputs of shape ``(batch, features)`` are kept as they are.
    device : str or torch.device, default="cpu"
        Where the forward passes run.
    verbose : bool, default=False
        Show a progress bar over batches.

    Returns
    -------
    outputs : list of ndarray
        One float32 array of shape ``(n_examples, n_features)`` per module, in the
        order of ``modules``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_contrasim.datasets import module_outputs
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    >>> images = torch.rand(10, 3, 8, 8)
    >>> first, last = module_outputs(model, images, ["0", "2"], batch_size=4)
    >>> first.shape, last.shape
    ((10, 4), (10, 2))
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, numbers.Integral)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if pool not in POOLINGS:
        raise ValueError(f"pool must be one of {POOLINGS}, got {pool!r}.")
    if not hasattr(inputs, "__len__") or not hasattr(inputs, "__getitem__"):
        raise TypeError("inputs must be an array, a tensor or a sliceable sequence with len().")
    n_examples = len(inputs)
    if n_examples == 0:
        raise ValueError("inputs is empty.")
    names, objects = _resolve_modules(model, modules)

    recorded = [[] for _ in objects]

    def make_hook(position):
        def hook(module, args, output):
            recorded[position].append(_pool(output, pool))

        return hook

    was_training = model.training
    handles = [obj.register_forward_hook(make_hook(k)) for k, obj in enumerate(objects)]
    try:
        model.to(device).eval()
        parameter = next(model.parameters(), None)
        starts = tqdm(range(0, n_examples, batch_size), desc="forward passes", disable=not verbose)
        with torch.no_grad():
            for n_done, start in enumerate(starts):
                batch = torch.as_tensor(inputs[start : start + batch_size], device=device)
                if batch.is_floating_point() and parameter is not None:
                    batch = batch.to(parameter.dtype)
                model(batch)
                for name, outputs in zip(names, recorded):
                    if len(outputs) != n_done + 1:
                        raise ValueError(
                            f"Module {name!r} ran {len(outputs) - n_done} times in one forward "
                            "pass; module_outputs needs modules that run exactly once."
                        )
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return [np.concatenate(outputs).astype(np.float32, copy=False) for outputs in recorded]
