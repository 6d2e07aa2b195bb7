"""``contrasim-bench``: run the three benchmarks on the real data sets and write a report."""

import argparse
import inspect
import json
import os
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from ..measures import DegenerateSimilarityWarning
from ._image_caption import image_caption
from ._layer_prediction import layer_prediction
from ._multilingual import multilingual
from ._presets import PRESETS, default_measures
from ._results import comparison_table, summarize, to_markdown

#: Benchmark -> (loader name in sklearn_contrasim.datasets, runner).
BENCHMARKS = {
    "layer_prediction": ("load_layer_prediction", layer_prediction),
    "multilingual": ("load_multilingual", multilingual),
    "image_caption": ("load_image_caption", image_caption),
}


def build_parser():
    """Return the argument parser of ``contrasim-bench``."""
    parser = argparse.ArgumentParser(
        prog="contrasim-bench",
        description=(
            "Run the ContraSim paper's three benchmarks (layer prediction, multilingual, "
            "image-caption) on data sets built from installed packages, print comparison "
            "tables and write results.csv, tables and PNG plots to the output folder."
        ),
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick",
                        help="data and training sizes (default: quick)")
    parser.add_argument("--benchmarks", nargs="+", choices=list(BENCHMARKS),
                        default=list(BENCHMARKS), help="benchmarks to run (default: all)")
    parser.add_argument("--datasets", nargs="+", default=None, metavar="NAME",
                        help="data sets of the preset to run (default: all of the chosen "
                             "benchmarks'): " + ", ".join(sorted(
                                 {name for preset in PRESETS.values()
                                  for benchmark in preset.values()
                                  for name in benchmark["datasets"]})))
    parser.add_argument("--measures", nargs="+", default=None, metavar="NAME",
                        help="measures to compare (default: every measure): "
                             + ", ".join(default_measures()))
    parser.add_argument("--output", default="contrasim-results",
                        help="folder for results.csv, tables and plots (default: %(default)s)")
    parser.add_argument("--n-jobs", type=int, default=-1,
                        help="parallel fits and seed trainings (joblib processes, one thread "
                             "each; -1 = every core, the default)")
    parser.add_argument("--data-home", default=None,
                        help="cache folder of the data sets (default: $SKLEARN_CONTRASIM_DATA "
                             "or ~/.cache/sklearn_contrasim)")
    parser.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def run_benchmarks(*, preset="quick", benchmarks=tuple(BENCHMARKS), datasets=None,
                   measures=None, n_jobs=-1, data_home=None, random_state=0, verbose=True):
    """Build (or load) each benchmark's data sets and run its runner with a preset.

    Parameters
    ----------
    preset : {"quick", "full"}, default="quick"
        Sizes of the data sets, the learned measures' training and the protocols; see
        :data:`~sklearn_contrasim.benchmarks.PRESETS`.
    benchmarks : sequence of str, default=all three
        Any of ``"layer_prediction"``, ``"multilingual"``, ``"image_caption"``.
    datasets : sequence of str, default=None
        Names of the preset's data sets to run (for example ``"mlp-fashion-mnist"``);
        every data set of the chosen benchmarks when None.
    measures : sequence of str, default=None
        Names of default measures to compare; all of them when None.
    n_jobs : int, default=-1
        Parallel fits (joblib; each worker process uses one thread per core it gets), and
        seeds trained in parallel when a layer-prediction data set is built.
    data_home : str, default=None
        Cache folder of the data sets.
    random_state : int, default=0
        Seed of the splits, protocols and learned measures.
    verbose : bool, default=True
        Show progress.

    Returns
    -------
    results : pandas.DataFrame
        Every runner's rows.
    similarities : pandas.DataFrame or None
        The layer-prediction similarity grids, when layer prediction ran.
    timings : dict of str to float
        Seconds spent loading or building each data set and running each benchmark.
    """
    from .. import datasets as loaders

    settings = PRESETS[preset]
    available = list(default_measures())
    names = available if measures is None else list(measures)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(f"Unknown measures {unknown}; choose among {available}.")
    runs = [(benchmark, dataset) for benchmark in benchmarks
            for dataset in settings[benchmark]["datasets"]]
    if datasets is not None:
        unknown = sorted(set(datasets) - {dataset for _, dataset in runs})
        if unknown:
            raise ValueError(
                f"Unknown data sets {unknown} for the {preset!r} preset's benchmarks "
                f"{list(benchmarks)}; choose among {[dataset for _, dataset in runs]}."
            )
        runs = [(benchmark, dataset) for benchmark, dataset in runs if dataset in datasets]
    results, similarities, timings = [], [], {}
    for benchmark in dict.fromkeys(benchmark for benchmark, _ in runs):
        loader_name, runner = BENCHMARKS[benchmark]
        every_measure = default_measures(learned_params=settings[benchmark]["learned_params"],
                                         random_state=random_state)
        chosen = {name: every_measure[name] for name in names}
        for dataset in [dataset for run, dataset in runs if run == benchmark]:
            loader_params = settings[benchmark]["datasets"][dataset]
            if verbose:
                print(f"[{benchmark}] loading {dataset} ...", file=sys.stderr, flush=True)
            start = time.perf_counter()
            loader = getattr(loaders, loader_name)
            if "n_jobs" in inspect.signature(loader).parameters:  # seeds trained in parallel
                loader_params = {"n_jobs": n_jobs, **loader_params}
            data = loader(data_home=data_home, verbose=verbose, **loader_params)
            timings[f"load {benchmark} {dataset}"] = time.perf_counter() - start
            start = time.perf_counter()
            output = runner(data, chosen, dataset=dataset, n_jobs=n_jobs,
                            random_state=random_state, verbose=verbose,
                            **settings[benchmark]["runner"])
            timings[f"run {benchmark} {dataset}"] = time.perf_counter() - start
            if isinstance(output, tuple):  # layer prediction with its similarity grids
                output, grid = output
                similarities.append(grid)
            results.append(output)
    results = pd.concat(results, ignore_index=True)
    similarities = pd.concat(similarities, ignore_index=True) if similarities else None
    return results, similarities, timings


