"""The image-caption benchmark: retrieve a chunk's captions among mismatched ones, on
held-out pairs of one data set or on another data set (cross-domain transfer)."""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from ._inputs import (
    anchor_transformers,
    check_layers,
    check_measures,
    check_names,
    check_negatives,
    check_representation,
    check_representations,
    relative_arrays,
    representation_folds,
    row_splits,
)
from ._results import results_frame
from ._tasks import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_N_NEGATIVES,
    Task,
    fit_and_retrieve,
    hard_negatives,
    retrieval_protocol,
    retrieval_rows,
    run_tasks,
    seeded_clone,
)


def image_caption(
    data,
    measures=None,
    *,
    image_models=None,
    text_models=None,
    layer=-1,
    representation="raw",
    n_anchors=256,
    cv=None,
    negatives=("random", "hard"),
    chunk_size=DEFAULT_CHUNK_SIZE,
    n_negatives=DEFAULT_N_NEGATIVES,
    n_repeats=1,
    dataset="custom",
    n_jobs=None,
    random_state=0,
    verbose=False,
):
    """Image-caption benchmark: do a measure's scores pair images with their own captions?

    For every image model × text model and every fold, each measure is fitted on the
    training pairs (image features as ``X``, caption features as ``y``) and scored on the
    held-out pairs with the 1-vs-k protocol of
    :func:`~sklearn_contrasim.metrics.retrieval_accuracy`: a chunk of images must be more
    similar to its own captions than to each of ``n_negatives`` chunks of other captions
    (``"random"``: drawn at random; ``"hard"``: each caption replaced by one of its
    nearest neighbours in the text model's representation). Chance is
    ``1 / (n_negatives + 1)``.

    With ``representation="relative"``, every measure (closed-form and learned) compares
    anchor-relative representations
    (:class:`~sklearn_contrasim.preprocessing.RelativeRepresentation`) instead of the raw
    features: in each fold, ``n_anchors`` anchor pairs are drawn once from the fold's
    *training* pairs (with ``random_state``, the same for every model), and each image is
    described by its cosines to the image model's features of the anchor images, each
    caption by its cosines to the text model's features of the anchor captions (centred
    with the mean of the model's training rows). Column ``j`` of both sides then refers
    to the same pair, so an image model and a text model are aligned without training
    (zero-shot); a learned measure still trains on the training pairs. The hard negatives
    are searched in the raw caption features, so that both representations are scored on
    the same decisions. :func:`image_caption_transfer` tests on another data set.

    Parameters
    ----------
    data : Bunch or mapping
        :func:`~sklearn_contrasim.datasets.load_image_caption`'s output, or a mapping of
        model name -> list of per-layer arrays with aligned rows (row ``k`` = pair ``k``).
    measures : mapping, sequence or None, default=None
        Name -> measure, a sequence of measures and/or default measure names, or None for
        every measure of :func:`default_measures`.
    image_models, text_models : sequence of str, default=None
        The models of each side; the data set's ``image_models`` / ``text_models`` when
        None (required for a plain mapping).
    layer : int, default=-1
        The layer of every model compared (``-1``: the final layer, as in the paper).
    representation : {"raw", "relative"} or tuple of them, default="raw"
        Representations the measures compare: the features themselves, their
        anchor-relative representations, or both (a ``representation`` column tells
        their rows apart).
    n_anchors : int, default=256
        Number of anchor pairs of ``representation="relative"``, drawn from the training
        pairs of each fold (at most the fold's number of training pairs).
    cv : int, splitter, iterable or None, default=None
        Split over pairs: None uses the data set's ``test_fold`` (a shuffled 3-fold KFold for
        a plain mapping), an int a shuffled KFold, or any
        :mod:`sklearn.model_selection` splitter or iterable of (train, test) indices.
    negatives : {"random", "hard"} or tuple of them, default=("random", "hard")
        The negatives of the retrieval protocol.
    chunk_size : int, default=32
        Pairs per chunk, the default of
        :func:`~sklearn_contrasim.metrics.retrieval_accuracy` (the paper uses 64 with
        5,000 test pairs; smaller chunks give more decisions on smaller test sets).
    n_negatives : int, default=10
        Negative chunks per decision.
    n_repeats : int, default=1
        Independent shuffles of the test pairs, pooled.
    dataset : str, default="custom"
        Name of the data set in the table.
    n_jobs : int, default=None
        Fits run in parallel with :class:`joblib.Parallel` (any joblib backend).
    random_state : int, default=0
        Seed of the folds, the retrieval protocol and measures whose
        ``random_state`` is None.
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    results : pandas.DataFrame
        One row per (representation, image model, text model, fold, measure, negatives)
        with the columns
        of :data:`RESULT_COLUMNS`: ``x`` is the image model, ``y`` the text model,
        ``heldout`` is ``"pairs"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.benchmarks import image_caption
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> rng = np.random.RandomState(0)
    >>> images = rng.randn(120, 6)
    >>> rotation = np.linalg.qr(rng.randn(6, 6))[0]  # captions: the images, rotated
    >>> data = {"vision": [images], "text": [images @ rotation]}
    >>> results = image_caption(data, {"CKA": LinearCKA()}, image_models=["vision"],
    ...                         text_models=["text"], chunk_size=8, cv=2)
    >>> results.groupby("negatives").accuracy.mean().round(2).to_dict()
    {'hard': 1.0, 'random': 1.0}
    """
    models, layer_names, test_fold = _paired_models(data, image_models, text_models, layer)
    kinds = check_representation(representation, n_anchors)
    negatives = check_negatives(negatives)
    measures = check_measures(measures)
    folds = row_splits(cv, test_fold, models.n_samples, random_state)
    train_folds = [train for train, _ in folds]
    tasks = []
    for kind in kinds:
        fold_arrays = representation_folds(kind, models.arrays, train_folds, n_anchors,
                                           random_state)
        for fold, (train, test) in enumerate(folds):
            tasks += _retrieval_tasks(
                measures, models, layer_names, train=(fold_arrays[fold], train),
                test=(fold_arrays[fold], test), raw_test=models.arrays,
                context=dict(dataset=dataset, representation=kind, heldout="pairs", fold=fold,
                             trained_on="train pairs"),
                negatives=negatives, chunk_size=chunk_size, n_negatives=n_negatives,
                n_repeats=n_repeats, random_state=random_state)
    outputs = run_tasks(tasks, n_jobs=n_jobs, verbose=verbose, description="image-caption")
    return results_frame(retrieval_rows(tasks, outputs))


