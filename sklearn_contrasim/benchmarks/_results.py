"""Comparison tables of benchmark results: mean ± spread per measure, and ranks."""

import numpy as np
import pandas as pd
from scipy import stats

#: The columns of every runner's result table, in order. ``accuracy`` is
#: ``n_hits / n_decisions``.
RESULT_COLUMNS = [
    "benchmark",
    "dataset",
    "representation",
    "heldout",
    "fold",
    "trained_on",
    "x",
    "y",
    "layer",
    "layer_name",
    "measure",
    "negatives",
    "accuracy",
    "n_hits",
    "n_decisions",
    "chance",
    "fit_time",
    "score_time",
]

#: A result row's *unit*: the rows sharing these values (all layers of one model pair or
#: test language pair, in one fold) are pooled into one accuracy; spreads are over units.
UNIT_COLUMNS = ["benchmark", "dataset", "heldout", "fold", "trained_on", "x", "y", "negatives",
                "measure"]
DEFAULT_BY = ("benchmark", "heldout", "negatives")


def comparison_keys(results, by):
    """``by`` as a list, with the columns whose values are never pooled added to it.

    ``"dataset"`` whenever ``results`` has that column, and ``"representation"`` when
    ``results`` mixes representations (raw and anchor-relative), are inserted after
    ``"benchmark"`` (first when ``by`` does not start with it) unless ``by`` names them
    already: two data sets of one benchmark (the MLP and BERT layer-prediction sets, the
    openclipart and emoji image-caption sets) are always compared apart.
    """
    by = [by] if isinstance(by, str) else list(by)
    added = [column for column in ("dataset", "representation")
             if column in results and column not in by
             and (column == "dataset" or results[column].nunique() > 1)]
    at = 1 if by[:1] == ["benchmark"] else 0
    return by[:at] + added + by[at:]


def results_frame(rows):
    """Return the tidy result table (the documented columns, in order) of a list of row dicts."""
    return pd.DataFrame(rows, columns=RESULT_COLUMNS).astype({"n_hits": int, "n_decisions": int})


def summarize(results, *, by=DEFAULT_BY, confidence=0.95):
    """Mean accuracy of every measure with its spread over folds and pairs.

    Rows are first pooled into *units* (all layers of one model pair, or of one test
    language pair, in one fold and training setting: the columns of
    :data:`UNIT_COLUMNS`), each unit's accuracy being the fraction of its decisions that
    are hits (its summed ``n_hits`` over its summed ``n_decisions``). Then, per ``by``
    group and measure, the units give the mean, the standard
    deviation and a Student-t confidence interval of the mean. Grouping ``by`` a column
    of the unit (``"layer"``) summarises each value of that column separately.

    Rows of different data sets are never pooled: ``"dataset"`` is always added to
    ``by`` after ``"benchmark"`` when ``by`` does not name it, and so is
    ``"representation"`` when ``results`` mixes representations (raw and
    anchor-relative).

    Parameters
    ----------
    results : pandas.DataFrame
        A runner's result table (or several, concatenated).
    by : sequence of str, default=("benchmark", "heldout", "negatives")
        Columns that define a comparison; each gets its own ranks.
    confidence : float, default=0.95
        Level of the confidence interval.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (``by`` values, measure), ``by`` with the columns added above: the
        ``by`` columns, ``measure``, ``mean``, ``std``, ``ci_low``, ``ci_high``,
        ``n_units``, ``n_decisions``, ``chance`` and ``rank`` (1 = the highest mean in
        its group; ties share the best rank).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_contrasim.benchmarks import summarize
    >>> results = pd.DataFrame({
    ...     "benchmark": "toy", "dataset": "d", "heldout": "pairs", "trained_on": "",
    ...     "y": "b", "negatives": "random", "layer": 0, "chance": 0.5, "n_decisions": 10,
    ...     "fold": [0, 1, 0, 1], "x": "a", "measure": ["good", "good", "bad", "bad"],
    ...     "n_hits": [9, 7, 5, 5], "accuracy": [0.9, 0.7, 0.5, 0.5]})
    >>> summarize(results)[["dataset", "measure", "mean", "std", "rank"]]
      dataset measure  mean       std  rank
    0       d    good   0.8  0.141421     1
    1       d     bad   0.5  0.000000     2
    """
    by = comparison_keys(results, by)
    missing = sorted(set(UNIT_COLUMNS + by + ["n_hits", "n_decisions", "chance"]) - set(results))
    if missing:
        raise ValueError(f"results lacks the columns {missing}; pass a runner's result table.")
    if results.empty:
        raise ValueError("results is empty.")
    unit_keys = list(dict.fromkeys(UNIT_COLUMNS + by))
    units = (
        results.groupby(unit_keys, sort=False, dropna=False)
        .agg(n_hits=("n_hits", "sum"), n_decisions=("n_decisions", "sum"),
             chance=("chance", "mean"))
        .reset_index()
    )
    units["accuracy"] = units.n_hits / units.n_decisions
    group_keys = list(dict.fromkeys(by + ["measure"]))
    summary = (
        units.groupby(group_keys, sort=False, dropna=False)
        .agg(mean=("accuracy", "mean"), std=("accuracy", "std"), n_units=("accuracy", "size"),
             n_decisions=("n_decisions", "sum"), chance=("chance", "mean"))
        .reset_index()
    )
    summary["std"] = summary["std"].fillna(0.0)
    half_width = stats.t.ppf(0.5 + confidence / 2, np.maximum(summary.n_units - 1, 1)) * (
        summary["std"] / np.sqrt(summary.n_units)
    )
    summary["ci_low"] = (summary["mean"] - half_width).clip(lower=0.0)
    summary["ci_high"] = (summary["mean"] + half_width).clip(upper=1.0)
    ranks = summary.groupby(by, sort=False, dropna=False)["mean"]
    summary["rank"] = ranks.rank(ascending=False, method="min").astype(int)
    columns = group_keys + ["mean", "std", "ci_low", "ci_high", "n_units", "n_decisions", "chance",
                            "rank"]
    return summary[columns]