def write_report(results, similarities, output):
    """Write the results, summary, comparison tables and PNG plots into a folder.

    Files: ``results.csv``, ``similarities.csv`` (when given), ``summary.csv``,
    ``tables.md`` (mean ± std and 95 % confidence-interval tables),
    ``accuracy_by_measure.png``, ``accuracy_per_layer_<benchmark>_<data set>_<held out>_
    <negatives>.png`` and ``similarity_heatmaps_<data set>.png``. Figures are drawn
    without pyplot, so no display is needed.

    Parameters
    ----------
    results : pandas.DataFrame
        The runners' result rows.
    similarities : pandas.DataFrame or None
        The layer-prediction similarity grids.
    output : str or path-like
        The folder (created when missing).

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        ``"std"`` (mean ± std) and ``"ci"`` (95 % confidence interval) tables.
    """
    from ..plotting import plot_accuracy_per_layer, plot_measure_bars, plot_similarity_heatmaps

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    results.to_csv(output / "results.csv", index=False)
    if similarities is not None:
        similarities.to_csv(output / "similarities.csv", index=False)
    tables = {interval: comparison_table(results, interval=interval) for interval in ("std", "ci")}
    summary = summarize(results)
    summary.to_csv(output / "summary.csv", index=False)
    with open(output / "tables.md", "w") as handle:
        handle.write("## Accuracy, mean ± std over folds and pairs\n\n")
        handle.write(to_markdown(tables["std"]) + "\n\n")
        handle.write("## Accuracy, mean and 95 % confidence interval\n\n")
        handle.write(to_markdown(tables["ci"]) + "\n")

    ax = plot_measure_bars(summary, title="Accuracy per benchmark")
    ax.figure.savefig(output / "accuracy_by_measure.png", dpi=120)
    # Image-caption compares each model's final layer only: no curve over layers.
    layered = results[results.benchmark != "image_caption"]
    by_layer = (
        summarize(layered, by=("benchmark", "dataset", "heldout", "negatives", "layer"))
        if len(layered) else layered
    )
    for key, part in by_layer.groupby(["benchmark", "dataset", "heldout", "negatives"]):
        if part.layer.nunique() > 1:
            name = "_".join(map(str, key))
            ax = plot_accuracy_per_layer(part, title=" / ".join(map(str, key)))
            ax.figure.savefig(output / f"accuracy_per_layer_{name}.png", dpi=120)
    if similarities is not None:
        heldout = similarities.heldout.iloc[0]
        examples = similarities[similarities.heldout == heldout]
        for dataset, part in examples.groupby("dataset"):
            figure = plot_similarity_heatmaps(
                part, title=f"{dataset}: layer × layer similarity (mean over test pairs, "
                            f"held out: {heldout})")
            figure.savefig(output / f"similarity_heatmaps_{dataset}.png", dpi=100)
    return tables


def main(argv=None):
    """Entry point of ``contrasim-bench``."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Degenerate chunks (CCA with more features than rows) warn on every decision;
        # their misses are in the tables.
        warnings.simplefilter("ignore", DegenerateSimilarityWarning)
        results, similarities, timings = run_benchmarks(
            preset=args.preset, benchmarks=args.benchmarks, datasets=args.datasets,
            measures=args.measures,
            n_jobs=args.n_jobs, data_home=args.data_home, random_state=args.random_state,
            verbose=not args.quiet,
        )
        tables = write_report(results, similarities, args.output)
    timings["total"] = time.perf_counter() - start
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(f"\ncontrasim-bench --preset {args.preset}: accuracy, mean ± std over folds and pairs\n")
    print(tables["std"].to_string())
    print("\nSeconds: " + ", ".join(f"{key} {value:.0f}" for key, value in timings.items()))
    with open(Path(args.output) / "run.json", "w") as handle:
        json.dump({"argv": sys.argv[1:] if argv is None else list(argv), "preset": args.preset,
                   "seconds": timings}, handle, indent=2)
    print(f"Wrote results.csv, tables.md and plots to {args.output}/")
    return 0