def image_caption_transfer(
    train_data,
    test_data,
    measures=None,
    *,
    image_models=None,
    text_models=None,
    layer=-1,
    representation="raw",
    n_anchors=256,
    negatives=("random", "hard"),
    chunk_size=DEFAULT_CHUNK_SIZE,
    n_negatives=DEFAULT_N_NEGATIVES,
    n_repeats=1,
    dataset=None,
    n_jobs=None,
    random_state=0,
    verbose=False,
):
    """Cross-domain image-caption benchmark: train on one data set, test on another.

    The same image and text models describe two image-caption data sets (for example
    the openclipart and the emoji sets of
    :func:`~sklearn_contrasim.datasets.load_image_caption`). For every image model × text
    model, each measure is fitted on the *training* pairs of ``train_data`` and scored,
    with the protocol of :func:`image_caption`, on the *test* pairs of ``test_data``:
    the rows :func:`image_caption` scores on ``test_data`` with its own split, so that
    in-domain and transferred accuracies compare directly.

    With ``representation="relative"``, the anchors are ``n_anchors`` training pairs of
    ``train_data`` (drawn with ``random_state``, the anchors :func:`image_caption` draws
    for the predefined split of ``train_data``), and the pairs of *both* data sets are
    described by their cosines to them: each image to the image model's features of the
    anchor images, each caption to the text model's features of the anchor captions,
    centred with the mean of the model's training rows of ``train_data``. Nothing of
    ``test_data`` is used but its test pairs: no paired example of the new domain is
    needed, neither to train a learned measure nor to align the two models (zero-shot
    transfer). Anchors drawn from ``test_data`` would need captioned pairs of the new
    domain. The hard negatives are searched in the raw caption features of ``test_data``.

    Parameters
    ----------
    train_data, test_data : Bunch or mapping
        Two outputs of :func:`~sklearn_contrasim.datasets.load_image_caption` (or
        mappings of model name -> per-layer arrays with aligned rows) holding the same
        models, each layer of the same width in both. The training pairs are the rows
        of ``train_data`` whose ``test_fold`` is -1, the test pairs the other rows of
        ``test_data`` (every row of a data set without ``test_fold``).
    measures : mapping, sequence or None, default=None
        Name -> measure, a sequence of measures and/or default measure names, or None for
        every measure of :func:`default_measures`.
    image_models, text_models : sequence of str, default=None
        The models of each side; ``train_data``'s ``image_models`` / ``text_models`` when
        None (required for plain mappings).
    layer : int, default=-1
        The layer of every model compared (``-1``: the final layer).
    representation : {"raw", "relative"} or tuple of them, default="raw"
        Representations the measures compare: the features themselves, their
        anchor-relative representations on anchors of ``train_data``, or both.
    n_anchors : int, default=256
        Number of anchor pairs of ``representation="relative"``, drawn from the training
        pairs of ``train_data``.
    negatives : {"random", "hard"} or tuple of them, default=("random", "hard")
        The negatives of the retrieval protocol.
    chunk_size : int, default=32
        Pairs per chunk.
    n_negatives : int, default=10
        Negative chunks per decision.
    n_repeats : int, default=1
        Independent shuffles of the test pairs, pooled.
    dataset : str, default=None
        Name of the transfer in the table; by default ``"<train>-><test>"`` from the
        data sets' ``source`` (``"openclipart->emoji"``), ``"train"`` and ``"test"`` for
        plain mappings.
    n_jobs : int, default=None
        Fits run in parallel with :class:`joblib.Parallel` (any joblib backend).
    random_state : int, default=0
        Seed of the anchors, the retrieval protocol and measures whose ``random_state``
        is None.
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    results : pandas.DataFrame
        One row per (representation, image model, text model, measure, negatives) with
        the columns of :data:`RESULT_COLUMNS`: ``x`` is the image model, ``y`` the text
        model, ``heldout`` is ``"domain"``, ``trained_on`` names ``train_data`` (its
        ``source``, or ``"train"``), ``fold`` is 0.

    Examples
    --------
    Two domains whose images and captions differ, seen by the same two models: a caption
    is a fixed rotation of its image's features in both.

    >>> import numpy as np
    >>> from sklearn_contrasim.benchmarks import image_caption_transfer
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> rng = np.random.RandomState(0)
    >>> rotation = np.linalg.qr(rng.randn(6, 6))[0]
    >>> def domain(shift):
    ...     images = rng.randn(120, 6) + shift
    ...     return {"vision": [images], "text": [images @ rotation]}
    >>> results = image_caption_transfer(
    ...     domain(0.0), domain(2.0), [LinearCKA()], image_models=["vision"],
    ...     text_models=["text"], representation=("raw", "relative"), n_anchors=20,
    ...     chunk_size=8)
    >>> results.groupby("representation").accuracy.mean().round(2).to_dict()
    {'raw': 1.0, 'relative': 1.0}
    >>> results.dataset.iloc[0], results.trained_on.iloc[0]
    ('train->test', 'train')
    """
    models, layer_names, train_fold = _paired_models(train_data, image_models, text_models,
                                                     layer)
    test_models, _, test_fold = _paired_models(test_data, models.image, models.text, layer)
    for name, (train_array,) in models.arrays.items():
        (test_array,) = test_models.arrays[name]
        if train_array.shape[1] != test_array.shape[1]:
            raise ValueError(
                f"Model {name!r} has {train_array.shape[1]} features in train_data and "
                f"{test_array.shape[1]} in test_data: both data sets must be seen by the "
                "same models.")
    kinds = check_representation(representation, n_anchors)
    negatives = check_negatives(negatives)
    measures = check_measures(measures)
    train_rows = _fold_rows(train_fold, models, train=True)
    test_rows = _fold_rows(test_fold, test_models, train=False)
    trained_on = _data_name(train_data, "train")
    if dataset is None:
        dataset = f"{trained_on}->{_data_name(test_data, 'test')}"
    tasks = []
    for kind in kinds:
        train_arrays, test_arrays = models.arrays, test_models.arrays
        if kind == "relative":
            (transformers,) = anchor_transformers(train_arrays, [train_rows], n_anchors,
                                                  random_state)
            train_arrays = relative_arrays(transformers, train_arrays)
            test_arrays = relative_arrays(transformers, test_arrays)
        tasks += _retrieval_tasks(
            measures, models, layer_names, train=(train_arrays, train_rows),
            test=(test_arrays, test_rows), raw_test=test_models.arrays,
            context=dict(dataset=dataset, representation=kind, heldout="domain", fold=0,
                         trained_on=trained_on),
            negatives=negatives, chunk_size=chunk_size, n_negatives=n_negatives,
            n_repeats=n_repeats, random_state=random_state)
    outputs = run_tasks(tasks, n_jobs=n_jobs, verbose=verbose,
                        description="image-caption transfer")
    return results_frame(retrieval_rows(tasks, outputs))


