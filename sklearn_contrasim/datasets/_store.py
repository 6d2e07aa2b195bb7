"""One store for every built data set and seed checkpoint.

- one key scheme: :func:`content_key`, a hash of the JSON settings that fix the content;
- one codec: representations (name -> list of per-layer arrays) and per-row arrays in
  ``arrays.npz``, JSON metadata in ``meta.json``;
- one writer, :func:`write_file`: a temporary file renamed into place (an interrupted
  build never leaves a half-written file), readable by everyone the umask allows (0644
  by default), cleaned up on every failure, a full disk reported with the folder; each
  file gets a ``<name>.sha256`` checksum that :func:`read_file` verifies, so a damaged
  file is rebuilt (with a :class:`CorruptCacheWarning`) instead of trusted forever.
"""

import contextlib
import errno
import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

# Part of every data-set key: a change of the cache layout makes old entries unreachable.
CACHE_FORMAT = 2
_CHUNK = 1 << 20


class CorruptCacheWarning(UserWarning):
    """A cached file failed its checksum or could not be read, so it is rebuilt.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import CorruptCacheWarning
    >>> issubclass(CorruptCacheWarning, UserWarning)
    True
    """


class _CorruptFile(Exception):
    """A cached file whose checksum does not match or that cannot be read."""


def content_key(settings):
    """A short stable name for JSON-serialisable ``settings`` (a cache folder or file name).

    Examples
    --------
    >>> from sklearn_contrasim.datasets._store import content_key
    >>> content_key({"b": 1, "a": [2, 3]}) == content_key({"a": [2, 3], "b": 1})
    True
    >>> len(content_key({"a": 1}))
    12
    """
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _checksum_path(path):
    return path.with_name(path.name + ".sha256")


def _write_new(path, write):
    """Create ``path`` (mode 0666 minus the umask, unlike tempfile's 0600) and fill it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(descriptor, "wb") as handle:
        write(handle)


def _replace(path, write):
    """Write ``path`` through a temporary file renamed into place, removed on any failure."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        _write_new(temporary, write)
        os.replace(temporary, path)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise OSError(
                errno.ENOSPC,
                f"No space left on the device of {path.parent} while writing {path.name}: "
                "free some space there, or choose another data home (data_home= or the "
                "SKLEARN_CONTRASIM_DATA environment variable).",
            ) from exc
        raise
    finally:
        temporary.unlink(missing_ok=True)


