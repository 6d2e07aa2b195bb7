"""Checks of the runners' inputs: representations, names, layers, negatives, measures."""

import numpy as np
import pytest
from _fixtures import CLOSED_FORM, aligned_languages, seed_models

from sklearn_contrasim.benchmarks import image_caption, layer_prediction, multilingual
from sklearn_contrasim.benchmarks._inputs import check_measures, check_representations
from sklearn_contrasim.measures import LinearCKA, NormSimilarity


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: multilingual({k: v for k, v in list(aligned_languages().items())[:3]},
                              CLOSED_FORM), "at least four languages"),
        (lambda: multilingual(aligned_languages(), CLOSED_FORM, train_pairs=[("en", "xx")]),
         "two different languages"),
        (lambda: multilingual(aligned_languages(), CLOSED_FORM, negatives="easy"), "negatives"),
        (lambda: multilingual(aligned_languages(), ["NoSuchMeasure"]), "Unknown measure"),
        (lambda: image_caption({"a": [np.ones((10, 2))], "b": [np.ones((10, 2))]}, CLOSED_FORM),
         "image_models"),
        (lambda: image_caption({"a": [np.ones((10, 2))], "b": [np.ones((9, 2))]}, CLOSED_FORM,
                               image_models=["a"], text_models=["b"]), "aligned"),
        (lambda: layer_prediction(seed_models(n_models=3), CLOSED_FORM), "at least four models"),
        (lambda: layer_prediction(seed_models(), CLOSED_FORM, layers=[7]), "not an index"),
        (lambda: layer_prediction(seed_models(), CLOSED_FORM, models=["seed9"]), "Unknown models"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_measure_must_be_a_similarity_estimator():
    with pytest.raises(TypeError, match="similarity estimator"):
        multilingual(aligned_languages(), {"bad": object()})
    with pytest.raises(TypeError, match="mapping"):
        multilingual([np.ones((4, 2))], CLOSED_FORM)


def test_test_fold_is_read_and_checked():
    data = {"representations": {"a": [np.ones((4, 2))]}, "test_fold": np.array([-1, -1, 0, 0])}
    np.testing.assert_array_equal(check_representations(data)[2], [-1, -1, 0, 0])
    data["test_fold"] = np.array(["train", "train", "test", "test"])
    with pytest.raises(ValueError, match="test_fold must hold an integer >= -1"):
        check_representations(data)


def test_measures_of_one_class_are_named_by_their_parameters():
    # Regression: measures were named by class only, so the second LinearCKA replaced
    # the first and its results were silently lost.
    named = check_measures([LinearCKA(), LinearCKA(debiased=True), NormSimilarity()])
    assert list(named) == ["LinearCKA", "LinearCKA(debiased=True)", "NormSimilarity"]
    assert named["LinearCKA(debiased=True)"].debiased
    results = layer_prediction(seed_models(), [LinearCKA(), LinearCKA(debiased=True)],
                               heldout="examples", cv=2)
    assert set(results.measure) == {"LinearCKA", "LinearCKA(debiased=True)"}


@pytest.mark.parametrize("measures", [[LinearCKA(), LinearCKA()], ["LinearCKA", LinearCKA()]])
def test_two_measures_with_one_name_are_an_error(measures):
    with pytest.raises(ValueError, match=r"Several measures are named \['LinearCKA'\]"):
        check_measures(measures)
