"""The paper's three benchmarks as runners returning tidy tables, their presets and tables.

Runners: :func:`layer_prediction`, :func:`multilingual`, :func:`image_caption`; each
returns a :class:`pandas.DataFrame` with the columns :data:`RESULT_COLUMNS`. Tables:
:func:`summarize`, :func:`comparison_table`, :func:`to_markdown`. The command-line tool
``contrasim-bench`` runs them on the real data sets with a preset.
"""

from ._image_caption import image_caption
from ._layer_prediction import SIMILARITY_COLUMNS, layer_prediction
from ._multilingual import multilingual
from ._presets import PRESETS, default_measures
from ._results import RESULT_COLUMNS, comparison_table, summarize, to_markdown

__all__ = [
    "PRESETS",
    "RESULT_COLUMNS",
    "SIMILARITY_COLUMNS",
    "comparison_table",
    "default_measures",
    "image_caption",
    "layer_prediction",
    "multilingual",
    "summarize",
    "to_markdown",
]
