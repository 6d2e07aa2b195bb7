"""Checks of the benchmark runners' inputs (representations, names, layers, negatives,
measures and folds) and the anchor-relative representations the runners may compare."""

import inspect
from collections.abc import Mapping
from numbers import Integral

import numpy as np
from sklearn.model_selection import KFold, PredefinedSplit, check_cv
from sklearn.utils import check_random_state

from ..preprocessing import RelativeRepresentation

#: The negatives modes of the retrieval benchmarks.
NEGATIVES = ("random", "hard")
#: The representations the runners compare (``representation=``).
REPRESENTATIONS = ("raw", "relative")


def check_representations(data):
    """Return the per-layer arrays, layer names and test fold of a data set or a plain mapping.

    Parameters
    ----------
    data : Bunch or mapping
        A loader's Bunch (keys ``representations``, ``layer_names``, ``test_fold``), or a
        mapping of name to a list of per-layer arrays (or one array: a single layer).

    Returns
    -------
    representations : dict of str to list of ndarray
    layer_names : dict of str to list of str
    test_fold : ndarray of int or None
        Per row, ``-1`` (training) or the test fold (``0``), as
        :class:`~sklearn.model_selection.PredefinedSplit` takes it; None when ``data``
        has no ``test_fold``.
    """
    if not isinstance(data, Mapping):
        raise TypeError(
            "data must be a data set from sklearn_contrasim.datasets or a mapping of name -> "
            f"list of per-layer arrays, got {type(data).__name__}."
        )
    if "representations" in data:
        raw = data["representations"]
        layer_names, test_fold = data.get("layer_names"), data.get("test_fold")
    else:
        raw, layer_names, test_fold = data, None, None
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(
            "The representations must be a non-empty mapping of name -> per-layer arrays."
        )
    representations = {}
    for name, layers in raw.items():
        layers = [layers] if isinstance(layers, np.ndarray) else list(layers)
        if not layers:
            raise ValueError(f"{name!r} has no layers.")
        arrays = []
        for index, layer in enumerate(layers):
            array = np.asarray(layer)
            if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
                raise ValueError(
                    f"Layer {index} of {name!r} must be a numeric 2-D array (n_samples, width), "
                    f"got shape {array.shape} and dtype {array.dtype}."
                )
            arrays.append(array)
        representations[str(name)] = arrays
    n_rows = {name: {array.shape[0] for array in arrays}
              for name, arrays in representations.items()}
    if len(set().union(*n_rows.values())) != 1:
        raise ValueError(
            "Rows must be aligned across every name and layer (row k = the same example), but "
            f"the numbers of rows differ: {n_rows}."
        )
    if layer_names is None:
        layer_names = {name: [str(index) for index in range(len(arrays))]
                       for name, arrays in representations.items()}
    if test_fold is not None:
        test_fold = np.asarray(test_fold)
        n_samples = next(iter(representations.values()))[0].shape[0]
        if (
            test_fold.shape != (n_samples,)
            or not np.issubdtype(test_fold.dtype, np.integer)
            or (test_fold < -1).any()
        ):
            raise ValueError(
                f"test_fold must hold an integer >= -1 (-1: training row) for each of the "
                f"{n_samples} rows."
            )
    return representations, {name: list(layer_names[name]) for name in representations}, test_fold


def check_names(requested, available, what):
    """Return ``requested`` (all of ``available`` when None) after checking each exists."""
    if requested is None:
        return list(available)
    requested = [requested] if isinstance(requested, str) else list(requested)
    missing = [name for name in requested if name not in available]
    if missing:
        raise ValueError(f"Unknown {what} {missing}; the data holds {list(available)}.")
    return requested


def check_layers(layers, n_layers):
    """Return non-negative layer indices from None (all), an int or a sequence of ints."""
    if layers is None:
        return list(range(n_layers))
    layers = [layers] if isinstance(layers, Integral) else list(layers)
    for layer in layers:
        if not isinstance(layer, Integral) or not -n_layers <= layer < n_layers:
            raise ValueError(f"Layer {layer!r} is not an index of the {n_layers} layers.")
    return sorted({layer % n_layers for layer in layers})


def check_negatives(negatives):
    """Return the negatives modes as a tuple, each ``"random"`` or ``"hard"``."""
    negatives = (negatives,) if isinstance(negatives, str) else tuple(negatives)
    if not negatives or not set(negatives) <= set(NEGATIVES):
        raise ValueError(f"negatives must be 'random', 'hard' or both, got {negatives!r}.")
    return negatives


def check_representation(representation, n_anchors=None):
    """Return the representations to run (``"raw"``, ``"relative"``) as a tuple; check
    ``n_anchors`` unless it is None."""
    kinds = (representation,) if isinstance(representation, str) else tuple(representation)
    if not kinds or not set(kinds) <= set(REPRESENTATIONS):
        raise ValueError(
            f"representation must be 'raw', 'relative' or both, got {representation!r}.")
    if n_anchors is not None and (isinstance(n_anchors, bool)
                                  or not isinstance(n_anchors, Integral) or n_anchors < 1):
        raise ValueError(f"n_anchors must be a positive int, got {n_anchors!r}.")
    return tuple(dict.fromkeys(kinds))


