"""ContraSim, DeepDot and DeepCKA at example level: values, training, model selection,
persistence, determinism and bad input."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from skorch.exceptions import DeviceWarning
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline

from sklearn_contrasim import ContraSim, DeepCKA, DeepDot, LinearCKA
from sklearn_contrasim.contrasim._losses import PositiveCKALoss, PositiveCosineLoss, SupConLoss
from sklearn_contrasim.datasets import make_paired_representations
from sklearn_contrasim.metrics import make_retrieval_scorer, retrieval_accuracy

LEARNED = [ContraSim, DeepDot, DeepCKA]
# Small, fast settings that still learn the synthetic pairing.
FAST = dict(dim=16, hidden_layer_sizes=(64,), batch_size=128, lr=1e-3, max_epochs=15,
            random_state=0)
TINY = dict(dim=4, hidden_layer_sizes=(8,), batch_size=64, max_epochs=2, random_state=0)
CHANCE = 1 / 11
# A harder protocol than the default score (which both measures ace on this data).
SMALL_CHUNKS = dict(chunk_size=8, n_repeats=5)
# DeepDot settings under which its encoder collapses within a few epochs.
COLLAPSING = {**FAST, "lr": 1e-2, "weight_decay": 0.1, "max_epochs": 30}


@pytest.fixture(scope="module")
def paired():
    """Train and test halves of non-linearly related sets of different widths."""
    X, y, _ = make_paired_representations(800, 32, 24, noise=1.0, nonlinear=True,
                                          random_state=0)
    return X[:400], y[:400], X[400:], y[400:]


@pytest.fixture(scope="module")
def contrasim(paired):
    X, y, _, _ = paired
    return ContraSim(**FAST).fit(X, y)


# --- the losses -------------------------------------------------------------------------

def _reference_supcon(instances, labels, temperature, logit):
    """SupCon written out anchor by anchor, positive by positive."""
    total = 0.0
    for i in range(len(labels)):
        def s(a):
            if logit == "cosine":
                return instances[i] @ instances[a] / temperature
            return (1 - np.linalg.norm(instances[i] - instances[a])) / temperature
        others = [a for a in range(len(labels)) if a != i]
        log_denominator = np.log(sum(np.exp(s(a)) for a in others))
        positives = [p for p in others if labels[p] == labels[i]]
        total += -np.mean([s(p) - log_denominator for p in positives])
    return total / len(labels)


@pytest.mark.parametrize("logit", ["cosine", "distance"])
@pytest.mark.parametrize("shape", [(2, 5, 1, 3), (3, 4, 6, 2)])
def test_supcon_matches_written_out_definition(logit, shape):
    rng = np.random.RandomState(0)
    embeddings = rng.randn(*shape)
    embeddings /= np.linalg.norm(embeddings, axis=-1, keepdims=True)
    n_views, n_classes = shape[:2]
    # Flattened sets scaled to unit Frobenius norm; class = position along axis 1.
    instances = embeddings.reshape(n_views * n_classes, -1) / np.sqrt(shape[2])
    labels = np.tile(np.arange(n_classes), n_views)
    loss = SupConLoss(temperature=0.5, logit=logit)(torch.from_numpy(embeddings))
    assert loss.item() == pytest.approx(_reference_supcon(instances, labels, 0.5, logit),
                                        rel=1e-6)


def test_positive_only_losses_ignore_negatives():
    """DeepDot's and DeepCKA's losses see positives only: negatives may be anything."""
    rng = np.random.RandomState(0)
    layers = torch.from_numpy(rng.randn(1, 3, 10, 4))
    layers = torch.nn.functional.normalize(layers, dim=-1)
    identical_views = layers.repeat(2, 1, 1, 1)  # the same class is identical in both views
    assert PositiveCosineLoss()(identical_views).item() == pytest.approx(-1.0)
    assert PositiveCKALoss("set")(identical_views).item() == pytest.approx(-1.0)
    # SupCon is not satisfied by matching positives alone when classes look alike.
    all_alike = layers[:, :1].repeat(2, 3, 1, 1)
    assert SupConLoss(0.1, "cosine")(all_alike) > SupConLoss(0.1, "cosine")(identical_views)


def test_deep_cka_loss_is_linear_cka_of_the_batches():
    rng = np.random.RandomState(0)
    X, y = rng.randn(20, 5), rng.randn(20, 5) + 0.5 * rng.randn(20, 5)
    embeddings = torch.from_numpy(np.stack([X, y])[:, :, None, :])  # example-level layout
    expected = LinearCKA().fit(X, y).similarity(X, y)
    assert -PositiveCKALoss("example")(embeddings).item() == pytest.approx(expected, rel=1e-9)


# --- what the measures learn -------------------------------------------------------------

def test_contrasim_beats_chance_and_linear_cka(paired, contrasim):
    X, y, X_test, y_test = paired
    assert contrasim.score(X_test, y_test) == 1.0
    contrasim_accuracy = retrieval_accuracy(contrasim, X_test, y_test, **SMALL_CHUNKS)
    cka_accuracy = retrieval_accuracy(LinearCKA().fit(X, y), X_test, y_test, **SMALL_CHUNKS)
    assert contrasim_accuracy > 0.85 > 5 * CHANCE
    assert contrasim_accuracy > cka_accuracy + 0.3


def test_contrasim_training_lowers_the_loss(contrasim):
    losses = contrasim.history_[:, "train_loss"]
    assert len(losses) == FAST["max_epochs"]
    assert losses[-1] < 0.8 * losses[0]
    assert contrasim.history_ is contrasim.net_.history


def test_contrasim_similarity_is_mean_paired_cosine_in_learned_space(paired, contrasim):
    _, _, X_test, y_test = paired
    X_embedded, y_embedded = contrasim.encode(X_test, y_test)
    assert X_embedded.shape == (400, FAST["dim"]) and X_embedded.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X_embedded, axis=1), 1, rtol=1e-5)
    expected = np.mean(np.sum(X_embedded * y_embedded, axis=1))
    assert contrasim.similarity(X_test, y_test) == pytest.approx(expected, rel=1e-5)
    assert contrasim.similarity(X_test, y_test) > contrasim.similarity(X_test, y_test[::-1]) + 0.1
    np.testing.assert_array_equal(contrasim.encode(X_test), X_embedded)
    np.testing.assert_array_equal(contrasim.encode(y=y_test), y_embedded)


def test_float32_and_strided_inputs(paired, contrasim):
    _, _, X_test, y_test = paired
    X32, y32 = X_test.astype(np.float32)[::-1], y_test.astype(np.float32)[::-1]
    assert contrasim.similarity(X32, y32) == pytest.approx(
        contrasim.similarity(X_test, y_test), rel=1e-5)
    sets = {"a": [X32[:, :8], X32[:, 8:16]], "b": [X32[:, 16:24], X32[:, 24:]]}
    assert ContraSim(**TINY).fit_sets(sets).n_features_in_ == 8


def test_distance_variant_scores_one_minus_paired_distance(paired):
    X, y, X_test, y_test = paired
    measure = ContraSim(logit="distance", **FAST).fit(X, y)
    X_embedded, y_embedded = measure.encode(X_test, y_test)
    expected = np.mean(1 - np.linalg.norm(X_embedded - y_embedded, axis=1))
    assert measure.similarity(X_test, y_test) == pytest.approx(expected, rel=1e-5)
    assert retrieval_accuracy(measure, X_test, y_test, **SMALL_CHUNKS) > 0.85


def test_deep_dot_collapses(paired, contrasim):
    """Without negatives, matched and mismatched pairs both approach similarity 1 and the
    held-out score falls to chance, while ContraSim's stays high (the paper's ablation)."""
    X, y, X_test, y_test = paired
    deep_dot = DeepDot(**COLLAPSING).fit(X, y)
    matched = deep_dot.similarity(X_test, y_test)
    assert matched > 0.99
    assert abs(matched - deep_dot.similarity(X_test, y_test[::-1])) < 1e-3
    assert retrieval_accuracy(deep_dot, X_test, y_test, n_repeats=10) < 0.3
    assert contrasim.score(X_test, y_test) == 1.0


def test_deep_cka_similarity_is_linear_cka_of_embeddings(paired):
    X, y, X_test, y_test = paired
    deep_cka = DeepCKA(**FAST).fit(X, y)
    X_embedded, y_embedded = deep_cka.encode(X_test, y_test)
    expected = LinearCKA().fit(X_embedded, y_embedded).similarity(X_embedded, y_embedded)
    assert deep_cka.similarity(X_test, y_test) == pytest.approx(expected, rel=1e-6)
    assert deep_cka.similarity(X_test, y_test) > deep_cka.similarity(X_test, y_test[::-1])


# --- encoders ------------------------------------------------------------------------------

def test_two_towers_for_different_widths(contrasim):
    module = contrasim.net_.module_
    assert module.encoder_x is not module.encoder_y
    assert module.encoder_x.layers[0].in_features == 32
    assert module.encoder_y.layers[0].in_features == 24
    assert (contrasim.n_features_in_, contrasim.n_features_y_) == (32, 24)


@pytest.mark.parametrize("shared_encoder, expected_shared", [("auto", True), (True, True),
                                                              (False, False)])
def test_shared_encoder_for_equal_widths(shared_encoder, expected_shared):
    X, y, _ = make_paired_representations(100, 8, 8, random_state=0)
    measure = ContraSim(shared_encoder=shared_encoder, **TINY).fit(X, y)
    module = measure.net_.module_
    assert (module.encoder_x is module.encoder_y) is expected_shared
    if expected_shared:
        np.testing.assert_array_equal(measure.encode(X), measure.encode(y=X))


def test_hidden_layer_sizes_shape_the_encoder():
    X, y, _ = make_paired_representations(60, 6, 5, random_state=0)
    linear = ContraSim(**{**TINY, "hidden_layer_sizes": ()}).fit(X, y)
    assert [layer.out_features for layer in linear.net_.module_.encoder_x.layers] == [4]
    deep = ContraSim(**{**TINY, "hidden_layer_sizes": [7, 5]}).fit(X, y)
    widths = [layer.out_features for layer in deep.net_.module_.encoder_x.layers
              if isinstance(layer, torch.nn.Linear)]
    assert widths == [7, 5, 4]


# --- model selection -----------------------------------------------------------------------

def test_grid_search_selects_by_held_out_score(paired):
    X, y, _, _ = paired
    grid = {"temperature": [0.07, 0.5], "dim": [2, 16]}
    search = GridSearchCV(ContraSim(**{**FAST, "max_epochs": 8}), grid, cv=3).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores >= 0) & (scores <= 1))
    assert search.best_score_ == scores.max() > 0.9
    assert set(search.best_params_) == {"temperature", "dim"}
    assert search.best_estimator_.net_.module_.encoder_x.layers[-1].out_features == \
        search.best_params_["dim"]


def test_collapsed_encoder_never_wins_the_grid_search(paired):
    X, y, _, _ = paired
    collapsed = DeepDot(**COLLAPSING)
    pipeline = Pipeline([("measure", ContraSim())])
    grid = [{"measure": [collapsed]}, {"measure": [ContraSim(**FAST)]}]
    search = GridSearchCV(pipeline, grid, cv=2).fit(X, y)
    assert isinstance(search.best_estimator_["measure"], ContraSim)
    collapsed_score = search.cv_results_["mean_test_score"][0]
    assert collapsed_score < 0.3 < 0.9 < search.best_score_


def test_pipeline_with_pca_and_cross_val_score(paired):
    X, y, X_test, y_test = paired
    pipeline = make_pipeline(PCA(n_components=16, random_state=0), ContraSim(**FAST))
    pipeline.fit(X, y)
    assert pipeline[-1].n_features_in_ == 16
    assert pipeline.score(X_test, y_test) == pipeline[-1].score(pipeline[0].transform(X_test),
                                                                y_test) > 0.9
    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    scorer = make_retrieval_scorer(chunk_size=8)
    hard = cross_val_score(ContraSim(**FAST), X, y, cv=3, scoring=scorer)
    assert hard.min() > 0.7


# --- persistence and determinism ----------------------------------------------------------

@pytest.mark.parametrize("cls", LEARNED)
def test_pickle_and_joblib_round_trip(cls, paired, tmp_path):
    X, y, X_test, y_test = paired
    measure = cls(**TINY).fit(X, y)
    expected = measure.similarity(X_test, y_test)
    restored = pickle.loads(pickle.dumps(measure))
    joblib.dump(measure, tmp_path / "measure.joblib")
    loaded = joblib.load(tmp_path / "measure.joblib")
    for copy in (restored, loaded):
        assert copy.similarity(X_test, y_test) == expected
        assert copy.score(X_test, y_test) == measure.score(X_test, y_test)
        np.testing.assert_array_equal(copy.encode(X_test), measure.encode(X_test))


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only fallback")
def test_cuda_trained_measure_loads_on_cpu_only_machine(paired):
    """A net saved with device="cuda" loads on the CPU (skorch's map_location fallback)."""
    X, y, X_test, y_test = paired
    measure = ContraSim(**TINY).fit(X, y)
    expected = measure.similarity(X_test, y_test)
    measure.net_.device = "cuda"  # what a net trained on a GPU carries into its pickle
    buffer = io.BytesIO()
    joblib.dump(measure, buffer)
    buffer.seek(0)
    with pytest.warns(DeviceWarning):
        loaded = joblib.load(buffer)
    assert str(loaded.net_.device) == "cpu"
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    assert loaded.similarity(X_test, y_test) == expected


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_and_pickling(paired):
    X, y, X_test, y_test = paired
    measure = ContraSim(device="cuda", **FAST).fit(X, y)
    assert next(measure.net_.module_.parameters()).device.type == "cuda"
    assert measure.score(X_test, y_test) == 1.0
    cpu_state = torch.cuda.get_rng_state()
    restored = pickle.loads(pickle.dumps(ContraSim(device="cuda", **FAST).fit(X, y)))
    assert torch.equal(cpu_state, torch.cuda.get_rng_state())
    assert restored.similarity(X_test, y_test) == pytest.approx(
        measure.similarity(X_test, y_test), abs=1e-5)
    assert ContraSim(device="auto", **TINY).fit(X, y).net_.device == "cuda"


@pytest.mark.parametrize("cls", LEARNED)
def test_same_random_state_same_numbers(cls, paired):
    X, y, X_test, y_test = paired
    first = cls(**TINY).fit(X, y)
    second = cls(**TINY).fit(X, y)
    other = cls(**{**TINY, "random_state": 1}).fit(X, y)
    assert first.similarity(X_test, y_test) == second.similarity(X_test, y_test)
    np.testing.assert_array_equal(first.encode(X_test), second.encode(X_test))
    assert first.history_[:, "train_loss"] == second.history_[:, "train_loss"]
    assert not np.array_equal(first.encode(X_test), other.encode(X_test))


def test_fit_leaves_global_random_states_untouched(paired):
    X, y, _, _ = paired
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    ContraSim(**TINY).fit(X, y)
    ContraSim(**{**TINY, "early_stopping": True}).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state))
    # random_state=None draws the seed from numpy's global generator, as in scikit-learn,
    # but still leaves torch's alone.
    ContraSim(**{**TINY, "random_state": None}).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_batches_are_shuffled(paired):
    """Shuffled batches: changing the seed alone changes the batch order, hence the loss
    even with the same initial weights."""
    X, y, _, _ = paired
    measure = ContraSim(**{**TINY, "max_epochs": 1, "batch_size": 32}).fit(X, y)
    first_epoch = [batch["train_loss"] for batch in measure.history_[0, "batches"]]
    assert len(first_epoch) == 13  # 400 rows: every row is trained on, no 20 % hold-out
    assert len(set(np.round(first_epoch, 6))) > 1


