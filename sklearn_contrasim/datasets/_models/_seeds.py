"""Models trained here from several seeds: seeded torch state, parallel training, checkpoints.

Training is deterministic per seed: weights are initialised inside ``seeded(seed)`` of
``sklearn_contrasim.utils._torch`` (so no global random state leaks in or out), training runs
on one thread (``limit_threads(1)`` of ``sklearn_contrasim.utils._threads``), and each
trained model is saved once as a checksummed checkpoint (see ``_store``).
"""

import io
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed

from .._store import _CorruptFile, read_file, warn_corrupt, write_file


def _read_checkpoint(path):
    """The checkpoint at ``path``, or None when missing or corrupt (with a warning)."""
    if not path.exists():
        return None
    try:
        return read_file(path, partial(torch.load, weights_only=True))
    except _CorruptFile as error:
        warn_corrupt(error)
        return None


def _train_and_save(path, train):
    """Train one model, save its checkpoint; returns the seconds it took."""
    start = time.perf_counter()
    model, losses = train()
    buffer = io.BytesIO()
    torch.save({"state_dict": model.state_dict(), "losses": torch.as_tensor(losses)}, buffer)
    write_file(path, lambda handle: handle.write(buffer.getvalue()))
    return time.perf_counter() - start


def train_seeds(label, seeds, folder, *, make_model, train, force, verbose, n_jobs):
    """Load or train one model per seed from the checkpoints in ``folder``.

    Missing (or corrupt) checkpoints are trained in parallel with joblib (each seed on
    one thread, so the weights do not depend on ``n_jobs``); every model is then loaded
    from its checkpoint here, so no model is pickled between processes.

    Parameters
    ----------
    label : str
        Names the models in progress messages.
    seeds : list of int
    folder : pathlib.Path
        Holds ``seed<k>.pt`` per seed.
    make_model : callable
        ``make_model(seed)``: an untrained model of the checkpoints' architecture.
    train : callable
        ``train(seed) -> (model, losses)``.
    force : bool
        Train even when a checkpoint exists.
    verbose : bool
    n_jobs : int or None

    Returns
    -------
    models : list of torch.nn.Module
        In evaluation mode, one per seed.
    losses : dict of str to ndarray
        ``"seed<k>"`` -> training loss of every step.
    seconds : dict of str to float
        ``"seed<k>"`` -> training seconds, for the seeds trained by this call.
    """
    paths = {seed: folder / f"seed{seed}.pt" for seed in seeds}
    checkpoints = {seed: None if force else _read_checkpoint(paths[seed]) for seed in seeds}
    missing = [seed for seed in seeds if checkpoints[seed] is None]
    elapsed = Parallel(n_jobs=n_jobs)(
        delayed(_train_and_save)(paths[seed], partial(train, seed)) for seed in missing
    )
    seconds = {f"seed{seed}": round(value, 2) for seed, value in zip(missing, elapsed)}
    models, losses = [], {}
    for seed in seeds:
        checkpoint = checkpoints[seed] or read_file(paths[seed], partial(torch.load, weights_only=True))
        model = make_model(seed)
        model.load_state_dict(checkpoint["state_dict"])
        models.append(model.eval())
        losses[f"seed{seed}"] = checkpoint["losses"].numpy()
        if verbose:
            action = f"trained in {seconds[f'seed{seed}']:.1f} s" if seed in missing else "loaded"
            final_loss = np.mean(losses[f"seed{seed}"][-20:])
            print(f"{label} seed {seed}: {action} (final loss {final_loss:.3f})")
    return models, losses, seconds


@dataclass(frozen=True)
class SeedSetSpec:
    """What a layer-prediction set is built from (the arguments of the seed-set builders).

    Attributes
    ----------
    model : {"mlp", "cnn", "bert"}
    seeds : list of int
    n_train, n_test : int
        Rows of each split.
    training : dict
        The training settings (architecture and fitting).
    pooling : str or None
        bert only: ``"word"``, ``"mean"`` or ``"cls"``.
    checkpoint_root : pathlib.Path
        Folder of the checkpoint folders.
    random_state : int
        Draws the rows and the split.
    force : bool
        Retrain even when checkpoints exist.
    verbose : bool
    n_jobs : int or None
    """

    model: str
    seeds: list
    n_train: int
    n_test: int
    training: dict
    pooling: str | None
    checkpoint_root: Path
    random_state: int
    force: bool = False
    verbose: bool = False
    n_jobs: int | None = None
