"""Plots of benchmark summaries: what they draw, PNG output, clear errors."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer

from sklearn_contrasim.plotting import (
    measure_styles,
    plot_accuracy_per_layer,
    plot_measure_bars,
    plot_similarity_heatmap,
    plot_similarity_heatmaps,
)


def layer_summary():
    return pd.DataFrame({
        "layer": [0, 1, 2] * 2,
        "measure": ["ContraSim"] * 3 + ["LinearCKA"] * 3,
        "mean": [0.6, 0.8, 1.0, 0.3, 0.5, 0.4],
        "std": 0.05,
        "chance": 1 / 11,
    })


def bars_summary():
    return pd.DataFrame({
        "benchmark": ["multilingual", "multilingual", "image_caption", "image_caption"],
        "negatives": "random",
        "measure": ["ContraSim", "LinearCKA"] * 2,
        "mean": [0.9, 0.5, 0.7, 0.3],
        "std": [0.05, 0.1, 0.05, 0.1],
        "chance": 1 / 11,
    })


def similarity_table():
    """Two measures' 3 × 3 grids over two test pairs, in very different units."""
    rows = []
    for pair, offset in [("a-b", 0.0), ("a-c", 0.1)]:
        for layer_x in range(3):
            for layer_y in range(3):
                rows.append({"pair": pair, "measure": "CKA", "layer_x": layer_x,
                             "layer_y": layer_y,
                             "similarity": 0.9 - 0.2 * abs(layer_x - layer_y) + offset})
                rows.append({"pair": pair, "measure": "Dot", "layer_x": layer_x,
                             "layer_y": layer_y, "similarity": 100.0 + 10 * layer_y})
    return pd.DataFrame(rows)


def legend_texts(legend):
    return [text.get_text() for text in legend.get_texts()]


def bar_containers(ax):
    """Each measure's bars, by its label."""
    return {container.get_label(): container for container in ax.containers
            if isinstance(container, BarContainer)}


def error_bar_values(ax):
    """The (x, y) ends of every error bar of ``ax``."""
    return np.concatenate([np.concatenate(collection.get_segments())
                           for collection in ax.collections])


def test_accuracy_per_layer_draws_one_line_per_measure_and_chance():
    ax = plot_accuracy_per_layer(layer_summary(), title="multilingual")
    lines = {line.get_label(): line for line in ax.get_lines()
             if not line.get_label().startswith("_")}  # error bar caps are unlabelled
    assert set(lines) == {"ContraSim", "LinearCKA", "chance"}
    np.testing.assert_allclose(lines["ContraSim"].get_ydata(), [0.6, 0.8, 1.0])
    np.testing.assert_allclose(lines["chance"].get_ydata(), [1 / 11, 1 / 11])
    assert ax.get_title() == "multilingual"


def test_accuracy_per_layer_error_bars_are_confidence_intervals_clipped_to_unit_interval():
    summary = layer_summary().assign(std=0.3)  # mean ± std spills past 0 and 1
    ax = plot_accuracy_per_layer(summary, highlight=["ContraSim", "LinearCKA"])
    values = error_bar_values(ax)[:, 1]
    assert values.min() == 0.0 and values.max() == 1.0
    assert "error bar: ± 1 std" in legend_texts(ax.get_legend())
    # Each highlighted measure's bars sit beside its points: ContraSim's left, LinearCKA's
    # right (5 % of the layer spacing, shared between the two).
    np.testing.assert_allclose(sorted(set(error_bar_values(ax)[:, 0].round(6))),
                               [-0.025, 0.025, 0.975, 1.025, 1.975, 2.025])
    # With summarize's confidence interval, the error bars show that interval.
    summary = layer_summary().assign(ci_low=lambda s: s["mean"] - 0.1,
                                     ci_high=lambda s: s["mean"] + 0.05)
    ax = plot_accuracy_per_layer(summary, highlight=["LinearCKA"])
    np.testing.assert_allclose(error_bar_values(ax)[:, 1].round(6),
                               [0.2, 0.35, 0.4, 0.55, 0.3, 0.45])
    assert legend_texts(ax.get_legend())[-2:] == ["chance", "error bar: confidence interval"]