# --- early stopping and verbosity ----------------------------------------------------------

def test_early_stopping_holds_out_a_seeded_fraction(paired):
    X, y, _, _ = paired
    measure = ContraSim(**{**FAST, "max_epochs": 40, "early_stopping": True,
                           "validation_fraction": 0.2, "n_iter_no_change": 2,
                           "lr": 3e-2}).fit(X, y)
    history = measure.history_
    assert "valid_loss" in history[-1]
    assert len(history) < 40
    assert sum(batch["valid_batch_size"] for batch in history[0, "batches"]
               if "valid_batch_size" in batch) == 80
    again = ContraSim(**measure.get_params()).fit(X, y)
    assert again.history_[:, "valid_loss"] == history[:, "valid_loss"]


def test_verbose_shows_a_progress_bar_with_the_loss(paired, capsys):
    X, y, _, _ = paired
    measure = ContraSim(**{**TINY, "verbose": True}).fit(X, y)
    err = capsys.readouterr().err
    assert "ContraSim" in err and "train_loss" in err and "2/2" in err
    pickle.dumps(measure)
    ContraSim(**TINY).fit(X, y)
    assert capsys.readouterr().err == ""


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    dict(temperature=0), dict(logit="euclid"), dict(dim=0), dict(device="tpu"),
    dict(batch_size=0), dict(lr=-1.0), dict(validation_fraction=1.0),
    dict(hidden_layer_sizes=(8, 0)), dict(hidden_layer_sizes=(8.5,)),
])
def test_invalid_parameters_raise(params):
    X, y, _ = make_paired_representations(20, 4, 4, random_state=0)
    with pytest.raises(ValueError):
        ContraSim(**{**TINY, **params}).fit(X, y)


