"""Trainer: fit/evaluate/predict, batching and shuffling, masks, stateful streams, NaN stops,
progress output and the history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch_rnn import NonFiniteError
from minitorch_rnn.layers import Dense, Dropout, Logistic, Tanh
from minitorch_rnn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from minitorch_rnn.module import Module, Parameter, Sequential
from minitorch_rnn.optim import SGD, Adam
from minitorch_rnn.recurrent import RNNCell, Unroll
from minitorch_rnn.training import Callback, StreamLoader, Trainer, pad_sequences
from minitorch_rnn.training.forward_only import check_fits_model


def _blobs(samples: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three linearly separable classes in 4 features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 4)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(4, 3)), axis=1)
    return x, y


def _classifier(seed: int = 0) -> Sequential:
    return Sequential(Dense(4, 16, seed=seed), Tanh(), Dense(16, 3, seed=seed + 1))


def _trainer(model: Module, **kwargs: Any) -> Trainer:
    return Trainer(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.05), **kwargs)


class _Recorder(Callback):
    """Keeps every hook call as a tuple."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.calls.append(("epoch_begin", epoch))

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        self.calls.append(("batch_begin", batch))

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.calls.append(("batch_end", batch))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.calls.append(("train_end",))


# -- fit / evaluate / predict --------------------------------------------------------------------


def test_fit_learns_a_dense_classifier_and_evaluate_and_predict_agree() -> None:
    x, y = _blobs()
    model = _classifier()
    trainer = _trainer(model)
    history = trainer.fit(x, y, epochs=30, batch_size=16, progress=False)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    results = trainer.evaluate(x, y)
    assert set(results) == {"loss", "accuracy"}
    assert results["accuracy"] >= 0.9
    predictions = trainer.predict(x, batch_size=7)
    assert predictions.shape == (60, 3) and predictions.dtype == np.float32
    assert np.mean(predictions.argmax(axis=1) == y) == results["accuracy"]
    np.testing.assert_allclose(predictions, model.forward(x), rtol=1e-6)


def test_history_has_loss_metrics_validation_and_lr_for_every_epoch() -> None:
    x, y = _blobs()
    trainer = _trainer(_classifier(), metrics=("accuracy", "sequence_accuracy"))
    history = trainer.fit(x, y, epochs=3, batch_size=32, validation_data=(x, y), progress=False)
    assert set(history) == {
        "loss",
        "accuracy",
        "sequence_accuracy",
        "val_loss",
        "val_accuracy",
        "val_sequence_accuracy",
        "lr",
    }
    assert all(len(values) == 3 for values in history.values())
    assert history.epochs == 3 and trainer.completed_epochs == 3
    assert history["lr"] == [0.05, 0.05, 0.05]


def test_validation_values_equal_evaluate_at_the_end_of_the_epoch() -> None:
    x, y = _blobs()
    x_val, y_val = _blobs(20, seed=1)
    trainer = _trainer(_classifier())
    history = trainer.fit(
        x, y, epochs=2, batch_size=16, validation_data=(x_val, y_val), progress=False
    )
    results = trainer.evaluate(x_val, y_val)
    assert history["val_loss"][-1] == pytest.approx(results["loss"], rel=1e-6)
    assert history["val_accuracy"][-1] == results["accuracy"]


def test_epoch_loss_is_the_batch_size_weighted_mean_of_batch_losses() -> None:
    x, y = _blobs(10)
    model = _classifier()
    # lr = 0: the weights never move, so every batch sees the same model.
    trainer = Trainer(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.0))
    history = trainer.fit(x, y, epochs=1, batch_size=4, shuffle=False, progress=False)
    whole = CrossEntropyLoss().forward(model.forward(x), y)
    assert history["loss"][0] == pytest.approx(whole, rel=1e-6)


def test_fit_accepts_a_reusable_list_of_batches_and_a_loader_for_validation() -> None:
    x, y = _blobs(40)
    loader = [(x[i : i + 10], y[i : i + 10]) for i in range(0, 40, 10)]
    recorder = _Recorder()
    trainer = _trainer(_classifier(), callbacks=[recorder])
    history = trainer.fit(loader, epochs=2, validation_data=loader, progress=False)
    assert len(history["val_loss"]) == 2
    assert [c[1] for c in recorder.calls if c[0] == "batch_end"] == [0, 1, 2, 3] * 2
    assert trainer.evaluate(loader)["loss"] == pytest.approx(trainer.evaluate(x, y)["loss"])