def anchor_transformers(arrays, train_folds, n_anchors, random_state):
    """Fit one :class:`~sklearn_contrasim.preprocessing.RelativeRepresentation` per array,
    once per fold, all on the same anchor examples.

    The anchors of a fold are ``n_anchors`` of its training rows, drawn once (with
    ``random_state``, fold after fold) for every name and layer: each name (model,
    language) describes its rows by its *own* representation of the same anchor examples.
    Each transformer is fitted on the fold's training rows only (anchors and centring
    mean).

    Parameters
    ----------
    arrays : dict of str to list of ndarray
        Name -> per-layer arrays with aligned rows.
    train_folds : sequence of ndarray of int
        The training rows of each fold.
    n_anchors : int
        Anchors per fold, at most the fold's number of training rows.
    random_state : int
        Seed of the anchor draws.

    Returns
    -------
    transformers : list of dict of str to list of RelativeRepresentation
        Per fold, the fitted transformers in the layout of ``arrays``; apply them with
        :func:`relative_arrays` (to ``arrays`` or to the same names' arrays of other
        examples).
    """
    rng = check_random_state(random_state)
    transformers = []
    for fold, train in enumerate(train_folds):
        if n_anchors > len(train):
            raise ValueError(
                f"n_anchors={n_anchors} is more than the {len(train)} training rows of "
                f"fold {fold}; the anchors are drawn from the training rows.")
        anchors = rng.choice(len(train), n_anchors, replace=False)
        transformers.append({
            name: [RelativeRepresentation(anchors=anchors).fit(layer[train]) for layer in layers]
            for name, layers in arrays.items()
        })
    return transformers


def relative_arrays(transformers, arrays):
    """Transform every array of ``arrays`` (name -> per-layer arrays) with its fitted
    transformer of ``transformers`` (one fold of :func:`anchor_transformers`)."""
    return {name: [transformer.transform(layer)
                   for transformer, layer in zip(transformers[name], layers)]
            for name, layers in arrays.items()}


def representation_folds(kind, arrays, train_folds, n_anchors, random_state):
    """``arrays`` as each fold compares them: unchanged (``"raw"``), or their
    anchor-relative representations (``"relative"``, see :func:`anchor_transformers`)."""
    if kind == "raw":
        return [arrays] * len(train_folds)
    return [relative_arrays(transformers, arrays) for transformers
            in anchor_transformers(arrays, train_folds, n_anchors, random_state)]


def row_splits(cv, test_fold, n_samples, random_state):
    """Return the (train rows, test rows) of every fold.

    ``cv=None`` uses the data set's own ``test_fold`` (a
    :class:`~sklearn.model_selection.PredefinedSplit`, one fold) when it has one and a
    shuffled 3-fold :class:`~sklearn.model_selection.KFold` otherwise; an int is a
    shuffled KFold with that many folds; anything else goes through
    :func:`sklearn.model_selection.check_cv` (a splitter or an iterable of splits).
    """
    if cv is None and test_fold is not None:
        cv = PredefinedSplit(test_fold)
    elif cv is None or isinstance(cv, Integral):
        cv = KFold(3 if cv is None else cv, shuffle=True, random_state=random_state)
    folds = list(check_cv(cv).split(np.zeros((n_samples, 1))))
    if not folds:
        raise ValueError("cv gave no split.")
    return folds


def check_measures(measures):
    """Return a dict of name -> measure from None (every measure), a mapping or a sequence.

    A sequence may mix measures and names of the default measures (see
    :func:`default_measures`). A measure is named by its class (``LinearCKA``); when a
    sequence holds several measures of one class, each is named by its class and the
    parameters it sets to other values than their defaults (``LinearCKA`` and
    ``LinearCKA(debiased=True)``). Two measures with the same name are an error: a
    result table keeps one row per measure name.
    """
    from ._presets import default_measures

    if measures is None:
        return default_measures()
    if isinstance(measures, Mapping):
        named = dict(measures)
    else:
        measures = [measures] if isinstance(measures, str) else list(measures)
        defaults = default_measures() if any(isinstance(m, str) for m in measures) else {}
        for measure in measures:
            if isinstance(measure, str) and measure not in defaults:
                raise ValueError(
                    f"Unknown measure {measure!r}; the default measures are {list(defaults)}."
                )
        classes = [type(measure).__name__ for measure in measures if not isinstance(measure, str)]
        names = [
            measure if isinstance(measure, str)
            else _measure_name(measure, with_params=classes.count(type(measure).__name__) > 1)
            for measure in measures
        ]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(
                f"Several measures are named {duplicated}: give each measure once, or pass a "
                "mapping of distinct names to measures."
            )
        named = {name: defaults[measure] if isinstance(measure, str) else measure
                 for name, measure in zip(names, measures)}
    if not named:
        raise ValueError("measures must name at least one measure.")
    for name, measure in named.items():
        if not all(hasattr(measure, method) for method in ("fit", "similarity", "get_params")):
            raise TypeError(
                f"Measure {name!r} must be a similarity estimator (fit, similarity, "
                f"get_params), got {type(measure).__name__}."
            )
    return named


def _measure_name(measure, *, with_params):
    """``Class`` or, ``with_params``, ``Class(param=value, ...)`` with the parameters that
    differ from the defaults of the class's ``__init__``."""
    name = type(measure).__name__
    if not with_params or not hasattr(measure, "get_params"):
        return name
    defaults = {
        parameter.name: parameter.default
        for parameter in inspect.signature(type(measure).__init__).parameters.values()
    }
    changed = [
        f"{key}={value!r}" for key, value in measure.get_params(deep=False).items()
        if key not in defaults or repr(value) != repr(defaults[key])
    ]
    return f"{name}({', '.join(changed)})" if changed else name
