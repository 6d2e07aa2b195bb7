"""A multilingual BERT-style masked language model trained here, like multilingual BERT.

One shared lower-casing WordPiece vocabulary is chosen from the monolingual text of every
language, and one masked language model trains on that text, each batch from a single
language (languages in turn), never on pairs of translations.
"""

from collections import Counter
from functools import partial
from pathlib import Path

from .._home import require_module
from ._seed_text import (
    ARCHITECTURE_KEYS,
    DEFAULT_MAX_LENGTH,
    SPECIAL_TOKENS,
    load_saved_tokenizer,
    make_masked_lm,
    save_tokenizer,
    train_masked_lm,
)
from ._seeds import train_seeds

_MAX_PIECE = 16  # characters of the longest piece considered


def _pre_tokenizer():
    """The normaliser and pre-tokenizer of the shared tokenizer (BERT's, lower-casing,
    accents kept: they tell apart words of different languages)."""
    tokenizers = require_module("tokenizers")
    normalizer = tokenizers.normalizers.BertNormalizer(lowercase=True, strip_accents=False)
    return normalizer, tokenizers.pre_tokenizers.BertPreTokenizer()


def _choose_pieces(word_counts, vocab_size):
    """A WordPiece vocabulary of at most ``vocab_size`` pieces for ``word_counts``.

    Every character (alone and as a ``##`` continuation), then the word prefixes and
    ``##`` suffixes (up to 16 characters) that save the most tokens over the corpus:
    occurrences times length beyond one character, ties broken by the piece itself.
    """
    characters, scores = set(), Counter()
    for word, count in word_counts.items():
        characters.update(word)
        for end in range(2, min(len(word), _MAX_PIECE) + 1):
            scores[word[:end]] += count * (end - 1)
        for start in range(max(1, len(word) - _MAX_PIECE), len(word) - 1):
            scores["##" + word[start:]] += count * (len(word) - start - 1)
    alphabet = sorted(characters)
    pieces = list(SPECIAL_TOKENS) + alphabet + ["##" + char for char in alphabet]
    ranked = sorted(scores, key=lambda piece: (-scores[piece], piece))
    return pieces + ranked[: max(0, vocab_size - len(pieces))]


def build_shared_tokenizer(corpora, directory, *, vocab_size):
    """A lower-casing WordPiece tokenizer whose vocabulary is chosen from ``corpora``.

    The text is normalised and split into words by ``tokenizers``' BERT normaliser (lower
    case, accents kept) and pre-tokenizer; the vocabulary keeps every character, then the
    word prefixes and ``##`` suffixes that save the most tokens. The pieces are chosen
    here rather than by ``tokenizers``' trainers, whose ties between equally frequent
    merges fall in hash order: two runs on the same text gave different vocabularies.
    The result is wrapped as a fast ``transformers`` tokenizer with BERT's special tokens
    and ``[CLS] ... [SEP]`` template, saved to ``directory`` and reloaded from it.

    Parameters
    ----------
    corpora : list of list of str
        The sentences (e.g. one list per language); the vocabulary is shared.
    directory : path-like
        Where the tokenizer is saved and reloaded from.
    vocab_size : int
        Most pieces, special tokens and characters included (all characters are kept
        even beyond it).

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerFast

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_contrasim.datasets._models._multilingual_mlm import build_shared_tokenizer
    >>> corpora = [["the file was saved", "the files"], ["die Datei wurde gespeichert"]]
    >>> tokenizer = build_shared_tokenizer(corpora, tempfile.mkdtemp(), vocab_size=80)
    >>> tokenizer("Die Datei")["input_ids"][0] == tokenizer.cls_token_id
    True
    """
    transformers = require_module("transformers")
    tokenizers = require_module("tokenizers")
    saved = load_saved_tokenizer(transformers.PreTrainedTokenizerFast, directory)
    if saved is not None:
        return saved
    normalizer, pre_tokenizer = _pre_tokenizer()
    word_counts = Counter(
        word
        for corpus in corpora
        for sentence in corpus
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(sentence))
    )
    pieces = _choose_pieces(word_counts, vocab_size)
    backend = tokenizers.Tokenizer(tokenizers.models.WordPiece(
        {piece: index for index, piece in enumerate(pieces)}, unk_token="[UNK]",
    ))
    backend.normalizer, backend.pre_tokenizer = normalizer, pre_tokenizer
    backend.post_processor = tokenizers.processors.BertProcessing(
        ("[SEP]", pieces.index("[SEP]")), ("[CLS]", pieces.index("[CLS]"))
    )
    backend.decoder = tokenizers.decoders.WordPiece()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]",
    )
    save_tokenizer(tokenizer, Path(directory))
    return tokenizer


def train_multilingual_mlm(corpora, folder, training, *, force=False, verbose=False):
    """Load or train the multilingual masked language model of ``training`` on ``corpora``.

    The tokenizer (:func:`build_shared_tokenizer`) and the checkpoint
    (``seed<k>.pt``, checksummed) live in ``folder``, which the caller names after
    everything that fixes them (corpora and settings).

    Parameters
    ----------
    corpora : list of list of str
        One list of sentences per language; each training batch comes from one of them,
        in turn (see :func:`~sklearn_contrasim.datasets._models._seed_text.train_masked_lm`).
    folder : pathlib.Path
    training : dict
        ``seed``, ``vocab_size``, ``n_layers``, ``hidden_size``, ``n_heads``, ``steps``,
        ``batch_size``, ``learning_rate`` (and optionally ``mask_probability``,
        ``max_length``).
    force : bool, default=False
        Train even when a checkpoint exists.
    verbose : bool, default=False

    Returns
    -------
    model : transformers.BertForMaskedLM
        In evaluation mode.
    tokenizer : transformers.PreTrainedTokenizerFast
    losses : ndarray of shape (steps,)
    seconds : float or None
        Training seconds, None when loaded.
    """
    training = dict(training)
    seed, vocab_size = training.pop("seed"), training.pop("vocab_size")
    tokenizer = build_shared_tokenizer(corpora, folder / "tokenizer", vocab_size=vocab_size)
    architecture = {key: training[key] for key in ARCHITECTURE_KEYS}
    max_length = training.get("max_length", DEFAULT_MAX_LENGTH)
    models, losses, seconds = train_seeds(
        "multilingual masked LM",
        [seed],
        folder,
        make_model=partial(make_masked_lm, tokenizer, max_length=max_length, **architecture),
        train=partial(train_masked_lm, corpora, tokenizer, verbose=verbose, **training),
        force=force,
        verbose=verbose,
        n_jobs=None,
    )
    return models[0], tokenizer, losses[f"seed{seed}"], seconds.get(f"seed{seed}")
