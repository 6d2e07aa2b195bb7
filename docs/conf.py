"""Sphinx configuration of the sklearn-contrasim documentation.

Build it from the repository root with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: no intersphinx inventories are fetched, and every gallery
example runs on synthetic data on the CPU.
"""

import os
from datetime import date

import torch

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
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# numpydoc renders the sections; the class template lists the methods itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False



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


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_member)


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
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_show_sourcelink = False
