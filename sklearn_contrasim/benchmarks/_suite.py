"""Run the benchmarks of a preset: each chosen data set loaded (or built) and its runner run."""

import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import wraps
from numbers import Real
from types import MappingProxyType

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..datasets import load_image_caption, load_layer_prediction, load_multilingual
from ._image_caption import image_caption
from ._inputs import check_representation
from ._layer_prediction import layer_prediction
from ._multilingual import multilingual
from ._presets import PRESETS, BenchmarkSettings, default_measures


def _built_in_one_process(loader):
    """``loader`` with the suite's loader signature, for a loader that takes no ``n_jobs``."""

    @wraps(loader)
    def load(*, n_jobs, **params):
        return loader(**params)

    return load


#: Benchmark -> (loader, runner). Every loader is called as
#: ``loader(data_home=..., n_jobs=..., verbose=..., **loader_params)`` and every runner as
#: ``runner(data, measures, dataset=..., n_jobs=..., random_state=..., verbose=...,
#: **runner_params)``.
BENCHMARKS = MappingProxyType({
    "layer_prediction": (load_layer_prediction, layer_prediction),
    "multilingual": (_built_in_one_process(load_multilingual), multilingual),
    "image_caption": (_built_in_one_process(load_image_caption), image_caption),
})

# Keys of a loader's Bunch that hold the data itself, not where it comes from.
_DATA_KEYS = ("representations", "layer_names")


def check_selection(preset="quick", benchmarks=None, datasets=None, measures=None,
                    representations=None):
    """Validate a choice of preset, benchmarks, data sets, measures and representations,
    before any work.

    Parameters
    ----------
    preset, benchmarks, datasets, measures, representations
        As in :func:`run_benchmarks`.

    Returns
    -------
    runs : list of (str, str, BenchmarkSettings)
        The (benchmark, data set, benchmark settings) to run, in order (with
        ``representations`` in the runner's parameters when given).
    measures : list of str
        The names of the measures to compare.

    Raises
    ------
    ValueError
        On an unknown preset, benchmark, data set, measure or representation (a one-line
        message).
    TypeError
        When ``preset`` is neither a name nor a mapping of benchmark to settings.
    """
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"Unknown preset {preset!r}; choose among {list(PRESETS)}.")
        settings = PRESETS[preset]
    elif isinstance(preset, Mapping) and all(
        isinstance(value, BenchmarkSettings) for value in preset.values()
    ):
        settings = preset
    else:
        raise TypeError(
            "preset must be the name of a preset or a mapping of benchmark -> "
            f"BenchmarkSettings, got {preset!r}."
        )
    available = [name for name in settings if name in BENCHMARKS]
    benchmarks = available if benchmarks is None else list(dict.fromkeys(benchmarks))
    unknown = [name for name in benchmarks if name not in available]
    if unknown or not benchmarks:
        raise ValueError(f"Unknown benchmarks {unknown}; choose among {available}.")
    runs = [(benchmark, dataset, settings[benchmark])
            for benchmark in benchmarks for dataset in settings[benchmark].datasets]
    if datasets is not None:
        available = [dataset for _, dataset, _ in runs]
        unknown = [dataset for dataset in datasets if dataset not in available]
        if unknown or not datasets:
            raise ValueError(
                f"Unknown data sets {unknown} for the benchmarks {benchmarks}; choose among "
                f"{available}."
            )
        runs = [run for run in runs if run[1] in datasets]
    available = list(default_measures())
    names = available if measures is None else list(dict.fromkeys(measures))
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        raise ValueError(f"Unknown measures {unknown}; choose among {available}.")
    unknown = sorted({name for _, _, settings in runs for name in settings.relative_measures or ()
                      if name not in available})
    if unknown:
        raise ValueError(f"Unknown relative_measures {unknown} in the preset; choose among "
                         f"{available}.")
    if representations is not None:
        chosen = check_representation(representations)
        runs = [(benchmark, dataset, replace(settings, runner_params={
                    **settings.runner_params, "representation": chosen}))
                for benchmark, dataset, settings in runs]
    return runs, names


