"""Sphinx configuration of the sklearn-contrasim documentation.

Build it from the repository root with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: no intersphinx inventories are fetched, and every gallery
example runs on the CPU on data generated on the spot or bundled with scikit-learn.
"""

import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sphinx.errors import ConfigError
from sphinx.pycode import ModuleAnalyzer

import sklearn_contrasim

project = "sklearn-contrasim"
author = "sklearn-contrasim developers"
copyright = f"{date.today().year}, {author}"
version = release = sklearn_contrasim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples/README.rst", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"

# -- API reference ------------------------------------------------------------------
# autosummary writes one page per public name into docs/generated/ (not committed).
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# numpydoc renders the sections; the class template lists the methods itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False



def skip_foreign_member(app, what, name, obj, skip, options):
    """Skip class members that sklearn_contrasim does not define itself.

    Estimators inherit ``get_params``, ``set_params`` and the metadata-routing methods
    from scikit-learn, exceptions inherit from the builtins: scikit-learn's and Python's
    documentation covers those, so the API pages list only this package's methods
    (``fit``, ``similarity``, ``score``, ...) including the ones a class inherits from
    :class:`~sklearn_contrasim.BaseSimilarity`.
    """
    if what == "module":
        return None
    defined_in = getattr(getattr(obj, "fget", obj), "__module__", None) or ""
    return True if not defined_in.startswith("sklearn_contrasim") else None


def document_reexported_constant(app, what, name, obj, options, lines):
    """Give a re-exported constant the ``#:`` comment written where it is defined.

    autodoc looks for the comment in the module that documents the constant (a
    subpackage's ``__init__``), not in the private module that defines it, and would
    otherwise show the docstring of its type (``list``, ``dict``).
    """
    if what != "data":
        return
    package, _, constant = name.rpartition(".")
    for module_name in sorted(sys.modules):
        if module_name.startswith(package + "._"):
            comment = ModuleAnalyzer.for_module(module_name).find_attr_docs().get(("", constant))
            if comment:
                lines[:] = list(comment)
                return


# -- Maths ------------------------------------------------------------------------
# MathJax is served by the built site itself, never from a CDN, so that the formulas
# render offline. Debian's libjs-mathjax (MathJax 2, installed by .ci/install) provides it;
# the files the pages need (TeX input, CommonHTML output and its TeX web fonts) are copied
# into the build's _static/mathjax.
MATHJAX_SOURCE = Path("/usr/share/javascript/mathjax")
MATHJAX_FILES = ["MathJax.js", "extensions", "jax/element", "jax/input/TeX",
                 "jax/output/CommonHTML", "fonts/HTML-CSS/TeX/woff", "localization/en"]
mathjax_path = "mathjax/MathJax.js"
mathjax2_config = {
    "jax": ["input/TeX", "output/CommonHTML"],
    "extensions": ["tex2jax.js"],
    "TeX": {"extensions": ["AMSmath.js", "AMSsymbols.js", "noErrors.js", "noUndefined.js"]},
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                "processEscapes": True, "processClass": "math"},
    "menuSettings": {"zoom": "None"},
    "showMathMenu": False,
}


def copy_mathjax(app):
    """Copy the MathJax files the pages load into the HTML build's ``_static/mathjax``."""
    if app.builder.format != "html":
        return
    if not (MATHJAX_SOURCE / "MathJax.js").is_file():
        raise ConfigError(
            f"MathJax not found in {MATHJAX_SOURCE}: install Debian's libjs-mathjax "
            "(apt-get install libjs-mathjax; .ci/install does) to build the documentation."
        )
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        source = MATHJAX_SOURCE / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)


# -- Benchmark results ------------------------------------------------------------
# ``contrasim-bench --preset quick --output docs/benchmark_results`` writes the run's
# results.csv, run.json and PNG plots there; runs of the full preset are stored the same
# way, one folder each, under docs/benchmark_results_full/. benchmark_results.rst shows
# them through tables made here from each results.csv, so the page always matches the
# committed runs.
BENCHMARK_RESULTS = "benchmark_results"
FULL_BENCHMARK_RESULTS = "benchmark_results_full"


def upgrade_stored_run(results):
    """Return ``results`` with the columns that runs stored before them lack.

    Runs stored before the runners wrote ``n_hits`` (the full preset's, which take hours
    to regenerate) have only ``accuracy`` and ``n_decisions``; their hit counts are
    recovered here, at build time, and must be whole numbers. Runs stored before the
    ``representation`` column compared raw representations only.
    """
    if "representation" not in results:
        results = results.assign(representation="raw")
    if "n_hits" in results:
        return results
    hits = results.accuracy * results.n_decisions
    if not np.allclose(hits, hits.round(), rtol=0, atol=1e-6):
        raise ValueError("A stored run without n_hits has accuracies that are not hit ratios.")
    return results.assign(n_hits=hits.round().astype(int))


