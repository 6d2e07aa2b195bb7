"""The benchmark runners: table format, chance and perfect levels, no leakage, backends."""

import importlib

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from sklearn.model_selection import KFold, LeaveOneGroupOut

from sklearn_contrasim import BaseSimilarity
from sklearn_contrasim.benchmarks import (
    RESULT_COLUMNS,
    SIMILARITY_COLUMNS,
    comparison_table,
    default_measures,
    image_caption,
    layer_prediction,
    multilingual,
    summarize,
    to_markdown,
)
from sklearn_contrasim.contrasim import ContraSim
from sklearn_contrasim.measures import DotProduct, LinearCKA, NormSimilarity

LANGUAGES = ["en", "de", "fr", "es", "ru"]


TIMINGS = ["fit_time", "score_time"]


def aligned_languages(n_samples=96, n_features=6, n_layers=2, seed=0):
    """Every language holds the same sentences' representation, per layer."""
    rng = np.random.RandomState(seed)
    meanings = [rng.randn(n_samples, n_features) for _ in range(n_layers)]
    return {lang: [meaning.copy() for meaning in meanings] for lang in LANGUAGES}


def seed_models(n_models=4, n_samples=80, n_features=6, n_layers=3, seed=0):
    """Every seed holds the same layers."""
    rng = np.random.RandomState(seed)
    layers = [rng.randn(n_samples, n_features) for _ in range(n_layers)]
    return {f"seed{m}": [layer.copy() for layer in layers] for m in range(n_models)}


def image_caption_data(captions_from_images=True, n_samples=120, seed=0):
    rng = np.random.RandomState(seed)
    images = rng.randn(n_samples, 6)
    captions = images.copy() if captions_from_images else rng.randn(n_samples, 6)
    return {
        "representations": {"vision": [rng.randn(n_samples, 3), images], "text": [captions]},
        "image_models": ["vision"],
        "text_models": ["text"],
        "test_fold": np.where(np.arange(n_samples) % 3 == 0, 0, -1),
    }


CLOSED_FORM = {"LinearCKA": LinearCKA(), "Norm": NormSimilarity()}


def test_default_measures_are_every_measure_of_the_library():
    measures = default_measures(learned_params={"max_epochs": 3}, random_state=7)
    assert list(measures)[:3] == ["ContraSim", "DeepDot", "DeepCKA"]
    assert {"LinearCKA", "DebiasedCKA", "RBFCKA", "MeanCCA", "SVCCA", "PWCCA",
            "OrthogonalProcrustes", "DotProduct", "NormSimilarity"} <= set(measures)
    assert measures["DeepCKA"].get_params()["max_epochs"] == 3
    assert measures["ContraSim"].random_state == 7


@pytest.mark.parametrize("runner", ["multilingual", "image_caption", "layer_prediction"])
def test_runners_return_the_documented_columns(runner):
    if runner == "multilingual":
        results = multilingual(aligned_languages(), CLOSED_FORM, chunk_size=8, cv=2)
        # Closed-form measures, scored once per pair of non-English languages (the pairs
        # unseen by some en-X training pair): 2 folds x 2 layers x 6 pairs x 2 measures x
        # 2 negatives.
        assert len(results) == 2 * 2 * 6 * 2 * 2
    elif runner == "image_caption":
        results = image_caption(image_caption_data(), CLOSED_FORM, chunk_size=8)
        # 1 model pair x 1 predefined fold x 2 measures x 2 negatives
        assert len(results) == 4
        assert set(results.layer) == {1}
    else:
        results = layer_prediction(seed_models(), CLOSED_FORM, cv=2)
        # examples: 2 folds x 6 pairs; seeds: 2 model folds x 2 example folds x 1 pair;
        # each x 3 layers x 2 measures.
        assert len(results) == (2 * 6 + 2 * 2 * 1) * 3 * 2
        assert set(results.negatives) == {"layers"}
    assert list(results.columns) == RESULT_COLUMNS
    assert results.benchmark.eq(runner).all()
    assert results.accuracy.between(0, 1).all()
    assert (results.n_decisions > 0).all()
    assert (results[TIMINGS] >= 0).all().all()
    assert set(results.measure) == set(CLOSED_FORM)


