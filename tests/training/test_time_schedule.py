"""CosineAnnealingOverTime (a cosine over the clock), TimeBudget(finish_epoch=False) and the
Trainer's rule that a stop asked during a batch ends that epoch."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.layers import Dense
from minitorch_rnn.losses import CrossEntropyLoss
from minitorch_rnn.module import Sequential
from minitorch_rnn.optim import SGD, Adam, CosineAnnealingLR
from minitorch_rnn.training import Callback, Trainer
from minitorch_rnn.training import time_schedule as schedule_module
from minitorch_rnn.training.callbacks import CosineAnnealingOverTime, TimeBudget


class _Clock:
    """Stands in for time.monotonic: every reading is ``step`` seconds after the last."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class _BatchLog(Callback):
    """Records (epoch, batch, optimiser lr) after every batch."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float]] = []
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.rows.append((self.epoch, batch, float(self.trainer.optimizer.lr)))


def _trainer(callbacks: list[Callback], lr: float = 0.1) -> Trainer:
    model = Sequential(Dense(4, 3, seed=0))
    return Trainer(model, CrossEntropyLoss(), Adam(model.parameters(), lr=lr), callbacks=callbacks)


def _data(samples: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 4)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def _schedule(seconds: float, **kwargs: Any) -> CosineAnnealingOverTime:
    schedule = CosineAnnealingOverTime(seconds, **kwargs)
    schedule.peak_lr = 0.5
    return schedule


# -- the rate as a function of time ---------------------------------------------------------------


def test_cosine_over_time_at_whole_seconds_equals_cosine_annealing_lr_at_that_epoch() -> None:
    """The clock plays the epoch count: an independent check against the torch-exact scheduler."""
    seconds, eta_min = 10, 0.01
    schedule = _schedule(seconds, eta_min=eta_min)
    optimizer = SGD([mt.Parameter(np.zeros(1))], lr=0.5)
    epochwise = CosineAnnealingLR(optimizer, T_max=seconds, eta_min=eta_min)
    for epoch in range(seconds + 1):
        assert schedule.learning_rate(float(epoch)) == pytest.approx(optimizer.lr, rel=1e-12)
        epochwise.step()


def test_cosine_over_time_warms_up_linearly_then_stays_at_the_floor_past_the_budget() -> None:
    schedule = _schedule(100.0, eta_min=0.05, warmup_seconds=20.0)
    assert schedule.learning_rate(0.0) == 0.0
    assert schedule.learning_rate(5.0) == pytest.approx(0.125)
    assert schedule.learning_rate(20.0) == pytest.approx(0.5)
    assert schedule.learning_rate(60.0) == pytest.approx(0.05 + 0.45 / 2)
    assert schedule.learning_rate(100.0) == pytest.approx(0.05)
    assert schedule.learning_rate(1e6) == pytest.approx(0.05)


# -- in a Trainer ---------------------------------------------------------------------------------


def test_cosine_over_time_sets_every_batch_rate_from_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _Clock(1.0)
    monkeypatch.setattr(schedule_module.time, "monotonic", clock)
    schedule, log = CosineAnnealingOverTime(20.0, eta_min=0.001), _BatchLog()
    trainer = _trainer([schedule, log], lr=0.1)
    history = trainer.fit(*_data(), epochs=3, batch_size=10, progress=False)
    # train begin reads t = 1 (the start); each batch reads the clock once more: t - 1 = 1, 2, ...
    expected = [
        0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * min(1.0, k / 20.0)))
        for k in range(1, 13)
    ]
    assert [lr for _, _, lr in log.rows] == pytest.approx(expected, rel=1e-12)
    assert schedule.peak_lr == 0.1
    # each epoch logs the rate its first batch began with
    assert history["lr"][1] == pytest.approx(expected[3], rel=1e-12)


def test_cosine_over_time_resumes_where_the_checkpoint_left_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(schedule_module.time, "monotonic", _Clock(1.0))
    path = tmp_path / "run.npz"
    first = CosineAnnealingOverTime(100.0)
    trainer = _trainer([first, mt.callbacks.ModelCheckpoint(str(path), monitor="loss")], lr=0.1)
    # train begin reads t = 1, its 4 batches t = 2..5, the checkpoint t = 6: 5 s spent
    trainer.fit(*_data(), epochs=1, batch_size=10, progress=False)

    resumed, log = CosineAnnealingOverTime(100.0), _BatchLog()
    again = _trainer([resumed, log], lr=0.1)
    again.fit(*_data(), epochs=2, batch_size=10, progress=False, resume_from=str(path))
    assert resumed.peak_lr == pytest.approx(0.1)
    # a restarted schedule would set the rate of 1 s in (0.09998); this one goes on past 5 s
    assert first.learning_rate(10.0) < log.rows[0][2] < first.learning_rate(5.0)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((10.0, 0.0, 10.0), ValueError, "warmup_seconds must be below seconds"),
        ((10.0, -0.1), ValueError, "eta_min must be >= 0"),
        (("10",), TypeError, "seconds must be a real number"),
        ((math.inf,), ValueError, "seconds must be finite"),
    ],
)
def test_cosine_over_time_rejects_a_schedule_that_is_not_one(
    arguments: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"CosineAnnealingOverTime: {message}"):
        CosineAnnealingOverTime(*arguments)


def test_cosine_over_time_refuses_a_peak_below_its_floor_before_any_step() -> None:
    trainer = _trainer([CosineAnnealingOverTime(10.0, eta_min=0.5)], lr=0.1)
    before = [p.data.copy() for p in trainer.model.parameters()]
    with pytest.raises(ValueError, match=r"optimiser's lr \(0.1\) is below eta_min \(0.5\)"):
        trainer.fit(*_data(), epochs=1, batch_size=10, progress=False)
    assert all(
        np.array_equal(a, p.data) for a, p in zip(before, trainer.model.parameters(), strict=True)
    )


# -- stopping within an epoch ---------------------------------------------------------------------


def test_time_budget_that_need_not_finish_the_epoch_stops_after_the_batch_past_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from minitorch_rnn.training import callbacks

    # train begin reads t = 1; batch k (from 0) ends reading t = k + 2, k + 1 s in: past 2.5 at k = 2
    monkeypatch.setattr(callbacks.time, "monotonic", _Clock(1.0))
    budget, log = TimeBudget(2.5, finish_epoch=False), _BatchLog()
    trainer = _trainer([budget, log])
    history = trainer.fit(
        *_data(), epochs=5, batch_size=10, validation_data=_data(8), progress=False
    )
    assert [(epoch, batch) for epoch, batch, _ in log.rows] == [(0, 0), (0, 1), (0, 2)]
    assert trainer.completed_epochs == 1 and budget.stopped_epoch == 0
    assert len(history["val_loss"]) == 1  # the shortened epoch is validated and logged


def test_time_budget_finishing_its_epoch_runs_every_batch_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from minitorch_rnn.training import callbacks

    # train begin reads t = 1, the end of epoch e reads t = e + 2: past 2.5 s after epoch 2
    monkeypatch.setattr(callbacks.time, "monotonic", _Clock(1.0))
    log = _BatchLog()
    trainer = _trainer([TimeBudget(2.5), log])
    trainer.fit(*_data(), epochs=5, batch_size=10, progress=False)
    assert trainer.completed_epochs == 3
    assert [(epoch, batch) for epoch, batch, _ in log.rows] == [
        (e, b) for e in range(3) for b in range(4)
    ]


def test_time_budget_finish_epoch_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="TimeBudget: finish_epoch must be a bool"):
        TimeBudget(1.0, finish_epoch="no")  # type: ignore[arg-type]


def test_a_stop_asked_in_a_batch_ends_that_epoch_and_training() -> None:
    class StopAtThirdBatch(Callback):
        def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
            self.trainer.stop_training = batch == 2

    log = _BatchLog()
    trainer = _trainer([StopAtThirdBatch(), log])
    history = trainer.fit(*_data(), epochs=3, batch_size=5, progress=False)
    assert [(epoch, batch) for epoch, batch, _ in log.rows] == [(0, 0), (0, 1), (0, 2)]
    assert len(history["loss"]) == 1 and trainer.completed_epochs == 1
