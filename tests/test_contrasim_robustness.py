"""The learned measures never train to NaN, work at any input scale, refuse degenerate
batches, accept read-only input quietly and run on the threads they are given."""

import warnings

import numpy as np
import pytest
import torch

from sklearn_contrasim import ContraSim, DeepCKA, DeepDot
from sklearn_contrasim.contrasim import _losses
from sklearn_contrasim.datasets import make_paired_representations
from sklearn_contrasim.metrics import retrieval_accuracy

LEARNED = [ContraSim, DeepDot, DeepCKA]
TINY = dict(dim=4, hidden_layer_sizes=(8,), batch_size=64, max_epochs=2, random_state=0)
FAST = dict(dim=8, hidden_layer_sizes=(32,), batch_size=64, lr=1e-2, max_epochs=5,
            random_state=0)


def _paired(n_samples=200, random_state=0):
    X, y, _ = make_paired_representations(n_samples, 8, 6, noise=0.5, random_state=random_state)
    return X, y


def _layer_sets(n_samples, random_state=0):
    rng = np.random.RandomState(random_state)
    layers = [rng.randn(n_samples, 6) for _ in range(3)]
    return {name: [layer + 0.1 * rng.randn(n_samples, 6) for layer in layers]
            for name in ("seed0", "seed1")}


def _assert_finite_training(measure):
    losses = np.asarray(measure.history_[:, "train_loss"])
    assert np.all(np.isfinite(losses))


# --- never NaN --------------------------------------------------------------------------

def test_deep_cka_with_a_one_row_last_batch_trains_finite():
    """129 rows in batches of 64 leave one row: its CKA used to take sqrt'(0) = NaN."""
    X, y = _paired(129)
    measure = DeepCKA(**FAST).fit(X, y)
    _assert_finite_training(measure)
    # The one-row batch is dropped: two batches of 64 rows per epoch.
    assert [batch["train_batch_size"] for batch in measure.history_[0, "batches"]] == [64, 64]
    X_test, y_test = _paired(100, random_state=1)
    assert np.isfinite(measure.similarity(X_test, y_test))
    assert measure.similarity(X_test, y_test) > measure.similarity(X_test, y_test[::-1])


def test_deep_cka_with_a_one_row_last_batch_trains_finite_at_set_level():
    sets = _layer_sets(101)  # batches of 50 rows leave one
    measure = DeepCKA(**{**FAST, "batch_size": 50}).fit_sets(sets)
    _assert_finite_training(measure)
    assert np.isfinite(measure.similarity(sets["seed0"][0], sets["seed1"][0]))


@pytest.mark.parametrize("cls", LEARNED)
@pytest.mark.parametrize("value", [0.0, 3.0])
def test_constant_inputs_train_finite(cls, value):
    X = np.full((100, 5), value)
    measure = cls(**TINY).fit(X, X)
    _assert_finite_training(measure)
    assert np.isfinite(measure.similarity(X, X))
    assert np.all(np.isfinite(measure.encode(X)))


def test_linear_cka_gradient_is_finite_on_a_constant_set():
    a = torch.ones(1, 5, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, 5, 3, dtype=torch.float64, requires_grad=True)
    value = _losses.linear_cka(a, b).sum()
    value.backward()
    assert value.item() == 0.0
    assert torch.all(torch.isfinite(a.grad)) and torch.all(torch.isfinite(b.grad))


@pytest.mark.parametrize("cls, loss", [(ContraSim, "SupConLoss"), (DeepDot, "PositiveCosineLoss"),
                                       (DeepCKA, "PositiveCKALoss")])
def test_a_non_finite_loss_fails_loudly(cls, loss, monkeypatch):
    X, y = _paired(130)
    forward = getattr(_losses, loss).forward
    calls = []

    def poisoned_forward(self, embeddings):
        calls.append(None)
        value = forward(self, embeddings)
        return value * np.nan if len(calls) == 5 else value  # 3 batches an epoch: epoch 2, batch 2

    monkeypatch.setattr(getattr(_losses, loss), "forward", poisoned_forward)
    with pytest.raises(FloatingPointError,
                       match=rf"{cls.__name__}: the training loss became nan at epoch 2, batch 2"):
        cls(**TINY).fit(X, y)