def test_fit_refuses_a_one_shot_iterator() -> None:
    x, y = _blobs(20)
    trainer = _trainer(_classifier())
    with pytest.raises(TypeError, match="cannot be iterated again"):
        trainer.fit(iter([(x, y)]), epochs=2, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"y": np.zeros(5, dtype=int)}, ValueError, "same number of samples"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"lengths": np.full(60, 9)}, ValueError, r"lengths must lie in 1\.\.4"),
        ({"lengths": np.ones(59, dtype=int)}, ValueError, r"shape \(60,\)"),
        ({"validation_data": (1, 2, 3, 4)}, ValueError, "validation_data"),
    ],
)
def test_fit_rejects_bad_arguments_before_training(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    x, y = _blobs()
    model = _classifier()
    before = model.state_dict()
    arguments: dict[str, Any] = {"y": y, "progress": False, **kwargs}
    with pytest.raises(error, match=message):
        _trainer(model).fit(x, **arguments)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_trainer_rejects_bad_construction_arguments() -> None:
    model = _classifier()
    optimizer = SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="model must be a Module"):
        Trainer("model", CrossEntropyLoss(), optimizer)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="optimizer must have step"):
        Trainer(model, CrossEntropyLoss(), object())
    with pytest.raises(ValueError, match="clip_norm"):
        Trainer(model, CrossEntropyLoss(), optimizer, clip_norm=-1.0)
    with pytest.raises(TypeError, match=r"callbacks\[0\]"):
        Trainer(model, CrossEntropyLoss(), optimizer, callbacks=[print])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="classification loss"):
        Trainer(model, MSELoss(), optimizer, metrics=("accuracy",))


def test_default_accuracy_metric_is_dropped_for_a_regression_loss() -> None:
    model = Sequential(Dense(4, 1, seed=0))
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.1))
    history = trainer.fit(x, x[:, :1], epochs=1, progress=False)
    assert set(history) == {"loss", "lr"}


def test_predict_and_evaluate_run_in_eval_mode_and_restore_training_mode() -> None:
    modes: list[bool] = []

    class ModeSpy(Module):
        def forward(self, x: np.ndarray) -> np.ndarray:
            modes.append(self.training)
            return x

        def backward(self, grad: np.ndarray) -> np.ndarray:
            return grad

    model = Sequential(Dense(4, 3, seed=0), ModeSpy())
    trainer = _trainer(model)
    x, y = _blobs(8)
    trainer.fit(x, y, epochs=1, batch_size=8, validation_data=(x, y), progress=False)
    assert modes == [True, False]
    trainer.predict(x)
    trainer.evaluate(x, y)
    assert modes[2:] == [False, False]
    assert model.training


# -- reproducibility and shuffling ---------------------------------------------------------------


def _train_params(trainer_seed: int, shuffle: bool = True) -> list[np.ndarray]:
    x, y = _blobs()
    model = _classifier()
    _trainer(model, seed=trainer_seed).fit(
        x, y, epochs=3, batch_size=8, shuffle=shuffle, progress=False
    )
    return [p.data for p in model.parameters()]


def test_same_seed_gives_bitwise_identical_training() -> None:
    first, second = _train_params(3), _train_params(3)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_a_different_seed_shuffles_differently_and_shuffle_false_ignores_the_seed() -> None:
    first, other = _train_params(3), _train_params(4)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    plain_a, plain_b = _train_params(3, shuffle=False), _train_params(4, shuffle=False)
    assert all(np.array_equal(a, b) for a, b in zip(plain_a, plain_b, strict=True))


def test_shuffle_visits_every_sample_once_per_epoch_in_a_new_order() -> None:
    seen: list[np.ndarray] = []

    class Spy(Module):
        def forward(self, x: np.ndarray) -> np.ndarray:
            if self.training:
                seen.append(x[:, 0].copy())
            return x

        def backward(self, grad: np.ndarray) -> np.ndarray:
            return grad

    x = np.arange(20, dtype=np.float32)[:, None].repeat(4, axis=1)
    y = np.zeros(20, dtype=np.int64)
    model = Sequential(Spy(), Dense(4, 3, seed=0))
    _trainer(model).fit(x, y, epochs=2, batch_size=6, progress=False)
    epochs = [np.concatenate(seen[:4]), np.concatenate(seen[4:])]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(20))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[0], np.arange(20))


# -- padded sequences ----------------------------------------------------------------------------


def _sequence_model(seed: int = 0) -> Sequential:
    return Sequential(Unroll(RNNCell(3, 5, seed=seed)), Dense(5, 2, seed=seed + 1))


