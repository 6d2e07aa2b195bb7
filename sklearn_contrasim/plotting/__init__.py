"""Plots of benchmark results: accuracy per layer, per-measure bars, similarity heat maps,
with one style per measure in every figure."""

from ._plots import (
    measure_styles,
    plot_accuracy_per_layer,
    plot_measure_bars,
    plot_similarity_heatmap,
    plot_similarity_heatmaps,
)

__all__ = [
    "measure_styles",
    "plot_accuracy_per_layer",
    "plot_measure_bars",
    "plot_similarity_heatmap",
    "plot_similarity_heatmaps",
]
