"""run_benchmarks, its registry of benchmarks and the read-only presets."""

import dataclasses

import pandas as pd
import pytest

from _fixtures import TINY_PRESET, fake_suite, no_work  # noqa: F401 (fixtures)
from sklearn_contrasim.benchmarks import (
    PRESETS,
    BenchmarkSettings,
    default_measures,
    run_benchmarks,
)
from sklearn_contrasim.benchmarks._suite import _built_in_one_process

TIMINGS = ["fit_time", "score_time"]


def test_run_benchmarks_gathers_every_data_set(fake_suite):
    with pytest.warns(UserWarning, match=r"DotProduct.* skipped: .*same number of features"):
        suite = run_benchmarks(TINY_PRESET, measures=["LinearCKA", "DotProduct"], n_jobs=1,
                               verbose=False)
    assert list(suite.results.drop_duplicates(["benchmark", "dataset"]).dataset) == [
        "toy-seeds", "toy-languages", "other-languages", "toy-captions"]
    # DotProduct cannot compare image and caption features of different widths.
    by_benchmark = suite.results.groupby("benchmark").measure.unique()
    assert list(by_benchmark["image_caption"]) == ["LinearCKA"]
    assert set(by_benchmark["multilingual"]) == {"LinearCKA", "DotProduct"}
    assert set(suite.similarities.dataset) == {"toy-seeds"}
    assert list(suite.seconds) == [f"{step} {benchmark} {dataset}"
                                   for benchmark, settings in TINY_PRESET.items()
                                   for dataset in settings.datasets for step in ("load", "run")]
    provenance = suite.datasets["multilingual"]["toy-languages"]
    assert provenance == {"loader_params": {"size": 2}, "description": "fake",
                          "from_cache": True, "sentences_hash": "0123abcd"}
    assert suite.datasets["image_caption"]["toy-captions"]["loader_params"] == {"size": 3}


def test_same_random_state_same_numbers(fake_suite):
    def run(random_state):
        suite = run_benchmarks(TINY_PRESET, benchmarks=["multilingual"], measures=["ContraSim"],
                               n_jobs=1, random_state=random_state, verbose=False)
        return suite.results.drop(columns=TIMINGS)

    first = run(0)
    assert first.equals(run(0))
    assert not first.accuracy.equals(run(1).accuracy)


def test_relative_measures_restrict_the_anchor_relative_representations(fake_suite):
    def run(**settings):
        preset = {"layer_prediction": BenchmarkSettings(
            datasets={"toy-seeds": {"size": 1}},
            runner_params={**TINY_PRESET["layer_prediction"].runner_params,
                           **settings.pop("runner_params", {})},
            **settings)}
        return run_benchmarks(preset, measures=["LinearCKA", "DotProduct"], n_jobs=1,
                              verbose=False)

    both = run(runner_params={"representation": ("raw", "relative")},
               relative_measures=["LinearCKA", "OrthogonalProcrustes"])
    measures = both.results.groupby("representation").measure.unique()
    assert set(measures["raw"]) == {"LinearCKA", "DotProduct"}
    assert list(measures["relative"]) == ["LinearCKA"]
    assert set(both.similarities.representation) == {"raw", "relative"}
    # Each representation's rows are those of a run of that representation alone.
    for kind, names in [("raw", None), ("relative", ["LinearCKA"])]:
        alone = run(runner_params={"representation": kind}, relative_measures=names).results
        alone = alone[alone.measure.isin(measures[kind])]
        ours = both.results[both.results.representation == kind]
        pd.testing.assert_frame_equal(ours.drop(columns=TIMINGS).reset_index(drop=True),
                                      alone.drop(columns=TIMINGS).reset_index(drop=True))
    # Without relative_measures (or when it keeps every measure), one call runs both.
    for names in (None, ["LinearCKA", "DotProduct"]):
        every = run(runner_params={"representation": ("raw", "relative")},
                    relative_measures=names).results
        assert set(every[every.representation == "relative"].measure) == {
            "LinearCKA", "DotProduct"}


@pytest.mark.parametrize("selection, message", [
    ({"preset": "huge"}, r"Unknown preset 'huge'; choose among \['quick', 'full'\]"),
    ({"benchmarks": ["speed"]}, r"Unknown benchmarks \['speed'\]; choose among "
                                r"\['layer_prediction', 'multilingual', 'image_caption'\]"),
    ({"benchmarks": []}, r"Unknown benchmarks \[\]"),
    ({"datasets": ["emoji"], "benchmarks": ["multilingual"]},
     r"Unknown data sets \['emoji'\] for the benchmarks \['multilingual'\]; choose among "
     r"\['e5-catalogs'\]"),
    ({"measures": ["ContraSim", "Cosine"]}, r"Unknown measures \['Cosine'\]"),
    ({"measures": []}, r"Unknown measures \[\]"),
    ({"representations": ["raw", "cosine"]}, r"representation must be 'raw', 'relative' or both"),
])
def test_selection_is_checked_before_any_work(no_work, selection, message):
    with pytest.raises(ValueError, match=message):
        run_benchmarks(**selection)


