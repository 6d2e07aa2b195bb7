"""Build-once caching of data sets made of named arrays plus JSON metadata."""

import json
import os
import tempfile
from pathlib import Path

import numpy as np


def load_or_build(path, build, *, force=False):
    """Load the arrays and metadata cached at ``path``, building and caching them first if needed.

    Parameters
    ----------
    path : path-like
        Cache folder of this data set (holds ``arrays.npz`` and ``meta.json``).
    build : callable
        ``build() -> (arrays, meta)`` with ``arrays`` a dict of name to ndarray and
        ``meta`` a JSON-serialisable dict. Called only when the cache is missing.
    force : bool, default=False
        Rebuild even when a cache exists.

    Returns
    -------
    arrays : dict of str to ndarray
    meta : dict
        With the key ``"from_cache"`` telling whether the cache was used.
    """
    path = Path(path)
    arrays_file, meta_file = path / "arrays.npz", path / "meta.json"
    from_cache = arrays_file.exists() and meta_file.exists() and not force
    if not from_cache:
        arrays, meta = build()
        path.mkdir(parents=True, exist_ok=True)
        # Write to temporary names then rename, so an interrupted build never leaves a
        # half-written cache that a later call would trust.
        with tempfile.NamedTemporaryFile(dir=path, suffix=".npz", delete=False) as handle:
            np.savez(handle, **arrays)
        os.replace(handle.name, arrays_file)
        with tempfile.NamedTemporaryFile("w", dir=path, suffix=".json", delete=False) as handle:
            json.dump(meta, handle)
        os.replace(handle.name, meta_file)
    with np.load(arrays_file, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(meta_file.read_text())
    meta["from_cache"] = from_cache
    return arrays, meta