@dataclass(frozen=True)
class _PairedModels:
    """The models of an image-caption data set: names per side, and per model its compared
    layer (an index) and that layer's array (alone in a list: the layout of the anchor
    helpers of ``_inputs``)."""

    image: list
    text: list
    layers: dict
    arrays: dict

    @property
    def n_samples(self):
        return next(iter(self.arrays.values()))[0].shape[0]


def _paired_models(data, image_models, text_models, layer):
    """Check a data set and the models and layer compared; return the
    :class:`_PairedModels`, the layer names and the test fold."""
    representations, layer_names, test_fold = check_representations(data)
    image_models = check_names(
        _data_models(data, image_models, "image_models"), representations, "image models"
    )
    text_models = check_names(
        _data_models(data, text_models, "text_models"), representations, "text models"
    )
    if not isinstance(layer, Integral):
        raise TypeError(f"layer must be an int, got {layer!r}.")
    layers = {}
    for model in dict.fromkeys(image_models + text_models):
        (layers[model],) = check_layers(layer, len(representations[model]))
    arrays = {model: [representations[model][index]] for model, index in layers.items()}
    return _PairedModels(image_models, text_models, layers, arrays), layer_names, test_fold


def _fold_rows(test_fold, models, *, train):
    """The training (``test_fold == -1``) or test rows of a data set; all without a fold."""
    if test_fold is None:
        return np.arange(models.n_samples)
    return np.flatnonzero(test_fold == -1 if train else test_fold != -1)


