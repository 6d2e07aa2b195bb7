"""The layer-prediction benchmark: find layer l of one seed among the layers of another."""

import time
import warnings
from itertools import combinations
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, check_cv

from ..measures import pairwise_similarity
from ._inputs import (
    check_layers,
    check_measures,
    check_names,
    check_representation,
    check_representations,
    representation_folds,
    row_splits,
)
from ._results import results_frame
from ._tasks import Task, is_set_level, run_tasks, seeded_clone

HELDOUT = ("examples", "seeds")

#: The columns of the similarity table that ``return_similarities=True`` adds.
SIMILARITY_COLUMNS = [
    "benchmark", "dataset", "representation", "heldout", "fold", "x", "y", "measure",
    "layer_x", "layer_y", "similarity",
]


def layer_prediction(
    data,
    measures=None,
    *,
    models=None,
    layers=None,
    heldout=HELDOUT,
    representation="raw",
    n_anchors=256,
    cv=None,
    model_cv=None,
    dataset="custom",
    n_jobs=None,
    random_state=0,
    verbose=False,
    return_similarities=False,
):
    """Layer-prediction benchmark: is layer l of one model most similar to layer l of another?

    Models of one architecture trained from different seeds are compared pairwise: for
    each test pair of models ``(A, B)`` and each layer ``l`` of ``A``, a measure's
    prediction is the layer of ``B`` it finds most similar to ``l`` on held-out examples;
    it is correct only when that layer is ``l`` and it strictly beats every other layer
    (ties count as misses). Chance is ``1 / n_layers``.

    Measures with a set-level training API (``fit_sets``, such as ContraSim's) are trained
    once per fold on the *training* examples of the training models, then score every
    pair of test models on the *test* examples. Other measures must need no training
    (the closed-form measures of :mod:`sklearn_contrasim.measures`; a learned measure
    without set-level training is an error that names it): they are evaluated on the
    test examples. Grids are computed with
    :func:`~sklearn_contrasim.measures.pairwise_similarity`.

    With ``representation="relative"``, every measure (closed-form and learned) compares
    anchor-relative representations
    (:class:`~sklearn_contrasim.preprocessing.RelativeRepresentation`) instead of the raw
    layers: in each example fold, ``n_anchors`` anchor examples are
    drawn once from the fold's *training* rows (with ``random_state``, the same for every
    model and layer), and each layer of each model becomes the cosines of its rows to that
    model's own representation of the anchor examples (centred with the mean of its
    training rows). Layers of seeds whose neurons differ by a rotation then become
    comparable, so a learned measure can be tested on seeds it never saw.

    Two held-out settings (``heldout``):

    - ``"examples"``: train on the training examples of every model, test on the test
      examples of every pair of models (the paper's protocol).
    - ``"seeds"``: split the *models* with ``model_cv``; train on the training examples
      of the training models, test on pairs of models never seen in training.

    Parameters
    ----------
    data : Bunch or mapping
        :func:`~sklearn_contrasim.datasets.load_layer_prediction`'s output, or a mapping
        of model name -> list of per-layer arrays with aligned rows (the same examples).
    measures : mapping, sequence or None, default=None
        Name -> measure, a sequence of measures and/or default measure names, or None for
        every measure of :func:`default_measures`.
    models : sequence of str, default=None
        Models used (all when None), in the order that orients the pairs: ``A`` comes
        before ``B``.
    layers : sequence of int, default=None
        Layers used (all when None); the candidates of every prediction.
    heldout : {"examples", "seeds"} or tuple of them, default=("examples", "seeds")
        Held-out settings to run.
    representation : {"raw", "relative"} or tuple of them, default="raw"
        Representations the measures compare: the layers themselves, their
        anchor-relative representations, or both (a ``representation`` column tells
        their rows apart).
    n_anchors : int, default=256
        Number of anchor examples of ``representation="relative"``, drawn from the
        training rows of each example fold (at most the fold's number of training rows).
    cv : int, splitter, iterable or None, default=None
        Split over examples: None uses the data set's ``test_fold`` (a shuffled 3-fold KFold
        for a plain mapping), an int a shuffled KFold, or any
        :mod:`sklearn.model_selection` splitter or iterable of (train, test) indices.
    model_cv : int, splitter or None, default=None
        Split over models for ``heldout="seeds"``, applied with each model as its own
        group: None is ``GroupKFold(n_models // 2)``, an int a GroupKFold with that many
        folds. Every fold must keep at least two training and two test models. Each
        model fold is combined with each example fold.
    dataset : str, default="custom"
        Name of the data set in the table.
    n_jobs : int, default=None
        Fits and grids run in parallel with :class:`joblib.Parallel` (any joblib backend).
    random_state : int, default=0
        Seed of the folds and of measures whose ``random_state`` is None.
    verbose : bool, default=False
        Show a progress bar.
    return_similarities : bool, default=False
        Also return every similarity the predictions were made from.

    Returns
    -------
    results : pandas.DataFrame
        One row per (representation, held-out setting, fold, model pair, layer of ``A``,
        measure) with
        the columns of :data:`RESULT_COLUMNS`: ``accuracy`` and ``n_hits`` are 1 or 0
        (one decision),
        ``negatives`` is ``"layers"`` (the other layers of ``B``), ``trained_on`` names
        the training models of learned measures (empty for closed-form ones).
    similarities : pandas.DataFrame
        Only when ``return_similarities=True``: one row per cell of every grid, with the
        columns of :data:`SIMILARITY_COLUMNS`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.benchmarks import layer_prediction
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> rng = np.random.RandomState(0)
    >>> layers = [rng.randn(90, 8) for _ in range(3)]
    >>> def seed_model():  # the same layers, each in its own rotated basis
    ...     return [layer @ np.linalg.qr(rng.randn(8, 8))[0] for layer in layers]
    >>> data = {f"seed{s}": seed_model() for s in range(4)}
    >>> results = layer_prediction(data, [LinearCKA()], cv=3)
    >>> results.groupby("heldout").accuracy.mean().round(2).to_dict()
    {'examples': 1.0, 'seeds': 1.0}
    """
    representations, layer_names, test_fold = check_representations(data)
    models = check_names(models, representations, "models")
    n_layers = {len(representations[model]) for model in models}
    if len(n_layers) != 1:
        raise ValueError("Every model must have the same layers (one architecture, several seeds).")
    layers = check_layers(layers, n_layers.pop())
    if len(layers) < 2:
        raise ValueError("Layer prediction needs at least two candidate layers.")
    heldout = (heldout,) if isinstance(heldout, str) else tuple(heldout)
    if not heldout or not set(heldout) <= set(HELDOUT):
        raise ValueError(f"heldout must be 'examples', 'seeds' or both, got {heldout!r}.")
    kinds = check_representation(representation, n_anchors)
    measures = check_measures(measures)
    n_samples = representations[models[0]][0].shape[0]
    row_folds = row_splits(cv, test_fold, n_samples, random_state)
    settings = _settings(heldout, models, len(row_folds), model_cv)
    # The whole arrays, not row slices: tasks slice rows themselves, so no copy is made
    # per task here, and joblib memory-maps each array once for all workers.
    arrays = {model: [representations[model][layer] for layer in layers] for model in models}
    tasks = []
    for kind in kinds:
        fold_arrays = representation_folds(kind, arrays, [train for train, _ in row_folds],
                                           n_anchors, random_state)
        tasks += [
            task for name, measure in measures.items()
            for task in _measure_tasks(name, measure, settings, row_folds, fold_arrays,
                                       random_state, kind)
        ]
    outputs = run_tasks(tasks, n_jobs=n_jobs, verbose=verbose, description="layer prediction")
    rows, similarities = [], []
    for task, output in zip(tasks, outputs):
        if output is None:  # an inapplicable measure
            continue
        fit_time, grids = output
        for setting in task.context["settings"]:
            context = dict(
                benchmark="layer_prediction", dataset=dataset,
                representation=task.context["representation"], heldout=setting["heldout"],
                fold=setting["fold"], trained_on=task.context["trained_on"],
                measure=task.context["measure"],
            )
            for pair in setting["pairs"]:
                grid, score_time = grids[pair]
                rows.extend(_prediction_rows(context, pair, grid, layers, layer_names[pair[0]],
                                             fit_time=fit_time, score_time=score_time))
                if return_similarities:
                    similarities.extend(_similarity_rows(context, pair, grid, layers))
    results = results_frame(rows)
    if return_similarities:
        return results, pd.DataFrame(similarities, columns=SIMILARITY_COLUMNS)
    return results