def test_accuracy_per_layer_highlights_contrasim_and_best_closed_form_measure():
    summary = pd.concat([
        layer_summary(),
        # A learned ablation better than LinearCKA, and a worse closed-form measure.
        layer_summary().query("measure == 'LinearCKA'").assign(measure="DeepCKA", mean=0.95),
        layer_summary().query("measure == 'LinearCKA'").assign(measure="PWCCA", mean=0.1),
    ])
    ax = plot_accuracy_per_layer(summary)
    widths = {line.get_label(): line.get_linewidth() for line in ax.get_lines()}
    assert widths["ContraSim"] == widths["LinearCKA"] > widths["DeepCKA"] == widths["PWCCA"]
    # Only the highlighted measures have error bars; they come first in the legend.
    assert len(ax.collections) == 2
    assert legend_texts(ax.get_legend())[:2] == ["ContraSim", "LinearCKA"]
    assert "chance" in legend_texts(ax.get_legend())


def test_measure_bars_error_bars_stay_in_unit_interval_and_legend_has_chance():
    summary = bars_summary().assign(std=0.4)  # mean ± std spills past 0 and 1
    ax = plot_measure_bars(summary, by="benchmark")
    segments = np.concatenate([
        np.concatenate(container.errorbar.lines[2][0].get_segments())
        for container in ax.containers if hasattr(container, "errorbar")
    ])
    assert segments[:, 1].min() == 0.0 and segments[:, 1].max() == 1.0
    assert "chance" in legend_texts(ax.get_legend())
    assert "error bar: ± 1 std" in legend_texts(ax.get_legend())
    # summarize's confidence interval is drawn when the summary has it.
    summary = bars_summary().assign(ci_low=0.0, ci_high=1.0)
    ax = plot_measure_bars(summary, by="benchmark")
    assert "error bar: confidence interval" in legend_texts(ax.get_legend())


def test_measure_bars_draw_not_available_apart_from_zero():
    summary = pd.concat([
        bars_summary().assign(mean=lambda s: s["mean"].where(s.measure != "LinearCKA", 0.0)),
        # DotProduct could not run on image-caption: NaN there, no row on multilingual.
        pd.DataFrame({"benchmark": ["image_caption"], "negatives": "random",
                      "measure": "DotProduct", "mean": np.nan, "std": np.nan,
                      "chance": 1 / 11}),
    ])
    ax = plot_measure_bars(summary, by="benchmark")
    hatched = [patch for patch in ax.patches if patch.get_hatch()]
    assert len(hatched) == 2 and not any(patch.get_fill() for patch in hatched)
    assert [text.get_text() for text in ax.texts] == ["n/a", "n/a"]
    assert "n/a: not applicable or not run" in legend_texts(ax.get_legend())
    # LinearCKA's accuracy of 0 is a plain bar of height 0, not an n/a mark.
    zero_bars = [patch for patch in ax.patches if not patch.get_hatch()
                 and patch.get_height() == 0]
    assert len(zero_bars) == 2
    assert "DotProduct" in legend_texts(ax.get_legend())


def test_measure_bars_group_by_comparison():
    ax = plot_measure_bars(bars_summary(), by=["benchmark", "negatives"])
    heights = [round(float(bar.get_height()), 2) for bar in ax.patches]
    # ContraSim's bars (one per comparison) then LinearCKA's.
    assert heights == [0.9, 0.7, 0.5, 0.3]
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "multilingual\nrandom", "image_caption\nrandom"]


