"""Shared machinery of the benchmark runners: inputs, measures, splits, parallel fits, rows.

Every runner builds a list of independent *tasks* (one fit of one measure and the scores
that follow from it), runs them with :class:`joblib.Parallel`, and turns what they
return into rows of one tidy table. A task receives everything it needs as arguments
(its arrays, a clone of its measure, fixed seeds), so the result does not depend on
where or in which order tasks run: under ``joblib.parallel_backend("dask")`` the same
call gives the same table on a Dask cluster.
"""

import time
import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import KFold, PredefinedSplit, check_cv
from sklearn.utils import get_tags
from tqdm.auto import tqdm

from ..metrics import retrieval_accuracy

#: The columns of every runner's result table, in order.
RESULT_COLUMNS = [
    "benchmark",
    "dataset",
    "heldout",
    "fold",
    "trained_on",
    "x",
    "y",
    "layer",
    "layer_name",
    "measure",
    "negatives",
    "accuracy",
    "n_decisions",
    "chance",
    "fit_time",
    "score_time",
]

NEGATIVES = ("random", "hard")


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


def run_tasks(tasks, *, n_jobs, verbose, description):
    """Run ``(function, kwargs)`` tasks with joblib and return their results, in order.

    A task whose measure cannot compare its inputs (a ``ValueError``, for example a
    row-wise measure given sets of different widths) gives ``None`` and a warning that
    names the measure and the reason, so that one inapplicable measure does not stop a
    whole benchmark; its rows are absent from the table. Warnings raised inside a task
    (in a worker process, possibly on another machine) are re-emitted here, in the
    caller, so that the caller's warning filters apply to them.
    """
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_run_task)(function, kwargs) for function, kwargs in tasks
    )
    outputs = list(tqdm(outputs, total=len(tasks), desc=description, disable=not verbose))
    results = []
    for (_, kwargs), (result, task_warnings) in zip(tasks, outputs):
        for category, message in task_warnings:
            warnings.warn(message, category, stacklevel=3)
        if isinstance(result, _Inapplicable):
            warnings.warn(
                f"{description}: {type(kwargs['measure']).__name__} skipped: {result.reason}",
                UserWarning, stacklevel=3,
            )
            result = None
        results.append(result)
    return results


class _Inapplicable:
    """What a task returns when its measure cannot compare its inputs."""

    def __init__(self, reason):
        self.reason = reason


def _run_task(function, kwargs):
    """Run one task; return its result (or ``_Inapplicable``) and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(**kwargs)
        except ValueError as error:
            result = _Inapplicable(str(error))
    return result, [(record.category, str(record.message)) for record in caught]


def is_closed_form(measure):
    """Whether ``measure`` learns nothing in ``fit`` (its tag ``requires_fit`` is False),
    so its scores do not depend on the data it was fitted on."""
    return not get_tags(measure).requires_fit


def is_set_level(measure):
    """Whether ``measure`` can be fitted at set level (its tag
    ``similarity_tags.set_level``: it offers ``fit_sets``)."""
    similarity_tags = getattr(get_tags(measure), "similarity_tags", None)
    return bool(similarity_tags and similarity_tags.set_level)


def seeded_clone(measure, random_state):
    """Clone ``measure``; a clone whose ``random_state`` is None gets the runner's seed."""
    measure = clone(measure)
    if measure.get_params(deep=False).get("random_state", 0) is None:
        measure.set_params(random_state=random_state)
    return measure


def fit_and_retrieve(measure, X, y, tests, *, train_rows, test_rows, negatives, retrieval):
    """Fit ``measure`` (a clone) on training rows, then run the retrieval protocol on tests.

    Every array is a whole paired set and the rows are chosen here, in the worker, so
    that a task carries references to the caller's arrays and not copies of its rows:
    joblib then sends (or memory-maps) each array once, whatever the number of tasks.

    Parameters
    ----------
    measure : BaseSimilarity
        Unfitted measure, fitted here (the caller passes a clone).
    X, y : ndarray
        Paired representations the measure is trained on.
    tests : list of (key, X_test, y_test)
        Paired representations scored with every mode of ``negatives``.
    train_rows, test_rows : ndarray of int
        Rows of ``X, y`` to train on and rows of each test pair to score.
    negatives : tuple of str
    retrieval : dict
        Keyword arguments of :func:`~sklearn_contrasim.metrics.retrieval_accuracy`.

    Returns
    -------
    scores : list of dict
        One per (test, negatives): ``key``, ``negatives``, ``accuracy``,
        ``n_decisions``, ``fit_time`` (the fit, shared by every test) and ``score_time``.
    """
    start = time.perf_counter()
    measure = measure.fit(X[train_rows], y[train_rows])
    fit_time = time.perf_counter() - start
    scores = []
    for key, X_test, y_test in tests:
        X_test, y_test = X_test[test_rows], y_test[test_rows]
        for mode in negatives:
            start = time.perf_counter()
            accuracy, hits = retrieval_accuracy(
                measure, X_test, y_test, negatives=mode, return_hits=True, **retrieval
            )
            scores.append(
                dict(key=key, negatives=mode, accuracy=accuracy, n_decisions=int(hits.size),
                     fit_time=fit_time, score_time=time.perf_counter() - start)
            )
    return scores


def retrieval_rows(contexts, outputs):
    """Merge each task's context with its scores into table rows.

    A score's ``key`` is the ``(x, y)`` names of its test pair; ``None`` keeps the
    context's own ``x`` and ``y``. A skipped task (``None``) gives no rows.
    """
    rows = []
    for context, scores in zip(contexts, outputs):
        for score in scores or ():
            row = {**context, **score}
            key = row.pop("key")
            if key is not None:
                row["x"], row["y"] = key
            rows.append(row)
    return rows


def results_frame(rows):
    """Return the tidy result table (the documented columns, in order) of a list of row dicts."""
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def check_measures(measures):
    """Return a dict of name -> measure from None (every measure), a mapping or a sequence.

    A sequence may mix measures (named by their class) and names of the default measures
    (see :func:`default_measures`).
    """
    from ._presets import default_measures

    if measures is None:
        return default_measures()
    if isinstance(measures, Mapping):
        named = dict(measures)
    else:
        measures = [measures] if isinstance(measures, str) else list(measures)
        defaults = default_measures() if any(isinstance(m, str) for m in measures) else {}
        named = {}
        for measure in measures:
            if isinstance(measure, str):
                if measure not in defaults:
                    raise ValueError(
                        f"Unknown measure {measure!r}; the default measures are {list(defaults)}."
                    )
                named[measure] = defaults[measure]
            else:
                named[type(measure).__name__] = measure
    if not named:
        raise ValueError("measures must name at least one measure.")
    for name, measure in named.items():
        if not all(hasattr(measure, method) for method in ("fit", "similarity", "get_params")):
            raise TypeError(
                f"Measure {name!r} must be a similarity estimator (fit, similarity, "
                f"get_params), got {type(measure).__name__}."
            )
    return named
