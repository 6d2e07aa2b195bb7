"""Tasks: skipping inapplicable measures only, errors with context, hard negatives searched
once, thread limits inside workers."""

import time

import numpy as np
import pytest
import torch
from _fixtures import CLOSED_FORM, aligned_languages, image_caption_data, seed_models
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_info

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.benchmarks import image_caption, layer_prediction, multilingual
from sklearn_contrasim.benchmarks import _tasks
from sklearn_contrasim.benchmarks._tasks import Task, run_tasks
from sklearn_contrasim.contrasim import ContraSim
from sklearn_contrasim.measures import DotProduct, LinearCKA
from sklearn_contrasim.utils._threads import threads_per_worker


@pytest.mark.filterwarnings("ignore::sklearn_contrasim.exceptions.UnreliableScoreWarning")
def test_a_measure_that_cannot_compare_a_pair_is_skipped_with_a_warning():
    data = image_caption_data()
    data["representations"]["text"] = [np.hstack([data["representations"]["text"][0]] * 2)]
    with pytest.warns(UserWarning, match="measure 'DotProduct' .* skipped: .*same number of"):
        results = image_caption(data, [DotProduct(), LinearCKA()], chunk_size=8)
    assert set(results.measure) == {"LinearCKA"}


def test_a_misconfigured_measure_raises_with_its_name_and_task():
    # Regression: every ValueError was taken for an inapplicable measure, so a typo in a
    # parameter removed the measure from the results with a mere warning.
    measures = {"CS": ContraSim(temperature=-1.0, max_epochs=1), **CLOSED_FORM}
    with pytest.raises(ValueError, match=r"multilingual: measure 'CS' \(.*fold=0.*\) failed: "
                                         r"The 'temperature' parameter of ContraSim"):
        multilingual(aligned_languages(), measures, chunk_size=8, cv=2,
                     train_pairs=[("en", "de")])


class LearnedRowDot(BaseSimilarity):
    """A measure that must be fitted (the default tags) and offers no set-level fit."""

    def _fit(self, X, y):
        self.scale_ = 1.0

    def _compare(self, X, y):
        return float(np.mean(np.sum(X * y, axis=1)) * self.scale_)


def test_an_unfitted_measure_raises_instead_of_vanishing():
    # Regression: layer prediction does not fit measures without a set-level fit, and the
    # NotFittedError (a ValueError) made such a measure disappear from the results.
    message = r"layer prediction: measure 'LearnedRowDot' \(.*tested='examples fold 0.*'\) failed"
    with pytest.raises(NotFittedError, match=message + ": .*not fitted"):
        layer_prediction(seed_models(), [LearnedRowDot(), LinearCKA()], cv=2)


@pytest.mark.filterwarnings("ignore::sklearn_contrasim.exceptions.UnreliableScoreWarning")
def test_hard_negatives_are_searched_once_per_test_side_and_fold(monkeypatch):
    calls = []
    real = _tasks.nearest_neighbors

    def counting(Z, n_neighbors):
        calls.append((len(Z), n_neighbors))
        return real(Z, n_neighbors)

    monkeypatch.setattr(_tasks, "nearest_neighbors", counting)
    measures = [LinearCKA(), DotProduct(), LearnedRowDot()]
    image_caption(image_caption_data(), measures, chunk_size=8, cv=2)
    assert calls == [(60, 10), (60, 10)]  # one per fold, whatever the number of measures
    calls.clear()
    multilingual(aligned_languages(), measures, chunk_size=8, cv=2, layers=[0])
    # 1 layer x 2 folds x the second languages (fr, es, ru) of the test pairs of de, fr,
    # es, ru; the measures and the four en-X training pairs share them.
    assert calls == [(48, 10)] * 2 * 3
    calls.clear()
    multilingual(aligned_languages(), measures, negatives="random", chunk_size=8, cv=2)
    assert calls == []


class ThreadRecorder(BaseSimilarity):
    """Records, in ``fit``, the threads torch and the BLAS/OpenMP pools may use."""

    def _fit(self, X, y):
        self.torch_threads_ = torch.get_num_threads()
        self.pool_threads_ = {pool["num_threads"] for pool in threadpool_info()}

    def _compare(self, X, y):
        return 0.0


def fitted_threads(measure, X, y):
    measure.fit(X, y)
    return measure.torch_threads_, measure.pool_threads_


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_tasks_run_with_their_share_of_the_cores(n_jobs):
    X = np.random.RandomState(0).randn(10, 3)
    tasks = [Task(fitted_threads, dict(measure=ThreadRecorder(), X=X, y=X), dict(measure="T"))
             for _ in range(2)]
    before = torch.get_num_threads()
    expected = threads_per_worker(n_jobs)
    for torch_threads, pool_threads in run_tasks(tasks, n_jobs=n_jobs, verbose=False,
                                                 description="threads"):
        assert torch_threads == expected
        assert pool_threads <= {expected}
    assert torch.get_num_threads() == before


def slow_then_fast(delay):
    time.sleep(delay)
    return delay


def test_progress_shows_counts_and_elapsed_time_without_an_eta(capsys):
    # Task costs differ by orders of magnitude: an extrapolated ETA would mislead.
    tasks = [Task(slow_then_fast, dict(delay=delay), dict(measure="M")) for delay in (0.2, 0, 0)]
    assert run_tasks(tasks, n_jobs=1, verbose=True, description="toy") == [0.2, 0, 0]
    progress = capsys.readouterr().err
    assert "toy: 3/3 tasks [00:00]" in progress
    assert "<" not in progress and "it/s" not in progress
