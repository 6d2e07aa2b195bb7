"""Real and synthetic representation sets for the benchmarks, and extraction helpers."""

from ._catalogs import load_parallel_sentences
from ._home import MissingDataSourceError, clear_data_home, get_data_home
from ._image_caption import load_image_caption
from ._layer_prediction import load_layer_prediction
from ._multilingual import load_multilingual
from ._seed_models import load_fashion_mnist, read_idx
from ._synthetic import make_paired_representations
from ._torch_extract import module_outputs
from ._transformers_extract import transformer_hidden_states, transformer_word_states

__all__ = [
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