def test_bad_input_raises_clear_errors():
    X, y, _ = make_paired_representations(20, 4, 3, random_state=0)
    with pytest.raises(ValueError, match="same width"):
        ContraSim(**{**TINY, "shared_encoder": True}).fit(X, y)
    with pytest.raises(ValueError, match="requires y to be passed"):
        ContraSim(**TINY).fit(X, None)
    with pytest.raises(ValueError, match="paired row by row"):
        ContraSim(**TINY).fit(X, y[:10])
    with pytest.raises(ValueError, match="NaN"):
        ContraSim(**TINY).fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="fewer than 2 rows"):
        ContraSim(**{**TINY, "early_stopping": True, "validation_fraction": 0.05}).fit(X, y)
    with pytest.raises(NotFittedError):
        ContraSim().similarity(X, y)
    with pytest.raises(NotFittedError):
        ContraSim().encode(X)
    measure = ContraSim(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        measure.similarity(X[:, :3], y)
    with pytest.raises(ValueError, match="fitted with 3 features in y"):
        measure.encode(y=X)
    with pytest.raises(ValueError, match="X, y or both"):
        measure.encode()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_gpu_raises():
    X, y, _ = make_paired_representations(20, 4, 4, random_state=0)
    with pytest.raises(ValueError, match="no CUDA device"):
        ContraSim(**{**TINY, "device": "cuda"}).fit(X, y)
    assert ContraSim(**{**TINY, "device": "auto"}).fit(X, y).net_.device == "cpu"
