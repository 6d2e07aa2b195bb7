"""Plots of benchmark summaries: what they draw, PNG output, clear errors."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from sklearn_contrasim.plotting import (
    plot_accuracy_per_layer,
    plot_measure_bars,
    plot_similarity_heatmap,
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


def test_accuracy_per_layer_draws_one_line_per_measure_and_chance():
    ax = plot_accuracy_per_layer(layer_summary(), title="multilingual")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"ContraSim", "LinearCKA", "chance"}
    np.testing.assert_allclose(lines["ContraSim"].get_ydata(), [0.6, 0.8, 1.0])
    np.testing.assert_allclose(lines["chance"].get_ydata(), [1 / 11, 1 / 11])
    assert ax.get_title() == "multilingual"


def test_measure_bars_group_by_comparison():
    ax = plot_measure_bars(bars_summary(), by=["benchmark", "negatives"])
    heights = [round(float(bar.get_height()), 2) for bar in ax.patches]
    # ContraSim's bars (one per comparison) then LinearCKA's.
    assert heights == [0.9, 0.7, 0.5, 0.3]
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "multilingual\nrandom", "image_caption\nrandom"]


def test_heatmap_marks_each_rows_maximum_and_uses_frame_labels():
    grid = pd.DataFrame([[0.9, 0.2, 0.1], [0.3, 0.4, 0.8]], index=["l0", "l1"],
                        columns=["m0", "m1", "m2"])
    ax = plot_similarity_heatmap(grid)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[0, 0], [2, 1]])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["m0", "m1", "m2"]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["l0", "l1"]


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
    ],
)
def test_bad_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
