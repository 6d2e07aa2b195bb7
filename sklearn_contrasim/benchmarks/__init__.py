"""The paper's three benchmarks as runners returning tidy tables, their presets and tables.

Runners: :func:`layer_prediction`, :func:`multilingual`, :func:`image_caption` and its
cross-domain variant :func:`image_caption_transfer`; each
returns a :class:`pandas.DataFrame` with the columns :data:`RESULT_COLUMNS`. Tables:
:func:`summarize`, :func:`comparison_table`, :func:`to_markdown`. A whole run:
:func:`run_benchmarks` loads the data sets of a preset (:data:`PRESETS`) and runs their
benchmarks, :func:`write_report` writes the results, tables and figures into a folder; the
command-line tool ``contrasim-bench`` does both.
"""

from ._image_caption import image_caption, image_caption_transfer
from ._layer_prediction import SIMILARITY_COLUMNS, layer_prediction
from ._multilingual import multilingual
from ._presets import PRESETS, BenchmarkSettings, default_measures
from ._report import write_report
from ._results import RESULT_COLUMNS, comparison_table, summarize, to_markdown
from ._suite import run_benchmarks

__all__ = [
    "PRESETS",
    "RESULT_COLUMNS",
    "SIMILARITY_COLUMNS",
    "BenchmarkSettings",
    "comparison_table",
    "default_measures",
    "image_caption",
    "image_caption_transfer",
    "layer_prediction",
    "multilingual",
    "run_benchmarks",
    "summarize",
    "to_markdown",
    "write_report",
]
