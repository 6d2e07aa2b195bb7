"""The skorch net that trains the encoders, its batched datasets and its callbacks."""

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from tqdm.auto import tqdm


class ContrastiveNet(NeuralNet):
    """A skorch ``NeuralNet`` whose criterion reads the module's encodings only.

    The module returns encoded instances (see ``_losses``); there is no target, so
    ``get_loss`` ignores ``y_true`` (skorch's dummy) and calls the criterion on the
    encodings alone.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred)


def keep_batch(batch):
    """Collate function of the batched datasets: their batches are already collated."""
    return batch


class BatchedDataset(torch.utils.data.Dataset):
    """A dataset that gathers a whole batch at once (``__getitems__``).

    A data loader with ``collate_fn=keep_batch`` then costs one tensor gather per batch
    instead of one ``__getitem__`` call per row. Subclasses implement ``gather(index)``,
    returning the net's input for the rows ``index`` (a 1-D tensor).
    """

    def __getitems__(self, indices):
        return self.gather(torch.as_tensor(indices)), None

    def __getitem__(self, index):
        return self.__getitems__([index])


class PairDataset(BatchedDataset):
    """Paired rows of ``X`` and ``y`` (float32 tensors), for example-level training."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __len__(self):
        return len(self.x)

    def gather(self, index):
        return {"x": self.x[index], "y": self.y[index]}


class FiniteLossGuard(Callback):
    """Stop training with a clear error as soon as a batch's loss is not finite.

    Reads the loss skorch has already recorded in the history (no extra device
    synchronisation). A non-finite loss would otherwise turn every weight into NaN and
    every similarity of the fitted measure with it.
    """

    def __init__(self, measure_name):
        self.measure_name = measure_name

    def on_batch_end(self, net, training=False, **kwargs):
        prefix, kind = ("train", "training") if training else ("valid", "validation")
        batches = net.history[-1, "batches"]
        loss = batches[-1][f"{prefix}_loss"]
        if not math.isfinite(loss):
            position = sum(f"{prefix}_loss" in batch for batch in batches)
            raise FloatingPointError(
                f"{self.measure_name}: the {kind} loss became {loss} at epoch "
                f"{len(net.history)}, batch {position}. Lower lr, or check the inputs "
                f"for rows far outside the rest of the data."
            )


class EpochProgressBar(Callback):
    """A tqdm bar over epochs showing the training (and validation) loss."""

    def __init__(self, description):
        self.description = description

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=net.max_epochs, desc=self.description, unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        losses = {key: net.history[-1, key] for key in ("train_loss", "valid_loss")
                  if key in net.history[-1]}
        self.bar_.set_postfix({key: f"{value:.4f}" for key, value in losses.items()})
        self.bar_.update()

    def on_train_end(self, net, **kwargs):
        self.bar_.close()
        # A closed bar holds a lock, which would make the fitted net unpicklable.
        del self.bar_
