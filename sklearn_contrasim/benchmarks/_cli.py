"""``contrasim-bench``: run the benchmarks on the real data sets and write a report."""

import argparse
import os
import platform
import re
import sys
import textwrap
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version

from .. import __version__
from ..datasets import MissingDataSourceError
from ..measures import DegenerateSimilarityWarning
from ._presets import PRESETS, default_measures
from ._report import format_tables, prepare_output, write_report
from ._suite import BENCHMARKS, check_selection, combine_runs, run_one

#: The width of the terminal the printed lines fit in.
WIDTH = 100

#: The packages whose versions ``run.json`` records, with Python's and this package's.
RECORDED_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "skorch", "transformers")

# joblib's warning when it replaces a worker process: about joblib, not about the results.
_WORKER_STOPPED = "A worker stopped while some jobs were given to the executor"
# The warning of a runner that skips a measure which cannot compare its inputs:
# "<runner>: measure '<name>' (<task>) skipped: <reason>" or "<runner>: <name> skipped: ...".
_SKIPPED = re.compile(
    r"(?:measure '(?P<named>[^']+)'.*?|(?P<measure>\w+)) skipped: (?P<reason>.+)", re.DOTALL
)


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on standard error, exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def _n_jobs(text):
    """``--n-jobs``: a number of processes, or -1 for one per core."""
    try:
        n_jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if n_jobs == 0 or n_jobs < -1:
        raise argparse.ArgumentTypeError(
            f"must be a number of processes (1 or more) or -1 for every core, got {n_jobs}"
        )
    return n_jobs


def _seed(text):
    """``--random-state``: an integer in [0, 2**32 - 1]."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= seed < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1, got {seed}")
    return seed


def build_parser():
    """Return the argument parser of ``contrasim-bench``."""
    parser = _ArgumentParser(
        prog="contrasim-bench",
        description=(
            "Run the ContraSim paper's three benchmarks (layer prediction, multilingual, "
            "image-caption) on data sets built from installed packages, print comparison "
            "tables and write results.csv, tables and PNG plots to the output folder."
        ),
    )
    parser.add_argument("--version", action="version",
                        version=f"contrasim-bench {__version__}")
    parser.add_argument("--preset", choices=list(PRESETS), default="quick",
                        help="data and training sizes (default: quick)")
    parser.add_argument("--benchmarks", nargs="+", choices=list(BENCHMARKS),
                        default=list(BENCHMARKS), help="benchmarks to run (default: all)")
    parser.add_argument("--datasets", nargs="+", default=None, metavar="NAME",
                        help="data sets of the preset to run (default: all of the chosen "
                             "benchmarks'): " + ", ".join(sorted(
                                 {name for preset in PRESETS.values()
                                  for settings in preset.values()
                                  for name in settings.datasets})))
    parser.add_argument("--measures", nargs="+", default=None, metavar="NAME",
                        help="measures to compare (default: every measure): "
                             + ", ".join(default_measures()))
    parser.add_argument("--representations", nargs="+", choices=["raw", "relative"],
                        default=None,
                        help="representations to compare: the layers themselves and/or "
                             "their anchor-relative representations (default: the "
                             "preset's)")
    parser.add_argument("--output", default="contrasim-results",
                        help="folder for results.csv, tables and plots (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the report of an earlier run in the output folder "
                             "(its files only); without it such a folder is refused")
    parser.add_argument("--n-jobs", type=_n_jobs, default=-1,
                        help="parallel fits and seed trainings (joblib processes; -1 = one "
                             "per core, the default)")
    parser.add_argument("--data-home", default=None,
                        help="cache folder of the data sets (default: $SKLEARN_CONTRASIM_DATA "
                             "or ~/.cache/sklearn_contrasim)")
    parser.add_argument("--random-state", type=_seed, default=0, help="seed (default: 0)")
    parser.add_argument("--quiet", action="store_true",
                        help="print the final tables only (no progress, no warnings)")
    return parser


def main(argv=None):
    """Entry point of ``contrasim-bench``.

    Every choice and the output folder are checked before any work: a user error is one
    line on standard error and exit status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        runs, measures = check_selection(args.preset, args.benchmarks, args.datasets,
                                         args.measures, args.representations)
        prepare_output(args.output, overwrite=args.overwrite)
    except FileExistsError:
        parser.error(f"the output folder {args.output} already holds the results of a run; "
                     "pass --overwrite to replace them, or choose another --output")
    except (ValueError, OSError) as error:
        parser.error(str(error))
    start = time.perf_counter()
    with _environment(HF_HUB_OFFLINE="1"):  # the models are local: never ask the Hub
        try:
            steps = [_run_step(run, measures, args) for run in runs]
        except MissingDataSourceError as error:  # a data package to install: say which
            sys.exit(f"{parser.prog}: {' '.join(str(error).split())}")
    suite = combine_runs(steps)
    seconds = {**suite.seconds, "total": time.perf_counter() - start}
    run = {
        "argv": sys.argv[1:] if argv is None else list(argv),
        "preset": args.preset,
        "seconds": seconds,
        "versions": _versions(),
        "datasets": suite.datasets,
        "skipped": _per_data_set(steps, "skipped"),
        "warnings": _per_data_set(steps, "warnings"),
    }
    notes = {(step.benchmark, step.dataset): [_skip_summary(step.skipped)]
             for step in steps if step.skipped}
    if suite.results.empty:  # every chosen measure was skipped: nothing to report
        print(format_tables(suite.results, notes=notes, width=WIDTH), file=sys.stderr)
        sys.exit(f"{parser.prog}: no results to report: every chosen measure was skipped")
    write_report(suite.results, args.output, similarities=suite.similarities, run=run)
    if not args.quiet:
        print(f"contrasim-bench --preset {args.preset}\n")
    print(format_tables(suite.results, notes=notes, width=WIDTH))
    if not args.quiet:
        print(f"\nDone in {seconds['total']:.0f} s (timings in run.json). Wrote results.csv, "
              f"tables.md, run.json and plots into\n{args.output}")
    return 0