def test_masked_loss_on_a_padded_batch_equals_the_unpadded_per_sample_losses() -> None:
    rng = np.random.default_rng(0)
    lengths_list = [4, 2, 3]
    sequences = [rng.normal(size=(n, 3)).astype(np.float32) for n in lengths_list]
    targets = [rng.integers(0, 2, size=n) for n in lengths_list]
    x, lengths = pad_sequences(sequences, value=7.0)
    y, _ = pad_sequences(targets, value=1)
    model = _sequence_model()
    trainer = _trainer(model)
    padded = trainer.evaluate(x, y, lengths=lengths, batch_size=3)

    model.eval()
    token_losses, right = [], 0
    for sequence, target in zip(sequences, targets, strict=True):
        pred = model.forward(sequence[None])
        token_losses.append(CrossEntropyLoss(reduction="sum").forward(pred, target[None]))
        right += int(np.sum(pred[0].argmax(axis=-1) == target))
    assert padded["loss"] == pytest.approx(sum(token_losses) / sum(lengths_list), rel=1e-5)
    assert padded["accuracy"] == right / sum(lengths_list)


def test_padded_positions_do_not_change_training() -> None:
    rng = np.random.default_rng(1)
    sequences = [rng.normal(size=(n, 3)).astype(np.float32) for n in (4, 1, 3)]
    targets = [rng.integers(0, 2, size=n) for n in (4, 1, 3)]
    results = []
    for pad_x, pad_y in ((0.0, 0), (50.0, 1)):
        x, lengths = pad_sequences(sequences, value=pad_x)
        y, _ = pad_sequences(targets, value=pad_y)
        model = _sequence_model()
        history = _trainer(model).fit(x, y, epochs=2, batch_size=2, lengths=lengths, progress=False)
        results.append(([p.data for p in model.parameters()], history["loss"]))
    for a, b in zip(results[0][0], results[1][0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-6)


def test_many_to_one_lengths_go_to_the_model_without_a_time_mask() -> None:
    rng = np.random.default_rng(2)
    x, lengths = pad_sequences([rng.normal(size=(n, 3)).astype(np.float32) for n in (3, 1, 2)])
    y = np.array([0, 1, 1])
    model = Sequential(Unroll(RNNCell(3, 4, seed=0), return_sequences=False), Dense(4, 2, seed=1))
    trainer = _trainer(model)
    results = trainer.evaluate(x, y, lengths=lengths)
    model.eval()
    expected = CrossEntropyLoss().forward(model.forward(x, lengths=lengths), y)
    assert results["loss"] == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(
        trainer.predict(x, lengths=lengths), model.forward(x, lengths=lengths), rtol=1e-6
    )


def test_a_many_to_one_model_is_not_masked_when_its_target_happens_to_have_t_columns() -> None:
    """Issue 19 item 10: whether the mask applies is read from the model's output, (B, C) here,
    not from ``y.shape[1] == T``."""
    rng = np.random.default_rng(0)
    steps = 3
    x, lengths = pad_sequences([rng.normal(size=(n, 2)).astype(np.float32) for n in (3, 1, 2, 1)])
    y = rng.normal(size=(4, steps)).astype(np.float32)  # 3 regression outputs per sample
    model = Sequential(
        Unroll(RNNCell(2, 4, seed=0), return_sequences=False), Dense(4, steps, seed=1)
    )
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.0), metrics=())
    model.eval()
    pred = model.forward(x, lengths=lengths)
    unmasked = MSELoss().forward(pred, y)
    masked = MSELoss().forward(pred, y, mask=np.arange(steps)[None, :] < lengths[:, None])
    assert abs(unmasked - masked) > 0.05  # the old answer is clearly another number
    assert trainer.evaluate(x, y, lengths=lengths)["loss"] == pytest.approx(unmasked, rel=1e-6)
    history = trainer.fit(x, y, epochs=1, batch_size=4, lengths=lengths, progress=False)
    assert history["loss"][0] == pytest.approx(unmasked, rel=1e-6)


def test_a_many_to_many_model_is_masked_whatever_the_target_layout() -> None:
    rng = np.random.default_rng(3)
    x, lengths = pad_sequences([rng.normal(size=(n, 3)).astype(np.float32) for n in (4, 2)])
    y = rng.normal(size=(2, 4, 2)).astype(np.float32)
    model = Sequential(Unroll(RNNCell(3, 5, seed=0)), Dense(5, 2, seed=1))
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.0), metrics=())
    model.eval()
    pred = model.forward(x, lengths=lengths)
    valid = np.arange(4)[None, :] < lengths[:, None]
    expected = float(np.mean((pred - y)[valid] ** 2))
    assert trainer.evaluate(x, y, lengths=lengths)["loss"] == pytest.approx(expected, rel=1e-5)