def comparison_table(results, *, by=DEFAULT_BY, interval="std", confidence=0.95, decimals=3):
    """Measures × comparisons table of formatted accuracies, best mean rank first.

    Parameters
    ----------
    results : pandas.DataFrame
        A runner's result table (or several, concatenated).
    by : sequence of str, default=("benchmark", "heldout", "negatives")
        Columns whose values make the table's columns (joined with ``" / "``);
        ``"dataset"`` is always added after ``"benchmark"``, and ``"representation"``
        when ``results`` mixes representations (see :func:`summarize`), so that no
        column pools two data sets.
    interval : {"std", "ci"}, default="std"
        ``"std"``: ``mean ± std`` over units; ``"ci"``: ``mean [low, high]``, the
        Student-t confidence interval of the mean.
    confidence : float, default=0.95
        Level of the confidence interval.
    decimals : int, default=3
        Decimals shown.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by measure; one column per comparison (``"n/a"`` where the measure has
        no result), then ``mean rank`` (the mean over the comparisons it has of the
        measure's rank) and a last row ``chance``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_contrasim.benchmarks import comparison_table
    >>> results = pd.DataFrame({
    ...     "benchmark": "toy", "dataset": "d", "heldout": "pairs", "trained_on": "",
    ...     "y": "b", "negatives": "random", "layer": 0, "chance": 0.5, "n_decisions": 10,
    ...     "fold": [0, 1, 0, 1], "x": "a", "measure": ["good", "good", "bad", "bad"],
    ...     "n_hits": [9, 7, 5, 5], "accuracy": [0.9, 0.7, 0.5, 0.5]})
    >>> comparison_table(results, decimals=2)
                toy / d / pairs / random  mean rank
    measure
    good                 0.80 ± 0.14       1.0
    bad                  0.50 ± 0.00       2.0
    chance                      0.50
    """
    if interval not in ("std", "ci"):
        raise ValueError(f"interval must be 'std' or 'ci', got {interval!r}.")
    by = comparison_keys(results, by)
    summary = summarize(results, by=by, confidence=confidence)
    column = summary[by].astype(str).agg(" / ".join, axis=1)
    if interval == "std":
        cell = summary.apply(lambda row: f"{row['mean']:.{decimals}f} ± {row['std']:.{decimals}f}",
                             axis=1)
    else:
        cell = summary.apply(
            lambda row: f"{row['mean']:.{decimals}f} [{row.ci_low:.{decimals}f}, "
                        f"{row.ci_high:.{decimals}f}]",
            axis=1,
        )
    summary = summary.assign(column=column, cell=cell)
    order = list(dict.fromkeys(column))
    # A measure that could not be run on a comparison (skipped by the runner) shows "n/a".
    table = summary.pivot(index="measure", columns="column", values="cell")[order].fillna("n/a")
    mean_rank = summary.groupby("measure")["rank"].mean()
    table["mean rank"] = mean_rank.round(2).astype(str)
    table = table.loc[mean_rank.sort_values(kind="stable").index]
    chance = summary.groupby("column", sort=False)["chance"].mean()
    table.loc["chance"] = [f"{chance[name]:.{decimals}f}" for name in order] + [""]
    table.columns.name = None
    return table


def to_markdown(table):
    """Render a table (such as :func:`comparison_table`'s) as a GitHub Markdown table.

    Parameters
    ----------
    table : pandas.DataFrame
        The table; its index becomes the first column.

    Returns
    -------
    markdown : str

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_contrasim.benchmarks import to_markdown
    >>> print(to_markdown(pd.DataFrame({"accuracy": ["0.9 ± 0.1"]}, index=["CKA"])))
    |  | accuracy |
    |---|---|
    | CKA | 0.9 ± 0.1 |
    """
    index_name = table.index.name or ""
    lines = [
        "| " + " | ".join([index_name, *map(str, table.columns)]) + " |",
        "|" + "---|" * (len(table.columns) + 1),
    ]
    lines += [
        "| " + " | ".join([str(index), *map(str, row)]) + " |"
        for index, row in zip(table.index, table.itertuples(index=False))
    ]
    return "\n".join(lines)