def test_measure_bars_never_pool_two_data_sets():
    summary = pd.concat([bars_summary().assign(dataset="first"),
                         bars_summary().assign(dataset="second", mean=0.2)])
    ax = plot_measure_bars(summary, by=["benchmark", "negatives"])
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "multilingual\nfirst\nrandom", "image_caption\nfirst\nrandom",
        "multilingual\nsecond\nrandom", "image_caption\nsecond\nrandom"]
    heights = [round(float(bar.get_height()), 2) for bar in ax.patches]
    assert heights == [0.9, 0.7, 0.2, 0.2, 0.5, 0.3, 0.2, 0.2]
    # A new figure is wide enough for its comparisons.
    narrow = plot_measure_bars(bars_summary(), by="benchmark")
    assert ax.figure.get_figwidth() > narrow.figure.get_figwidth()
    with pytest.raises(ValueError, match=r"several rows for a measure in a comparison of "
                                         r"\['benchmark', 'dataset'\] \(first: ContraSim\)"):
        plot_measure_bars(pd.concat([summary, summary]), by="benchmark")


def test_every_measure_keeps_its_style_in_every_figure():
    styles = measure_styles(["ContraSim", "LinearCKA", "mine", "yours"])
    # The library's measures have fixed styles; others take further ones, in sorted order.
    assert styles["LinearCKA"] == measure_styles(["LinearCKA"])["LinearCKA"]
    assert styles["yours"] == measure_styles(["yours", "mine"])["yours"]
    assert len({style["color"] for style in styles.values()}) == 4
    assert len({measure_styles([name])[name]["color"] for name in [
        "ContraSim", "DeepDot", "DeepCKA", "LinearCKA", "DebiasedCKA", "RBFCKA", "MeanCCA",
        "SVCCA", "PWCCA", "OrthogonalProcrustes", "DotProduct", "NormSimilarity"]}) == 12
    # LinearCKA: the same colour in a per-layer figure (without ContraSim) and in a bar
    # chart where it comes second; its CKA family's dashed line.
    lines = plot_accuracy_per_layer(layer_summary().query("measure == 'LinearCKA'")).get_lines()
    line = next(line for line in lines if line.get_label() == "LinearCKA")
    bars = plot_measure_bars(bars_summary(), by="benchmark")
    bar = bar_containers(bars)["LinearCKA"][0]
    assert to_rgb(line.get_color()) == to_rgb(bar.get_facecolor()) == to_rgb(
        styles["LinearCKA"]["color"])
    assert line.get_linestyle() == "--"
    # Highlighted bars strong, the others pale.
    alphas = {label: bars[0].get_alpha() for label, bars in bar_containers(bars).items()}
    assert alphas == {"ContraSim": 1.0, "LinearCKA": 1.0}
    bars = plot_measure_bars(bars_summary(), by="benchmark", highlight=["ContraSim"])
    alphas = {label: bars[0].get_alpha() for label, bars in bar_containers(bars).items()}
    assert alphas["ContraSim"] == 1.0 > alphas["LinearCKA"]
    # A run's styles given to a figure with a measure they lack: a clear error.
    with pytest.raises(ValueError, match=r"styles has no style for the measures \['LinearCKA'\]"):
        plot_accuracy_per_layer(layer_summary(), styles=measure_styles(["ContraSim"]))


def test_heatmap_marks_each_rows_maximum_and_uses_frame_labels():
    grid = pd.DataFrame([[0.9, 0.2, 0.1], [0.3, 0.4, 0.8]], index=["l0", "l1"],
                        columns=["m0", "m1", "m2"])
    ax = plot_similarity_heatmap(grid)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[0, 0], [2, 1]])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["m0", "m1", "m2"]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["l0", "l1"]


def test_heatmap_marks_no_maximum_in_a_row_without_values():
    ax = plot_similarity_heatmap(np.array([[np.nan, np.nan], [0.3, 0.8]]))
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[1, 1]])


def test_heatmap_legend_explains_marks():
    ax = plot_similarity_heatmap(np.array([[0.9, 0.2], [0.3, 0.8]]))
    assert legend_texts(ax.get_legend()) == [
        "most similar layer of B (row maximum)", "same layer (outlined): the right answer"]


