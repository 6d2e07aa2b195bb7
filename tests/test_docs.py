"""The documentation: API reference coverage, public docstrings, and the Sphinx build.

The build test runs the README's command (``python -m sphinx -W --keep-going -b html``)
on a fresh copy of ``docs/`` (no generated pages, no executed examples), so it fails when
any page, docstring or gallery example breaks the build.
"""

import importlib
import inspect
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("numpydoc")
from numpydoc.validate import validate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PUBLIC_MODULES = [
    "sklearn_contrasim",
    "sklearn_contrasim.measures",
    "sklearn_contrasim.contrasim",
    "sklearn_contrasim.metrics",
    "sklearn_contrasim.datasets",
    "sklearn_contrasim.benchmarks",
    "sklearn_contrasim.plotting",
    "sklearn_contrasim.preprocessing",
    "sklearn_contrasim.exceptions",
    "sklearn_contrasim.utils.estimator_checks",
]
# numpydoc validation codes every public class and function must pass: a docstring, an
# Examples section, and a Parameters section that matches the signature.
OBJECT_CHECKS = {"GL08", "EX01", "PR01", "PR02"}
# Public methods need a docstring whose Parameters match the signature, not an example.
METHOD_CHECKS = {"GL08", "PR01", "PR02"}
# Build products of the docs, never part of a clean checkout.
BUILD_PRODUCTS = ("_build", "generated", "auto_examples", "sg_execution_times.rst")


def _public_names():
    """Yield ``(module name, public name, object)`` for every name in every ``__all__``."""
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if not name.startswith("__"):
                yield module_name, name, getattr(module, name)


def _documented_name(module_name, name, obj):
    """The name under which the API reference documents ``obj``: where it is defined."""
    defining_module = getattr(obj, "__module__", module_name)
    public_module = ".".join(
        part for part in defining_module.split(".") if not part.startswith("_")
    )
    return f"{public_module}.{name}"


def _api_reference_entries():
    """Full names listed by the autosummary tables of ``docs/api.rst``."""
    entries, current_module = set(), None
    for line in (DOCS / "api.rst").read_text().splitlines():
        directive = re.match(r"\.\.\s+currentmodule::\s+(\S+)", line)
        if directive:
            current_module = directive.group(1)
            continue
        entry = re.match(r"\s{3,}~?([A-Za-z_][\w.]*)\s*$", line)
        if entry and current_module is not None:
            entries.add(f"{current_module}.{entry.group(1)}")
    return entries


def _validation_errors(full_name, checks):
    return [f"{full_name}: {code} {message}" for code, message in validate(full_name)["errors"]
            if code in checks]


