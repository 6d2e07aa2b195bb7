"""Fashion-MNIST as shipped by the Debian package ``dataset-fashion-mnist`` (IDX files)."""

import gzip
from pathlib import Path

import numpy as np

from .._home import require_path

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
# Pixel statistics of the Fashion-MNIST training images (after scaling to [0, 1]).
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530

# IDX type codes (third byte of the magic number) to numpy big-endian dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}



def read_idx(path):
    """Read an array stored in the IDX format (the MNIST file format), gzipped or not.

    Parameters
    ----------
    path : str or path-like
        The file; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    array : ndarray
        The array, with the shape and dtype stored in the file header (converted to
        native byte order).

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn_contrasim.datasets import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> with open(path, "wb") as handle:
    ...     _ = handle.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]))
    >>> read_idx(path)
    array([7, 0, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {data[:4].hex()!r}).")
    dtype, n_dims = _IDX_DTYPES[data[2]], data[3]
    header_end = 4 + 4 * n_dims
    shape = tuple(int(size) for size in np.frombuffer(data[4:header_end], dtype=">u4"))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header_end != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: the header announces shape {shape} "
            f"({expected} bytes) but {len(data) - header_end} bytes follow."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def load_fashion_mnist(*, subset="train", directory=None):
    """Load the Fashion-MNIST images and labels shipped by the Debian package.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        The 60,000 training or the 10,000 test images.
    directory : str or path-like, default=None
        Folder holding the ``*-ubyte.gz`` files; defaults to
        ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``).

    Returns
    -------
    images : ndarray of shape (n_images, 28, 28), dtype uint8
    labels : ndarray of shape (n_images,), dtype int64
        Class indices in ``0..9``.

    Raises
    ------
    MissingDataSourceError
        When the files are missing, naming the Debian package to install.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import load_fashion_mnist
    >>> images, labels = load_fashion_mnist(subset="test")  # doctest: +SKIP
    >>> images.shape, labels.max()  # doctest: +SKIP
    ((10000, 28, 28), 9)
    """
    prefixes = {"train": "train", "test": "t10k"}
    if subset not in prefixes:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}.")
    directory = Path(FASHION_MNIST_DIR if directory is None else directory)
    paths = [
        require_path(
            directory / f"{prefixes[subset]}-{kind}-idx{n_dims}-ubyte.gz",
            debian_package=FASHION_MNIST_PACKAGE,
        )
        for kind, n_dims in (("images", 3), ("labels", 1))
    ]
    images, labels = (read_idx(path) for path in paths)
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise ValueError(
            f"Fashion-MNIST files disagree: images {images.shape}, labels {labels.shape}."
        )
    return images, labels.astype(np.int64)


def fashion_mnist_tensor(images):
    """Scale uint8 images of shape (n, 28, 28) to a standardised float tensor (n, 1, 28, 28)."""
    import torch

    pixels = torch.as_tensor(np.asarray(images, dtype=np.float32) / 255.0)
    return ((pixels - FASHION_MNIST_MEAN) / FASHION_MNIST_STD).unsqueeze(1)
