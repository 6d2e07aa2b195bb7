"""Plots of benchmark results, drawn on matplotlib Figures without pyplot (headless-safe)."""

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# Twenty distinct colours (the strong half of tab20 first) and markers, so that a dozen
# measures never share a colour.
_COLORS = [matplotlib.colormaps["tab20"](i) for i in [*range(0, 20, 2), *range(1, 20, 2)]]
_MARKERS = "osv^DPX*<>ph"


def _style(index):
    """Colour and marker of the ``index``-th measure of a plot."""
    return _COLORS[index % len(_COLORS)], _MARKERS[index % len(_MARKERS)]


def _axes(ax, figsize):
    """Return ``ax``, or the axes of a new pyplot-free Figure."""
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def _check_summary(summary, columns):
    missing = sorted(set(columns) - set(summary))
    if missing:
        raise ValueError(
            f"summary lacks the columns {missing}; pass the output of "
            "sklearn_contrasim.benchmarks.summarize."
        )
    if summary.empty:
        raise ValueError("summary is empty: nothing to plot.")


def plot_accuracy_per_layer(summary, *, ax=None, title=None, figsize=(7.5, 4)):
    """Line plot of each measure's mean accuracy per layer, with its spread and chance.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~sklearn_contrasim.benchmarks.summarize` grouped by ``"layer"`` (and
        filtered to one benchmark setting): columns ``layer``, ``measure``, ``mean``,
        ``std`` and ``chance``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.
    title : str, default=None
        Title of the axes.
    figsize : tuple, default=(7.5, 4)
        Size of a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Save it with ``ax.figure.savefig("accuracy.png")``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_contrasim.plotting import plot_accuracy_per_layer
    >>> summary = pd.DataFrame({"layer": [0, 1, 0, 1], "measure": ["A", "A", "B", "B"],
    ...                         "mean": [0.5, 0.9, 0.3, 0.4], "std": 0.1, "chance": 0.1})
    >>> ax = plot_accuracy_per_layer(summary)
    >>> [line.get_label() for line in ax.get_lines()]
    ['A', 'B', 'chance']
    """
    _check_summary(summary, ["layer", "measure", "mean", "std", "chance"])
    ax = _axes(ax, figsize)
    for index, (measure, curve) in enumerate(summary.groupby("measure", sort=False)):
        curve = curve.sort_values("layer")
        color, marker = _style(index)
        ax.plot(curve.layer, curve["mean"], marker=marker, color=color, label=measure)
        ax.fill_between(curve.layer, curve["mean"] - curve["std"], curve["mean"] + curve["std"],
                        color=color, alpha=0.12, linewidth=0)
    ax.axhline(summary.chance.mean(), color="grey", linestyle="--", label="chance")
    ax.set(xlabel="layer", ylabel="accuracy", ylim=(-0.02, 1.02), title=title)
    ax.set_xticks(sorted(summary.layer.unique()))
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def plot_measure_bars(summary, *, by=("benchmark", "heldout", "negatives"), ax=None, title=None,
                      figsize=(8, 4)):
    """Grouped bars of each measure's mean accuracy per comparison, with std error bars.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~sklearn_contrasim.benchmarks.summarize`'s output: columns ``measure``,
        ``mean``, ``std``, ``chance`` and those of ``by``.
    by : sequence of str, default=("benchmark", "heldout", "negatives")
        Columns naming a comparison (a group of bars).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.
    title : str, default=None
        Title of the axes.
    figsize : tuple, default=(8, 4)
        Size of a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_contrasim.plotting import plot_measure_bars
    >>> summary = pd.DataFrame({"benchmark": "toy", "measure": ["A", "B"],
    ...                         "mean": [0.8, 0.4], "std": 0.1, "chance": 0.1})
    >>> ax = plot_measure_bars(summary, by=["benchmark"])
    >>> [round(float(bar.get_height()), 2) for bar in ax.patches]
    [0.8, 0.4]
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_summary(summary, by + ["measure", "mean", "std", "chance"])
    ax = _axes(ax, figsize)
    groups = summary[by].astype(str).agg("\n".join, axis=1)
    group_names = list(dict.fromkeys(groups))
    measures = list(dict.fromkeys(summary.measure))
    width = 0.8 / len(measures)
    positions = np.arange(len(group_names))
    for index, measure in enumerate(measures):
        rows = summary[summary.measure == measure].set_index(groups[summary.measure == measure])
        rows = rows.reindex(group_names)
        ax.bar(positions + (index - (len(measures) - 1) / 2) * width, rows["mean"], width,
               yerr=rows["std"], label=measure, capsize=2, color=_style(index)[0])
    chances = summary.assign(group=groups).groupby("group", sort=False).chance.mean()
    for position, name in zip(positions, group_names):
        ax.hlines(chances[name], position - 0.45, position + 0.45, colors="grey",
                  linestyles="--")
    ax.set_xticks(positions, group_names, fontsize="small")
    ax.set(ylabel="accuracy", ylim=(0, 1.05), title=title)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def plot_similarity_heatmap(grid, *, ax=None, title=None, xlabel="layer of B", ylabel="layer of A",
                            cmap="viridis", figsize=(4.5, 4)):
    """Heat map of a layer × layer similarity grid, each row's maximum marked.

    Parameters
    ----------
    grid : array-like of shape (n_layers_a, n_layers_b) or pandas.DataFrame
        Similarities; a DataFrame's index and columns label the axes (for example
        ``similarities.pivot_table(index="layer_x", columns="layer_y",
        values="similarity")`` from
        :func:`~sklearn_contrasim.benchmarks.layer_prediction`'s similarity table).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.
    title : str, default=None
        Title of the axes.
    xlabel, ylabel : str
        Axis labels.
    cmap : str, default="viridis"
        Colour map.
    figsize : tuple, default=(4.5, 4)
        Size of a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.plotting import plot_similarity_heatmap
    >>> ax = plot_similarity_heatmap(np.array([[0.9, 0.2], [0.3, 0.8]]))
    >>> ax.images[0].get_array().shape
    (2, 2)
    """
    frame = grid if isinstance(grid, pd.DataFrame) else None
    values = np.asarray(grid, dtype=float)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"grid must be a non-empty 2-D array, got shape {values.shape}.")
    if frame is None:
        frame = pd.DataFrame(values)
    ax = _axes(ax, figsize)
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.figure.colorbar(image, ax=ax, label="similarity")
    finite = np.where(np.isfinite(values), values, -np.inf)
    ax.scatter(finite.argmax(axis=1), np.arange(len(values)), marker="x", color="red",
               label="row maximum")
    ax.set_xticks(range(values.shape[1]), [str(label) for label in frame.columns])
    ax.set_yticks(range(values.shape[0]), [str(label) for label in frame.index])
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return ax