def _data_name(data, default):
    """The ``source`` of a loader's Bunch, else ``default``."""
    return str(data["source"]) if "representations" in data and "source" in data else default


def _retrieval_tasks(measures, models, layer_names, *, train, test, raw_test, context,
                     negatives, chunk_size, n_negatives, n_repeats, random_state):
    """One task per image model × text model × measure: fit on the ``train`` rows of its
    ``(arrays, rows)``, score on the ``test`` ones. The hard negatives are searched once
    per text model in the raw captions ``raw_test``, shared by every measure."""
    (train_arrays, train_rows), (test_arrays, test_rows) = train, test
    retrieval = retrieval_protocol(chunk_size=chunk_size, n_negatives=n_negatives,
                                   n_repeats=n_repeats, random_state=random_state)
    neighbors = {text_model: hard_negatives(raw_test[text_model][0], test_rows, negatives,
                                            n_negatives)
                 for text_model in models.text}
    tasks = []
    for image_model in models.image:
        for text_model in models.text:
            tests = [(None, test_arrays[image_model][0], test_arrays[text_model][0],
                      neighbors[text_model])]
            for name, measure in measures.items():
                tasks.append(Task(
                    fit_and_retrieve,
                    dict(
                        measure=seeded_clone(measure, random_state),
                        X=train_arrays[image_model][0], y=train_arrays[text_model][0],
                        tests=tests, train_rows=train_rows, test_rows=test_rows,
                        negatives=negatives, retrieval=retrieval,
                    ),
                    dict(
                        benchmark="image_caption", **context, x=image_model, y=text_model,
                        layer=models.layers[image_model],
                        layer_name=(f"{layer_names[image_model][models.layers[image_model]]}"
                                    f" / {layer_names[text_model][models.layers[text_model]]}"),
                        measure=name, chance=1 / (n_negatives + 1),
                    ),
                ))
    return tasks

def _data_models(data, models, key):
    """The models named by the caller, else those the data set lists under ``key``."""
    if models is not None:
        return models
    if key not in data:
        raise ValueError(f"Pass {key}: the data does not say which models are on which side.")
    return data[key]
