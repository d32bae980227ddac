"""Callbacks: call order, stopping, early stopping, checkpoints and learning-rate schedules."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch_rnn import serialization
from minitorch_rnn.layers import Dense, Tanh
from minitorch_rnn.losses import CrossEntropyLoss
from minitorch_rnn.module import Sequential
from minitorch_rnn.optim import SGD, Adam, ReduceLROnPlateau, StepLR
from minitorch_rnn.training import (
    Callback,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    Trainer,
)


def _data(samples: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 4)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def _model() -> Sequential:
    return Sequential(Dense(4, 8, seed=0), Tanh(), Dense(8, 3, seed=1))


def _fit(callbacks: list[Callback], epochs: int = 3, lr: float = 0.05, **kwargs: Any) -> Trainer:
    model = _model()
    trainer = Trainer(
        model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr), callbacks=callbacks
    )
    x, y = _data()
    trainer.fit(x, y, epochs=epochs, batch_size=12, progress=False, **kwargs)
    return trainer


class _Recorder(Callback):
    def __init__(self, name: str, log: list[tuple[Any, ...]]) -> None:
        self.name = name
        self.log = log

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.log.append((self.name, "train_begin"))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.log.append((self.name, "epoch_begin", epoch))

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        self.log.append((self.name, "batch_begin", batch, logs["size"]))

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        assert math.isfinite(logs["loss"])
        self.log.append((self.name, "batch_end", batch, logs["size"]))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.log.append((self.name, "epoch_end", epoch, tuple(sorted(logs))))

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.log.append((self.name, "train_end", tuple(sorted(logs))))


def test_hooks_are_called_in_order_for_every_callback_in_turn() -> None:
    log: list[tuple[Any, ...]] = []
    first, second = _Recorder("a", log), _Recorder("b", log)
    trainer = _fit([first, second], epochs=2)
    assert first.trainer is trainer and second.trainer is trainer
    keys = ("accuracy", "loss", "lr")
    expected: list[tuple[Any, ...]] = [("a", "train_begin"), ("b", "train_begin")]
    for epoch in range(2):
        expected += [("a", "epoch_begin", epoch), ("b", "epoch_begin", epoch)]
        for batch in range(2):
            expected += [("a", "batch_begin", batch, 12), ("b", "batch_begin", batch, 12)]
            expected += [("a", "batch_end", batch, 12), ("b", "batch_end", batch, 12)]
        expected += [("a", "epoch_end", epoch, keys), ("b", "epoch_end", epoch, keys)]
    expected += [("a", "train_end", keys), ("b", "train_end", keys)]
    assert log == expected


def test_stop_training_ends_fit_after_the_current_epoch() -> None:
    class StopAtSecondBatch(Callback):
        def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
            if batch == 1:
                self.trainer.stop_training = True

    log: list[tuple[Any, ...]] = []
    trainer = _fit([StopAtSecondBatch(), _Recorder("r", log)], epochs=5)
    assert trainer.history.epochs == 1
    assert [entry[1] for entry in log].count("batch_end") == 2


def test_a_callback_reading_its_trainer_before_attachment_gets_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="not attached"):
        _ = Callback().trainer


# -- EarlyStopping ---------------------------------------------------------------------------------


def test_early_stopping_waits_patience_epochs_without_improvement() -> None:
    # lr = 0: the loss never improves after the first epoch.
    stopper = EarlyStopping(monitor="loss", patience=2)
    trainer = _fit([stopper], epochs=10, lr=0.0)
    assert trainer.history.epochs == 3
    assert stopper.stopped_epoch == 2 and stopper.best_epoch == 0 and stopper.wait == 2


def test_early_stopping_stops_once_the_target_is_reached() -> None:
    stopper = EarlyStopping(monitor="val_accuracy", mode="max", target=0.5, patience=100)
    trainer = _fit([stopper], epochs=50, lr=0.5, validation_data=_data())
    history = trainer.history
    assert history.epochs < 50
    assert history["val_accuracy"][-1] >= 0.5
    assert all(value < 0.5 for value in history["val_accuracy"][:-1])
    assert stopper.stopped_epoch == history.epochs - 1


def test_early_stopping_keeps_going_while_improving() -> None:
    trainer = _fit([EarlyStopping(monitor="loss", patience=1)], epochs=6, lr=0.05)
    assert trainer.history.epochs == 6


def test_early_stopping_min_delta_requires_a_large_enough_improvement() -> None:
    trainer = _fit([EarlyStopping(monitor="loss", patience=1, min_delta=10.0)], epochs=6)
    assert trainer.history.epochs == 2


def test_early_stopping_names_a_monitored_key_that_is_never_logged() -> None:
    with pytest.raises(KeyError, match=r"'val_loss' is not in the epoch logs.*validation_data"):
        _fit([EarlyStopping()], epochs=2)


def test_early_stopping_restores_the_best_weights_at_the_end() -> None:
    snapshots: list[dict[str, np.ndarray]] = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            snapshots.append(self.trainer.model.state_dict())

    # A huge learning rate makes the loss jump around; whichever epoch is best comes back.
    stopper = EarlyStopping(monitor="loss", patience=3, restore_best_weights=True)
    trainer = _fit([Snapshot(), stopper], epochs=12, lr=20.0)
    assert stopper.best_epoch is not None
    assert stopper.best_epoch != trainer.history.epochs - 1
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[stopper.best_epoch][name])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "best"}, "mode must be 'min' or 'max'"),
        ({"patience": -1}, "patience"),
        ({"min_delta": -0.1}, "min_delta"),
        ({"target": math.nan}, "target"),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


# -- ModelCheckpoint -------------------------------------------------------------------------------


def test_model_checkpoint_saves_only_improvements(tmp_path: Path) -> None:
    saved: list[float] = []

    class Track(Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            saved.append(logs["loss"])

    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, monitor="loss")
    trainer = _fit([checkpoint, Track()], epochs=8, lr=20.0)
    best_epoch = int(np.argmin(saved))
    model = _model()
    meta = serialization.load(path, model)
    assert meta["trainer"]["completed_epochs"] == best_epoch + 1
    assert checkpoint.best == min(saved)
    assert trainer.history.epochs == 8


def test_model_checkpoint_formats_the_path_with_epoch_and_logs(tmp_path: Path) -> None:
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.npz", save_best_only=False)
    _fit([checkpoint], epochs=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-01.npz",
        "ckpt-02.npz",
        "ckpt-03.npz",
    ]


def test_model_checkpoint_holds_the_scheduler_step_of_its_epoch_whatever_its_position(
    tmp_path: Path,
) -> None:
    model = _model()
    optimizer = SGD(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    path = tmp_path / "last.npz"
    # The checkpoint comes first, yet the file holds the lr after the scheduler's step.
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        optimizer,
        callbacks=[ModelCheckpoint(path, save_best_only=False), LearningRateScheduler(scheduler)],
    )
    x, y = _data()
    trainer.fit(x, y, epochs=2, progress=False)
    restored = SGD(_model().parameters(), lr=9.0)
    serialization.load(path, _model(), restored)
    assert restored.lr == 0.25


def test_model_checkpoint_best_is_not_updated_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, monitor="loss")
    trainer = _fit([checkpoint], epochs=1)
    best, saved = checkpoint.best, path.read_bytes()

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("numpy.savez", disk_full)
    x, y = _data()
    with pytest.raises(OSError, match="No space left"):
        trainer.fit(x, y, epochs=2, batch_size=12, progress=False)
    assert checkpoint.best == best and checkpoint.state_dict() == {"best": best}
    assert path.read_bytes() == saved


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("ck-{val_loss:.3f}.npz", ValueError, r"\['val_loss'\].*need validation_data"),
        ("ck-{loss:.3f}-{acc}.npz", ValueError, r"\['acc'\].*available"),
    ],
)
def test_model_checkpoint_path_naming_an_unlogged_key_fails_when_fit_starts(
    tmp_path: Path, path: str, error: type, message: str
) -> None:
    started: list[int] = []

    class Started(Callback):
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
            started.append(epoch)

    checkpoint = ModelCheckpoint(tmp_path / path, save_best_only=False)
    with pytest.raises(error, match=message):
        _fit([checkpoint, Started()], epochs=2)
    assert started == [] and list(tmp_path.iterdir()) == []


def test_model_checkpoint_monitoring_an_unlogged_key_fails_when_fit_starts(tmp_path: Path) -> None:
    started: list[int] = []

    class Started(Callback):
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
            started.append(epoch)

    with pytest.raises(KeyError, match=r"val_loss.*need validation_data"):
        _fit([ModelCheckpoint(tmp_path / "best.npz"), Started()], epochs=2)
    assert started == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["ck-{epoch.npz", "ck-{loss:.3q}.npz", "ck-{}.npz", "ck-}.npz"])
def test_model_checkpoint_refuses_a_malformed_path_pattern_at_once(path: str) -> None:
    with pytest.raises(ValueError, match=r"ModelCheckpoint: path .* is not a valid pattern"):
        ModelCheckpoint(path)


def test_model_checkpoint_path_with_logged_keys_and_validation_saves(tmp_path: Path) -> None:
    x, y = _data()
    checkpoint = ModelCheckpoint(tmp_path / "ck-{epoch}-{val_loss:.3f}-{lr}.npz")
    trainer = _fit([checkpoint], epochs=1, validation_data=(x, y))
    (saved,) = tmp_path.iterdir()
    assert saved.name == f"ck-1-{trainer.history['val_loss'][0]:.3f}-0.05.npz"


# -- LearningRateScheduler -------------------------------------------------------------------------


def test_learning_rate_scheduler_steps_each_epoch_and_history_logs_the_lr_used() -> None:
    model = _model()
    optimizer = Adam(model.parameters(), lr=0.1)
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        optimizer,
        callbacks=[LearningRateScheduler(StepLR(optimizer, step_size=2, gamma=0.1))],
    )
    x, y = _data()
    history = trainer.fit(x, y, epochs=5, progress=False)
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])


def test_learning_rate_scheduler_passes_the_monitored_value_to_plateau_schedulers() -> None:
    model = _model()
    optimizer = SGD(model.parameters(), lr=0.0)
    plateau = ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    optimizer.lr = 0.0  # lr 0: the loss stays flat, so every epoch after the first is bad
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        optimizer,
        callbacks=[LearningRateScheduler(plateau, monitor="loss")],
    )
    x, y = _data()
    trainer.fit(x, y, epochs=3, progress=False)
    assert plateau.last_epoch == 3 and plateau.num_bad_epochs == 0
    assert plateau.best == pytest.approx(trainer.history["loss"][0])


def test_learning_rate_scheduler_needs_monitor_for_a_scheduler_that_takes_a_metric() -> None:
    optimizer = SGD(_model().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="needs a metric; pass monitor="):
        LearningRateScheduler(ReduceLROnPlateau(optimizer))
    with pytest.raises(TypeError, match="step"):
        LearningRateScheduler(object())


def test_learning_rate_scheduler_reads_needs_metric_declared_by_a_user_scheduler() -> None:
    class Halving:
        needs_metric = True

        def __init__(self) -> None:
            self.metrics: list[float] = []

        def step(self, metric: float = 0.0) -> None:  # a default does not hide the declaration
            self.metrics.append(metric)

    with pytest.raises(ValueError, match=r"Halving\.step needs a metric"):
        LearningRateScheduler(Halving())
    scheduler, model = Halving(), _model()
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        SGD(model.parameters(), lr=0.1),
        callbacks=[LearningRateScheduler(scheduler, monitor="loss")],
    )
    x, y = _data()
    trainer.fit(x, y, epochs=2, progress=False)
    assert scheduler.metrics == trainer.history["loss"]


# -- TimeBudget ----------------------------------------------------------------------------------


class _FakeClock:
    """Stands in for time.monotonic: each epoch end reads it after ``step`` more seconds."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_time_budget_stops_at_the_end_of_the_first_epoch_past_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from minitorch_rnn.training import callbacks

    # on_train_begin reads 10 s, the end of epoch e reads 10 (e + 2) s: 20 s, 30 s, 40 s, ...
    monkeypatch.setattr(callbacks.time, "monotonic", _FakeClock(10.0))
    budget = callbacks.TimeBudget(25.0)
    trainer = _fit([budget], epochs=10)
    assert trainer.completed_epochs == 3 and budget.stopped_epoch == 2