def test_perfectly_aligned_inputs_give_full_accuracy():
    ml = multilingual(aligned_languages(), CLOSED_FORM, chunk_size=8, cv=2)
    ic = image_caption(image_caption_data(), CLOSED_FORM, chunk_size=8, cv=3)
    lp = layer_prediction(seed_models(), CLOSED_FORM, cv=2)
    for results in (ml, ic, lp):
        assert results.accuracy.eq(1.0).all()
    assert set(ml.negatives) == set(ic.negatives) == {"random", "hard"}


def test_chance_level_inputs_give_chance_accuracy():
    rng = np.random.RandomState(0)
    languages = {lang: [rng.randn(1200, 4)] for lang in LANGUAGES[:4]}
    results = multilingual(languages, [DotProduct()], chunk_size=2, n_repeats=2,
                           negatives="random", cv=2)
    n_decisions = results.n_decisions.sum()
    accuracy = (results.accuracy * results.n_decisions).sum() / n_decisions
    chance = results.chance.iloc[0]
    assert chance == pytest.approx(1 / 11)
    assert abs(accuracy - chance) < 5 * np.sqrt(chance * (1 - chance) / n_decisions)

    seeds = {f"seed{m}": [rng.randn(60, 4) for _ in range(5)] for m in range(8)}
    lp = layer_prediction(seeds, [LinearCKA()], heldout="examples", cv=3)
    assert lp.chance.iloc[0] == pytest.approx(1 / 5)
    assert abs(lp.accuracy.mean() - 1 / 5) < 5 * np.sqrt(0.2 * 0.8 / len(lp))


class LeakDetector(BaseSimilarity):
    """Fails loudly when it is scored on a language, model or row it was trained on.

    Column 0 of every array names its language / model, column 1 its row; the rest is
    data. ``fit`` and ``fit_sets`` record what they saw; every comparison checks it
    (the source only with ``check_sources``: image-caption tests the models it trained on).
    """

    def __init__(self, check_sources=True):
        self.check_sources = check_sources

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.similarity_tags.set_level = True  # it offers fit_sets
        return tags

    def _fit(self, X, y):
        self.seen_sources_ = {X[0, 0], y[0, 0]}
        self.seen_rows_ = set(X[:, 1]) | set(y[:, 1])

    def fit_sets(self, sets):
        arrays = [layer for layers in sets.values() for layer in layers]
        self.n_features_in_ = self.n_features_y_ = arrays[0].shape[1]
        self.seen_sources_ = {layer[0, 0] for layer in arrays}
        self.seen_rows_ = set(np.concatenate([layer[:, 1] for layer in arrays]))
        return self

    def _compare(self, X, y):
        for Z in (X, y):
            if self.check_sources:
                assert Z[0, 0] not in self.seen_sources_, f"source {Z[0, 0]} leaked in training"
            assert not set(Z[:, 1]) & self.seen_rows_, "a test row leaked into training"
        return float(np.mean(np.sum(X[:, 2:] * y[:, 2:], axis=1)))


def tagged(arrays_by_name, n_samples):
    """Prepend the name's index and the row index as columns 0 and 1 of every array."""
    return {
        name: [np.column_stack([np.full(n_samples, index), np.arange(n_samples), layer])
               for layer in layers]
        for index, (name, layers) in enumerate(arrays_by_name.items())
    }


def test_no_heldout_language_or_row_leaks_into_training():
    data = tagged(aligned_languages(), 96)
    results = multilingual(data, [LeakDetector()], chunk_size=8, cv=KFold(2))
    for trained_on, x, y in zip(results.trained_on, results.x, results.y):
        assert not set(trained_on.split("-")) & {x, y}
    # Every pair of two languages outside the training pair is tested, not only the reverse.
    tested = set(zip(results.trained_on, results.x, results.y))
    assert ("en-de", "fr", "es") in tested and ("en-de", "es", "ru") in tested


def test_closed_form_measures_are_scored_once_per_test_pair():
    # Noisy translations, so that accuracies vary between test pairs and shuffles.
    rng = np.random.RandomState(0)
    meaning = rng.randn(96, 6)
    data = {lang: [meaning + 0.5 * rng.randn(96, 6)] for lang in LANGUAGES}
    results = multilingual(data, [LinearCKA()], chunk_size=4, cv=KFold(2))
    # A closed-form measure learns nothing from a training pair: each test pair once.
    assert set(results.trained_on) == {""}
    assert not results.duplicated(["fold", "x", "y", "negatives"]).any()
    assert 0.3 < results.accuracy.mean() < 1
    # Its scores equal those obtained under any one training pair that leaves the pair out.
    for first, second in [("en", "de"), ("en", "ru")]:
        alone = multilingual(data, [LinearCKA()], train_pairs=[(first, second)], chunk_size=4,
                             cv=KFold(2))
        merged = alone.merge(results, on=["fold", "x", "y", "negatives"])
        assert len(merged) == len(alone)
        np.testing.assert_array_equal(merged.accuracy_x, merged.accuracy_y)


