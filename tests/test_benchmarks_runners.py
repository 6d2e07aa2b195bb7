"""The benchmark runners: table format, chance and perfect levels, no leakage, backends."""

import importlib

import numpy as np
import pandas as pd
import pytest
from _fixtures import (
    CLOSED_FORM,
    LANGUAGES,
    N_INPUTS,
    N_LAYERS,
    TIMINGS,
    LeakDetector,
    aligned_languages,
    image_caption_data,
    network_layers,
    seed_models,
    tagged,
)
from joblib import parallel_backend
from scipy.stats import ortho_group
from sklearn.model_selection import KFold, LeaveOneGroupOut

from sklearn_contrasim.benchmarks import _inputs
from sklearn_contrasim.benchmarks import (
    RESULT_COLUMNS,
    SIMILARITY_COLUMNS,
    default_measures,
    image_caption,
    image_caption_transfer,
    layer_prediction,
    multilingual,
)
from sklearn_contrasim.contrasim import ContraSim
from sklearn_contrasim.measures import DotProduct, LinearCKA, NormSimilarity
from sklearn_contrasim.metrics import retrieval_accuracy


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
        assert results.n_decisions.eq(1).all()
    assert list(results.columns) == RESULT_COLUMNS
    assert results.benchmark.eq(runner).all()
    assert results.representation.eq("raw").all()
    assert results.n_hits.dtype.kind == results.n_decisions.dtype.kind == "i"
    assert (results.n_decisions > 0).all()
    np.testing.assert_array_equal(results.accuracy, results.n_hits / results.n_decisions)
    assert (results[TIMINGS] >= 0).all().all()
    assert set(results.measure) == set(CLOSED_FORM)


def test_perfectly_aligned_inputs_give_full_accuracy():
    ml = multilingual(aligned_languages(), CLOSED_FORM, chunk_size=8, cv=2)
    ic = image_caption(image_caption_data(), CLOSED_FORM, chunk_size=8, cv=3)
    lp = layer_prediction(seed_models(), CLOSED_FORM, cv=2)
    for results in (ml, ic, lp):
        assert results.accuracy.eq(1.0).all()
        assert results.n_hits.eq(results.n_decisions).all()
    assert set(ml.negatives) == set(ic.negatives) == {"random", "hard"}


def test_chance_level_inputs_give_chance_accuracy():
    rng = np.random.RandomState(0)
    languages = {lang: [rng.randn(1200, 4)] for lang in LANGUAGES[:4]}
    results = multilingual(languages, [DotProduct()], chunk_size=2, n_repeats=2,
                           negatives="random", cv=2)
    n_decisions = results.n_decisions.sum()
    accuracy = results.n_hits.sum() / n_decisions
    chance = results.chance.iloc[0]
    assert chance == pytest.approx(1 / 11)
    assert abs(accuracy - chance) < 5 * np.sqrt(chance * (1 - chance) / n_decisions)

    seeds = {f"seed{m}": [rng.randn(60, 4) for _ in range(5)] for m in range(8)}
    lp = layer_prediction(seeds, [LinearCKA()], heldout="examples", cv=3)
    assert lp.chance.iloc[0] == pytest.approx(1 / 5)
    assert abs(lp.accuracy.mean() - 1 / 5) < 5 * np.sqrt(0.2 * 0.8 / len(lp))


def test_retrieval_scores_are_those_of_retrieval_accuracy():
    # The runner's rows are retrieval_accuracy on the test rows of a measure fitted on
    # the training rows, with the hard negatives the runner searched once for all.
    data = image_caption_data(captions_from_images=False)  # accuracies between 0 and 1
    results = image_caption(data, [NormSimilarity()], chunk_size=4, n_negatives=5,
                            n_repeats=2, random_state=3)
    test = data["test_fold"] == 0
    X, y = data["representations"]["vision"][1], data["representations"]["text"][0]
    measure = NormSimilarity().fit(X[~test], y[~test])
    for row in results.itertuples():
        expected, hits = retrieval_accuracy(measure, X[test], y[test], chunk_size=4,
                                            n_negatives=5, n_repeats=2, random_state=3,
                                            negatives=row.negatives, return_hits=True)
        assert (row.accuracy, row.n_hits, row.n_decisions) == (expected, hits.sum(), hits.size)
    assert 0 < results.accuracy.min() < 1


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
    distinct = {id(array) for task in seen for array in float_arrays(task.kwargs)}
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


