"""Real and synthetic representation sets for the benchmarks, and extraction helpers.

Layout: ``_sources`` read the raw data (catalogs, clipart, emoji, Fashion-MNIST),
``_models`` load or train the networks, ``_extract`` turns inputs into per-layer arrays,
and the loaders (``load_*``) orchestrate them through one cache (``_store``) and one
split encoding (``test_fold``, ``_splits``).
"""

from ._extract import module_outputs, transformer_hidden_states, transformer_word_states
from ._home import MissingDataSourceError, clear_data_home, get_data_home
from ._image_caption import load_image_caption
from ._layer_prediction import load_layer_prediction
from ._multilingual import load_multilingual
from ._sources import load_fashion_mnist, load_parallel_sentences, read_idx
from ._store import CorruptCacheWarning
from ._synthetic import make_paired_representations

__all__ = [
    "CorruptCacheWarning",
    "MissingDataSourceError",
    "clear_data_home",
    "get_data_home",
    "load_fashion_mnist",
    "load_image_caption",
    "load_layer_prediction",
    "load_multilingual",
    "load_parallel_sentences",
    "make_paired_representations",
    "module_outputs",
    "read_idx",
    "transformer_hidden_states",
    "transformer_word_states",
]
