"""The report of a benchmark run: csv files, Markdown tables, figures and terminal tables."""

import json
import tempfile
import textwrap
from pathlib import Path

from ._results import comparison_table, summarize, to_markdown

#: The files of a report (glob patterns in its folder). A new report replaces these and
#: only these.
REPORT_FILES = (
    "results.csv",
    "similarities.csv",
    "summary.csv",
    "tables.md",
    "run.json",
    "accuracy_by_measure.png",
    "accuracy_per_layer_*.png",
    "similarity_heatmaps_*.png",
)

# The columns of a benchmark's terminal table, and their names in its title.
_FACETS = {"heldout": "held out", "negatives": "negatives"}


def report_files(output):
    """Return the files of an earlier report in a folder (see :data:`REPORT_FILES`), sorted."""
    output = Path(output)
    return sorted({path for pattern in REPORT_FILES for path in output.glob(pattern)
                   if path.is_file()})


def prepare_output(output, *, overwrite=False):
    """Make a folder ready to receive a report, before any work is done for it.

    The folder is created when missing and a file is written into it (and removed), so
    that an impossible or read-only folder is found out at once. A folder that already
    holds a report (any file of :data:`REPORT_FILES`) is refused, so that old and new
    files never mix, unless ``overwrite`` is True: then those files, and only those, are
    removed.

    Parameters
    ----------
    output : str or path-like
        The folder.
    overwrite : bool, default=False
        Remove an earlier report instead of refusing the folder.

    Returns
    -------
    output : pathlib.Path

    Raises
    ------
    FileExistsError
        When the folder holds a report and ``overwrite`` is False.
    OSError
        When the folder cannot be created or written into (a one-line message).
    """
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise OSError(f"The output folder {output} is a file.")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"Cannot create the output folder {output}: {error.strerror}.") from error
    try:
        with tempfile.NamedTemporaryFile(dir=output, prefix=".write-test-"):
            pass
    except OSError as error:
        raise OSError(f"Cannot write into the output folder {output}: {error.strerror}.") from error
    earlier = report_files(output)
    if earlier and not overwrite:
        raise FileExistsError(
            f"The output folder {output} already holds a report ({len(earlier)} files, "
            f"such as {earlier[0].name}); pass overwrite=True to replace it."
        )
    for path in earlier:
        path.unlink()
    return output


def write_report(results, output, *, similarities=None, run=None, overwrite=False):
    """Write the results, summary, comparison tables and figures of a run into a folder.

    Files (:data:`REPORT_FILES`): ``results.csv``, ``similarities.csv`` (when given),
    ``summary.csv`` (:func:`summarize`: one row per benchmark, data set, held-out
    setting, negatives and measure), ``tables.md`` (:func:`comparison_table`: accuracy as
    mean ± std and with a 95 % confidence interval, one column per benchmark, data set,
    held-out setting and negatives), ``run.json`` (when ``run`` is given),
    ``accuracy_by_measure.png``,
    ``accuracy_per_layer_<benchmark>_<data set>_<held out>_<negatives>.png`` and
    ``similarity_heatmaps_<data set>.png`` (``..._<data set>_<representation>.png`` when the
    grids are of raw and anchor-relative representations). No table or figure pools two
    data sets or representations, and
    each measure has the same colour, marker and line style in every figure. Figures are
    drawn without pyplot, so no display is needed.

    Parameters
    ----------
    results : pandas.DataFrame
        The runners' result rows (for example ``run_benchmarks(...).results``).
    output : str or path-like
        The folder, prepared with :func:`prepare_output` (created when missing; an
        earlier report in it is refused unless ``overwrite``).
    similarities : pandas.DataFrame, default=None
        The layer-prediction similarity grids.
    run : dict, default=None
        What to record about the run in ``run.json`` (JSON-ready values).
    overwrite : bool, default=False
        Replace an earlier report in the folder.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        ``"std"`` (mean ± std) and ``"ci"`` (95 % confidence interval) tables.

    Examples
    --------
    A report of a (made-up) benchmark, one row per fold and measure:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from sklearn_contrasim.benchmarks import write_report
    >>> results = pd.DataFrame([
    ...     dict(benchmark="toy", dataset="d", heldout="pairs", fold=fold, trained_on="",
    ...          x="a", y="b", layer=0, measure=measure, negatives="random", n_hits=hits,
    ...          n_decisions=10, accuracy=hits / 10, chance=0.5)
    ...     for fold, hits_per_measure in enumerate([{"good": 9, "bad": 5}, {"good": 7, "bad": 5}])
    ...     for measure, hits in hits_per_measure.items()])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     tables = write_report(results, folder)
    ...     written = sorted(path.name for path in Path(folder).iterdir())
    >>> written
    ['accuracy_by_measure.png', 'results.csv', 'summary.csv', 'tables.md']
    >>> tables["std"].loc["good"].iloc[0]
    '0.800 ± 0.141'
    """
    from ..plotting import (
        measure_styles,
        plot_accuracy_per_layer,
        plot_measure_bars,
        plot_similarity_heatmaps,
    )

    output = prepare_output(output, overwrite=overwrite)
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

    # One colour, marker and line style per measure in every figure of the run.
    styles = measure_styles(results.measure)
    ax = plot_measure_bars(summary, styles=styles, title="Accuracy per benchmark and data set")
    ax.figure.savefig(output / "accuracy_by_measure.png", dpi=120)
    # Image-caption compares each model's final layer only: no curve over layers.
    layered = results[results.benchmark != "image_caption"]
    by_layer = (
        summarize(layered, by=("benchmark", "dataset", "heldout", "negatives", "layer"))
        if len(layered) else layered
    )
    # summarize adds "representation" to the keys when the results mix representations.
    curve_keys = [key for key in ("benchmark", "dataset", "representation", "heldout",
                                  "negatives") if key in by_layer]
    for key, part in by_layer.groupby(curve_keys):
        if part.layer.nunique() > 1:
            name = "_".join(map(str, key))
            ax = plot_accuracy_per_layer(part, styles=styles, title=" / ".join(map(str, key)))
            ax.figure.savefig(output / f"accuracy_per_layer_{name}.png", dpi=120)
    if similarities is not None:
        heldout = similarities.heldout.iloc[0]
        examples = similarities[similarities.heldout == heldout]
        # One figure per data set and representation (raw and anchor-relative grids are
        # never averaged together); the file names say the representation when there are two.
        keys = ["dataset"] + (["representation"] if "representation" in examples else [])
        named = "representation" in examples and examples.representation.nunique() > 1
        for key, part in examples.groupby(keys):
            dataset, *representation = key
            described = f"{dataset}, {representation[0]}" if named else dataset
            figure = plot_similarity_heatmaps(
                part, title=f"{described}: layer × layer similarity (mean over test pairs, "
                            f"held out: {heldout})")
            suffix = f"_{representation[0]}" if named else ""
            figure.savefig(output / f"similarity_heatmaps_{dataset}{suffix}.png", dpi=100)
    if run is not None:
        with open(output / "run.json", "w") as handle:
            json.dump(run, handle, indent=2)
    return tables


