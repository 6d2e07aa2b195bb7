"""ContraSim and its learned baselines DeepDot and DeepCKA: one trainer, several losses."""

from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from sklearn.utils import check_random_state

from .._base import BaseSimilarity
from ..utils._sklearn_compat import Interval, StrOptions
from ..utils._threads import limit_threads
from ..utils._torch import seeded
from ._encoder import PairEncoder, SetEncoder
from ._losses import PositiveCKALoss, PositiveCosineLoss, SupConLoss, linear_cka, paired_logits
from ._net import ContrastiveNet, EpochProgressBar, FiniteLossGuard, PairDataset, keep_batch
from ._scaling import root_mean_square, to_encoder_scale
from ._set_level import LayerSetDataset, check_layer_sets

_COMMON_PARAMETERS = """dim : int, default=128
        Dimension of the learned space.
    hidden_layer_sizes : tuple of int, default=(512, 256)
        Widths of the encoder's hidden layers (each followed by a ReLU); ``()`` gives a
        linear encoder.
    shared_encoder : bool or "auto", default="auto"
        One encoder for both sets (``True``) or one tower per set mapping into the same
        space (``False``). ``"auto"`` shares it when ``X`` and ``y`` have the same width.
        Set-level training (``fit_sets``) uses one shared encoder; ``False`` is an
        error there.
    batch_size : int, default=1024
        Paired rows per training batch (set level: rows of every layer of every model).
        A last batch of a single row is left out of its epoch (batches are shuffled, so a
        different row each epoch): it has no linear CKA and gives a noisy step.
    max_epochs : int, default=50
        Training epochs (fewer with early stopping).
    lr : float, default=1e-4
        Learning rate of Adam.
    weight_decay : float, default=0.0
        Adam's weight decay.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (drawn with ``random_state``) and stop
        when their loss has not improved for ``n_iter_no_change`` epochs, keeping the best
        epoch's weights. Without it, every row is used for training.
    validation_fraction : float, default=0.1
        Fraction of rows held out for early stopping.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and encode; ``"auto"`` picks CUDA when available. A measure trained
        on CUDA loads (pickle, joblib) on a CPU-only machine, where it encodes on the CPU.
    n_threads : int or None, default=1
        CPU threads of torch and of the BLAS/OpenMP pools while the measure trains and
        encodes; the previous settings are restored afterwards. ``None`` leaves them as
        they are (torch's default, one thread per core, or an outer limit such as a
        benchmark worker's share of the cores). One thread by default: the package's
        encoders (under a million weights) gain little from more, and when other processes
        compete for the cores two threads trained several times slower than one
        (``benchmarks/bench_threads.py``). Raise it on an idle machine with many cores and
        large inputs; it does not matter on CUDA.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, batch order and validation split. Training runs inside
        ``torch.random.fork_rng``: the global torch random state is left untouched.
    verbose : bool or int, default=False
        Show a progress bar over epochs with the training (and validation) loss."""

_COMMON_ATTRIBUTES = """net_ : ContrastiveNet
        The fitted skorch ``NeuralNet``; ``net_.module_`` is the torch encoder module.
    history_ : skorch.History
        Per-epoch training record (``history_[:, "train_loss"]``), as ``net_.history``.
    n_features_in_ : int
        Width of ``X`` (set level: of every layer).
    n_features_y_ : int
        Width of ``y`` (set level: of every layer).
    feature_names_in_ : ndarray of str
        Column names of ``X``, when ``X`` is a DataFrame with string column names.
    scale_x_ : float
        Root mean square of the entries of ``X`` seen in ``fit``, computed in float64.
        Every ``X`` the measure trains on or encodes is divided by it before the float32
        encoder, so the measure works alike on data of any scale a float64 can hold. With
        a shared encoder: the root mean square of ``X`` and ``y`` together (one scale for
        both sides keeps the measure symmetric); after ``fit_sets``: over every layer of
        every model.
    scale_y_ : float
        The same for ``y`` (equal to ``scale_x_`` with a shared encoder)."""