def run_report(folder, name, target):
    """Return the reST of one stored run (its command, comparison tables and figures),
    writing its tables into ``target``."""
    from sklearn_contrasim.benchmarks import comparison_table

    # Empty strings (closed-form measures have no training set) must stay strings.
    results = upgrade_stored_run(pd.read_csv(folder / "results.csv", keep_default_na=False))
    run = json.loads((folder / "run.json").read_text()) if (folder / "run.json").is_file() else {}
    parts = []
    minutes = run.get("seconds", {}).get("total", float("nan")) / 60
    if "argv" in run:
        parts.append(f"Command: ``contrasim-bench {' '.join(run['argv'])}`` "
                     f"(preset ``{run.get('preset', '?')}``, {minutes:.0f} min).\n")
    elif "command" in run:
        parts.append(f"Run with ``{run['command']}`` ({minutes:.0f} min).\n")
    if "note" in run:
        parts.append(run["note"] + "\n")
    for interval, caption in [("std", "Accuracy, mean ± standard deviation over folds and pairs"),
                              ("ci", "Accuracy, mean and 95 % confidence interval")]:
        table = comparison_table(results, interval=interval).reset_index()
        # A narrow cell breaks between the mean and its spread, never inside the spread.
        table = table.replace({r"± ": "±\u00a0", r", ": ",\u00a0"}, regex=True)
        table_file = f"benchmark_table_{name.replace('/', '_')}_{interval}.csv"
        table.to_csv(target / table_file, index=False)
        parts.append(f".. csv-table:: {caption}\n"
                     f"   :file: {table_file}\n"
                     f"   :header-rows: 1\n"
                     f"   :widths: auto\n"
                     f"   :class: benchmark-table\n")
    for figure in sorted(folder.glob("*.png")):
        title = figure.stem.replace("_", " ")
        parts.append(f".. figure:: /{name}/{figure.name}\n"
                     f"   :class: benchmark-figure\n   :alt: {title}\n\n   {title}\n")
    return "\n".join(parts)


def write_benchmark_tables(app):
    """Write the benchmark results page's tables and figure lists into docs/generated/."""
    source = Path(app.srcdir)
    target = source / "generated"
    target.mkdir(exist_ok=True)
    if (source / BENCHMARK_RESULTS / "results.csv").is_file():
        quick = run_report(source / BENCHMARK_RESULTS, BENCHMARK_RESULTS, target)
    else:
        quick = (".. note::\n\n   No benchmark run is stored with this copy of the "
                 "documentation: run ``contrasim-bench --preset quick --output "
                 "docs/benchmark_results`` and rebuild.\n")
    (target / "benchmark_results.rst.inc").write_text(quick)
    full = []
    for folder in sorted((source / FULL_BENCHMARK_RESULTS).glob("*/results.csv")):
        title = folder.parent.name
        full.append(f"{title}\n{'~' * len(title)}\n\n"
                    + run_report(folder.parent, f"{FULL_BENCHMARK_RESULTS}/{title}", target))
    (target / "benchmark_results_full.rst.inc").write_text(
        "\n".join(full) or ".. note::\n\n   No run of the full preset is stored.\n")


def style_results_page(app, pagename, templatename, context, doctree):
    """Give the benchmark results page its style sheet: the page's full width, tables
    that fit it."""
    if pagename == "benchmark_results":
        app.add_css_file("benchmark_results.css")


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_member)
    app.connect("autodoc-process-docstring", document_reexported_constant)
    app.connect("builder-inited", write_benchmark_tables)
    app.connect("builder-inited", copy_mathjax)
    app.connect("html-page-context", style_results_page)


# -- Gallery ----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    # An example that raises fails the build instead of leaving a broken page.
    "abort_on_example_error": True,
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "doc_module": ("sklearn_contrasim",),
    "reset_modules": ("matplotlib",),
    "download_all_examples": False,
    "min_reported_time": 1,
}

# The examples train tiny networks, fastest on one thread; several threads only spin when
# the build shares the CPU with other jobs (as under pytest -n 2).
torch.set_num_threads(1)

# -- HTML -------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-contrasim {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    # The results page's wide tables and figures get the width of the page's table of
    # contents.
    "secondary_sidebar_items": {"**": ["page-toc", "edit-this-page", "sourcelink"],
                                "benchmark_results": []},
}
html_show_sourcelink = False
# The results page has no sub-pages to navigate: its tables and figures get the width.
html_sidebars = {"benchmark_results": []}
html_static_path = ["_static"]