def test_unknown_relative_measures_are_a_clear_error(no_work):
    preset = {"image_caption": BenchmarkSettings(datasets={"toy": {"size": 1}},
                                                 relative_measures=["Contrasim"])}
    with pytest.raises(ValueError, match=r"Unknown relative_measures \['Contrasim'\] in the "
                                         r"preset; choose among \['ContraSim'"):
        run_benchmarks(preset)


@pytest.mark.parametrize("preset", [3, {"multilingual": {"datasets": {"e5": {}}}}])
def test_preset_of_the_wrong_type_is_a_clear_error(no_work, preset):
    with pytest.raises(TypeError, match="preset must be the name of a preset or a mapping of "
                                        "benchmark -> BenchmarkSettings, got"):
        run_benchmarks(preset)


def test_loaders_without_n_jobs_get_the_suite_signature():
    calls = []

    def load_something(*, data_home=None, verbose=True, preset="quick"):
        calls.append((data_home, verbose, preset))
        return "data"

    load = _built_in_one_process(load_something)
    assert load(data_home="home", n_jobs=4, verbose=False, preset="full") == "data"
    assert calls == [("home", False, "full")]
    assert load.__name__ == "load_something"


def test_presets_are_read_only():
    with pytest.raises(TypeError, match="does not support item assignment"):
        PRESETS["huge"] = PRESETS["quick"]
    with pytest.raises(TypeError, match="does not support item assignment"):
        PRESETS["quick"]["multilingual"] = PRESETS["full"]["multilingual"]
    settings = PRESETS["quick"]["multilingual"]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field"):
        settings.runner_params = {}
    with pytest.raises(TypeError, match="does not support item assignment"):
        settings.runner_params["chunk_size"] = 16
    with pytest.raises(TypeError, match="does not support item assignment"):
        settings.datasets["e5-catalogs"]["preset"] = "full"


def test_settings_copy_what_they_are_given():
    training = {"max_epochs": 3}
    settings = BenchmarkSettings(datasets={"d": {"preset": "quick"}}, learned_params=training,
                                 runner_params={"layers": [0, 1]})
    training["max_epochs"] = 30
    assert settings.learned_params["max_epochs"] == 3
    assert settings.runner_params["layers"] == (0, 1)


def test_every_preset_has_one_shape():
    for preset in PRESETS.values():
        assert list(preset) == ["layer_prediction", "multilingual", "image_caption"]
        for settings in preset.values():
            assert isinstance(settings, BenchmarkSettings)
            assert all("preset" in params for params in settings.datasets.values())


def test_quick_preset_values_are_unchanged():
    """The numbers of the quick preset's report depend on these values."""
    quick = {
        benchmark: {
            "datasets": {name: dict(params) for name, params in settings.datasets.items()},
            "learned_params": dict(settings.learned_params),
            "runner_params": dict(settings.runner_params),
        }
        for benchmark, settings in PRESETS["quick"].items()
    }
    training = {"batch_size": 128, "max_epochs": 30, "lr": 1e-3}
    assert quick == {
        "layer_prediction": {
            "datasets": {"mlp-fashion-mnist": {"model": "mlp", "preset": "quick"}},
            "learned_params": {"batch_size": 1024, "max_epochs": 10, "lr": 1e-3},
            "runner_params": {"return_similarities": True,
                              "representation": ("raw", "relative")},
        },
        "multilingual": {
            "datasets": {"e5-catalogs": {"preset": "quick"}},
            "learned_params": training,
            "runner_params": {"layers": (0, 6, 12), "train_pairs": (("en", "de"),),
                              "chunk_size": 8},
        },
        "image_caption": {
            "datasets": {"openclipart": {"source": "openclipart", "preset": "quick"}},
            "learned_params": training,
            "runner_params": {"chunk_size": 8, "n_repeats": 4,
                              "representation": ("raw", "relative")},
        },
    }
    without_ablations = {name for name in default_measures() if name not in (
        "DeepDot", "DeepCKA")}
    for benchmark in ("layer_prediction", "image_caption"):
        assert set(PRESETS["quick"][benchmark].relative_measures) == without_ablations


def test_full_preset_runs_both_models_and_representations():
    full = PRESETS["full"]
    assert dict(full["multilingual"].datasets["mlm-catalogs"]) == {"model": "mlm",
                                                                   "preset": "full"}
    assert "e5-catalogs" in full["multilingual"].datasets
    for benchmark in ("layer_prediction", "image_caption"):
        assert full[benchmark].runner_params["representation"] == ("raw", "relative")
