"""Plots of benchmark results, drawn on matplotlib Figures without pyplot (headless-safe)."""

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

# The measures of sklearn_contrasim.benchmarks.default_measures, each with its own strong
# colour (tab10 without its grey, which is chance's, then black, gold and indigo) and
# marker, and the line style of its family: learned solid, CKA dashed, CCA dotted, the
# others dash-dotted.
_KNOWN_STYLES = {
    "ContraSim": ("tab:blue", "o", "-"),
    "DeepDot": ("tab:orange", "s", "-"),
    "DeepCKA": ("tab:green", "v", "-"),
    "LinearCKA": ("tab:red", "^", "--"),
    "DebiasedCKA": ("tab:purple", "D", "--"),
    "RBFCKA": ("tab:brown", "P", "--"),
    "MeanCCA": ("tab:pink", "X", ":"),
    "SVCCA": ("tab:olive", "*", ":"),
    "PWCCA": ("tab:cyan", "<", ":"),
    "OrthogonalProcrustes": ("black", ">", "-."),
    "DotProduct": ("#e7ba52", "p", "-."),
    "NormSimilarity": ("#6b6ecf", "h", "-."),
}
# Measures of other names take these colours, markers and line styles in turn.
_OTHER_COLORS = [matplotlib.colors.to_hex(matplotlib.colormaps["tab20"](i))
                 for i in range(1, 20, 2)]
_OTHER_MARKERS = "osv^DPX*<>ph"
_OTHER_LINESTYLES = ["-", "--", ":", "-."]
_CHANCE_STYLE = {"color": "grey", "linestyle": "--", "linewidth": 1.2}
# Measures that are not highlighted are drawn pale: thin lines, lighter bars (a bar's
# area shows its colour better than a thin line).
_MUTED_ALPHA = 0.55
_MUTED_BAR_ALPHA = 0.65
# A measure that could not run or was not run (no result, or a NaN accuracy): an empty
# hatched stub.
_NOT_AVAILABLE_HEIGHT = 0.04
_NOT_AVAILABLE_STYLE = {"fill": False, "hatch": "////", "linewidth": 0.8}


def measure_styles(measures):
    """The colour, marker and line style of each measure, the same in every figure.

    Every measure of :func:`~sklearn_contrasim.benchmarks.default_measures` has its own
    fixed style, whatever else a figure shows: a strong colour and a marker of its own,
    and the line style of its family (learned measures solid, CKA dashed, CCA dotted,
    the others dash-dotted). Measures of other names take, in sorted order, further
    colours (tab20's light half), markers and line styles; pass the same list (every
    measure of a run) to each figure's ``styles`` to keep theirs too.

    Parameters
    ----------
    measures : iterable of str
        Names of measures.

    Returns
    -------
    styles : dict of str to dict
        Per measure, ``color``, ``marker`` and ``linestyle`` (keyword arguments of
        :meth:`matplotlib.axes.Axes.plot`).

    Examples
    --------
    >>> from sklearn_contrasim.plotting import measure_styles
    >>> measure_styles(["LinearCKA", "mine"])["LinearCKA"]
    {'color': 'tab:red', 'marker': '^', 'linestyle': '--'}
    >>> measure_styles(["mine", "LinearCKA"])["mine"]
    {'color': '#aec7e8', 'marker': 'o', 'linestyle': '-'}
    """
    measures = list(dict.fromkeys(measures))
    others = sorted(set(measures) - set(_KNOWN_STYLES))
    styles = dict(_KNOWN_STYLES)
    styles.update({measure: (_OTHER_COLORS[index % len(_OTHER_COLORS)],
                             _OTHER_MARKERS[index % len(_OTHER_MARKERS)],
                             _OTHER_LINESTYLES[index % len(_OTHER_LINESTYLES)])
                   for index, measure in enumerate(others)})
    return {measure: dict(zip(("color", "marker", "linestyle"), styles[measure]))
            for measure in measures}


