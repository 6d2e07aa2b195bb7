"""Tasks of the benchmark runners: one fit of one measure and the scores that follow from it.

Every runner builds a list of independent :class:`Task` objects, runs them with
:func:`run_tasks` (:class:`joblib.Parallel`) and turns what they return, with each task's
own context, into rows of one tidy table. A task receives everything it needs as
arguments (its arrays, a clone of its measure, fixed seeds), so the result does not
depend on where or in which order tasks run: under ``joblib.parallel_backend("dask")``
the same call gives the same table on a Dask cluster.
"""

import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field

from joblib import Parallel, delayed, parallel_config
from joblib._parallel_backends import LokyBackend
from joblib.parallel import get_active_backend
from sklearn.base import clone
from sklearn.utils import get_tags
from tqdm.auto import tqdm

from .._retrieval import DEFAULT_PROTOCOL
from ..exceptions import InapplicableMeasureError
from ..metrics import nearest_neighbors, retrieval_accuracy
from ..utils._threads import limit_threads, threads_per_worker

#: The runners' defaults of the retrieval protocol: those of ``retrieval_accuracy``.
DEFAULT_CHUNK_SIZE = DEFAULT_PROTOCOL["chunk_size"]
DEFAULT_N_NEGATIVES = DEFAULT_PROTOCOL["n_negatives"]

#: Progress of a task list: tasks done, tasks in all, elapsed time (no ETA).
TASK_BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} tasks [{elapsed}]"


@dataclass(frozen=True)
class Task:
    """One unit of a benchmark: ``function(**kwargs)``, and the row fields it produces.

    Parameters
    ----------
    function : callable
        Run in a joblib worker with ``kwargs``.
    kwargs : dict
        Its arguments; ``kwargs["measure"]`` is the measure the task fits or scores.
    context : dict
        The fields shared by every row made from the task's result (``measure``,
        ``fold``, ...); they also name the task in errors and warnings.
    """

    function: object
    kwargs: dict
    context: dict = field(default_factory=dict)

    def describe(self):
        """The measure and the scalar fields of the context, for messages."""
        fields = ", ".join(f"{key}={value!r}" for key, value in self.context.items()
                           if key != "measure" and isinstance(value, (str, int, float)))
        return f"measure {self.context.get('measure')!r} ({fields})"


def run_tasks(tasks, *, n_jobs, verbose, description):
    """Run tasks with joblib and return their results, in order.

    Each worker runs with ``threads_per_worker(n_jobs)`` threads in torch and the
    BLAS/OpenMP pools, so that parallel fits do not oversubscribe the cores. A task
    whose measure cannot compare its inputs by its nature (an
    :class:`~sklearn_contrasim.exceptions.InapplicableMeasureError`, for example a
    row-wise measure given sets of different widths) gives ``None`` and a warning that
    names the measure and the reason, so that one inapplicable measure does not stop a
    whole benchmark. Any other error (a misconfigured measure, an unfitted one) is
    raised again, of the same type when possible, with the measure and the task's
    context in its message. Warnings raised inside a task (in a worker process, possibly
    on another machine) are re-emitted here, in the caller, so that the caller's warning
    filters apply to them.

    Parameters
    ----------
    tasks : list of Task
    n_jobs : int or None
        joblib's ``n_jobs``.
    verbose : bool
        Show a progress bar.
    description : str
        The benchmark, in the progress bar and in messages.

    Returns
    -------
    results : list
        Each task's result, None for a task whose measure was inapplicable.
    """
    n_threads = threads_per_worker(n_jobs)
    with _loky_thread_limit(n_threads):
        outputs = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_run_task)(task.function, task.kwargs, n_threads) for task in tasks
        )
        # Tasks differ in cost by orders of magnitude (a learned fit against a closed-form
        # grid), so an extrapolated ETA misleads: show the count and the elapsed time.
        outputs = list(tqdm(outputs, total=len(tasks), desc=description, disable=not verbose,
                            bar_format=TASK_BAR_FORMAT))
    results = []
    for task, (result, error, task_warnings) in zip(tasks, outputs):
        for category, message in task_warnings:
            warnings.warn(message, category, stacklevel=3)
        if isinstance(error, InapplicableMeasureError):
            warnings.warn(f"{description}: {task.describe()} skipped: {error}",
                          UserWarning, stacklevel=3)
        elif error is not None:
            _raise_with_context(error, f"{description}: {task.describe()} failed: {error}")
        results.append(result)
    return results