def run_one(benchmark, dataset, settings, measures, *, n_jobs=-1, data_home=None,
            random_state=0, verbose=True):
    """Load (or build) one data set of one benchmark and run the benchmark's runner on it.

    Parameters
    ----------
    benchmark : str
        A key of :data:`BENCHMARKS`.
    dataset : str
        A data set of ``settings``.
    settings : BenchmarkSettings
        The benchmark's part of the preset.
    measures : list of str
        Names of default measures.
    n_jobs, data_home, random_state, verbose
        As in :func:`run_benchmarks`.

    Returns
    -------
    run : Bunch
        ``benchmark``, ``dataset``, ``results``, ``similarities`` (None unless the runner
        returns them), ``seconds`` (``"load"`` and ``"run"``) and ``provenance`` (see
        :func:`run_benchmarks`).
    """
    loader, runner = BENCHMARKS[benchmark]
    loader_params = settings.datasets[dataset]
    label = f"{benchmark} / {dataset}"
    if verbose:
        print(f"{label}: loading ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    data = loader(data_home=data_home, n_jobs=n_jobs, verbose=verbose, **loader_params)
    load_seconds = time.perf_counter() - start
    every_measure = default_measures(learned_params=settings.learned_params,
                                     random_state=random_state)
    if verbose:
        print(f"{label}: loaded in {load_seconds:.1f} s; running {len(measures)} measures ...",
              file=sys.stderr, flush=True)
    start = time.perf_counter()
    outputs = [
        runner(data, chosen, dataset=dataset, n_jobs=n_jobs, random_state=random_state,
               verbose=verbose, **runner_params)
        for runner_params, chosen in _runner_calls(
            settings, {name: every_measure[name] for name in measures})
    ]
    run_seconds = time.perf_counter() - start
    if verbose:
        print(f"{label}: done in {run_seconds:.1f} s", file=sys.stderr, flush=True)
    # Layer prediction returns its similarity grids with its results.
    results, similarities = zip(*(output if isinstance(output, tuple) else (output, None)
                                  for output in outputs))
    results = pd.concat(results, ignore_index=True)
    similarities = (None if similarities[0] is None
                    else pd.concat(similarities, ignore_index=True))
    provenance = {"loader_params": _plain(loader_params)}
    provenance.update(
        (key, _plain(value)) for key, value in data.items()
        if key not in _DATA_KEYS and _is_provenance(value)
    )
    return Bunch(benchmark=benchmark, dataset=dataset, results=results,
                 similarities=similarities,
                 seconds={"load": load_seconds, "run": run_seconds}, provenance=provenance)


def _runner_calls(settings, measures):
    """The ``(runner_params, measures)`` of each call of a benchmark's runner: one call,
    or, when ``settings.relative_measures`` leaves out some of ``measures``, one per
    representation, the anchor-relative one with those measures only."""
    params = dict(settings.runner_params)
    kinds = check_representation(params.get("representation", "raw"))
    if "relative" not in kinds or settings.relative_measures is None:
        return [(params, measures)]
    relative = {name: measure for name, measure in measures.items()
                if name in settings.relative_measures}
    if relative == measures:
        return [(params, measures)]
    calls = [({**params, "representation": kind},
              relative if kind == "relative" else measures) for kind in kinds]
    return [(call_params, chosen) for call_params, chosen in calls if chosen]


def combine_runs(runs):
    """Gather the outputs of :func:`run_one` into :func:`run_benchmarks`'s Bunch."""
    similarities = [run.similarities for run in runs if run.similarities is not None]
    seconds, provenance = {}, {}
    for run in runs:
        for step, value in run.seconds.items():
            seconds[f"{step} {run.benchmark} {run.dataset}"] = value
        provenance.setdefault(run.benchmark, {})[run.dataset] = run.provenance
    return Bunch(
        results=pd.concat([run.results for run in runs], ignore_index=True),
        similarities=pd.concat(similarities, ignore_index=True) if similarities else None,
        seconds=seconds,
        datasets=provenance,
    )


def run_benchmarks(preset="quick", *, benchmarks=None, datasets=None, measures=None,
                   representations=None, n_jobs=-1, data_home=None, random_state=0,
                   verbose=True):
    """Load (or build) each chosen data set of a preset and run its benchmark on it.

    Everything is validated before any data set is loaded.

    Parameters
    ----------
    preset : str or mapping, default="quick"
        The name of a preset of :data:`~sklearn_contrasim.benchmarks.PRESETS`, or a
        mapping of benchmark name to
        :class:`~sklearn_contrasim.benchmarks.BenchmarkSettings`.
    benchmarks : sequence of str, default=None
        Any of ``"layer_prediction"``, ``"multilingual"``, ``"image_caption"``; every
        benchmark of the preset when None.
    datasets : sequence of str, default=None
        Names of the preset's data sets to run (for example ``"mlp-fashion-mnist"``);
        every data set of the chosen benchmarks when None.
    measures : sequence of str, default=None
        Names of :func:`~sklearn_contrasim.benchmarks.default_measures` to compare; all
        of them when None.
    representations : sequence of {"raw", "relative"}, default=None
        The representations every chosen benchmark compares (see
        :func:`~sklearn_contrasim.benchmarks.layer_prediction`), instead of the preset's.
    n_jobs : int, default=-1
        Parallel fits (joblib), and seeds trained in parallel when a layer-prediction
        data set is built.
    data_home : str, default=None
        Cache folder of the data sets.
    random_state : int, default=0
        Seed of the splits, protocols and learned measures.
    verbose : bool, default=True
        Show progress on standard error.

    Returns
    -------
    suite : Bunch
        ``results`` (:class:`pandas.DataFrame`, every runner's rows), ``similarities``
        (the layer-prediction similarity grids, or None), ``seconds`` (``"load
        <benchmark> <data set>"`` and ``"run <benchmark> <data set>"``) and ``datasets``
        (benchmark -> data set -> provenance: the loader's parameters and the scalar
        entries of the loader's Bunch, such as whether it came from the cache).

    Examples
    --------
    >>> from sklearn_contrasim.benchmarks import BenchmarkSettings, run_benchmarks
    >>> preset = {"image_caption": BenchmarkSettings(
    ...     datasets={"tiny": {"source": "openclipart", "preset": "quick"}},
    ...     runner_params={"chunk_size": 8})}
    >>> run_benchmarks(preset, measures=["Cosine"])
    Traceback (most recent call last):
    ...
    ValueError: Unknown measures ['Cosine']; choose among [...].
    """
    runs, names = check_selection(preset, benchmarks, datasets, measures, representations)
    return combine_runs([
        run_one(benchmark, dataset, settings, names, n_jobs=n_jobs, data_home=data_home,
                random_state=random_state, verbose=verbose)
        for benchmark, dataset, settings in runs
    ])


def _is_provenance(value):
    """Whether a Bunch entry tells where the data comes from (a scalar, or a mapping of
    JSON-ready values such as a configuration) rather than holding data (arrays, lists)."""
    return not isinstance(value, (list, tuple)) and _is_json_ready(value)


def _is_json_ready(value):
    """Whether ``value`` is made of JSON types (and numpy scalars) only."""
    if isinstance(value, Mapping):
        return all(_is_json_ready(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return all(_is_json_ready(item) for item in value)
    return value is None or isinstance(value, (str, Real, np.generic))


def _plain(value):
    """``value`` with read-only mappings, tuples and numpy scalars made JSON types."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