def _run_step(run, measures, args):
    """Run one data set of one benchmark (see :func:`run_one`) and sort its warnings.

    The Bunch :func:`run_one` returns gets ``skipped`` (measure -> reason) and
    ``warnings`` (the other warnings, each once with its count), which are printed
    unless ``--quiet``.
    """
    benchmark, dataset, settings = run
    with _recorded_warnings() as caught:
        step = run_one(benchmark, dataset, settings, measures, n_jobs=args.n_jobs,
                       data_home=args.data_home, random_state=args.random_state,
                       verbose=not args.quiet)
    step.skipped, others = _sort_warnings(caught)
    step.warnings = [{"category": category, "message": message, "count": count}
                     for (category, message), count in others.items()]
    if not args.quiet:
        for warning in step.warnings:
            times = f" (×{warning['count']})" if warning["count"] > 1 else ""
            print(_fill(f"warning: {warning['category']}: {warning['message']}{times}"),
                  file=sys.stderr)
    return step


def _per_data_set(steps, key):
    """benchmark -> data set -> ``step[key]``, for the steps where it is not empty."""
    table = {}
    for step in steps:
        if step[key]:
            table.setdefault(step.benchmark, {})[step.dataset] = step[key]
    return table


@contextmanager
def _environment(**variables):
    """Set the environment variables that are not set already for a block, then unset them."""
    added = [name for name in variables if name not in os.environ]
    os.environ.update({name: variables[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextmanager
def _recorded_warnings():
    """Record every warning of a block, except those that say nothing about the results."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Degenerate chunks (CCA with more features than rows) warn on every decision;
        # their misses are in the tables.
        warnings.filterwarnings("ignore", category=DegenerateSimilarityWarning)
        warnings.filterwarnings("ignore", message=_WORKER_STOPPED, category=UserWarning)
        yield caught


def _sort_warnings(caught):
    """Split recorded warnings into the skipped measures' reasons and the other warnings.

    Returns
    -------
    reasons : dict of str to str
        Skipped measure -> the reason of its first skipped task.
    others : Counter of (str, str)
        (category name, message) -> number of times it was raised.
    """
    reasons, others = {}, Counter()
    for record in caught:
        message = str(record.message)
        skip = _SKIPPED.search(message)
        if skip:
            measure = skip["named"] or skip["measure"]
            reasons.setdefault(measure, " ".join(skip["reason"].split()))
        else:
            others[record.category.__name__, message] += 1
    return reasons, others


def _skip_summary(reasons):
    """A note naming the skipped measures and why (the first one's reason), in one
    paragraph of at most :data:`WIDTH` columns."""
    measure, reason = next(iter(reasons.items()))
    reason = reason.removeprefix(f"{measure} ")  # "DotProduct compares ..."
    return _fill(f"{', '.join(reasons)}: n/a ({reason})")


def _fill(text):
    """``text`` wrapped to :data:`WIDTH` columns, continuation lines indented."""
    return textwrap.fill(text, WIDTH, subsequent_indent="  ", break_on_hyphens=False)


def _versions():
    """The versions of Python, of :data:`RECORDED_PACKAGES` and of this package."""
    versions = {"python": platform.python_version(), "sklearn_contrasim": __version__}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return versions