class _MathsScan(HTMLParser):
    """Collect a page's script sources, its maths elements and any TeX outside them.

    MathJax renders the ``\\(...\\)`` and ``\\[...\\]`` that Sphinx writes into elements
    of class ``math``; the same delimiters anywhere else in the text (outside scripts
    and code) would show as raw TeX.
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}
    SKIPPED = {"script", "style", "pre", "code", "textarea"}

    def __init__(self):
        super().__init__()
        self.open, self.scripts, self.stray_tex, self.n_maths = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag in self.VOID:
            return
        is_maths = "math" in (attrs.get("class") or "").split()
        self.n_maths += is_maths
        self.open.append((tag, tag in self.SKIPPED or is_maths))

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        if not any(skipped for _, skipped in self.open) and re.search(r"\\[\[(]", data):
            self.stray_tex.append(data.strip()[:80])


def _maths_problems(html):
    """What keeps the built site's maths from rendering offline: TeX outside the elements
    MathJax renders, MathJax loaded from the network, or a MathJax script not in the
    build."""
    problems, n_maths = [], 0
    for page in sorted(html.rglob("*.html")):
        scan = _MathsScan()
        scan.feed(page.read_text())
        name = page.relative_to(html)
        n_maths += scan.n_maths
        problems += [f"{name}: raw TeX {text!r}" for text in scan.stray_tex]
        mathjax = [src for src in scan.scripts if "mathjax" in src.lower()]
        problems += [f"{name}: MathJax from the network: {src}" for src in mathjax
                     if urlsplit(src).scheme]
        local = [page.parent / urlsplit(src).path for src in mathjax if not urlsplit(src).scheme]
        problems += [f"{name}: MathJax script missing from the build: {path}" for path in local
                     if not path.is_file()]
        if scan.n_maths and not local:
            problems.append(f"{name}: {scan.n_maths} formulas but no local MathJax script")
    if not n_maths:
        problems.append("no page has a formula: the scan looked in the wrong place")
    return problems


def test_maths_scan_finds_raw_tex_and_network_mathjax(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "MathJax.js").write_text("")
    rendered = ('<span class="math notranslate">\\(K\\)</span><pre>re.compile(r"\\(")</pre>'
                '<script async src="_static/MathJax.js?v=1"></script>')
    (tmp_path / "good.html").write_text(f"<html><body><p>{rendered}</p></body></html>")
    assert _maths_problems(tmp_path) == []
    cdn = "https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js"
    (tmp_path / "bad.html").write_text(
        '<html><body><p>\\[ x^2 \\]</p><span class="math">\\(y\\)</span>'
        f'<script src="{cdn}"></script></body></html>')
    assert _maths_problems(tmp_path) == [
        "bad.html: raw TeX '\\\\[ x^2 \\\\]'",
        f"bad.html: MathJax from the network: {cdn}",
        "bad.html: 1 formulas but no local MathJax script",
    ]


def test_api_reference_lists_every_public_name():
    entries = _api_reference_entries()
    missing = sorted(
        _documented_name(module_name, name, obj)
        for module_name, name, obj in _public_names()
        if _documented_name(module_name, name, obj) not in entries
    )
    assert not missing, f"public names missing from docs/api.rst: {missing}"


def test_api_reference_lists_only_existing_names():
    unknown = []
    for full_name in _api_reference_entries():
        module_name, _, name = full_name.rpartition(".")
        try:
            getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            unknown.append(full_name)
    assert not unknown, f"docs/api.rst lists names that do not exist: {sorted(unknown)}"


def test_public_docstrings_follow_numpydoc():
    errors = []
    for module_name, name, obj in _public_names():
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        full_name = _documented_name(module_name, name, obj)
        errors += _validation_errors(full_name, OBJECT_CHECKS)
        if inspect.isclass(obj):
            for method_name, method in inspect.getmembers(obj, inspect.isfunction):
                if not method_name.startswith("_") and method.__module__.startswith(
                    "sklearn_contrasim"
                ):
                    errors += _validation_errors(f"{full_name}.{method_name}", METHOD_CHECKS)
    assert not errors, "numpydoc problems:\n" + "\n".join(sorted(set(errors)))


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path):
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns(*BUILD_PRODUCTS))
    html = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               str(source), str(html)]
    start = time.perf_counter()
    build = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    duration = time.perf_counter() - start
    assert build.returncode == 0, (
        f"the docs build failed after {duration:.0f} s:\n{build.stdout[-5000:]}\n"
        f"{build.stderr[-10000:]}"
    )
    # Every page was written, and every gallery example ran and drew its figures.
    for page in ("index", "install", "api", "benchmark_results", "user_guide/index",
                 "auto_examples/index"):
        assert (html / f"{page}.html").is_file(), page
    examples = sorted((DOCS / "examples").glob("plot_*.py"))
    assert examples
    for example in examples:
        assert (html / "auto_examples" / f"{example.stem}.html").is_file(), example.name
        assert (html / "_images" / f"sphx_glr_{example.stem}_001.png").is_file(), example.name
    # The API pages link the examples that use each object.
    contrasim_page = (html / "generated" / "sklearn_contrasim.contrasim.ContraSim.html").read_text()
    assert "plot_grid_search" in contrasim_page
    # The formulas render offline: MathJax comes with the build, and every TeX formula is
    # where MathJax renders it.
    assert _maths_problems(html) == []
    assert (html / "_static" / "mathjax" / "MathJax.js").is_file()
