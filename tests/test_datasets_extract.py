"""Tests of the extractors: torch forward hooks and transformers hidden states."""

import time

import numpy as np
import pytest
import torch

from sklearn_contrasim.datasets import (
    module_outputs,
    transformer_hidden_states,
    transformer_word_states,
)

from _fixtures import _offline, e5  # noqa: F401 (fixtures)


class TwoBlocks(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 5, 3)
        self.act = torch.nn.ReLU()
        self.head = torch.nn.Linear(5, 4)

    def forward(self, x):
        feature_map = self.act(self.conv(x))
        return self.head(feature_map.mean(dim=(2, 3)))


def _hook_count(model):
    return sum(len(module._forward_hooks) for module in model.modules())


def test_module_outputs_matches_a_manual_forward():
    model = TwoBlocks().train()
    images = torch.rand(11, 3, 9, 7)
    conv_mean, act, head = module_outputs(model, images, ["conv", model.act, "head"], batch_size=4)
    (conv_max,) = module_outputs(model, images, ["conv"], pool="max")
    (conv_flat,) = module_outputs(model, images, ["conv"], pool="flatten")
    (head_from_float64,) = module_outputs(model, images.numpy().astype(np.float64), ["head"])
    with torch.no_grad():
        conv = model.conv(images)
        expected_head = model(images)
    np.testing.assert_allclose(conv_mean, conv.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(conv_max, conv.amax(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(conv_flat, conv.reshape(11, -1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(act, torch.relu(conv).mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(head, expected_head.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(head_from_float64, head, rtol=1e-5, atol=1e-6)
    assert head.dtype == np.float32 and conv_flat.shape == (11, 5 * 7 * 5)
    assert _hook_count(model) == 0 and model.training  # hooks gone, training mode restored


def test_module_outputs_removes_hooks_on_error_and_rejects_bad_input():
    model = TwoBlocks()
    with pytest.raises(RuntimeError, match="channels"):
        module_outputs(model, torch.rand(4, 2, 9, 9), ["conv"])  # 2 channels, conv expects 3
    assert _hook_count(model) == 0
    shared = torch.nn.ReLU()
    twice = torch.nn.Sequential(torch.nn.Linear(3, 3), shared, torch.nn.Linear(3, 3), shared)
    with pytest.raises(ValueError, match="exactly once"):
        module_outputs(twice, torch.rand(4, 3), ["1"])
    assert _hook_count(twice) == 0
    with pytest.raises(ValueError, match="no module named 'missing'"):
        module_outputs(model, torch.rand(2, 3, 5, 5), ["missing"])
    with pytest.raises(ValueError, match="not a sub-module"):
        module_outputs(model, torch.rand(2, 3, 5, 5), [torch.nn.ReLU()])
    with pytest.raises(TypeError, match="non-empty list"):
        module_outputs(model, torch.rand(2, 3, 5, 5), "conv")
    with pytest.raises(ValueError, match="batch_size"):
        module_outputs(model, torch.rand(2, 3, 5, 5), ["conv"], batch_size=0)
    with pytest.raises(ValueError, match="pool"):
        module_outputs(model, torch.rand(2, 3, 5, 5), ["conv"], pool="median")
    with pytest.raises(ValueError, match="empty"):
        module_outputs(model, torch.rand(0, 3, 5, 5), ["conv"])


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A 2-layer random BERT and a WordPiece tokenizer where "cats" is two pieces."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "cat", "##s", "sat", "on", "mat", "the"]
    vocab_file = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab_file.write_text("\n".join(vocab))
    tokenizer = BertTokenizerFast(str(vocab_file))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=16,
    )
    return BertModel(config).eval(), tokenizer


def test_hidden_states_shapes_layers_and_poolings(e5):
    import torch

    model, tokenizer = e5
    texts = ["A short one.", "A somewhat longer sentence, with more tokens in it.", "Mittel lang."]
    states = transformer_hidden_states(model, tokenizer, texts, batch_size=2)
    assert len(states) == 13
    assert all(state.shape == (3, 384) and state.dtype == np.float32 for state in states)
    chosen = transformer_hidden_states(model, tokenizer, texts, layers=[0, -1, 5])
    for array, index in zip(chosen, [0, 12, 5]):
        np.testing.assert_allclose(array, states[index], atol=1e-5)
    first = transformer_hidden_states(model, tokenizer, texts, pooling="cls", layers=[7])[0]
    last = transformer_hidden_states(model, tokenizer, texts, pooling="last", layers=[7])[0]
    # Reference computation, one text at a time (no padding).
    for row, text in enumerate(texts):
        encoded = tokenizer([text], return_tensors="pt")
        with torch.no_grad():
            hidden = model(**encoded, output_hidden_states=True).hidden_states[7][0].numpy()
        np.testing.assert_allclose(states[7][row], hidden.mean(0), atol=1e-4)
        np.testing.assert_allclose(first[row], hidden[0], atol=1e-4)
        np.testing.assert_allclose(last[row], hidden[-1], atol=1e-4)


def test_hidden_states_prefix(tiny_bert):
    model, tokenizer = tiny_bert
    with_prefix = transformer_hidden_states(model, tokenizer, ["cat sat"], prefix="the ")
    spelled_out = transformer_hidden_states(model, tokenizer, ["the cat sat"])
    for a, b in zip(with_prefix, spelled_out):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"texts": "a cat"}, TypeError, "not a single string"),
        ({"texts": []}, ValueError, "texts is empty"),
        ({"texts": ["a", 3]}, TypeError, "only strings"),
        ({"texts": ["a"], "pooling": "max"}, ValueError, "pooling must be one of"),
        ({"texts": ["a"], "layers": [3]}, ValueError, "layers must be integers"),
        ({"texts": ["a"], "batch_size": 0}, ValueError, "batch_size must be a positive"),
    ],
)
def test_hidden_states_bad_input(tiny_bert, kwargs, error, match):
    model, tokenizer = tiny_bert
    with pytest.raises(error, match=match):
        transformer_hidden_states(model, tokenizer, **kwargs)


def test_word_states_average_sub_word_tokens(tiny_bert):
    import torch

    model, tokenizer = tiny_bert
    texts = ["a cats sat on the mat", "cats"]
    states, word_index = transformer_word_states(model, tokenizer, texts, batch_size=2)
    assert word_index.tolist() == [[0, 0], [0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [1, 0]]
    assert len(states) == 3 and states[0].shape == (7, 8)
    for text_row, text in enumerate(texts):
        encoded = tokenizer([text], return_tensors="pt")
        with torch.no_grad():
            hidden = model(**encoded, output_hidden_states=True).hidden_states
        tokens = encoded.word_ids(0)
        for layer, layer_states in enumerate(states):
            for out_row in np.flatnonzero(word_index[:, 0] == text_row):
                word = word_index[out_row, 1]
                positions = [p for p, w in enumerate(tokens) if w == word]
                expected = hidden[layer][0, positions].mean(0).numpy()
                np.testing.assert_allclose(layer_states[out_row], expected, atol=1e-5)
    # "cats" is two pieces: its vector is the mean of both, not one of them.
    assert tokenizer.tokenize("cats") == ["cat", "##s"]