# -- stateful streams ----------------------------------------------------------------------------


class _StateProbe(Callback):
    """Records whether the stateful Unroll carries a state at epoch start and after batches."""

    def __init__(self, unroll: Unroll) -> None:
        self.unroll = unroll
        self.at_epoch_begin: list[bool] = []
        self.after_batch: list[bool] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.at_epoch_begin.append(self.unroll.state is not None)

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.after_batch.append(self.unroll.state is not None)


def test_stateful_unrolls_start_every_epoch_fresh_and_carry_state_within_it() -> None:
    ids = np.random.default_rng(0).integers(0, 5, size=61)
    loader = StreamLoader(ids, batch_size=3, seq_len=4)
    from minitorch_rnn.layers import Embedding

    unroll = Unroll(RNNCell(4, 8, seed=0), stateful=True)
    model = Sequential(Embedding(5, 4, seed=1), unroll, Dense(8, 5, seed=2))
    probe = _StateProbe(unroll)
    trainer = _trainer(model, callbacks=[probe], metrics=("perplexity",))
    history = trainer.fit(loader, epochs=2, progress=False)
    assert probe.at_epoch_begin == [False, False]
    assert probe.after_batch == [True] * (2 * len(loader))
    assert history["perplexity"][1] < 5.0  # better than uniform over 5 ids

    # evaluate on other data starts fresh too: the same result whatever state training left.
    first = trainer.evaluate(loader)
    unroll.state = np.full((3, 8), 0.5, dtype=np.float32)
    assert trainer.evaluate(loader) == first


def test_the_trainer_resets_every_module_with_reset_state_each_epoch_and_before_evaluate() -> None:
    class Resettable(Module):
        resets = 0

        def reset_state(self) -> None:
            Resettable.resets += 1

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x

        def backward(self, grad: np.ndarray) -> np.ndarray:
            return grad

    model = Sequential(Dense(4, 3, seed=0), Resettable())
    x, y = _blobs(8)
    trainer = _trainer(model)
    trainer.fit(x, y, epochs=3, validation_data=(x, y), progress=False)
    assert Resettable.resets == 6  # 3 epochs + 3 validations
    trainer.predict(x)
    trainer.evaluate(x, y)
    assert Resettable.resets == 8


# -- non-finite values ---------------------------------------------------------------------------


class _PoisonOutput(Module):
    """Passes its input through, except on forward call number ``at`` where it outputs NaN."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at
        self.calls = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.full_like(x, np.nan) if self.calls == self.at else x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


class _PoisonGradient(Module):
    """A learned scale whose gradient becomes NaN on backward call number ``at``."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.scale = Parameter(np.ones(1, dtype=np.float32))
        self.at = at
        self.calls = 0
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return x * self.scale.data

    def backward(self, grad: np.ndarray) -> np.ndarray:
        assert self._x is not None
        self.calls += 1
        self.scale.grad += np.sum(grad * self._x)
        if self.calls == self.at:
            self.scale.grad[...] = np.nan
        return grad * self.scale.data


class _Snapshots(Callback):
    def __init__(self) -> None:
        self.last: dict[str, np.ndarray] = {}

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.last = self.trainer.model.state_dict()


@pytest.mark.parametrize("poison", [_PoisonOutput, _PoisonGradient])
def test_non_finite_values_stop_training_without_a_step_keeping_the_last_good_weights(
    poison: type[Module],
) -> None:
    x, y = _blobs(16)
    # 4 batches per epoch; the 7th batch is epoch 2, batch 3.
    model = Sequential(Dense(4, 3, seed=0), poison(7))  # type: ignore[call-arg]
    optimizer = Adam(model.parameters(), lr=0.05)
    snapshots = _Snapshots()
    trainer = Trainer(model, CrossEntropyLoss(), optimizer, callbacks=[snapshots])
    with pytest.raises(NonFiniteError, match="non-finite") as caught:
        trainer.fit(x, y, epochs=3, batch_size=4, progress=False)
    assert isinstance(caught.value, FloatingPointError)
    assert "epoch 2, batch 3" in str(caught.value)
    assert optimizer.step_count == 6
    for name, value in model.state_dict().items():
        assert np.array_equal(value, snapshots.last[name]), name
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_a_non_finite_gradient_error_names_the_parameter() -> None:
    x, y = _blobs(4)
    model = Sequential(Dense(4, 3, seed=0), _PoisonGradient(1))
    with pytest.raises(NonFiniteError, match=r"gradient of 1\.scale at epoch 1, batch 1"):
        _trainer(model).fit(x, y, epochs=1, progress=False)


