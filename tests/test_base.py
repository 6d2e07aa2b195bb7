"""The estimator contract owned by BaseSimilarity: validation, fitted state, tags."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.utils._validation import validate_paired


class MeanRowCosine(BaseSimilarity):
    """Minimal measure used to test the base class on its own."""

    def _compare(self, X, y):
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
        y = y / np.linalg.norm(y, axis=1, keepdims=True)
        return np.mean(np.sum(X * y, axis=1))


@pytest.fixture
def paired():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 5)
    return X, X + 0.01 * rng.randn(40, 5)


def test_fit_returns_self_and_records_widths(paired):
    X, y = paired
    measure = MeanRowCosine()
    assert measure.fit(X, y[:, :3]) is measure
    assert measure.n_features_in_ == 5
    assert measure.n_features_y_ == 3


def test_similarity_value(paired):
    X, _ = paired
    assert MeanRowCosine().fit(X, X).similarity(X, X) == pytest.approx(1.0)
    assert MeanRowCosine().fit(X, X).similarity(X, -X) == pytest.approx(-1.0)


def test_float32_is_kept_and_ints_become_float64(paired):
    X, y = paired
    measure = MeanRowCosine()
    X32, y32 = validate_paired(measure, X.astype(np.float32), y.astype(np.float32), reset=True)
    assert X32.dtype == np.float32 and y32.dtype == np.float32
    Xi, yi = validate_paired(measure, np.ones((4, 2), dtype=int), np.eye(4)[:, :2], reset=True)
    assert Xi.dtype == np.float64 and yi.dtype == np.float64


@pytest.mark.parametrize(
    "make_inputs, message",
    [
        (lambda X, y: (X, y[:-1]), "paired row by row"),
        (lambda X, y: (X, None), "requires y to be passed"),
        (lambda X, y: (X[:, 0], y), "2-D array"),
        (lambda X, y: (X[None], y), "2-D array"),
        (lambda X, y: (np.where(X > 1, np.nan, X), y), "NaN"),
        (lambda X, y: (X, np.where(y > 1, np.inf, y)), "infinity"),
        (lambda X, y: (X[:1], y[:1]), "minimum of 2"),
        (lambda X, y: (X.astype(str).astype(object) + "a", y), "could not convert"),
        (lambda X, y: (X + 1j, y), "Complex"),
    ],
)
def test_bad_input_gives_a_clear_error(paired, make_inputs, message):
    with pytest.raises(ValueError, match=message):
        MeanRowCosine().fit(*make_inputs(*paired))


def test_unfitted_use_raises(paired):
    with pytest.raises(NotFittedError):
        MeanRowCosine().similarity(*paired)
    with pytest.raises(NotFittedError):
        MeanRowCosine().score(*paired)


def test_widths_must_match_fit(paired):
    X, y = paired
    measure = MeanRowCosine().fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features"):
        measure.similarity(X[:, :4], y)
    with pytest.raises(ValueError, match="y has 4 features"):
        measure.similarity(X, y[:, :4])


def test_tags_say_y_is_a_two_dimensional_set():
    tags = get_tags(MeanRowCosine())
    assert tags.target_tags.required
    assert tags.target_tags.multi_output and not tags.target_tags.single_output
    assert tags.estimator_type is None


def test_base_class_is_abstract():
    with pytest.raises(TypeError):
        BaseSimilarity()


def test_closed_form_and_learned_measures_are_told_apart_by_tags():
    from sklearn_contrasim import ContraSim, DeepCKA, DeepDot
    from sklearn_contrasim.measures import PWCCA, DotProduct, LinearCKA

    for closed_form in (LinearCKA(), DotProduct(), PWCCA()):
        tags = get_tags(closed_form)
        assert not tags.requires_fit and not tags.similarity_tags.set_level
    assert get_tags(LinearCKA()).similarity_tags.symmetric
    # PWCCA weights by the first set's canonical directions.
    assert not get_tags(PWCCA()).similarity_tags.symmetric
    for learned in (ContraSim(), DeepDot(), DeepCKA()):
        tags = get_tags(learned)
        assert tags.requires_fit and tags.similarity_tags.set_level
        assert tags.similarity_tags.symmetric
    assert not get_tags(ContraSim(shared_encoder=False)).similarity_tags.symmetric
    # A measure of one's own is learned and not known to be symmetric until it says so.
    tags = get_tags(MeanRowCosine())
    assert tags.requires_fit and not tags.similarity_tags.symmetric


def _run_python(code):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)


def test_importing_the_package_does_not_import_torch():
    """Regression: ``import sklearn_contrasim`` imported torch and skorch (seconds) even for
    a user who only wants CKA."""
    result = _run_python(
        "import sys, sklearn_contrasim, sklearn_contrasim.contrasim\n"
        "sklearn_contrasim.LinearCKA()\n"
        "assert 'torch' not in sys.modules and 'skorch' not in sys.modules\n"
        "assert 'ContraSim' in dir(sklearn_contrasim)\n"
        "from sklearn_contrasim import ContraSim\n"
        "assert 'torch' in sys.modules and ContraSim.__module__.endswith('_estimators')\n"
        "try:\n"
        "    sklearn_contrasim.NoSuchMeasure\n"
        "except AttributeError as error:\n"
        "    assert 'NoSuchMeasure' in str(error)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("first", ["metrics", "measures", "_base", "_retrieval", "contrasim",
                                   "utils.estimator_checks", "benchmarks"])
def test_subpackages_import_in_any_order(first):
    """No import cycle: each module imports first in a fresh interpreter."""
    result = _run_python(
        f"import sklearn_contrasim.{first}\n"
        "import sklearn_contrasim.metrics, sklearn_contrasim.measures\n"
        "from sklearn_contrasim import ContraSim\n"
    )
    assert result.returncode == 0, result.stderr


def test_only_the_base_class_calls_the_private_hooks():
    """The protocol lives in BaseSimilarity: outside it, a measure's hooks are called only
    by the measure itself (``self._summarize`` in a closed-form grid), never by other code
    (the retrieval loop, the grids, the benchmarks)."""
    import ast
    from pathlib import Path

    import sklearn_contrasim

    hooks = {"_compare", "_embed_x", "_embed_y", "_fit", "_grid", "_min_samples",
             "_summarize", "_combine", "_validate_pair"}
    package = Path(sklearn_contrasim.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in hooks):
                continue
            receiver = node.func.value
            on_itself = isinstance(receiver, ast.Name) and receiver.id == "self"
            on_super = (isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name)
                        and receiver.func.id == "super")
            if not (on_itself or on_super):
                offenders.append(f"{path.relative_to(package)}:{node.lineno} {node.func.attr}")
    assert not offenders, offenders
