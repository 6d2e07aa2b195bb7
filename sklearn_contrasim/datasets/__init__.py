"""Real and synthetic representation sets for the benchmarks, and extraction helpers."""

from ._home import MissingDataSourceError, clear_data_home, get_data_home
from ._synthetic import make_paired_representations
from ._torch_extract import module_outputs

__all__ = [
    "MissingDataSourceError",
    "clear_data_home",
    "get_data_home",
    "make_paired_representations",
    "module_outputs",
]