def test_layer_prediction_shares_closed_form_grids_between_settings():
    # Both settings test pairs of one example fold: a closed-form measure computes each
    # (fold, pair) grid once, and both settings' rows read it.
    results, similarities = layer_prediction(seed_models(), [LinearCKA()], cv=2,
                                             return_similarities=True)
    keys = ["fold", "x", "y", "layer_x", "layer_y"]
    examples = similarities[similarities.heldout == "examples"]
    seeds = similarities[similarities.heldout == "seeds"].assign(fold=lambda s: s.fold % 2)
    merged = seeds.merge(examples, on=keys)
    assert len(merged) == len(seeds) > 0
    np.testing.assert_array_equal(merged.similarity_x, merged.similarity_y)
    assert set(results.trained_on) == {""} and results.fit_time.eq(0.0).all()


@pytest.fixture(scope="module")
def rotated_seeds():
    """Six seeds of one synthetic network, each layer in its own basis of neurons: 300
    training rows, 100 test rows; seeds 0-2 train, seeds 3-5 are held out."""
    inputs = np.random.RandomState(0).randn(400, N_INPUTS)
    data = {f"seed{seed}": network_layers(inputs, seed) for seed in range(6)}
    return dict(data=data, cv=[(np.arange(300), np.arange(300, 400))],
                model_cv=[(np.arange(3), np.arange(3, 6))])


def test_relative_representation_lets_measures_identify_layers_of_unseen_seeds(rotated_seeds):
    contrasim = ContraSim(dim=16, hidden_layer_sizes=(32,), batch_size=100, lr=3e-3,
                          max_epochs=20, temperature=0.1, random_state=0)
    results = layer_prediction(
        rotated_seeds["data"], {"ContraSim": contrasim, "Dot": DotProduct()}, heldout="seeds",
        representation=("raw", "relative"), n_anchors=32, cv=rotated_seeds["cv"],
        model_cv=rotated_seeds["model_cv"])
    accuracy = results.groupby(["representation", "measure"]).accuracy.mean()
    chance = 1 / N_LAYERS
    # Raw neurons of unseen seeds are rotated: neither a learned nor a row-wise measure
    # finds the layers ...
    assert accuracy["raw", "ContraSim"] < 2 * chance
    assert accuracy["raw", "Dot"] < 2 * chance
    # ... their relative representations are comparable, for every measure.
    assert accuracy["relative", "ContraSim"] >= 0.8
    assert accuracy["relative", "Dot"] >= 3 * chance
    assert set(results.trained_on[results.measure == "ContraSim"]) == {"seed0,seed1,seed2"}
    assert set(results.x) | set(results.y) == {"seed3", "seed4", "seed5"}


def test_raw_results_do_not_change_when_relative_ones_are_added(rotated_seeds):
    kwargs = dict(heldout="seeds", cv=rotated_seeds["cv"], model_cv=rotated_seeds["model_cv"],
                  n_anchors=16)
    raw = layer_prediction(rotated_seeds["data"], [LinearCKA()], **kwargs)
    both = layer_prediction(rotated_seeds["data"], [LinearCKA()],
                            representation=("raw", "relative"), **kwargs)
    assert set(raw.representation) == {"raw"}
    assert both.representation.value_counts().to_dict() == {"raw": len(raw), "relative": len(raw)}
    columns = ["x", "y", "layer", "accuracy"]
    pd.testing.assert_frame_equal(
        both[both.representation == "raw"][columns].reset_index(drop=True), raw[columns])