def _settings(heldout, models, n_row_folds, model_cv):
    """Every (held-out setting, fold): its example fold, training models and test pairs."""
    settings = []
    if "examples" in heldout:
        settings += [dict(heldout="examples", fold=fold, row_fold=fold, train_models=models,
                          pairs=list(combinations(models, 2)))
                     for fold in range(n_row_folds)]
    if "seeds" in heldout:
        combined = [(model_fold, row_fold) for model_fold in _model_splits(model_cv, models)
                    for row_fold in range(n_row_folds)]
        for fold, (model_fold, row_fold) in enumerate(combined):
            train_models, test_models = ([models[i] for i in part] for part in model_fold)
            settings.append(dict(heldout="seeds", fold=fold, row_fold=row_fold,
                                 train_models=train_models,
                                 pairs=list(combinations(test_models, 2))))
    return settings


def _measure_tasks(name, measure, settings, row_folds, fold_arrays, random_state,
                   representation):
    """The tasks of one measure on one representation (``fold_arrays[row_fold]``: the
    arrays of each example fold): a set-level measure is fitted once per setting and fold
    on its training models; another measure learns nothing from them, so it computes one
    grid per (example fold, pair), shared by every setting that tests that pair."""
    if is_set_level(measure):
        groups = [(setting["row_fold"], [setting], setting["train_models"])
                  for setting in settings]
    else:
        row_fold_settings = {}
        for setting in settings:
            row_fold_settings.setdefault(setting["row_fold"], []).append(setting)
        groups = [(row_fold, served, None) for row_fold, served in row_fold_settings.items()]
    tasks = []
    for row_fold, served, train_models in groups:
        train, test = row_folds[row_fold]
        arrays = fold_arrays[row_fold]
        pairs = list(dict.fromkeys(pair for setting in served for pair in setting["pairs"]))
        tasks.append(Task(
            _fit_and_grids,
            dict(
                measure=seeded_clone(measure, random_state),
                train_sets=None if train_models is None else {
                    model: arrays[model] for model in train_models},
                train_rows=train,
                test_pairs=[(pair, arrays[pair[0]], arrays[pair[1]]) for pair in pairs],
                test_rows=test,
            ),
            dict(measure=name, representation=representation,
                 trained_on=",".join(train_models or ()), settings=served,
                 tested=", ".join(f"{setting['heldout']} fold {setting['fold']}"
                                  for setting in served)),
        ))
    return tasks


