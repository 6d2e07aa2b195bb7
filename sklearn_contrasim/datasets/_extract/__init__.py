"""Per-layer representations of inputs: torch forward hooks and transformers hidden states."""

from ._torch import module_outputs
from ._transformers import transformer_hidden_states, transformer_word_states

__all__ = ["module_outputs", "transformer_hidden_states", "transformer_word_states"]