def index_columns(arrays_by_name, offset=0):
    """Prepend the row index (plus ``offset``) as column 0 of every array."""
    return {name: [np.column_stack([offset + np.arange(len(layer)), layer]) for layer in layers]
            for name, layers in arrays_by_name.items()}


@pytest.fixture
def fitted_relative(monkeypatch):
    """Record the column 0 of the rows every RelativeRepresentation is fitted on, and of
    its anchor rows."""
    fitted = []

    class RecordingRelativeRepresentation(_inputs.RelativeRepresentation):
        def fit(self, X, y=None):
            fitted.append((X[:, 0].copy(), X[self.anchors, 0].copy()))
            return super().fit(X, y)

    monkeypatch.setattr(_inputs, "RelativeRepresentation", RecordingRelativeRepresentation)
    return fitted


@pytest.mark.parametrize("runner, n_arrays", [
    ("layer_prediction", 4 * 3), ("multilingual", len(LANGUAGES) * 2), ("image_caption", 2),
])
def test_relative_anchors_are_training_rows_shared_by_every_model_and_layer(
        fitted_relative, runner, n_arrays):
    folds = list(KFold(2, shuffle=True, random_state=0).split(np.zeros(80)))
    common = dict(representation="relative", n_anchors=10, cv=folds)
    if runner == "layer_prediction":
        results = layer_prediction(index_columns(seed_models(n_models=4)), [NormSimilarity()],
                                   heldout="examples", **common)
    elif runner == "multilingual":
        results = multilingual(index_columns(aligned_languages(n_samples=80)), [NormSimilarity()],
                               chunk_size=4, **common)
    else:
        data = image_caption_data(n_samples=80)
        results = image_caption(index_columns(data["representations"]), [NormSimilarity()],
                                image_models=["vision"], text_models=["text"], chunk_size=4,
                                **common)
    # Once per fold and array (model or language, layer), all on the same anchor rows.
    assert len(fitted_relative) == 2 * n_arrays
    for fold, (train, _) in enumerate(folds):
        per_fold = fitted_relative[fold * n_arrays:(fold + 1) * n_arrays]
        for rows, anchor_rows in per_fold:
            np.testing.assert_array_equal(rows, train)  # fitted on training rows only
            np.testing.assert_array_equal(anchor_rows, per_fold[0][1])
            assert len(anchor_rows) == 10 and set(anchor_rows) <= set(train)
    assert set(results.representation) == {"relative"}


def test_relative_anchors_follow_random_state(rotated_seeds):
    def relative_similarities(random_state):
        return layer_prediction(
            rotated_seeds["data"], [LinearCKA()], heldout="examples", representation="relative",
            n_anchors=8, cv=rotated_seeds["cv"], random_state=random_state,
            return_similarities=True)[1].similarity.to_numpy()

    np.testing.assert_array_equal(relative_similarities(0), relative_similarities(0))
    assert not np.allclose(relative_similarities(0), relative_similarities(1))


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(representation="relatve"), "representation must be 'raw', 'relative' or both"),
    (dict(representation=()), "representation must be 'raw', 'relative' or both"),
    (dict(representation="relative", n_anchors=0), "n_anchors must be a positive int"),
    (dict(representation="relative", n_anchors=2.5), "n_anchors must be a positive int"),
    (dict(representation="relative", n_anchors=41),
     "n_anchors=41 is more than the 40 training rows of fold 0"),
])
def test_layer_prediction_rejects_bad_representation_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layer_prediction(seed_models(), [LinearCKA()], heldout="examples", cv=2, **kwargs)