def write_file(path, write):
    """Write a cache file atomically, with its checksum next to it.

    Parameters
    ----------
    path : path-like
        The file; its folder is created when missing.
    write : callable
        ``write(handle)`` writes the content to a binary file handle.

    Raises
    ------
    OSError
        With ``errno.ENOSPC`` and a message naming the folder when the disk is full.
        No temporary file is left behind, whatever the error.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, write)
    _write_checksum(path)


def _write_checksum(path):
    digest = _sha256(path).encode("ascii")
    _replace(_checksum_path(path), lambda handle: handle.write(digest))


def read_file(path, read):
    """Read a cache file written by :func:`write_file` after verifying its checksum.

    A file without a checksum (written before checksums existed) is read and, when
    readable, given one.

    Parameters
    ----------
    path : path-like
    read : callable
        ``read(path)`` returns the content.

    Raises
    ------
    _CorruptFile
        When the checksum does not match or ``read`` fails.
    """
    path = Path(path)
    checksum = _checksum_path(path)
    try:
        expected = checksum.read_text(encoding="ascii").strip() if checksum.exists() else None
        if expected is not None and _sha256(path) != expected:
            raise _CorruptFile(f"{path} does not match its checksum")
        content = read(path)
    except _CorruptFile:
        raise
    except Exception as exc:  # any failure to read (zip, JSON, torch or OS errors)
        raise _CorruptFile(f"{path} cannot be read ({type(exc).__name__}: {exc})") from exc
    if expected is None:
        with contextlib.suppress(OSError):  # e.g. a data home that is not ours to write
            _write_checksum(path)
    return content


def warn_corrupt(error):
    """Warn that a corrupt cached file is rebuilt."""
    warnings.warn(f"{error}; rebuilding it.", CorruptCacheWarning, stacklevel=3)


def _encode(representations, arrays):
    """The npz members of representations (name -> list of arrays) and per-row arrays."""
    members = {f"arrays/{name}": value for name, value in arrays.items()}
    for name, layers in representations.items():
        members.update({f"representations/{name}/{k}": layer for k, layer in enumerate(layers)})
    return members


def _decode(npz, names):
    """Inverse of :func:`_encode`; ``names`` orders the representations."""
    layers, arrays = {name: {} for name in names}, {}
    for member in npz.files:
        group, _, rest = member.partition("/")
        if group == "arrays":
            arrays[rest] = npz[member]
        else:
            name, _, layer = rest.rpartition("/")
            layers[name][int(layer)] = npz[member]
    representations = {
        name: [by_layer[k] for k in range(len(by_layer))] for name, by_layer in layers.items()
    }
    return representations, arrays


def _read_npz(path, names):
    with np.load(path, allow_pickle=False) as npz:
        return _decode(npz, names)


def load_or_build(folder, build, *, force=False):
    """Read a data set cached in ``folder``, building and caching it first when needed.

    Parameters
    ----------
    folder : path-like
        The cache folder (``arrays.npz``, ``meta.json`` and their checksums).
    build : callable
        ``build() -> (representations, arrays, meta)``: name -> list of per-layer
        arrays, name -> per-row array, and a JSON-serialisable dict. Called when the
        cache is missing, corrupt (a :class:`CorruptCacheWarning` says so) or ``force``.
    force : bool, default=False
        Rebuild even when a valid cache exists.

    Returns
    -------
    representations : dict of str to list of ndarray
    arrays : dict of str to ndarray
    meta : dict
    from_cache : bool
        Whether the cache was read.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_contrasim.datasets._store import load_or_build
    >>> folder = tempfile.mkdtemp()
    >>> def build():
    ...     return {"a": [np.zeros((2, 3))]}, {"labels": np.arange(2)}, {"note": "toy"}
    >>> load_or_build(folder, build)[3], load_or_build(folder, build)[3]
    (False, True)
    """
    folder = Path(folder)
    arrays_file, meta_file = folder / "arrays.npz", folder / "meta.json"
    if not force and (arrays_file.exists() or meta_file.exists()):
        try:
            meta = read_file(meta_file, lambda path: json.loads(path.read_text("utf-8")))
            representations, arrays = read_file(
                arrays_file, lambda path: _read_npz(path, meta["representation_names"])
            )
            return representations, arrays, meta["meta"], True
        except _CorruptFile as error:
            warn_corrupt(error)
    representations, arrays, meta = build()
    members = _encode(representations, arrays)
    write_file(arrays_file, lambda handle: np.savez(handle, **members))
    stored = json.dumps({"representation_names": list(representations), "meta": meta})
    write_file(meta_file, lambda handle: handle.write(stored.encode("utf-8")))
    return representations, arrays, meta, False


def representation_bunch(representations, layer_names, test_fold, **extra):
    """The Bunch every loader returns: per-layer arrays, layer names, split, extra keys.

    Parameters
    ----------
    representations : dict of str to list of ndarray
        Name -> one array of shape ``(n_samples, width)`` per layer.
    layer_names : list of str or dict of str to list of str
        The layer names, shared by every name or per name.
    test_fold : ndarray of int of shape (n_samples,)
        ``-1`` for training rows and ``0`` for test rows
        (:class:`sklearn.model_selection.PredefinedSplit`'s encoding).
    **extra
        The loader's other keys.

    Returns
    -------
    data : sklearn.utils.Bunch

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.datasets._store import representation_bunch
    >>> data = representation_bunch({"a": [np.zeros((2, 3))]}, ["layer1"], np.array([-1, 0]))
    >>> data.layer_names, data.test_fold.tolist()
    ({'a': ['layer1']}, [-1, 0])
    """
    if not isinstance(layer_names, dict):
        layer_names = {name: list(layer_names) for name in representations}
    return Bunch(
        representations=representations,
        layer_names={name: list(layer_names[name]) for name in representations},
        test_fold=np.asarray(test_fold),
        **extra,
    )