_SET_LEVEL_EXAMPLE = """
    Set level, on three layers of two models (rows aligned across all of them):

    >>> rng = np.random.RandomState(0)
    >>> layers = [rng.randn(100, 8) for _ in range(3)]
    >>> sets = {{name: [layer + 0.1 * rng.randn(100, 8) for layer in layers]
    ...         for name in ("seed0", "seed1")}}
    >>> measure = {name}(dim=8, hidden_layer_sizes=(16,), batch_size=50, lr=1e-2,
    ...                 max_epochs=5, random_state=0).fit_sets(sets)
    >>> same_layer = measure.similarity(sets["seed0"][0], sets["seed1"][0])
    >>> bool(same_layer > measure.similarity(sets["seed0"][0], sets["seed1"][1]))
    True"""


def _fill_docstring(cls):
    """Insert the parameters and attributes shared by every learned measure."""
    cls.__doc__ = (
        cls.__doc__.replace("{common_parameters}", _COMMON_PARAMETERS)
        .replace("{common_attributes}", _COMMON_ATTRIBUTES)
        .replace("{set_level_example}", _SET_LEVEL_EXAMPLE.format(name=cls.__name__))
    )
    return cls


def _resolve_device(device):
    """Map the ``device`` parameter to a torch device name."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            'device="cuda" was requested but PyTorch finds no CUDA device; '
            'use device="cpu" or device="auto".'
        )
    return device


class _LearnedSimilarity(BaseSimilarity):
    """Shared trainer of the learned measures; subclasses choose the loss and the measure."""

    _parameter_constraints = {
        "dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "shared_encoder": ["boolean", StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        dim=128,
        hidden_layer_sizes=(512, 256),
        shared_encoder="auto",
        batch_size=1024,
        max_epochs=50,
        lr=1e-4,
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        device="cpu",
        n_threads=1,
        random_state=None,
        verbose=False,
    ):
        self.dim = dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shared_encoder = shared_encoder
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.similarity_tags.set_level = True
        # One encoder for both sides ("auto" shares it whenever the widths allow the
        # sides to be swapped at all) and a symmetric comparison of the embeddings.
        tags.similarity_tags.symmetric = self.shared_encoder is not False
        return tags

    #: Why example-level batches of one pair teach this measure nothing (None: they do).
    _single_pair_batch_issue = None

    @abstractmethod
    def _criterion(self, granularity):
        """Return the criterion class and its parameters for ``"example"`` or ``"set"``."""

    def fit_sets(self, sets):
        """Learn the encoder at set level from the layers of several models.

        An instance is one layer of one model on a batch of rows: every row is encoded,
        and the encoded set is flattened and scaled to unit Frobenius norm, so that the
        logit between two sets is their mean row cosine. The class of an instance is its
        layer: its positives are the same layer of the other models, its negatives every
        other layer of every model (the same model included); the measures trained
        without negatives (DeepDot, DeepCKA) use the positives only. All layers of all
        models of a batch are encoded in one forward pass by one shared encoder. Afterwards
        the measure compares any two sets of that width with ``similarity`` and ``score``
        as after ``fit``.

        Parameters
        ----------
        sets : dict of str to list of array-like, or list of lists of array-like
            ``sets[model][layer]`` of shape ``(n_samples, n_features)``: the
            representation of the examples by one layer of one model. At least two models
            with the same number of layers (at least two), rows aligned across all of
            them (row ``k`` is the same example), and one width for every layer (reduce
            them to a common width first, for example with PCA, if they differ).

        Returns
        -------
        self : object
            The fitted measure.
        """
        self._validate_params()
        name = type(self).__name__
        if self.shared_encoder is False:
            raise ValueError(
                f"Set-level training uses one encoder shared by every layer and model; "
                f"{name}(shared_encoder=False) cannot be fitted with fit_sets."
            )
        layers = check_layer_sets(sets, name)
        n_features = layers[0][0].shape[1]
        self.n_features_in_ = self.n_features_y_ = n_features
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.scale_x_ = self.scale_y_ = root_mean_square(
            [layer for model_layers in layers for layer in model_layers]
        )
        dataset = LayerSetDataset([
            [self._encoder_input(layer, "X") for layer in model_layers]
            for model_layers in layers
        ])
        return self._train(dataset, SetEncoder, dict(n_features=n_features), "set")

    def _fit(self, X, y):
        shared = self.shared_encoder
        same_width = X.shape[1] == y.shape[1]
        if shared is True and not same_width:
            raise ValueError(
                f"shared_encoder=True needs X and y of the same width, got {X.shape[1]} and "
                f"{y.shape[1]}; use shared_encoder='auto' or False for two encoders."
            )
        shared = same_width if shared == "auto" else shared
        # A shared encoder sees both sides on one scale, which keeps the measure symmetric.
        if shared:
            self.scale_x_ = self.scale_y_ = root_mean_square([X, y])
        else:
            self.scale_x_, self.scale_y_ = root_mean_square([X]), root_mean_square([y])
        dataset = PairDataset(self._encoder_input(X, "X"), self._encoder_input(y, "y"))
        module_params = dict(n_features_x=X.shape[1], n_features_y=y.shape[1], shared=shared)
        self._train(dataset, PairEncoder, module_params, "example")

    def _train(self, dataset, module, module_params, granularity):
        """Train ``module`` on ``dataset`` with this measure's loss through skorch."""
        hidden_layer_sizes = tuple(self.hidden_layer_sizes)
        if not all(isinstance(w, Integral) and w >= 1 for w in hidden_layer_sizes):
            raise ValueError(
                f"hidden_layer_sizes must be a tuple of positive ints, got "
                f"{self.hidden_layer_sizes!r}."
            )
        name = type(self).__name__
        if granularity == "example" and self.batch_size == 1 and self._single_pair_batch_issue:
            raise ValueError(
                f"{name}(batch_size=1) trains on one pair per batch: "
                f"{self._single_pair_batch_issue}, so it would learn nothing. Use batch_size "
                f"of at least 2."
            )
        device = _resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        callbacks = [FiniteLossGuard(name)]
        train_split = None
        n_train = len(dataset)
        if self.early_stopping:
            n_valid = int(np.ceil(self.validation_fraction * len(dataset)))
            n_train -= n_valid
            if n_valid < 2 or n_train < 2:
                raise ValueError(
                    f"Early stopping holds out validation_fraction={self.validation_fraction} "
                    f"of {len(dataset)} rows, which leaves fewer than 2 rows for validation "
                    f"or for training."
                )
            train_split = ValidSplit(self.validation_fraction, stratified=False, random_state=seed)
            callbacks.append(EarlyStopping(patience=self.n_iter_no_change, load_best=True))
        if self.verbose:
            callbacks.append(EpochProgressBar(name))
        criterion, criterion_params = self._criterion(granularity)
        net = ContrastiveNet(
            module=module,
            criterion=criterion,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=train_split,
            iterator_train__shuffle=True,
            iterator_train__drop_last=n_train % self.batch_size == 1,
            iterator_train__collate_fn=keep_batch,
            iterator_valid__collate_fn=keep_batch,
            callbacks=callbacks,
            device=device,
            verbose=0,
            **{f"module__{key}": value for key, value in module_params.items()},
            module__hidden_layer_sizes=hidden_layer_sizes,
            module__dim=self.dim,
            **{f"criterion__{key}": value for key, value in criterion_params.items()},
        )
        cuda_devices = list(range(torch.cuda.device_count())) if device == "cuda" else []
        with limit_threads(self.n_threads), seeded(seed, devices=cuda_devices):
            net.fit(dataset, y=None)
        self.net_ = net
        self.history_ = net.history
        return self

    def encode(self, X=None, y=None):
        """Return the learned embeddings of ``X`` and/or ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Rows of the first set, encoded by its encoder.
        y : array-like of shape (n_samples_y, n_features_y), default=None
            Rows of the second set, encoded by its encoder (the same one when shared).

        Returns
        -------
        embeddings : ndarray of shape (n_samples, dim), or a tuple of two
            Unit-norm float32 rows; ``(X_embedded, y_embedded)`` when both are given.
        """
        if X is None and y is None:
            raise ValueError("encode needs X, y or both.")
        embedded = [self._embed(array, side=side)
                    for array, side in ((X, "X"), (y, "y")) if array is not None]
        return embedded[0] if len(embedded) == 1 else tuple(embedded)

    def _encoder_input(self, array, side):
        """Divide validated rows of ``side`` ("X" or "y") by its scale; a float32 tensor."""
        scale = self.scale_x_ if side == "X" else self.scale_y_
        return torch.from_numpy(
            to_encoder_scale(array, scale, name=type(self).__name__, side=side)
        )

    def _encode_rows(self, rows, side):
        """Encode validated rows of ``side`` in batches on the net's device, copying the
        rows there once and the embeddings back once."""
        encoder = self.net_.module_.encoder_x if side == "X" else self.net_.module_.encoder_y
        rows = self._encoder_input(rows, side)
        with limit_threads(self.n_threads), torch.inference_mode():
            rows = rows.to(self.net_.device)
            embedded = torch.cat([encoder(batch) for batch in rows.split(self.batch_size)])
            if not torch.isfinite(embedded).all():
                raise ValueError(
                    f"{type(self).__name__}: the encoder overflowed float32 on {side}, whose "
                    f"values are far larger than those it was fitted on; fit the measure on "
                    f"data of this scale."
                )
        return embedded.cpu().numpy()

    def _embed_x(self, X):
        return self._encode_rows(X, "X")

    def _embed_y(self, y):
        return self._encode_rows(y, "y")

    def _compare(self, X, y):
        """Mean paired cosine of the embedded rows (DeepDot and ContraSim's default)."""
        return paired_logits(torch.from_numpy(X), torch.from_numpy(y), "cosine").mean().item()