def float_arrays(value):
    """Every float ndarray inside nested lists, tuples and dicts."""
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind == "f" else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in float_arrays(item)]
    return []


@pytest.mark.parametrize("runner, data, n_arrays", [
    (multilingual, aligned_languages(), len(LANGUAGES) * 2),
    (image_caption, image_caption_data(), 3),
    (layer_prediction, seed_models(), 4 * 3),
])
def test_tasks_share_the_callers_arrays_instead_of_copying_rows(
        monkeypatch, runner, data, n_arrays):
    # Tasks carry the representations and the rows to use, not copies of the rows: joblib
    # then sends each array once, and memory does not grow with the number of tasks.
    module = importlib.import_module(runner.__module__)
    real_run_tasks, seen = module.run_tasks, []

    def recording_run_tasks(tasks, **kwargs):
        seen.extend(tasks)
        return real_run_tasks(tasks, **kwargs)

    monkeypatch.setattr(module, "run_tasks", recording_run_tasks)
    extra = {} if runner is layer_prediction else {"chunk_size": 8}
    assert len(runner(data, CLOSED_FORM, cv=2, **extra))
    distinct = {id(array) for _, kwargs in seen for array in float_arrays(kwargs)}
    assert len(distinct) <= n_arrays


def test_no_heldout_seed_or_row_leaks_into_training():
    data = tagged(seed_models(n_models=6), 80)
    results = layer_prediction(data, [LeakDetector()], heldout="seeds", cv=2)
    # GroupKFold(3) over 6 models x 2 example folds; each fold tests its one unseen pair.
    assert results.fold.nunique() == 6
    for trained_on, x, y in zip(results.trained_on, results.x, results.y):
        assert not set(trained_on.split(",")) & {x, y}
        assert len(trained_on.split(",")) == 4


def test_image_caption_trains_on_train_pairs_only():
    data = image_caption_data()
    data["representations"] = tagged(data["representations"], 120)
    results = image_caption(data, [LeakDetector(check_sources=False)], layer=-1, chunk_size=8,
                            cv=KFold(3))
    assert sorted(results.fold.unique()) == [0, 1, 2]


def test_user_cv_for_examples_and_models():
    results = layer_prediction(seed_models(n_models=4), CLOSED_FORM, heldout="seeds",
                               cv=[(np.arange(40), np.arange(40, 80))],
                               model_cv=KFold(2))
    assert sorted(results.fold.unique()) == [0, 1]
    with pytest.raises(ValueError, match="two test models"):
        layer_prediction(seed_models(n_models=4), CLOSED_FORM, heldout="seeds",
                         model_cv=LeaveOneGroupOut())


def test_hard_negatives_survive_duplicate_and_zero_captions():
    data = image_caption_data()
    captions = data["representations"]["text"][0]
    captions[1::4] = captions[::4]  # duplicated captions
    captions[2::12] = 0.0  # empty captions
    results = image_caption(data, [NormSimilarity()], negatives="hard", chunk_size=4)
    assert np.isfinite(results.accuracy).all() and results.n_decisions.gt(0).all()


def test_learned_measure_results_identical_on_dask_backend():
    distributed = pytest.importorskip("distributed")
    measures = {"ContraSim": ContraSim(dim=4, hidden_layer_sizes=(8,), max_epochs=3, lr=1e-2,
                                       batch_size=32, random_state=0),
                "LinearCKA": LinearCKA()}
    data = seed_models(n_models=4, n_samples=40)

    def run(n_jobs):
        return (
            layer_prediction(data, measures, cv=2, n_jobs=n_jobs),
            multilingual(aligned_languages(n_samples=48, n_layers=1), measures, chunk_size=4,
                         cv=2, train_pairs=[("en", "de")], n_jobs=n_jobs),
        )

    default = run(None)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        with parallel_backend("dask"):
            on_dask = run(-1)
    for expected, got in zip(default, on_dask):
        pd.testing.assert_frame_equal(expected.drop(columns=TIMINGS), got.drop(columns=TIMINGS))


