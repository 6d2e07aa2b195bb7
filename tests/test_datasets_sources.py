"""Tests of the raw sources: IDX/Fashion-MNIST, gettext catalogs, openclipart, emoji."""

import gzip

import numpy as np
import pytest

from sklearn_contrasim.datasets import (
    MissingDataSourceError,
    load_layer_prediction,
    load_parallel_sentences,
)
from sklearn_contrasim.datasets._sources import _catalogs, _fashion_mnist
from sklearn_contrasim.datasets._sources._catalogs import load_english_sentences
from sklearn_contrasim.datasets._sources._clipart import (
    EXCLUDED_CATEGORIES,
    list_clipart_pairs,
    open_clipart_image,
)
from sklearn_contrasim.datasets._sources._emoji import list_emoji_pairs, render_emoji
from sklearn_contrasim.datasets._sources._fashion_mnist import load_fashion_mnist, read_idx

from _fixtures import needs_fashion_mnist  # noqa: F401 (fixtures)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, compress):
    array = (np.arange(2 * 3 * 4) - 5).astype(">i4").reshape(2, 3, 4)
    header = bytes([0, 0, 0x0C, 3]) + np.array(array.shape, dtype=">u4").tobytes()
    path = tmp_path / ("x-idx3-int.gz" if compress else "x-idx3-int")
    (gzip.open if compress else open)(path, "wb").write(header + array.tobytes())
    read = read_idx(path)
    assert read.shape == (2, 3, 4) and read.dtype == np.int32 and read.dtype.isnative
    np.testing.assert_array_equal(read, array)


def test_read_idx_rejects_bad_files(tmp_path):
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(bytes([1, 2, 3, 4, 0, 0, 0, 1, 7]))
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(bad_magic)
    truncated = tmp_path / "short"
    truncated.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(truncated)


@needs_fashion_mnist
def test_fashion_mnist_shapes_and_labels():
    images, labels = load_fashion_mnist(subset="test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.int64
    # Ten balanced classes, and real pictures (not blank or constant).
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 1000))
    assert images.max() == 255 and 50 < images.mean() < 100
    with pytest.raises(ValueError, match="subset"):
        load_fashion_mnist(subset="validation")


def test_missing_fashion_mnist_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(_fashion_mnist, "FASHION_MNIST_DIR", tmp_path / "nowhere")
    with pytest.raises(MissingDataSourceError, match="dataset-fashion-mnist"):
        load_fashion_mnist()
    with pytest.raises(MissingDataSourceError, match="apt-get install dataset-fashion-mnist"):
        load_layer_prediction(model="mlp", data_home=tmp_path, verbose=False)


# A gtk20-properties message and its German translation, in the Debian catalogs.
KNOWN_MSGID = "Name of the themed icon for this window"


KNOWN_GERMAN = "Name des Themen-Symbols für dieses Fenster"


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


@pytest.fixture(scope="module")
def clipart_pairs():
    return list_clipart_pairs()


def test_clipart_captions_are_real_english_titles(clipart_pairs):
    assert 1300 < len(clipart_pairs) < 1600
    captions = dict(zip(clipart_pairs["image_id"], clipart_pairs["caption"]))
    assert captions["food/fruit/melon_goneri_le_bouder_01"] == "Melon"
    assert captions["people/baby_anthony_liekens_01"].lower().startswith("baby")
    assert not set(clipart_pairs["category"]) & EXCLUDED_CATEGORIES
    lowered = clipart_pairs["caption"].str.lower()
    assert lowered.is_unique
    assert not lowered.str.contains("aiga|clipart by|various cliparts|http|hash\\(").any()
    assert "card" not in set(lowered)  # a generic title used by hundreds of drawings
    assert not lowered.isin(["tazza di caffe", "zanzara", "pesca"]).any()  # Italian titles


def test_clipart_image_is_cropped_to_its_drawing():
    image = open_clipart_image("people/baby_anthony_liekens_01")  # a 794 x 1123 page
    assert image.mode == "RGBA" and image.size[0] < 400 and image.size[1] < 600
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[0].any() and alpha[-1].any() and alpha[:, 0].any() and alpha[:, -1].any()


def test_emoji_pairs_are_captioned_by_unicode_names():
    pairs = list_emoji_pairs()
    captions = dict(zip(pairs["image_id"], pairs["caption"]))
    assert 1200 < len(pairs) < 1500
    assert captions["U+1F600"] == "grinning face"
    assert captions["U+1F436"] == "dog face"
    assert "U+0030" not in captions and "U+1F1E6" not in captions  # digit, regional indicator
    image = render_emoji("U+1F600")
    colours = np.asarray(image.convert("RGB"))[np.asarray(image.getchannel("A")) > 0]
    assert image.mode == "RGBA" and image.size == (136, 128)
    assert (colours[:, 0].astype(int) - colours[:, 2] > 100).mean() > 0.5  # mostly yellow