def format_tables(results, *, notes=None, width=100):
    """Return one accuracy table per benchmark and data set as text that fits a terminal.

    Each table has the measures as rows and one column per held-out setting or kind of
    negatives of that benchmark (what all its columns share is said in its title), with
    the mean ± std accuracy, the mean rank and the chance level. No line is longer than
    ``width`` characters (a table too wide is wrapped into blocks of columns).

    Parameters
    ----------
    results : pandas.DataFrame
        The runners' result rows.
    notes : mapping of (str, str) to list of str, default=None
        Lines printed under the table of a (benchmark, data set), or after the tables
        under its name when it has no results.
    width : int, default=100
        The width of the terminal.

    Returns
    -------
    text : str

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_contrasim.benchmarks._report import format_tables
    >>> results = pd.DataFrame([
    ...     dict(benchmark="toy", dataset="d", heldout="pairs", fold=0, trained_on="",
    ...          x="a", y="b", layer=0, measure=measure, negatives=negatives, n_hits=hits,
    ...          n_decisions=10, accuracy=hits / 10, chance=0.5)
    ...     for measure, hits_per_negatives in [("good", (9, 7)), ("bad", (5, 5))]
    ...     for negatives, hits in zip(["random", "hard"], hits_per_negatives)])
    >>> print(format_tables(results, notes={("toy", "d"): ["n/a: ugly"]}))
    toy / d (held out: pairs): accuracy, mean ± std over folds and pairs
                    random           hard mean rank
    measure
    good     0.900 ± 0.000  0.700 ± 0.000       1.0
    bad      0.500 ± 0.000  0.500 ± 0.000       2.0
    chance           0.500          0.500
    n/a: ugly
    """
    notes = notes or {}
    blocks = []
    for (benchmark, dataset), part in results.groupby(["benchmark", "dataset"], sort=False):
        varying = [column for column in _FACETS if part[column].nunique() > 1] or ["negatives"]
        shared = ", ".join(f"{name}: {part[column].iloc[0]}"
                           for column, name in _FACETS.items() if column not in varying)
        title = textwrap.fill(
            f"{benchmark} / {dataset}" + (f" ({shared})" if shared else "")
            + ": accuracy, mean ± std over folds and pairs", width, subsequent_indent="  ")
        # pandas marks a wrapped block's lines with a trailing " \\" beyond line_width.
        table = comparison_table(part, by=varying)
        # The title names the data set, which comparison_table puts first in every column.
        table.columns = [name.removeprefix(f"{dataset} / ") for name in table.columns]
        table = table.to_string(line_width=width - 3)
        lines = [title, *table.splitlines(), *notes.get((benchmark, dataset), [])]
        blocks.append("\n".join(line.rstrip() for line in lines))
    tabled = set(results.groupby(["benchmark", "dataset"]).groups)
    blocks += ["\n".join([f"{benchmark} / {dataset}: no results", *lines])
               for (benchmark, dataset), lines in notes.items()
               if (benchmark, dataset) not in tabled]
    return "\n\n".join(blocks)