def _loky_thread_limit(n_threads):
    """Under the default (loky) backend, start workers with ``n_threads`` threads in their
    native pools (from their first import of torch or numpy); other backends unchanged."""
    backend, _ = get_active_backend()
    if isinstance(backend, LokyBackend):
        return parallel_config(backend="loky", inner_max_num_threads=n_threads)
    return nullcontext()


def _raise_with_context(error, message):
    """Raise ``error`` again with ``message``; of its type when that type takes a message."""
    try:
        raised = type(error)(message)
    except Exception:
        raised = RuntimeError(message)
    raise raised from error


def _run_task(function, kwargs, n_threads):
    """Run one task with ``n_threads`` threads; return its result (None on an error), the
    error and the warnings it raised."""
    result, error = None, None
    with warnings.catch_warnings(record=True) as caught, limit_threads(n_threads):
        warnings.simplefilter("always")
        try:
            result = function(**kwargs)
        except Exception as raised:  # judged in the caller, where the task's context is
            error = raised
    return result, error, [(record.category, str(record.message)) for record in caught]


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


def retrieval_protocol(*, chunk_size, n_negatives, n_repeats, random_state):
    """The keyword arguments of :func:`~sklearn_contrasim.metrics.retrieval_accuracy`
    shared by every score of a retrieval runner."""
    return dict(chunk_size=chunk_size, n_negatives=n_negatives, n_repeats=n_repeats,
                random_state=random_state)


def hard_negatives(y, test_rows, negatives, n_negatives):
    """The hard-negative neighbours of the test rows of ``y`` (None without ``"hard"``),
    computed once per test side and fold and shared by every measure scored on them."""
    if "hard" not in negatives:
        return None
    return nearest_neighbors(y[test_rows], n_negatives)


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
    tests : list of (key, X_test, y_test, neighbors)
        Paired representations scored with every mode of ``negatives``, and the hard
        negatives of the test rows of ``y_test`` (see :func:`hard_negatives`).
    train_rows, test_rows : ndarray of int
        Rows of ``X, y`` to train on and rows of each test pair to score.
    negatives : tuple of str
    retrieval : dict
        Keyword arguments of :func:`~sklearn_contrasim.metrics.retrieval_accuracy`.

    Returns
    -------
    scores : list of dict
        One per (test, negatives): ``key``, ``negatives``, ``accuracy``, ``n_hits``,
        ``n_decisions``, ``fit_time`` (the fit, shared by every test) and ``score_time``.
    """
    start = time.perf_counter()
    measure = measure.fit(X[train_rows], y[train_rows])
    fit_time = time.perf_counter() - start
    scores = []
    for key, X_test, y_test, neighbors in tests:
        X_test, y_test = X_test[test_rows], y_test[test_rows]
        for mode in negatives:
            start = time.perf_counter()
            accuracy, hits = retrieval_accuracy(
                measure, X_test, y_test, negatives=mode, return_hits=True,
                neighbors=neighbors if mode == "hard" else None, **retrieval
            )
            scores.append(
                dict(key=key, negatives=mode, accuracy=accuracy, n_hits=int(hits.sum()),
                     n_decisions=int(hits.size), fit_time=fit_time,
                     score_time=time.perf_counter() - start)
            )
    return scores


def retrieval_rows(tasks, outputs):
    """Merge each task's context with its scores into table rows.

    A score's ``key`` is the ``(x, y)`` names of its test pair; ``None`` keeps the
    context's own ``x`` and ``y``. A skipped task (``None``) gives no rows.
    """
    rows = []
    for task, scores in zip(tasks, outputs):
        for score in scores or ():
            row = {**task.context, **score}
            key = row.pop("key")
            if key is not None:
                row["x"], row["y"] = key
            rows.append(row)
    return rows