# -- clipping ------------------------------------------------------------------------------------


def test_clip_value_bounds_every_gradient_entry_before_the_step() -> None:
    x, y = _blobs(16)
    steps: list[float] = []

    class LargestGradient(Callback):
        def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
            steps.append(max(float(np.abs(p.grad).max()) for p in self.trainer.model.parameters()))

    model = _classifier()
    trainer = Trainer(
        model,
        CrossEntropyLoss(reduction="sum"),
        SGD(model.parameters(), lr=0.01),
        clip_value=0.05,
        callbacks=[LargestGradient()],
    )
    trainer.fit(x, y, epochs=1, batch_size=16, progress=False)
    assert steps == [pytest.approx(0.05)]


def test_clip_norm_bounds_the_global_gradient_norm() -> None:
    x, y = _blobs(16)
    norms: list[float] = []

    class Norm(Callback):
        def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
            params = self.trainer.model.parameters()
            norms.append(
                float(np.sqrt(sum(np.sum(p.grad.astype(np.float64) ** 2) for p in params)))
            )

    model = _classifier()
    trainer = Trainer(
        model,
        CrossEntropyLoss(reduction="sum"),
        SGD(model.parameters(), lr=0.01),
        clip_norm=0.5,
        callbacks=[Norm()],
    )
    trainer.fit(x, y, epochs=1, batch_size=16, progress=False)
    assert norms[0] == pytest.approx(0.5, rel=1e-4)


# -- binary losses ---------------------------------------------------------------------------------


def test_binary_targets_with_logistic_or_logits_report_accuracy() -> None:
    x, labels = _blobs(40)
    y = (labels == 0).astype(np.float32)[:, None]
    for loss, head in ((BCELoss(), [Logistic()]), (BCEWithLogitsLoss(), [])):
        model = Sequential(Dense(4, 8, seed=0), Tanh(), Dense(8, 1, seed=1), *head)
        trainer = Trainer(model, loss, Adam(model.parameters(), lr=0.05))
        history = trainer.fit(x, y, epochs=40, batch_size=8, progress=False)
        assert history["accuracy"][-1] >= 0.9


# -- validation data is checked before the first step -------------------------------------------


class _CountingAdam(Adam):
    """Adam that counts its steps (to prove none was taken)."""

    steps = 0

    def step(self) -> None:
        type(self).steps += 1
        super().step()