def test_heatmaps_share_one_colour_bar_of_rescaled_grids():
    figure = plot_similarity_heatmaps(similarity_table(), title="toy")
    panels = [ax for ax in figure.axes if ax.images]
    colorbars = [ax for ax in figure.axes if not ax.images]
    assert len(panels) == 2 and len(colorbars) == 1
    assert "rescaled per panel" in colorbars[0].get_ylabel()
    # Each grid is the mean over the pairs, mapped onto [0, 1] by its own range.
    cka = panels[0].images[0].get_array()
    assert cka.min() == 0.0 and cka.max() == 1.0
    np.testing.assert_allclose(np.diag(cka), 1.0)
    np.testing.assert_allclose(panels[1].images[0].get_array(), [[0, 0.5, 1]] * 3)
    for ax in panels:
        assert (ax.images[0].norm.vmin, ax.images[0].norm.vmax) == (0.0, 1.0)
    assert [ax.get_title() for ax in panels] == ["CKA\n0.55 – 0.95", "Dot\n100 – 120"]
    # Row maxima (columns 0, 1, 2 for CKA) and the marks' legend.
    np.testing.assert_allclose(panels[0].collections[0].get_offsets(),
                               [[0, 0], [1, 1], [2, 2]])
    assert legend_texts(figure.legends[0])[0] == "most similar layer of B (row maximum)"
    assert figure.get_suptitle() == "toy"


def test_heatmaps_lay_panels_out_in_rows_and_keep_constant_grids_mid_scale():
    table = pd.concat([similarity_table().assign(measure=name)
                       for name in ["A", "B", "C", "D", "E"]])
    table.loc[table.measure == "E", "similarity"] = 0.7
    figure = plot_similarity_heatmaps(table, n_columns=3)
    panels = [ax for ax in figure.axes if ax.images]
    assert len(panels) == 5
    assert sum(not ax.axison for ax in figure.axes) == 1  # the sixth slot is empty
    np.testing.assert_allclose(panels[-1].images[0].get_array(), 0.5)
    assert panels[-1].get_title() == "E\n0.7 – 0.7"
    # The lowest panel of each column carries the x label, the first column the y label.
    assert [ax.get_xlabel() for ax in panels] == ["", "", "layer of B", "layer of B",
                                                  "layer of B"]
    assert [ax.get_ylabel() for ax in panels] == ["layer of A", "", "", "layer of A", ""]


def test_plots_draw_on_given_axes_and_save_png(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure()
    axes = figure.subplots(1, 3)
    assert plot_accuracy_per_layer(layer_summary(), ax=axes[0]) is axes[0]
    assert plot_measure_bars(bars_summary(), by="benchmark", ax=axes[1]) is axes[1]
    assert plot_similarity_heatmap(np.eye(3), ax=axes[2]) is axes[2]
    path = tmp_path / "plots.png"
    figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(plot_accuracy_per_layer(layer_summary()), Axes)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: plot_accuracy_per_layer(layer_summary().drop(columns="layer")), ValueError,
         "lacks the columns"),
        (lambda: plot_measure_bars(bars_summary().iloc[:0], by="benchmark"), ValueError, "empty"),
        (lambda: plot_similarity_heatmap(np.ones(3)), ValueError, "2-D"),
        (lambda: plot_accuracy_per_layer(layer_summary(), highlight=["CKA"]), ValueError,
         r"highlight names measures \['CKA'\]"),
        (lambda: plot_similarity_heatmaps(similarity_table().drop(columns="layer_y")),
         ValueError, r"lacks the columns \['layer_y'\]"),
        (lambda: plot_similarity_heatmaps(similarity_table().iloc[:0]), ValueError, "empty"),
        (lambda: plot_similarity_heatmaps(similarity_table(), n_columns=0), ValueError,
         "n_columns must be a positive integer"),
        (lambda: plot_similarity_heatmaps(similarity_table().assign(dataset=["d", "e"] * 18)),
         ValueError, "similarities holds 2 data sets; filter it to one"),
        (lambda: plot_accuracy_per_layer(pd.concat([layer_summary(), layer_summary()])),
         ValueError, r"several rows for a measure and layer \(first: ContraSim, layer 0\); "
                     "filter it to one benchmark setting and data set"),
        (lambda: plot_measure_bars(bars_summary(), by="benchmark", highlight=["CKA"]),
         ValueError, r"highlight names measures \['CKA'\]"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