def test_layer_prediction_similarities_table():
    results, similarities = layer_prediction(seed_models(), [LinearCKA()], heldout="examples",
                                             return_similarities=True)
    assert list(similarities.columns) == SIMILARITY_COLUMNS
    # 3 folds (KFold on a plain mapping) x 6 pairs x 3 x 3 cells
    assert len(similarities) == 3 * 6 * 9
    grid = similarities.pivot_table(index="layer_x", columns="layer_y", values="similarity")
    np.testing.assert_allclose(np.diag(grid), 1.0)
    assert (grid.to_numpy() <= 1 + 1e-9).all()


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


def synthetic_results():
    """Two measures on two units each (two pairs), one decision per layer."""
    rows = []
    for measure, accuracies in [("good", [[1, 1], [1, 0]]), ("bad", [[0, 1], [0, 0]])]:
        for pair, per_layer in zip(["a", "b"], accuracies):
            for layer, accuracy in enumerate(per_layer):
                rows.append(dict(benchmark="lp", dataset="d", heldout="examples", fold=0,
                                 trained_on="", x=pair, y="z", layer=layer, layer_name=str(layer),
                                 measure=measure, negatives="layers", accuracy=float(accuracy),
                                 n_decisions=1, chance=0.5, fit_time=0.0, score_time=0.0))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def test_summarize_pools_layers_into_units_and_ranks_measures():
    summary = summarize(synthetic_results(), confidence=0.5)
    good, bad = summary.set_index("measure").loc[["good", "bad"]].itertuples()
    # good: units (pairs) at 1.0 and 0.5; bad: 0.5 and 0.0.
    assert good.mean == pytest.approx(0.75) and bad.mean == pytest.approx(0.25)
    assert good.std == pytest.approx(np.std([1, 0.5], ddof=1))
    assert (good.n_units, good.n_decisions, good.rank, bad.rank) == (2, 4, 1, 2)
    # 50 % Student t interval with 1 degree of freedom: mean ± 1.0 * std / sqrt(2).
    assert (good.ci_low, good.ci_high) == pytest.approx((0.5, 1.0))
    assert (bad.ci_low, bad.ci_high) == pytest.approx((0.0, 0.5))
    assert summarize(synthetic_results()).ci_low.min() == 0.0  # clipped to [0, 1]
    per_layer = summarize(synthetic_results(), by=["benchmark", "layer"])
    assert per_layer.set_index(["measure", "layer"])["mean"].to_dict() == {
        ("good", 0): 1.0, ("good", 1): 0.5, ("bad", 0): 0.0, ("bad", 1): 0.5}


def test_comparison_table_and_markdown():
    table = comparison_table(synthetic_results(), decimals=2)
    assert list(table.index) == ["good", "bad", "chance"]
    assert table.loc["good", "lp / examples / layers"] == "0.75 ± 0.35"
    assert table.loc["chance", "lp / examples / layers"] == "0.50"
    ci = comparison_table(synthetic_results(), interval="ci", decimals=2)
    assert ci.loc["good"].iloc[0].startswith("0.75 [")
    markdown = to_markdown(table)
    assert markdown.splitlines()[2].startswith("| good | 0.75 ± 0.35 |")
    with pytest.raises(ValueError, match="interval"):
        comparison_table(synthetic_results(), interval="iqr")
    with pytest.raises(ValueError, match="lacks the columns"):
        summarize(synthetic_results().drop(columns="fold"))


def test_a_measure_that_cannot_compare_a_pair_is_skipped_with_a_warning():
    data = image_caption_data()
    data["representations"]["text"] = [np.hstack([data["representations"]["text"][0]] * 2)]
    with pytest.warns(UserWarning, match="DotProduct skipped: .*same number of features"):
        results = image_caption(data, [DotProduct(), LinearCKA()], chunk_size=8)
    assert set(results.measure) == {"LinearCKA"}


def test_comparison_table_marks_missing_results():
    results = synthetic_results()
    other = results[results.measure == "good"].assign(benchmark="other")
    table = comparison_table(pd.concat([results, other]), decimals=2)
    assert table.loc["bad", "other / examples / layers"] == "n/a"
    assert table.loc["bad", "mean rank"] == "2.0"