def test_time_budget_of_zero_runs_one_epoch_and_a_large_one_never_stops() -> None:
    import minitorch_rnn as mt

    assert _fit([mt.callbacks.TimeBudget(0)], epochs=4).completed_epochs == 1
    budget = mt.callbacks.TimeBudget(3600.0)
    assert _fit([budget], epochs=2).completed_epochs == 2 and budget.stopped_epoch is None


@pytest.mark.parametrize(
    ("seconds", "error", "message"),
    [
        ("60", TypeError, "seconds must be a number, got str"),
        (True, TypeError, "seconds must be a number, got bool"),
        (-1.0, ValueError, "seconds must be a finite number >= 0, got -1.0"),
        (math.nan, ValueError, "seconds must be a finite number >= 0, got nan"),
        (math.inf, ValueError, "seconds must be a finite number >= 0, got inf"),
    ],
)
def test_time_budget_rejects_what_is_not_a_budget(
    seconds: object, error: type[Exception], message: str
) -> None:
    import minitorch_rnn as mt

    with pytest.raises(error, match=f"TimeBudget: {message}"):
        mt.callbacks.TimeBudget(seconds)  # type: ignore[arg-type]


def test_the_callback_modules_import_each_other_in_one_direction_only() -> None:
    """callbacks.py imports callback.py, gradient_flow.py and time_schedule.py, which never import
    it back."""
    import ast
    import importlib.util

    def relative_imports(module: str) -> set[str]:
        spec = importlib.util.find_spec(f"minitorch_rnn.training.{module}")
        assert spec is not None and spec.origin is not None
        with open(spec.origin, encoding="utf-8") as file:
            tree = ast.parse(file.read())
        return {
            node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1
        }

    assert {"callback", "gradient_flow", "time_schedule"} <= relative_imports("callbacks")
    assert "callbacks" not in relative_imports("gradient_flow")
    assert "callbacks" not in relative_imports("time_schedule")
    assert "callbacks" not in relative_imports("callback")
