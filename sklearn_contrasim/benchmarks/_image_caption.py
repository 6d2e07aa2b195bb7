"""The image-caption benchmark: retrieve a chunk's captions among mismatched ones."""

from numbers import Integral

from ._inputs import (
    check_layers,
    check_measures,
    check_names,
    check_negatives,
    check_representations,
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
        One row per (image model, text model, fold, measure, negatives) with the columns
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
    representations, layer_names, test_fold = check_representations(data)
    image_models = check_names(
        _data_models(data, image_models, "image_models"), representations, "image models"
    )
    text_models = check_names(
        _data_models(data, text_models, "text_models"), representations, "text models"
    )
    if not isinstance(layer, Integral):
        raise TypeError(f"layer must be an int, got {layer!r}.")
    negatives = check_negatives(negatives)
    measures = check_measures(measures)
    n_samples = next(iter(representations.values()))[0].shape[0]
    folds = row_splits(cv, test_fold, n_samples, random_state)
    retrieval = retrieval_protocol(chunk_size=chunk_size, n_negatives=n_negatives,
                                   n_repeats=n_repeats, random_state=random_state)

    tasks = []
    for image_model in image_models:
        (image_layer,) = check_layers(layer, len(representations[image_model]))
        for text_model in text_models:
            (text_layer,) = check_layers(layer, len(representations[text_model]))
            X = representations[image_model][image_layer]
            y = representations[text_model][text_layer]
            for fold, (train, test) in enumerate(folds):
                # Hard negatives depend on the captions only: shared by every measure.
                neighbors = hard_negatives(y, test, negatives, n_negatives)
                for name, measure in measures.items():
                    tasks.append(Task(
                        fit_and_retrieve,
                        dict(
                            measure=seeded_clone(measure, random_state), X=X, y=y,
                            tests=[(None, X, y, neighbors)], train_rows=train,
                            test_rows=test, negatives=negatives, retrieval=retrieval,
                        ),
                        dict(
                            benchmark="image_caption", dataset=dataset, representation="raw",
                            heldout="pairs",
                            fold=fold, trained_on="train pairs", x=image_model, y=text_model,
                            layer=image_layer,
                            layer_name=(f"{layer_names[image_model][image_layer]} / "
                                        f"{layer_names[text_model][text_layer]}"),
                            measure=name, chance=1 / (n_negatives + 1),
                        ),
                    ))
    outputs = run_tasks(tasks, n_jobs=n_jobs, verbose=verbose, description="image-caption")
    return results_frame(retrieval_rows(tasks, outputs))


def _data_models(data, models, key):
    """The models named by the caller, else those the data set lists under ``key``."""
    if models is not None:
        return models
    if key not in data:
        raise ValueError(f"Pass {key}: the data does not say which models are on which side.")
    return data[key]