def _styles(summary, styles):
    """``styles`` (or :func:`measure_styles` of the summary's measures), checked to cover
    every measure of ``summary``."""
    if styles is None:
        return measure_styles(summary.measure)
    missing = sorted(set(summary.measure) - set(styles))
    if missing:
        raise ValueError(f"styles has no style for the measures {missing}.")
    return styles


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


def _interval(rows):
    """Lower and upper ends of each row's interval within [0, 1], and the interval's name.

    The confidence interval of :func:`~sklearn_contrasim.benchmarks.summarize` when the
    rows carry it (``ci_low``, ``ci_high``), else the mean ± ``std``; accuracies lie in
    [0, 1], so the interval is clipped to it.
    """
    if {"ci_low", "ci_high"} <= set(rows):
        low, high, name = rows["ci_low"], rows["ci_high"], "confidence interval"
    else:
        low, high, name = rows["mean"] - rows["std"], rows["mean"] + rows["std"], "± 1 std"
    return (np.clip(np.asarray(low, dtype=float), 0.0, 1.0),
            np.clip(np.asarray(high, dtype=float), 0.0, 1.0), name)


def _interval_handle(name):
    """Legend handle of the error bars of an interval called ``name``."""
    return Line2D([], [], color="black", marker="|", markersize=10, linestyle="none",
                  label=f"error bar: {name}")


def _highlight(summary, highlight):
    """``highlight`` as a list, checked against the summary's measures; when None,
    ContraSim and the closed-form measure with the best mean accuracy, when present."""
    from ..benchmarks._presets import LEARNED_MEASURES

    if highlight is not None:
        highlight = list(highlight)
        unknown = sorted(set(highlight) - set(summary.measure))
        if unknown:
            raise ValueError(f"highlight names measures {unknown} that summary does not have.")
        return highlight
    means = summary.groupby("measure", sort=False)["mean"].mean()
    closed_form = means.drop(list(LEARNED_MEASURES), errors="ignore").dropna()
    highlight = ["ContraSim"] if "ContraSim" in means else []
    if len(closed_form):
        highlight.append(closed_form.idxmax())
    return highlight