@_fill_docstring
class ContraSim(_LearnedSimilarity):
    """ContraSim: a similarity measure learned by contrastive training of an encoder.

    An MLP encoder (``hidden_layer_sizes``, then ``dim`` outputs, L2-normalised rows) is
    trained with a supervised contrastive (InfoNCE) loss at ``temperature``: the positive
    of row ``x_k`` is its pair ``y_k``, the negatives are all other rows of both sets in
    the batch (example level, :meth:`fit`); or, at set level (:meth:`fit_sets`), the
    positives of a layer are the same layer in other models and the negatives every other
    layer. ``similarity`` is the mean cosine of paired rows in the learned space;
    ``score`` is the held-out 1-vs-k retrieval accuracy in that space (the quantity to
    tune ``temperature`` and ``dim`` on). Training runs through a private skorch
    ``NeuralNet`` (``net_``).

    Parameters
    ----------
    temperature : float, default=0.07
        Temperature of the contrastive loss.
    logit : {"cosine", "distance"}, default="cosine"
        ``"cosine"``: the training logit of two instances is their cosine and
        ``similarity`` the mean paired cosine. ``"distance"`` (the paper's
        ContraSim_dis): the training logit is ``1 - ||f(x) - g(y)||`` (at set level,
        between the flattened, Frobenius-normalised sets) and ``similarity`` is
        ``mean_k 1 - ||f(x_k) - g(y_k)||``.
    {common_parameters}

    Attributes
    ----------
    {common_attributes}

    See Also
    --------
    DeepDot : The same encoder trained on positives only (mean cosine).
    DeepCKA : The same encoder trained on positives only (linear CKA).

    References
    ----------
    Rahamim and Belinkov, "ContraSim -- Analyzing Neural Representations Based on
    Contrastive Learning", NAACL 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim import ContraSim
    >>> from sklearn_contrasim.datasets import make_paired_representations
    >>> X, y, _ = make_paired_representations(200, 16, 12, noise=0.5, random_state=0)
    >>> measure = ContraSim(dim=8, hidden_layer_sizes=(32,), batch_size=64, lr=1e-2,
    ...                     max_epochs=10, random_state=0).fit(X, y)
    >>> round(measure.similarity(X, y), 2) > round(measure.similarity(X, y[::-1]), 2)
    True
    >>> measure.encode(X).shape
    (200, 8)
    {set_level_example}
    """

    _parameter_constraints = {
        **_LearnedSimilarity._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "logit": [StrOptions({"cosine", "distance"})],
    }

    def __init__(
        self,
        *,
        temperature=0.07,
        logit="cosine",
        dim=128,
        hidden_layer_sizes=(512, 256),
        shared_encoder="auto",
        batch_size=1024,
        max_epochs=50,
        lr=1e-4,
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        device="cpu",
        n_threads=1,
        random_state=None,
        verbose=False,
    ):
        super().__init__(
            dim=dim,
            hidden_layer_sizes=hidden_layer_sizes,
            shared_encoder=shared_encoder,
            batch_size=batch_size,
            max_epochs=max_epochs,
            lr=lr,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            device=device,
            n_threads=n_threads,
            random_state=random_state,
            verbose=verbose,
        )
        self.temperature = temperature
        self.logit = logit

    _single_pair_batch_issue = (
        "the loss of one pair is exactly 0 (its anchor's only other instance is its positive)"
    )

    def _criterion(self, granularity):
        return SupConLoss, dict(temperature=self.temperature, logit=self.logit)

    def _compare(self, X, y):
        return paired_logits(torch.from_numpy(X), torch.from_numpy(y), self.logit).mean().item()


