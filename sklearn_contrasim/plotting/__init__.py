"""Plots of benchmark results: accuracy per layer, per-measure bars, similarity heat maps."""

from ._plots import (
    plot_accuracy_per_layer,
    plot_measure_bars,
    plot_similarity_heatmap,
    plot_similarity_heatmaps,
)

__all__ = [
    "plot_accuracy_per_layer",
    "plot_measure_bars",
    "plot_similarity_heatmap",
    "plot_similarity_heatmaps",
]
