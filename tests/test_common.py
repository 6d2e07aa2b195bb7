"""scikit-learn's estimator checks and docstring checks on every public measure.

Estimators are found by discovery (every concrete ``BaseSimilarity`` subclass exported by
a public module of the package), so a new measure is checked without editing this file.
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from numpydoc.docscrape import ClassDoc
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_contrasim
from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.utils import estimator_checks

# Fast constructor settings for learned measures (tiny encoders, few epochs), so that the
# checks run in seconds. Helper E owns the ContraSim, DeepDot and DeepCKA entries; a new
# learned measure adds its own here.
SMALL_SETTINGS = {
    "ContraSim": dict(dim=4, hidden_layer_sizes=(8,), max_epochs=2, batch_size=32,
                      random_state=0),
    "DeepDot": dict(dim=4, hidden_layer_sizes=(8,), max_epochs=2, batch_size=32,
                    random_state=0),
    "DeepCKA": dict(dim=4, hidden_layer_sizes=(8,), max_epochs=2, batch_size=32,
                    random_state=0),
}

ROW_WISE_FAILURE = (
    "sklearn's checks pass y with one feature and X with several; this measure compares "
    "row k of X with row k of y, so it needs equal widths and score raises an InapplicableMeasureError."
)
# Checks a given measure is expected to fail, on top of the common ones.
EXPECTED_FAILED_CHECKS = {
    "DotProduct": {
        "check_fit_score_takes_y": ROW_WISE_FAILURE,
        "check_pipeline_consistency": ROW_WISE_FAILURE,
    },
    "NormSimilarity": {
        "check_fit_score_takes_y": ROW_WISE_FAILURE,
        "check_pipeline_consistency": ROW_WISE_FAILURE,
    },
}


def _public_modules():
    """The package and its public subpackages."""
    yield sklearn_contrasim
    for module in pkgutil.iter_modules(sklearn_contrasim.__path__):
        if not module.name.startswith("_"):
            yield importlib.import_module(f"sklearn_contrasim.{module.name}")


def all_measures():
    """Every concrete ``BaseSimilarity`` subclass exported by a public module, by name."""
    found = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isclass(obj) and issubclass(obj, BaseSimilarity)
                    and not inspect.isabstract(obj)):
                found[name] = obj
    return dict(sorted(found.items()))


MEASURES = all_measures()


def expected_failed_checks(estimator):
    return {
            **EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})}


def test_discovery_finds_the_measures():
    assert {"LinearCKA", "RBFCKA", "MeanCCA", "SVCCA", "PWCCA", "OrthogonalProcrustes",
            "DotProduct", "NormSimilarity"} <= set(MEASURES)
    assert "BaseSimilarity" not in MEASURES
    # Every expectation names a discovered measure.
    assert set(EXPECTED_FAILED_CHECKS) <= set(MEASURES)


@parametrize_with_checks(
    [cls(**SMALL_SETTINGS.get(name, {})) for name, cls in MEASURES.items()],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", list(MEASURES))
def test_docstring_documents_parameters_and_fitted_attributes(name):
    """Every constructor parameter and every public fitted attribute is documented."""
    cls = MEASURES[name]
    doc = ClassDoc(cls)
    documented_parameters = {item.name for item in doc["Parameters"]}
    parameters = set(cls._get_param_names())
    assert parameters == documented_parameters
    rng = np.random.RandomState(0)
    X = rng.randn(64, 3)
    estimator = cls(**SMALL_SETTINGS.get(name, {})).fit(X, X + 0.1 * rng.randn(64, 3))
    fitted = {attr for attr in vars(estimator) if attr.endswith("_") and not attr.startswith("_")}
    documented_attributes = {item.name.split(" ")[0] for item in doc["Attributes"]}
    assert fitted <= documented_attributes, sorted(fitted - documented_attributes)
    assert doc["Examples"], f"{name} has no Examples section"


@pytest.mark.parametrize("check", estimator_checks._CHECKS, ids=lambda check: check.__name__.lstrip("_"))
@pytest.mark.parametrize("name", list(MEASURES))
def test_similarity_checks(name, check):
    check(MEASURES[name](**SMALL_SETTINGS.get(name, {})))