@_fill_docstring
class DeepDot(_LearnedSimilarity):
    """DeepDot: ContraSim's encoder trained to maximise the cosine of positives only.

    The paper's ablation without negatives: the same encoder and trainer as
    :class:`ContraSim`, with the loss minus the mean cosine of positive pairs (paired
    rows; at set level, the same layer of different models). Normalised outputs make a
    collapsed encoder (every row mapped to one point) optimal: ``similarity`` (the mean
    paired cosine in the learned space) then approaches 1 on any input, and ``score``,
    which counts ties as misses, stays low.

    Parameters
    ----------
    {common_parameters}

    Attributes
    ----------
    {common_attributes}

    See Also
    --------
    ContraSim : The same encoder trained with negatives.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim import DeepDot
    >>> from sklearn_contrasim.datasets import make_paired_representations
    >>> X, y, _ = make_paired_representations(200, 16, 12, random_state=0)
    >>> measure = DeepDot(dim=8, hidden_layer_sizes=(32,), batch_size=64, lr=1e-2,
    ...                   max_epochs=10, random_state=0).fit(X, y)
    >>> measure.similarity(X, y) > 0.9
    True
    {set_level_example}
    """

    def _criterion(self, granularity):
        return PositiveCosineLoss, {}


@_fill_docstring
class DeepCKA(_LearnedSimilarity):
    """DeepCKA: ContraSim's encoder trained to maximise the linear CKA of positives only.

    The paper's ablation without negatives: the same encoder and trainer as
    :class:`ContraSim`, with the loss minus the linear CKA of the encoded ``X`` and
    ``y`` batches (at set level, of the same layer of different models).
    ``similarity`` is the linear CKA of the encoded sets, in [0, 1].

    Parameters
    ----------
    {common_parameters}

    Attributes
    ----------
    {common_attributes}

    See Also
    --------
    ContraSim : The same encoder trained with negatives.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim import DeepCKA
    >>> from sklearn_contrasim.datasets import make_paired_representations
    >>> X, y, _ = make_paired_representations(200, 16, 12, random_state=0)
    >>> measure = DeepCKA(dim=8, hidden_layer_sizes=(32,), batch_size=64, lr=1e-2,
    ...                   max_epochs=10, random_state=0).fit(X, y)
    >>> 0 <= measure.similarity(X, y) <= 1
    True
    {set_level_example}
    """

    _single_pair_batch_issue = "the linear CKA of one row is 0 (its centred set is zero)"

    def _criterion(self, granularity):
        return PositiveCKALoss, dict(granularity=granularity)

    def _compare(self, X, y):
        return linear_cka(torch.from_numpy(X).double(), torch.from_numpy(y).double()).item()