@pytest.mark.parametrize("runner", ["multilingual", "image_caption"])
def test_retrieval_runners_add_relative_rows_and_keep_raw_ones(runner):
    tiny_contrasim = ContraSim(dim=4, hidden_layer_sizes=(8,), max_epochs=1, batch_size=32,
                               random_state=0)
    measures = {"ContraSim": tiny_contrasim, "Norm": NormSimilarity()}
    if runner == "multilingual":
        def run(**kwargs):
            return multilingual(aligned_languages(n_layers=1), measures, chunk_size=8, cv=2,
                                train_pairs=[("en", "de")], **kwargs)
    else:
        def run(**kwargs):
            return image_caption(image_caption_data(), measures, chunk_size=8, cv=2, **kwargs)

    raw = run()
    both = run(representation=("raw", "relative"), n_anchors=16)
    assert list(both.columns) == RESULT_COLUMNS
    assert both.representation.value_counts().to_dict() == {"raw": len(raw), "relative": len(raw)}
    # Closed-form and learned measures alike compare the relative representations.
    assert set(both[both.representation == "relative"].measure) == set(measures)
    columns = ["fold", "x", "y", "measure", "negatives", "accuracy", "n_hits"]
    pd.testing.assert_frame_equal(
        both[both.representation == "raw"][columns].reset_index(drop=True), raw[columns])
    # Aligned inputs stay aligned: every closed-form measure is perfect on both.
    assert both[both.measure != "ContraSim"].accuracy.eq(1.0).all()


def rotated_captions(n_samples=120, seed=0):
    """Image-caption data whose captions are the images in another basis of neurons."""
    data = image_caption_data(n_samples=n_samples, seed=seed)
    captions = data["representations"]["text"][0]
    data["representations"]["text"] = [captions @ ortho_group.rvs(6, random_state=seed)]
    return data


def test_relative_image_caption_aligns_two_models_without_training():
    # A row-wise measure compares neuron i of the images with neuron i of the captions:
    # meaningless when the text model uses another basis. On the relative representations
    # column j of both sides is the same anchor pair, so the two models are aligned.
    results = image_caption(rotated_captions(), [DotProduct()], chunk_size=8, cv=2,
                            representation=("raw", "relative"), n_anchors=32)
    accuracy = results.groupby("representation").accuracy.mean()
    assert accuracy["raw"] < 0.5
    assert accuracy["relative"] == 1.0


@pytest.mark.parametrize("runner", ["multilingual", "image_caption", "image_caption_transfer"])
@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(representation="relatve"), "representation must be 'raw', 'relative' or both"),
    (dict(representation=()), "representation must be 'raw', 'relative' or both"),
    (dict(representation="relative", n_anchors=0), "n_anchors must be a positive int"),
    (dict(representation="relative", n_anchors=True), "n_anchors must be a positive int"),
    (dict(representation="relative", n_anchors=81),
     "n_anchors=81 is more than the 80 training rows of fold 0"),
])
def test_retrieval_runners_reject_bad_representation_settings(runner, kwargs, message):
    # 120 rows: 80 training rows in every fold (cv=3, or the predefined split).
    with pytest.raises(ValueError, match=message):
        if runner == "multilingual":
            multilingual(aligned_languages(n_samples=120), [LinearCKA()], cv=3, **kwargs)
        elif runner == "image_caption":
            image_caption(image_caption_data(), [LinearCKA()], **kwargs)
        else:
            image_caption_transfer(image_caption_data(), image_caption_data(seed=1),
                                   [LinearCKA()], **kwargs)


