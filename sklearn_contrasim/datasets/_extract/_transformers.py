"""Per-layer representations of texts from any ``transformers`` model.

One forward pass per batch with ``output_hidden_states=True`` gives every hidden state
(the embeddings, then each layer); they are pooled per text (mean over the attention
mask, first token, or last token) or per word (mean of each word's sub-word tokens).
"""

import numbers

import numpy as np

TEXT_POOLINGS = ("mean", "cls", "last")


def hidden_state_names(n_states):
    """``["embeddings", "layer1", ...]``: the names of ``n_states`` hidden states.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._extract._transformers import hidden_state_names
    >>> hidden_state_names(3)
    ['embeddings', 'layer1', 'layer2']
    """
    return ["embeddings"] + [f"layer{index}" for index in range(1, n_states)]


def _check_texts(texts):
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not a single string.")
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty.")
    bad = next((text for text in texts if not isinstance(text, str)), None)
    if bad is not None:
        raise TypeError(f"texts must contain only strings, got {type(bad).__name__}.")
    return texts


def _check_positive_int(value, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def encode_texts(tokenizer, texts, max_length):
    """Tokenise ``texts`` once (truncated to ``max_length`` tokens) for the extractors below."""
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("tokenizer must be a fast (Rust-backed) transformers tokenizer.")
    if tokenizer.pad_token is None:
        raise ValueError(
            "The tokenizer has no pad token, so texts cannot be batched: set one, e.g. "
            "`tokenizer.pad_token = tokenizer.eos_token`."
        )
    return tokenizer(texts, truncation=True, max_length=max_length)


def subset_encoding(encoding, positions):
    """The encoding of the texts at ``positions`` of ``encoding``, without tokenising again."""
    from transformers import BatchEncoding

    return BatchEncoding(
        {key: [encoding[key][position] for position in positions] for key in encoding.keys()},
        encoding=[encoding.encodings[position] for position in positions],
    )


def _checked_encoding(tokenizer, texts, *, batch_size, max_length, prefix=""):
    """The shared preamble of the public extractors: check the arguments, tokenise."""
    texts = _check_texts(texts)
    _check_positive_int(batch_size, "batch_size")
    _check_positive_int(max_length, "max_length")
    return encode_texts(tokenizer, [prefix + text for text in texts], max_length)


def _hidden_state_batches(model, tokenizer, encoding, *, batch_size, device, verbose):
    """Yield ``(rows, attention_mask, hidden_states)`` per batch of texts.

    Texts are batched by token count (less padding); ``rows`` are their positions in
    ``encoding``. The model runs in eval mode without gradients and is moved to ``device``.
    """
    import torch
    from tqdm.auto import tqdm

    lengths = [len(ids) for ids in encoding["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    was_training = model.training
    model.to(device).eval()
    try:
        with torch.inference_mode():
            starts = range(0, len(order), batch_size)
            for start in tqdm(starts, disable=not verbose, desc="hidden states", unit="batch"):
                rows = order[start : start + batch_size]
                features = {key: [encoding[key][row] for row in rows] for key in encoding.keys()}
                batch = tokenizer.pad(features, return_tensors="pt").to(device)
                output = model(**batch, output_hidden_states=True)
                yield rows, batch["attention_mask"], output.hidden_states
    finally:
        model.train(was_training)


def _allocate_states(layers, hidden_states, n_rows):
    """Return the selected hidden-state indices and one empty float32 output per selection."""
    selected = _selected_layers(layers, len(hidden_states))
    width = hidden_states[0].shape[-1]
    return selected, [np.empty((n_rows, width), dtype=np.float32) for _ in selected]


def _selected_layers(layers, n_states):
    if layers is None:
        return list(range(n_states))
    selected = []
    for layer in layers:
        if not isinstance(layer, numbers.Integral) or not -n_states <= layer < n_states:
            raise ValueError(
                f"layers must be integers in [-{n_states}, {n_states}), got {layer!r}."
            )
        selected.append(int(layer) % n_states)
    return selected


def transformer_hidden_states(
    model,
    tokenizer,
    texts,
    *,
    pooling="mean",
    layers=None,
    batch_size=32,
    max_length=128,
    prefix="",
    device="cpu",
    verbose=False,
):
    """Pooled hidden states of every layer of a ``transformers`` model, one row per text.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model whose forward accepts ``output_hidden_states=True``. It is moved to
        ``device`` and run in eval mode (its training flag is restored afterwards).
    tokenizer : transformers.PreTrainedTokenizerFast
        Its tokenizer (with a pad token).
    texts : sequence of str
        The texts; ``prefix`` is prepended to each (e.g. ``"query: "`` for e5 models).
    pooling : {"mean", "cls", "last"}, default="mean"
        ``"mean"``: mean over the attention mask (special tokens included);
        ``"cls"``: the first token; ``"last"``: the last non-padding token.
    layers : sequence of int, default=None
        Indices of the hidden states to keep (0 is the embedding output, -1 the last
        layer); all of them when None.
    batch_size : int, default=32
        Texts per forward pass (texts are batched by length to limit padding).
    max_length : int, default=128
        Longer texts are truncated to this many tokens.
    prefix : str, default=""
        Prepended to every text.
    device : str or torch.device, default="cpu"
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    states : list of ndarray of shape (n_texts, hidden_size), dtype float32
        One array per kept hidden state, rows in the order of ``texts``.

    See Also
    --------
    transformer_word_states : One row per word instead of per text.

    Examples
    --------
    >>> from transformers import BertConfig, BertModel, BertTokenizerFast
    >>> from sklearn_contrasim.datasets import transformer_hidden_states
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "cat", "sat"]
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "vocab.txt"), "w").write("\\n".join(vocab))
    >>> tokenizer = BertTokenizerFast(os.path.join(folder, "vocab.txt"))
    >>> config = BertConfig(vocab_size=7, hidden_size=8, num_hidden_layers=2,
    ...                     num_attention_heads=2, intermediate_size=16)
    >>> model = BertModel(config)
    >>> states = transformer_hidden_states(model, tokenizer, ["a cat", "a cat sat"])
    >>> len(states), states[0].shape
    (3, (2, 8))
    """
    if pooling not in TEXT_POOLINGS:
        raise ValueError(f"pooling must be one of {TEXT_POOLINGS}, got {pooling!r}.")
    encoding = _checked_encoding(
        tokenizer, texts, batch_size=batch_size, max_length=max_length, prefix=prefix
    )
    return pooled_hidden_states(
        model, tokenizer, encoding, pooling=pooling, layers=layers, batch_size=batch_size,
        device=device, verbose=verbose,
    )


def pooled_hidden_states(
    model, tokenizer, encoding, *, pooling="mean", layers=None, batch_size=32, device="cpu",
    verbose=False,
):
    """:func:`transformer_hidden_states` of texts already tokenised by :func:`encode_texts`."""
    states = None
    for rows, mask, hidden_states in _hidden_state_batches(
        model, tokenizer, encoding, batch_size=batch_size, device=device, verbose=verbose
    ):
        if states is None:
            selected, states = _allocate_states(layers, hidden_states, len(encoding["input_ids"]))
        mask = mask.to(hidden_states[0].dtype)
        positions = mask.new_tensor(np.arange(mask.shape[1])).expand_as(mask)
        last = (positions * mask).argmax(dim=1)
        first = mask.argmax(dim=1)  # first real token, also under left padding
        batch_rows = np.arange(len(rows))
        for out, index in zip(states, selected):
            hidden = hidden_states[index]
            if pooling == "mean":
                pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
            elif pooling == "cls":
                pooled = hidden[batch_rows, first]
            else:
                pooled = hidden[batch_rows, last]
            out[rows] = pooled.float().cpu().numpy()
    return states


def transformer_word_states(
    model,
    tokenizer,
    texts,
    *,
    layers=None,
    batch_size=32,
    max_length=128,
    device="cpu",
    verbose=False,
):
    """Hidden states of every layer, one row per word: the mean of its sub-word tokens.

    Words are the tokenizer's pre-tokenized words (``word_ids`` of a fast tokenizer);
    special tokens belong to no word. Each text goes through the model once, whatever
    its number of words. Words past ``max_length`` tokens are dropped (a word cut by
    the limit keeps its first pieces).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model whose forward accepts ``output_hidden_states=True``; moved to ``device``
        and run in eval mode (its training flag is restored afterwards).
    tokenizer : transformers.PreTrainedTokenizerFast
        Its fast tokenizer (with a pad token).
    texts : sequence of str
    layers : sequence of int, default=None
        Indices of the hidden states to keep; all of them when None.
    batch_size : int, default=32
    max_length : int, default=128
    device : str or torch.device, default="cpu"
    verbose : bool, default=False

    Returns
    -------
    states : list of ndarray of shape (n_words, hidden_size), dtype float32
        One array per kept hidden state.
    word_index : ndarray of shape (n_words, 2), dtype int64
        ``(text position, word number in the text)`` of each row, in text order.

    Examples
    --------
    >>> from transformers import BertConfig, BertModel, BertTokenizerFast
    >>> from sklearn_contrasim.datasets import transformer_word_states
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "cat", "##s", "sat"]
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "vocab.txt"), "w").write("\\n".join(vocab))
    >>> tokenizer = BertTokenizerFast(os.path.join(folder, "vocab.txt"))
    >>> config = BertConfig(vocab_size=8, hidden_size=8, num_hidden_layers=2,
    ...                     num_attention_heads=2, intermediate_size=16)
    >>> model = BertModel(config)
    >>> states, word_index = transformer_word_states(model, tokenizer, ["a cats sat", "cat"])
    >>> states[-1].shape, word_index.tolist()
    ((4, 8), [[0, 0], [0, 1], [0, 2], [1, 0]])
    """
    encoding = _checked_encoding(tokenizer, texts, batch_size=batch_size, max_length=max_length)
    return word_hidden_states(
        model, tokenizer, encoding, layers=layers, batch_size=batch_size, device=device,
        verbose=verbose,
    )


def word_hidden_states(
    model, tokenizer, encoding, *, layers=None, batch_size=32, device="cpu", verbose=False
):
    """:func:`transformer_word_states` of texts already tokenised by :func:`encode_texts`."""
    import torch

    token_words = [encoding.word_ids(row) for row in range(len(encoding["input_ids"]))]
    words_per_text = [sorted({word for word in words if word is not None}) for words in token_words]
    word_index = np.array(
        [(row, word) for row, words in enumerate(words_per_text) for word in words], dtype=np.int64
    ).reshape(-1, 2)
    first_row = np.concatenate([[0], np.cumsum([len(words) for words in words_per_text])])
    states = None
    for rows, mask, hidden_states in _hidden_state_batches(
        model, tokenizer, encoding, batch_size=batch_size, device=device, verbose=verbose
    ):
        if states is None:
            selected, states = _allocate_states(layers, hidden_states, len(word_index))
        # Map every real token of the batch (flattened) to its output row.
        token_at, row_of_token = [], []
        seq_length = mask.shape[1]
        for batch_row, row in enumerate(rows):
            positions = torch.nonzero(mask[batch_row]).flatten().tolist()
            rank = {word: rank for rank, word in enumerate(words_per_text[row])}
            for position, word in zip(positions, token_words[row]):
                if word is not None:
                    token_at.append(batch_row * seq_length + position)
                    row_of_token.append(first_row[row] + rank[word])
        if not token_at:
            continue
        out_rows, group = np.unique(np.asarray(row_of_token), return_inverse=True)
        token_at = torch.as_tensor(token_at, device=mask.device)
        group = torch.as_tensor(group, device=mask.device)
        counts = torch.bincount(group, minlength=len(out_rows)).unsqueeze(1)
        for out, index in zip(states, selected):
            width = out.shape[1]
            tokens = hidden_states[index].reshape(-1, width)[token_at].float()
            sums = tokens.new_zeros((len(out_rows), width)).index_add_(0, group, tokens)
            out[out_rows] = (sums / counts).cpu().numpy()
    return states, word_index