def plot_accuracy_per_layer(summary, *, highlight=None, styles=None, ax=None, title=None,
                            figsize=(8, 4.2)):
    """Line plot of each measure's mean accuracy per layer, with its interval and chance.

    The highlighted measures are drawn bold, with their interval as error bars (side by
    side, slightly apart, so that they never hide each other); the others thin and pale,
    without interval, so that a dozen measures stay readable. Intervals are clipped to
    [0, 1]. Each measure has its own colour, marker and line style
    (:func:`measure_styles`), the same in every figure.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~sklearn_contrasim.benchmarks.summarize` grouped by ``"layer"`` (and
        filtered to one benchmark setting and data set: one row per measure and layer):
        columns ``layer``, ``measure``, ``mean``, ``std`` and ``chance``. With
        ``ci_low`` and ``ci_high`` (``summarize`` gives them) the error bars show that
        confidence interval of the mean, else the mean ± std.
    highlight : list of str, default=None
        Measures drawn bold with their error bars. None: ``"ContraSim"`` and the closed-form
        measure (not ContraSim, DeepDot or DeepCKA) with the best mean accuracy over the
        layers.
    styles : dict of str to dict, default=None
        Colour, marker and line style of each measure, as :func:`measure_styles`
        returns them; None: ``measure_styles`` of the summary's measures.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.
    title : str, default=None
        Title of the axes.
    figsize : tuple, default=(8, 4.2)
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
    ...                         "mean": [0.5, 0.9, 0.3, 0.4], "std": 0.2, "chance": 0.1})
    >>> ax = plot_accuracy_per_layer(summary, highlight=["A"])
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['A', 'B', 'chance', 'error bar: ± 1 std']
    """
    _check_summary(summary, ["layer", "measure", "mean", "std", "chance"])
    pooled = summary.duplicated(["measure", "layer"])
    if pooled.any():
        raise ValueError(
            "summary has several rows for a measure and layer (first: "
            f"{summary.measure[pooled].iloc[0]}, layer {summary.layer[pooled].iloc[0]}); "
            "filter it to one benchmark setting and data set."
        )
    styles = _styles(summary, styles)
    highlight = _highlight(summary, highlight)
    ax = _axes(ax, figsize)
    measures = list(dict.fromkeys(summary.measure))
    layers = np.sort(summary.layer.unique())
    dodge = 0.05 * (np.diff(layers).min() if len(layers) > 1 else 1)
    # Highlighted measures first: drawn on top, listed first in the legend.
    order = sorted(measures, key=lambda measure: measure not in highlight)
    for measure in order:
        curve = summary[summary.measure == measure].sort_values("layer")
        style = styles[measure]
        if measure in highlight:
            low, high, _ = _interval(curve)
            shift = (highlight.index(measure) - (len(highlight) - 1) / 2) * dodge
            ax.errorbar(curve.layer + shift, curve["mean"], fmt="none", ecolor=style["color"],
                        yerr=[curve["mean"] - low, high - curve["mean"]], capsize=3,
                        elinewidth=1.3, zorder=4)
            ax.plot(curve.layer, curve["mean"], label=measure, linewidth=2.4, markersize=7,
                    zorder=5, **style)
        else:
            ax.plot(curve.layer, curve["mean"], label=measure, linewidth=1.1, markersize=4,
                    alpha=_MUTED_ALPHA, zorder=3, **style)
    ax.axhline(summary.chance.mean(), label="chance", zorder=1, **_CHANCE_STYLE)
    handles, labels = ax.get_legend_handles_labels()
    handles = [handles[labels.index(label)] for label in [*order, "chance"]]
    if highlight:
        handles.append(_interval_handle(_interval(summary)[2]))
    ax.set(xlabel="layer", ylabel="accuracy", ylim=(-0.02, 1.02), title=title)
    ax.set_xticks(sorted(summary.layer.unique()))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=handles, fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def plot_measure_bars(summary, *, by=("benchmark", "heldout", "negatives"), highlight=None,
                      styles=None, ax=None, title=None, figsize=None):
    """Grouped bars of each measure's mean accuracy per comparison, with interval bars.

    Error bars show the confidence interval when the summary carries it, else the mean ±
    std, clipped to [0, 1]. A measure without a result in a comparison (it could not
    run: no row, or a NaN mean) gets an empty hatched stub labelled ``n/a``, distinct
    from an accuracy of 0. Each comparison's chance level is a dashed line. Each measure
    has its own colour (:func:`measure_styles`), the same in every figure; the
    highlighted measures are drawn strong, the others pale.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~sklearn_contrasim.benchmarks.summarize`'s output: columns ``measure``,
        ``mean``, ``std``, ``chance`` and those of ``by``; optionally ``ci_low`` and
        ``ci_high``.
    by : sequence of str, default=("benchmark", "heldout", "negatives")
        Columns naming a comparison (a group of bars). Like
        :func:`~sklearn_contrasim.benchmarks.summarize`, ``"dataset"`` (when the
        summary has it) and ``"representation"`` (when the summary mixes them) are
        added after ``"benchmark"``: a group never pools two data sets.
    highlight : list of str, default=None
        Measures drawn strong. None: ``"ContraSim"`` and the closed-form measure with
        the best mean accuracy over the comparisons, as in
        :func:`plot_accuracy_per_layer`.
    styles : dict of str to dict, default=None
        Colour of each measure (the ``color`` of :func:`measure_styles`' styles); None:
        ``measure_styles`` of the summary's measures.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.
    title : str, default=None
        Title of the axes.
    figsize : tuple, default=None
        Size of a new figure; None: 4.2 inches high and wide enough for the
        comparisons (1.2 inches each, and the legend).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_contrasim.plotting import plot_measure_bars
    >>> summary = pd.DataFrame({"benchmark": "toy", "measure": ["A", "B", "C"],
    ...                         "mean": [0.8, 0.0, np.nan], "std": 0.1, "chance": 0.1})
    >>> ax = plot_measure_bars(summary, by=["benchmark"])
    >>> [(round(float(bar.get_height()), 2), bar.get_hatch()) for bar in ax.patches]
    [(0.8, None), (0.0, None), (0.04, '////')]
    >>> [text.get_text() for text in ax.texts]
    ['n/a']
    """
    from ..benchmarks._results import comparison_keys

    by = comparison_keys(summary, by)
    _check_summary(summary, by + ["measure", "mean", "std", "chance"])
    pooled = summary.duplicated([*by, "measure"])
    if pooled.any():
        raise ValueError(
            f"summary has several rows for a measure in a comparison of {by} (first: "
            f"{summary.measure[pooled].iloc[0]}); add the column that tells them apart to by."
        )
    styles = _styles(summary, styles)
    highlight = _highlight(summary, highlight)
    groups = summary[by].astype(str).agg("\n".join, axis=1)
    group_names = list(dict.fromkeys(groups))
    if figsize is None:
        figsize = (max(6.0, 2.8 + 1.2 * len(group_names)), 4.2)
    ax = _axes(ax, figsize)
    measures = list(dict.fromkeys(summary.measure))
    width = 0.8 / len(measures)
    positions = np.arange(len(group_names))
    not_available = False
    for index, measure in enumerate(measures):
        rows = summary[summary.measure == measure].set_index(groups[summary.measure == measure])
        rows = rows.reindex(group_names)
        available = rows["mean"].notna().to_numpy()
        x = positions + (index - (len(measures) - 1) / 2) * width
        low, high, interval = _interval(rows)
        means = rows["mean"].to_numpy(dtype=float)
        color = styles[measure]["color"]
        alpha = 1.0 if measure in highlight else _MUTED_BAR_ALPHA
        ax.bar(x[available], means[available], width,
               yerr=[means[available] - low[available], high[available] - means[available]],
               label=measure, capsize=2, color=color, alpha=alpha,
               error_kw={"linewidth": 1, "alpha": alpha})
        for position in x[~available]:
            not_available = True
            ax.add_patch(Rectangle((position - width / 2, 0), width, _NOT_AVAILABLE_HEIGHT,
                                   edgecolor=color, **_NOT_AVAILABLE_STYLE))
            ax.text(position, _NOT_AVAILABLE_HEIGHT + 0.01, "n/a", rotation=90, ha="center",
                    va="bottom", fontsize="x-small", color="dimgrey", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    chances = summary.assign(group=groups).groupby("group", sort=False).chance.mean()
    for position, name in zip(positions, group_names):
        ax.hlines(chances[name], position - 0.45, position + 0.45, zorder=3,
                  label="chance" if position == 0 else None, **_CHANCE_STYLE)
    handles, labels = ax.get_legend_handles_labels()
    # The measures first, then chance and the marks.
    handles = [handles[labels.index(label)] for label in [*measures, "chance"]
               if label in labels]
    handles.append(_interval_handle(interval))
    if not_available:
        handles.append(Patch(edgecolor="dimgrey", label="n/a: not applicable or not run",
                             **_NOT_AVAILABLE_STYLE))
    ax.set_xticks(positions, group_names, fontsize="small")
    ax.set(ylabel="accuracy", ylim=(0, 1.05), xlim=(-0.5, len(group_names) - 0.5), title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(handles=handles, fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def _grid_frame(grid):
    """``grid`` as a float DataFrame whose index and columns label the rows and columns."""
    frame = grid if isinstance(grid, pd.DataFrame) else None
    values = np.asarray(grid, dtype=float)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"grid must be a non-empty 2-D array, got shape {values.shape}.")
    if frame is None:
        return pd.DataFrame(values)
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


def _draw_grid(ax, frame, values, *, cmap, norm=None):
    """Draw ``values`` (shaped like ``frame``) as a heat map labelled by ``frame``.

    Each row's maximum is marked with a red ×; when rows and columns have the same labels
    (a layer against the same layer of another model), the diagonal cells are outlined.
    Return the image.
    """
    image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    finite = np.where(np.isfinite(values), values, -np.inf)
    rows = np.flatnonzero(np.isfinite(values).any(axis=1))  # a row of NaN has no maximum
    ax.scatter(finite[rows].argmax(axis=1), rows, marker="x", color="red", linewidths=1.5,
               zorder=3)
    if list(frame.index) == list(frame.columns):
        for row in range(len(values)):
            ax.add_patch(Rectangle((row - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="white",
                                   linewidth=1.2, zorder=2))
    ax.set_xticks(range(values.shape[1]), [str(label) for label in frame.columns])
    ax.set_yticks(range(values.shape[0]), [str(label) for label in frame.index])
    return image


def _marker_legend(frame):
    """Legend handles of the marks :func:`_draw_grid` draws on ``frame``."""
    handles = [Line2D([], [], marker="x", color="red", linestyle="",
                      label="most similar layer of B (row maximum)")]
    if list(frame.index) == list(frame.columns):
        handles.append(Patch(facecolor="lightgrey", edgecolor="black",
                             label="same layer (outlined): the right answer"))
    return handles


def plot_similarity_heatmap(grid, *, ax=None, title=None, xlabel="layer of B", ylabel="layer of A",
                            cmap="viridis", figsize=(4.5, 4)):
    """Heat map of a layer × layer similarity grid, each row's maximum marked.

    A red × marks each row's most similar column (the layer of B that layer prediction
    picks for that layer of A); when rows and columns have the same labels, the diagonal
    cells (the right answers) are outlined in white. The colour bar is in the grid's own
    units.

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

    See Also
    --------
    plot_similarity_heatmaps : One figure of the grids of several measures.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_contrasim.plotting import plot_similarity_heatmap
    >>> ax = plot_similarity_heatmap(np.array([[0.9, 0.2], [0.3, 0.8]]))
    >>> ax.images[0].get_array().shape
    (2, 2)
    >>> ax.collections[0].get_offsets().tolist()  # the red ×: column, row
    [[0.0, 0.0], [1.0, 1.0]]
    """
    frame = _grid_frame(grid)
    ax = _axes(ax, figsize)
    image = _draw_grid(ax, frame, frame.to_numpy(), cmap=cmap)
    ax.figure.colorbar(image, ax=ax, label="similarity")
    ax.legend(handles=_marker_legend(frame), fontsize="x-small", loc="upper center",
              bbox_to_anchor=(0.5, -0.15), frameon=False)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return ax


def _value_range(low, high):
    """``"low – high"`` with the fewest significant digits (at least 2, and the whole
    integer part) that tell them apart."""
    if not np.isfinite(low) or not np.isfinite(high):
        return "no finite value"
    largest = max(abs(low), abs(high))
    integer_digits = int(np.floor(np.log10(largest))) + 1 if largest > 0 else 1
    for digits in range(max(2, integer_digits), max(2, integer_digits) + 6):
        text_low, text_high = f"{low:.{digits}g}", f"{high:.{digits}g}"
        if text_low != text_high:
            break
    return f"{text_low} – {text_high}"


def _rescale(values):
    """``values`` mapped linearly onto [0, 1] from their finite minimum and maximum.

    Return the rescaled values (NaN stay NaN; a constant grid maps to 0.5, mid-scale),
    the minimum and the maximum.
    """
    finite = values[np.isfinite(values)]
    if not finite.size:
        return values, np.nan, np.nan
    low, high = finite.min(), finite.max()
    if high == low:
        return np.where(np.isfinite(values), 0.5, np.nan), low, high
    return (values - low) / (high - low), low, high


def plot_similarity_heatmaps(similarities, *, title=None, n_columns=4, xlabel="layer of B",
                             ylabel="layer of A", cmap="viridis", panel_size=2.3):
    """One figure of layer × layer similarity heat maps, a panel per measure.

    Each panel is one measure's grid averaged over the table's rows (for example the
    test pairs of models of a layer-prediction run). Measures have different units and
    ranges (a dot product in the hundreds, CKA within [0, 1]), so each grid is rescaled
    to its own range before it is drawn: 0 is the panel's smallest similarity and 1 its
    largest, on the figure's single colour bar; each panel's title gives that range. A
    red × marks each row's maximum (the layer of B that layer prediction picks) and,
    when both axes list the same layers, the diagonal (the right answer) is outlined.

    Parameters
    ----------
    similarities : pandas.DataFrame
        Columns ``measure``, ``layer_x``, ``layer_y`` and ``similarity``, such as the
        similarity table of :func:`~sklearn_contrasim.benchmarks.layer_prediction`
        filtered to one data set; rows sharing a measure, ``layer_x`` and ``layer_y``
        are averaged.
    title : str, default=None
        Title of the figure.
    n_columns : int, default=4
        Panels per row (fewer when there are fewer measures).
    xlabel, ylabel : str
        Labels of the columns (``layer_y``) and rows (``layer_x``).
    cmap : str, default="viridis"
        Colour map.
    panel_size : float, default=2.3
        Width and height of a panel, in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Save it with ``figure.savefig("heatmaps.png")``.

    See Also
    --------
    plot_similarity_heatmap : One grid on given axes, in its own units.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_contrasim.plotting import plot_similarity_heatmaps
    >>> similarities = pd.DataFrame({
    ...     "measure": ["CKA"] * 4 + ["Dot"] * 4, "layer_x": [0, 0, 1, 1] * 2,
    ...     "layer_y": [0, 1, 0, 1] * 2, "similarity": [0.9, 0.2, 0.3, 0.8, 120, 80, 60, 150]})
    >>> figure = plot_similarity_heatmaps(similarities, title="toy")
    >>> [ax.get_title() for ax in figure.axes[:2]]
    ['CKA\\n0.2 – 0.9', 'Dot\\n60 – 150']
    >>> figure.axes[0].images[0].get_array().round(2).tolist()  # CKA, rescaled
    [[1.0, 0.0], [0.14, 0.86]]
    """
    missing = sorted({"measure", "layer_x", "layer_y", "similarity"} - set(similarities))
    if missing:
        raise ValueError(
            f"similarities lacks the columns {missing}; pass the similarity table of "
            "sklearn_contrasim.benchmarks.layer_prediction."
        )
    if similarities.empty:
        raise ValueError("similarities is empty: nothing to plot.")
    if "dataset" in similarities and similarities.dataset.nunique() > 1:
        raise ValueError(
            f"similarities holds {similarities.dataset.nunique()} data sets; filter it to "
            "one (their grids are never averaged together)."
        )
    if n_columns < 1:
        raise ValueError(f"n_columns must be a positive integer, got {n_columns!r}.")
    measures = list(dict.fromkeys(similarities.measure))
    n_columns = min(n_columns, len(measures))
    n_rows = -(-len(measures) // n_columns)
    figure = Figure(figsize=(panel_size * n_columns + 1.2, panel_size * n_rows + 1.3),
                    layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False, sharex=True, sharey=True)
    norm = matplotlib.colors.Normalize(0.0, 1.0)
    for ax, measure in zip(axes.ravel(), measures):
        frame = similarities[similarities.measure == measure].pivot_table(
            index="layer_x", columns="layer_y", values="similarity", dropna=False)
        rescaled, low, high = _rescale(frame.to_numpy(dtype=float))
        image = _draw_grid(ax, frame, rescaled, cmap=cmap, norm=norm)
        ax.set_title(f"{measure}\n{_value_range(low, high)}", fontsize="medium")
    for index, ax in enumerate(axes.ravel()):
        if index >= len(measures):
            ax.set_axis_off()
        elif index + n_columns >= len(measures):  # the lowest panel of its column
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(xlabel)
        if index % n_columns == 0:
            ax.set_ylabel(ylabel)
    figure.colorbar(image, ax=axes, shrink=min(1.0, 0.5 + 0.2 * n_rows), aspect=25,
                    label="similarity, rescaled per panel\n(0 = panel minimum, 1 = maximum)")
    figure.legend(handles=_marker_legend(frame), loc="outside lower center", ncols=2,
                  fontsize="small", frameon=False)
    if title is not None:
        figure.suptitle(title)
    return figure
