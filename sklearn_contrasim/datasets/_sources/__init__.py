"""Raw data read from installed packages: gettext catalogs, openclipart, emoji, Fashion-MNIST."""

from ._catalogs import load_english_sentences, load_parallel_sentences
from ._fashion_mnist import load_fashion_mnist, read_idx

__all__ = ["load_english_sentences", "load_fashion_mnist", "load_parallel_sentences", "read_idx"]