def _prediction_rows(context, pair, grid, layers, layer_names, *, fit_time, score_time):
    """One row per layer of ``pair[0]``: a hit when its own layer of ``pair[1]`` is the
    strictly most similar one."""
    rows = []
    for position, layer in enumerate(layers):
        hit = int(grid[position, position] > np.delete(grid[position], position).max())
        rows.append({
            **context, "x": pair[0], "y": pair[1], "layer": layer,
            "layer_name": layer_names[layer], "negatives": "layers", "accuracy": float(hit),
            "n_hits": hit, "n_decisions": 1, "chance": 1 / len(layers),
            "fit_time": fit_time, "score_time": score_time,
        })
    return rows


def _similarity_rows(context, pair, grid, layers):
    """One row per cell of a pair's layer × layer grid (the columns of
    :data:`SIMILARITY_COLUMNS`)."""
    return [
        {**context, "x": pair[0], "y": pair[1], "layer_x": layer_x, "layer_y": layer_y,
         "similarity": float(grid[i, j])}
        for i, layer_x in enumerate(layers) for j, layer_y in enumerate(layers)
    ]


def _model_splits(model_cv, models):
    """Return the (train, test) model indices of every fold; each side needs two models."""
    n_models = len(models)
    if model_cv is None or isinstance(model_cv, Integral):
        n_splits = n_models // 2 if model_cv is None else model_cv
        if n_splits < 2:
            raise ValueError(
                "Holding out seeds needs at least four models (two to train on, two never "
                f"seen in training to test on), got {n_models}."
            )
        model_cv = GroupKFold(n_splits)
    with warnings.catch_warnings():
        # Splitters without groups (KFold) warn that they ignore them; each model is a group.
        warnings.filterwarnings("ignore", message="The groups parameter is ignored")
        folds = list(check_cv(model_cv).split(np.zeros((n_models, 1)), groups=np.arange(n_models)))
    for train, test in folds:
        if len(train) < 2 or len(test) < 2:
            raise ValueError(
                "Every model fold must keep at least two training models and two test models "
                f"(a pair of unseen seeds); a fold has {len(train)} and {len(test)}."
            )
    return folds


def _fit_and_grids(measure, train_sets, train_rows, test_pairs, test_rows):
    """Fit a set-level measure on the training rows of the training models' layers (no fit
    when ``train_sets`` is None); return its fit time and the test grids (one pair at a
    time, on the test rows)."""
    fit_time = 0.0
    if train_sets is not None:
        start = time.perf_counter()
        measure.fit_sets({model: [layer[train_rows] for layer in model_layers]
                          for model, model_layers in train_sets.items()})
        fit_time = time.perf_counter() - start
    grids = {}
    for pair, Xs, Ys in test_pairs:
        start = time.perf_counter()
        grid = pairwise_similarity(measure, [X[test_rows] for X in Xs], [Y[test_rows] for Y in Ys])
        grids[pair] = grid, time.perf_counter() - start
    return fit_time, grids