# --- any scale -----------------------------------------------------------------------------

SCALES = [1e-100, 1e-30, 1e-8, 1e8, 1e30, 1e100]


@pytest.fixture(scope="module")
def unit_scale_fits():
    X, y = _paired(200)
    return {cls: cls(**FAST).fit(X, y) for cls in LEARNED}


@pytest.mark.parametrize("cls", LEARNED)
@pytest.mark.parametrize("scale", SCALES)
def test_fit_at_any_scale_matches_unit_scale(cls, scale, unit_scale_fits):
    X, y = _paired(200)
    X_test, y_test = _paired(120, random_state=1)
    unit = unit_scale_fits[cls]
    scaled = cls(**FAST).fit(scale * X, scale * y)
    assert scaled.scale_x_ == pytest.approx(scale * unit.scale_x_, rel=1e-12)
    assert scaled.scale_y_ == pytest.approx(scale * unit.scale_y_, rel=1e-12)
    assert scaled.similarity(scale * X_test, scale * y_test) == pytest.approx(
        unit.similarity(X_test, y_test), abs=1e-4)
    assert retrieval_accuracy(scaled, scale * X_test, scale * y_test, chunk_size=4) == \
        retrieval_accuracy(unit, X_test, y_test, chunk_size=4)
    embedded = scaled.encode(scale * X_test)
    np.testing.assert_allclose(np.linalg.norm(embedded, axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("scale", [1e-100, 1e100])
def test_fit_sets_at_any_scale_matches_unit_scale(scale):
    sets = _layer_sets(100)
    scaled_sets = {name: [scale * layer for layer in layers] for name, layers in sets.items()}
    unit = ContraSim(**TINY).fit_sets(sets)
    scaled = ContraSim(**TINY).fit_sets(scaled_sets)
    assert scaled.scale_x_ == scaled.scale_y_ == pytest.approx(scale * unit.scale_x_,
                                                               rel=1e-12)
    X, y = sets["seed0"][0], sets["seed1"][1]
    assert scaled.similarity(scale * X, scale * y) == pytest.approx(unit.similarity(X, y),
                                                                    abs=1e-4)


def test_scales_are_root_mean_squares_of_each_side_or_of_both_when_shared():
    X, y = _paired(200)
    measure = ContraSim(**TINY).fit(X, 5 * y)
    assert measure.scale_x_ == pytest.approx(np.sqrt(np.mean(X ** 2)), rel=1e-12)
    assert measure.scale_y_ == pytest.approx(5 * np.sqrt(np.mean(y ** 2)), rel=1e-12)
    shared = ContraSim(**TINY).fit(X, 5 * X)
    assert shared.scale_x_ == shared.scale_y_ == pytest.approx(
        np.sqrt(13 * np.mean(X ** 2)), rel=1e-12)
    assert shared.similarity(X, 5 * X) == pytest.approx(shared.similarity(5 * X, X), abs=1e-7)
    zeros = ContraSim(**TINY).fit(np.zeros((50, 8)), np.zeros((50, 6)))
    assert zeros.scale_x_ == zeros.scale_y_ == 1.0


@pytest.mark.parametrize("cls", LEARNED)
def test_encode_far_from_the_training_scale_gives_unit_rows(cls, unit_scale_fits):
    """Inputs 1e20 times the training scale used to give rows of norm 0 in float32."""
    X_test, _ = _paired(50, random_state=1)
    embedded = unit_scale_fits[cls].encode(1e20 * X_test)
    np.testing.assert_allclose(np.linalg.norm(embedded, axis=1), 1, rtol=1e-5)


def test_inputs_beyond_float32_after_scaling_are_refused(unit_scale_fits):
    X_test, y_test = _paired(50, random_state=1)
    measure = unit_scale_fits[ContraSim]
    with pytest.raises(ValueError, match=r"ContraSim: X has values up to .* float32"):
        measure.encode(1e60 * X_test)
    with pytest.raises(ValueError, match=r"ContraSim: y has values up to .* float32"):
        measure.similarity(X_test, 1e60 * y_test)


def test_an_encoder_overflowing_float32_is_reported():
    X, y = _paired(100)
    measure = ContraSim(**TINY).fit(X, y)
    with torch.no_grad():
        measure.net_.module_.encoder_x.layers[0].weight.mul_(1e30)
    with pytest.raises(ValueError, match="ContraSim: the encoder overflowed float32 on X"):
        measure.encode(1e20 * X)


# --- degenerate batches and read-only input --------------------------------------------

@pytest.mark.parametrize("cls, reason", [(ContraSim, "exactly 0"), (DeepCKA, "CKA")])
def test_one_pair_batches_that_learn_nothing_are_refused(cls, reason):
    X, y = _paired(50)
    with pytest.raises(ValueError, match=rf"{cls.__name__}\(batch_size=1\).*{reason}"):
        cls(**{**TINY, "batch_size": 1}).fit(X, y)


def test_one_pair_batches_still_train_deep_dot_and_set_level_contrasim():
    X, y = _paired(50)
    losses = DeepDot(**{**TINY, "batch_size": 1}).fit(X, y).history_[:, "train_loss"]
    assert losses[-1] != 0.0
    sets = _layer_sets(20)
    set_level = ContraSim(**{**TINY, "batch_size": 1}).fit_sets(sets)
    assert set_level.history_[-1, "train_loss"] > 0.0  # negatives: other layers


@pytest.mark.parametrize("cls", LEARNED)
def test_read_only_float32_input_raises_no_warning(cls):
    X, y = _paired(100)
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32)
    X.setflags(write=False)
    y.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        measure = cls(**TINY).fit(X, y)
        measure.similarity(X, y)
        retrieval_accuracy(measure, X, y, chunk_size=4)
        measure.encode(X, y)
        cls(**TINY).fit_sets({"a": [X[:, :6], y], "b": [y, X[:, 2:]]})


# --- threads ------------------------------------------------------------------------------

@pytest.fixture
def training_threads(monkeypatch):
    """The torch thread count at every call of ContraSim's loss, from 3 threads outside."""
    seen = []
    forward = _losses.SupConLoss.forward

    def recording_forward(self, embeddings):
        seen.append(torch.get_num_threads())
        return forward(self, embeddings)

    monkeypatch.setattr(_losses.SupConLoss, "forward", recording_forward)
    torch.set_num_threads(3)
    yield seen
    torch.set_num_threads(1)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_training_and_encoding_run_on_n_threads_and_restore(n_threads, training_threads):
    X, y = _paired(100)
    measure = ContraSim(**{**TINY, "n_threads": n_threads}).fit(X, y)
    assert set(training_threads) == {n_threads}
    assert torch.get_num_threads() == 3
    measure.encode(X)
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("n_threads, expected", [(None, 3), (1, 1)])
def test_one_thread_by_default_and_none_keeps_the_outer_setting(n_threads, expected,
                                                                training_threads):
    X, y = _paired(100)
    if n_threads is None:
        ContraSim(**{**TINY, "n_threads": None}).fit(X, y)
    else:
        assert ContraSim().n_threads == n_threads
        ContraSim(**TINY).fit(X, y)
    assert set(training_threads) == {expected}


def test_n_threads_must_be_positive():
    X, y = _paired(50)
    with pytest.raises(ValueError, match="'n_threads' parameter"):
        ContraSim(**{**TINY, "n_threads": 0}).fit(X, y)


# --- CUDA -----------------------------------------------------------------------------------

@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_encode_matches_cpu_and_scales(unit_scale_fits):
    X, y = _paired(200)
    X_test, y_test = _paired(120, random_state=1)
    cuda = ContraSim(**{**FAST, "device": "cuda"}).fit(1e30 * X, 1e30 * y)
    embedded = cuda.encode(1e30 * X_test)
    assert embedded.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embedded, axis=1), 1, rtol=1e-5)
    assert cuda.similarity(1e30 * X_test, 1e30 * y_test) == pytest.approx(
        unit_scale_fits[ContraSim].similarity(X_test, y_test), abs=1e-2)