def test_transfer_trains_on_one_data_set_and_tests_on_the_other():
    # Both domains pair images with their captions in another basis; the test domain's
    # images come from another distribution (shifted and stretched).
    train_data, test_data = rotated_captions(seed=0), rotated_captions(seed=0)
    test_images = 3.0 + 2.0 * np.random.RandomState(1).randn(120, 6)
    test_data["representations"]["vision"][1] = test_images
    test_data["representations"]["text"] = [
        test_images @ ortho_group.rvs(6, random_state=0)]
    train_data["source"], test_data["source"] = "clipart", "emoji"
    tiny_contrasim = ContraSim(dim=4, hidden_layer_sizes=(8,), max_epochs=2, batch_size=32,
                               random_state=0)
    measures = {"ContraSim": tiny_contrasim, "Dot": DotProduct(), "LinearCKA": LinearCKA()}
    results = image_caption_transfer(train_data, test_data, measures, chunk_size=8,
                                      representation=("raw", "relative"), n_anchors=32)
    assert list(results.columns) == RESULT_COLUMNS
    # 2 representations x 1 model pair x 3 measures x 2 negatives
    assert len(results) == 2 * 3 * 2
    assert set(results.dataset) == {"clipart->emoji"}
    assert set(results.trained_on) == {"clipart"}
    assert set(results.heldout) == {"domain"} and set(results.fold) == {0}
    accuracy = results.groupby(["representation", "measure"]).accuracy.mean()
    assert accuracy["raw", "LinearCKA"] == accuracy["relative", "LinearCKA"] == 1.0
    # Anchors from the training domain align the two models on the test domain.
    assert accuracy["raw", "Dot"] < 0.5 and accuracy["relative", "Dot"] == 1.0
    # The test pairs of test_data: those image_caption scores in-domain, same decisions.
    in_domain = image_caption(test_data, [LinearCKA()], chunk_size=8)
    assert (results[results.measure == "LinearCKA"].groupby("negatives").n_decisions.first()
            == in_domain.groupby("negatives").n_decisions.first()).all()


def test_transfer_anchors_and_training_rows_come_from_the_training_data_set(fitted_relative):
    train_data, test_data = image_caption_data(), image_caption_data(seed=1)
    # Column 0: the row's index, from 1000 on in the test data set.
    train_data["representations"] = index_columns(train_data["representations"])
    test_data["representations"] = index_columns(test_data["representations"], offset=1000)
    train_rows = np.flatnonzero(train_data["test_fold"] == -1)
    results = image_caption_transfer(train_data, test_data, [LinearCKA()],
                                     representation="relative", n_anchors=10, chunk_size=4)
    assert len(fitted_relative) == 2  # the image model and the text model
    for rows, anchor_rows in fitted_relative:
        np.testing.assert_array_equal(rows, train_rows)
        np.testing.assert_array_equal(anchor_rows, fitted_relative[0][1])
    assert set(results.dataset) == {"train->test"}


def test_transfer_scores_are_retrieval_accuracy_on_the_test_rows_of_the_test_data_set():
    train_data = image_caption_data(captions_from_images=False)
    test_data = image_caption_data(captions_from_images=False, seed=1)
    results = image_caption_transfer(train_data, test_data, [NormSimilarity()], chunk_size=4,
                                     n_negatives=5, random_state=3)
    train, test = train_data["test_fold"] == -1, test_data["test_fold"] == 0
    (_, X), (y,) = train_data["representations"]["vision"], train_data["representations"]["text"]
    (_, X_test), (y_test,) = (test_data["representations"]["vision"],
                              test_data["representations"]["text"])
    measure = NormSimilarity().fit(X[train], y[train])
    for row in results.itertuples():
        expected, hits = retrieval_accuracy(measure, X_test[test], y_test[test], chunk_size=4,
                                            n_negatives=5, random_state=3,
                                            negatives=row.negatives, return_hits=True)
        assert (row.accuracy, row.n_hits, row.n_decisions) == (expected, hits.sum(), hits.size)


def test_transfer_needs_the_same_models_in_both_data_sets():
    wider = image_caption_data(seed=1)
    wider["representations"]["text"] = [np.hstack([wider["representations"]["text"][0]] * 2)]
    with pytest.raises(ValueError, match="'text' has 6 features in train_data and 12 in test_data"):
        image_caption_transfer(image_caption_data(), wider, [LinearCKA()])
    other = image_caption_data(seed=1)
    other["representations"]["words"] = other["representations"].pop("text")
    with pytest.raises(ValueError, match=r"Unknown text models \['text'\]"):
        image_caption_transfer(image_caption_data(), other, [LinearCKA()])