@pytest.mark.parametrize(
    ("validation_data", "error", "message"),
    [
        (
            lambda x, y: (x[:, :3], y),
            ValueError,
            r"validation_data\) does not fit the model: Dense: input must have 4 features",
        ),
        (lambda x, y: [x, y], TypeError, r"validation_data.*list.*tuple \(x, y\)"),
    ],
)
def test_bad_validation_data_is_rejected_before_the_first_step(
    validation_data: Any, error: type[Exception], message: str
) -> None:
    x, y = _blobs()
    model = _classifier()
    optimizer = _CountingAdam(model.parameters(), lr=0.05)
    _CountingAdam.steps = 0
    recorder = _Recorder()
    trainer = Trainer(model, CrossEntropyLoss(), optimizer, callbacks=[recorder])
    before = model.state_dict()
    with pytest.raises(error, match=message):
        trainer.fit(x, y, epochs=2, validation_data=validation_data(x, y), progress=False)
    assert _CountingAdam.steps == 0 and optimizer.step_count == 0
    assert recorder.calls == []
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_checking_validation_data_of_another_layout_changes_no_state() -> None:
    """The dry run on validation data of other sequence length leaves Dropout's generator, a
    stateful Unroll's carried state, the caches and the training mode as they were."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=(6, 5))
    x_val = rng.normal(size=(4, 7, 2)).astype(np.float32)
    y_val = rng.integers(0, 3, size=(4, 7))
    unroll = Unroll(RNNCell(2, 4, seed=0), stateful=True)
    model = Sequential(unroll, Dropout(0.5, seed=1), Dense(4, 3, seed=2))
    model.forward(x)
    carried = [np.copy(part) for part in np.atleast_1d(unroll.state)]
    dropout = model[1]
    rng_state = dropout.rng.bit_generator.state
    trainer = _trainer(model)
    check_fits_model(model, trainer.loss, (x_val, y_val, None), (x, y, None), "probe")
    assert dropout.rng.bit_generator.state == rng_state
    for saved, now in zip(carried, np.atleast_1d(unroll.state), strict=True):
        np.testing.assert_array_equal(saved, now)
    assert model.training
    with pytest.raises(ValueError, match="probe does not fit the model"):
        check_fits_model(model, trainer.loss, (x_val[..., :1], y_val, None), (x, y, None), "probe")
    assert dropout.rng.bit_generator.state == rng_state


# -- an optimiser step that would overflow ------------------------------------------------------


def test_an_overflowing_adam_step_stops_training_with_the_last_good_state_and_a_resumable_checkpoint(
    tmp_path: Path,
) -> None:
    """float32 Adam: a gradient of 1e20 squares to inf in the second moment; the step is refused,
    training stops as for any non-finite value, and a checkpoint written then can be resumed."""

    class Huge(Module):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x

        def backward(self, grad: np.ndarray) -> np.ndarray:
            self.calls += 1
            return grad * np.float32(1e22) if self.calls == 2 else grad

    x, y = _blobs(16)
    model = Sequential(Dense(4, 3, seed=0), Huge())
    trainer = _trainer(model)
    trainer.fit(x, y, epochs=1, batch_size=16, progress=False)
    weights = model.state_dict()
    optimizer_state = trainer.optimizer.state_dict()
    with pytest.raises(NonFiniteError, match=r"Adam\.step.*exp_avg_sq.*epoch 1, batch 1"):
        trainer.fit(x, y, epochs=2, batch_size=16, progress=False)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, weights[name])
    for key, value in trainer.optimizer.state_dict().items():
        np.testing.assert_array_equal(value, optimizer_state[key])
    path = tmp_path / "after.npz"
    trainer.completed_epochs = 1
    trainer.save_checkpoint(path)
    resumed = _trainer(Sequential(Dense(4, 3, seed=5), Huge()))
    resumed.fit(x, y, epochs=1, batch_size=16, progress=False, resume_from=path)
    for name, value in resumed.model.state_dict().items():
        np.testing.assert_array_equal(value, weights[name])


# -- any optimiser the Trainer accepts can be checkpointed ---------------------------------------


class _PlainSGD:
    """Not an Optimizer: step() and its own state dict (a step counter)."""

    def __init__(self, params: list[Parameter], lr: float) -> None:
        self.params, self.lr, self.steps = params, lr, 0

    def step(self) -> None:
        self.steps += 1
        for param in self.params:
            param.data -= self.lr * param.grad

    def state_dict(self) -> dict[str, Any]:
        return {"steps": np.asarray(self.steps)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])


def test_a_checkpoint_saves_and_resumes_an_optimiser_that_is_not_an_optimizer(
    tmp_path: Path,
) -> None:
    x, y = _blobs()
    model = _classifier()
    first = Trainer(model, CrossEntropyLoss(), _PlainSGD(model.parameters(), 0.1))
    first.fit(x, y, epochs=2, batch_size=20, progress=False)
    path = tmp_path / "plain.npz"
    first.save_checkpoint(path)
    other = _classifier(seed=3)
    optimizer = _PlainSGD(other.parameters(), 0.1)
    second = Trainer(other, CrossEntropyLoss(), optimizer)
    second.fit(x, y, epochs=2, batch_size=20, progress=False, resume_from=path)
    assert optimizer.steps == 6 and second.completed_epochs == 2
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, model.state_dict()[name])


def test_a_checkpoint_of_an_optimiser_without_state_saves_the_rest(tmp_path: Path) -> None:
    class Stateless:
        def __init__(self, params: list[Parameter]) -> None:
            self.params = params

        def step(self) -> None:
            for param in self.params:
                param.data -= 0.1 * param.grad

    x, y = _blobs()
    model = _classifier()
    trainer = Trainer(model, CrossEntropyLoss(), Stateless(model.parameters()))
    trainer.fit(x, y, epochs=1, batch_size=20, progress=False)
    trainer.save_checkpoint(tmp_path / "stateless.npz")
    again = Trainer(_classifier(seed=4), CrossEntropyLoss(), Stateless(model.parameters()))
    again.fit(x, y, epochs=1, progress=False, resume_from=tmp_path / "stateless.npz")
    assert again.completed_epochs == 1
