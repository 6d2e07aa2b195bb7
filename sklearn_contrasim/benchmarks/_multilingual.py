"""The multilingual benchmark: retrieve a chunk's translations, in languages never trained on."""

from itertools import combinations

from ._inputs import (
    check_layers,
    check_measures,
    check_names,
    check_negatives,
    check_representation,
    check_representations,
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
    is_closed_form,
    retrieval_protocol,
    retrieval_rows,
    run_tasks,
    seeded_clone,
)


def multilingual(
    data,
    measures=None,
    *,
    languages=None,
    train_pairs=None,
    layers=None,
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
    """Multilingual benchmark: do a measure's scores pair sentences with their translations?

    For every layer, every training language pair ``(a, b)`` and every fold, each
    measure is fitted on the training sentences of ``a`` (``X``) and ``b`` (``y``) and
    scored on the held-out sentences of every pair of languages that are *neither* ``a``
    nor ``b`` (not merely the reversed pair), with the 1-vs-k protocol of
    :func:`~sklearn_contrasim.metrics.retrieval_accuracy`: a chunk of sentences in one
    language must be more similar to its translations than to each of ``n_negatives``
    chunks of other sentences (``"random"``: drawn at random; ``"hard"``: each sentence
    replaced by one of its nearest neighbours in the second language's representation).
    Chance is ``1 / (n_negatives + 1)``.

    With ``representation="relative"``, every measure (closed-form and learned) compares
    anchor-relative representations
    (:class:`~sklearn_contrasim.preprocessing.RelativeRepresentation`) instead of the raw
    sentence representations: in each fold, ``n_anchors`` anchor sentences are drawn once
    from the fold's *training* sentences (with ``random_state``, the same for every
    language and layer), and each language's layer becomes the cosines of its sentences to
    that language's own representation of the anchor sentences (centred with the mean of
    its training sentences). The hard negatives are searched in the raw representations,
    so that both representations are scored on the same decisions.

    Parameters
    ----------
    data : Bunch or mapping
        :func:`~sklearn_contrasim.datasets.load_multilingual`'s output, or a mapping of
        language -> list of per-layer arrays with aligned rows (row ``k`` = sentence
        ``k`` in every language).
    measures : mapping, sequence or None, default=None
        Name -> measure, a sequence of measures and/or default measure names, or None for
        every measure of :func:`default_measures`.
    languages : sequence of str, default=None
        Languages used (all of them when None); at least four, so that a pair of
        languages remains after holding out the training pair.
    train_pairs : sequence of (str, str), default=None
        Training language pairs; by default English (or the first language) with each
        other language.
    layers : int, sequence of int or None, default=None
        Layers evaluated (all when None).
    representation : {"raw", "relative"} or tuple of them, default="raw"
        Representations the measures compare: the layers themselves, their
        anchor-relative representations, or both (a ``representation`` column tells
        their rows apart).
    n_anchors : int, default=256
        Number of anchor sentences of ``representation="relative"``, drawn from the
        training sentences of each fold (at most the fold's number of training sentences).
    cv : int, splitter, iterable or None, default=None
        Split over sentences: None uses the data set's ``test_fold`` (a shuffled 3-fold
        KFold for a plain mapping), an int a shuffled KFold, or any
        :mod:`sklearn.model_selection` splitter or iterable of (train, test) indices.
    negatives : {"random", "hard"} or tuple of them, default=("random", "hard")
        The negatives of the retrieval protocol.
    chunk_size : int, default=32
        Sentences per chunk, the default of
        :func:`~sklearn_contrasim.metrics.retrieval_accuracy` (the reference code cuts
        5,000 test sentences into 8 chunks; on a few hundred test sentences smaller
        chunks give enough decisions).
    n_negatives : int, default=10
        Negative chunks per decision.
    n_repeats : int, default=1
        Independent shuffles of the test sentences, pooled.
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
        One row per (representation, training pair, fold, test pair, layer, measure,
        negatives) with the
        columns of :data:`RESULT_COLUMNS`: ``x`` and ``y`` are the test languages,
        ``trained_on`` the training pair (``"en-de"``), ``heldout`` is ``"languages"``.
        A closed-form measure learns nothing from a training pair, so its scores on a
        test pair are the same under every training pair: it is scored once per test
        pair (and layer and fold), with an empty ``trained_on``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.benchmarks import multilingual
    >>> from sklearn_contrasim.measures import LinearCKA
    >>> rng = np.random.RandomState(0)
    >>> meaning = rng.randn(100, 5)
    >>> def rotation():
    ...     return np.linalg.qr(rng.randn(5, 5))[0]
    >>> data = {lang: [meaning @ rotation()] for lang in ["en", "de", "fr", "es"]}
    >>> results = multilingual(data, [LinearCKA()], chunk_size=8, cv=2)
    >>> sorted(set(zip(results.x, results.y)))  # the languages of no training pair
    [('de', 'es'), ('de', 'fr'), ('fr', 'es')]
    >>> float(results.accuracy.mean())
    1.0
    """
    representations, layer_names, test_fold = check_representations(data)
    languages = check_names(languages, representations, "languages")
    train_pairs = _check_train_pairs(train_pairs, languages)
    n_layers = {len(representations[language]) for language in languages}
    if len(n_layers) != 1:
        raise ValueError("Every language must have the same layers (one multilingual model).")
    layers = check_layers(layers, n_layers.pop())
    kinds = check_representation(representation, n_anchors)
    negatives = check_negatives(negatives)
    measures = check_measures(measures)
    n_samples = representations[languages[0]][0].shape[0]
    folds = row_splits(cv, test_fold, n_samples, random_state)
    retrieval = retrieval_protocol(chunk_size=chunk_size, n_negatives=n_negatives,
                                   n_repeats=n_repeats, random_state=random_state)

    fits = {name: _fits(measure, languages, train_pairs) for name, measure in measures.items()}
    second_languages = dict.fromkeys(y for measure_fits in fits.values()
                                     for _, _, pairs in measure_fits for _, y in pairs)
    # The whole arrays, not row slices: tasks slice rows themselves (see fit_and_retrieve).
    arrays = {language: [representations[language][layer] for layer in layers]
              for language in languages}
    # Hard negatives depend on the raw data only: searched once per (language, layer,
    # fold), shared by every representation, measure and training pair.
    neighbors = [[{language: hard_negatives(arrays[language][position], test, negatives,
                                            n_negatives)
                   for language in second_languages}
                  for _, test in folds]
                 for position in range(len(layers))]
    tasks = []
    for kind in kinds:
        fold_arrays = representation_folds(kind, arrays, [train for train, _ in folds],
                                           n_anchors, random_state)
        for position, layer in enumerate(layers):
            for fold, (train, test) in enumerate(folds):
                layer_arrays = {language: fold_arrays[fold][language][position]
                                for language in languages}
                for name, measure in measures.items():
                    for trained_on, (first, second), pairs in fits[name]:
                        tasks.append(Task(
                            fit_and_retrieve,
                            dict(
                                measure=seeded_clone(measure, random_state),
                                X=layer_arrays[first], y=layer_arrays[second],
                                tests=[((x, y), layer_arrays[x], layer_arrays[y],
                                        neighbors[position][fold][y]) for x, y in pairs],
                                train_rows=train, test_rows=test,
                                negatives=negatives, retrieval=retrieval,
                            ),
                            dict(
                                benchmark="multilingual", dataset=dataset,
                                representation=kind, heldout="languages",
                                fold=fold, trained_on=trained_on, layer=layer,
                                layer_name=layer_names[languages[0]][layer], measure=name,
                                chance=1 / (n_negatives + 1),
                            ),
                        ))
    outputs = run_tasks(tasks, n_jobs=n_jobs, verbose=verbose, description="multilingual")
    return results_frame(retrieval_rows(tasks, outputs))


def _fits(measure, languages, train_pairs):
    """The fits of one measure: ``(trained_on, training pair, test pairs)``.

    A learned measure is fitted per training pair and scored on the pairs of two other
    languages. A closed-form measure learns nothing from the training pair, so its scores
    on a test pair are the same under every training pair: it is fitted once (on the
    training rows of a test pair, only because scoring needs a fitted measure) and scored
    on every test pair of any training pair, with an empty ``trained_on``.
    """
    test_pairs = {
        (first, second): [pair for pair in combinations(languages, 2)
                          if not {first, second} & set(pair)]
        for first, second in train_pairs
    }
    if is_closed_form(measure):
        every_test_pair = [pair for pair in combinations(languages, 2)
                           if any(pair in pairs for pairs in test_pairs.values())]
        return [("", every_test_pair[0], every_test_pair)]
    return [(f"{first}-{second}", (first, second), pairs)
            for (first, second), pairs in test_pairs.items()]


def _check_train_pairs(train_pairs, languages):
    """Validate the training pairs; each must leave a pair of unseen languages to test on."""
    if len(languages) < 4:
        raise ValueError(
            "The multilingual benchmark needs at least four languages: two to train on and "
            f"two never seen in training to test on; got {languages}."
        )
    if train_pairs is None:
        anchor = "en" if "en" in languages else languages[0]
        return [(anchor, language) for language in languages if language != anchor]
    train_pairs = [tuple(pair) for pair in train_pairs]
    for pair in train_pairs:
        if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(languages):
            raise ValueError(
                f"Each training pair must be two different languages among {languages}, "
                f"got {pair!r}."
            )
    if not train_pairs:
        raise ValueError("train_pairs must hold at least one pair.")
    return train_pairs
