"""RayStrategy: training over two Ray workers equals training in one process.

One local Ray (2 CPUs) serves the whole module; every ``fit`` starts and kills its own workers.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.examples.char_model import build_char_model
from minitorch_rnn.training.data import StreamLoader

ray = pytest.importorskip("ray")

from minitorch_rnn.distributed import RayStrategy, WorkerError  # noqa: E402
from minitorch_rnn.distributed.strategy import shard_bounds  # noqa: E402

TOLERANCE = 1e-10


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    # The layers defined here travel by value: workers need not be able to import this file.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _padded_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """11 padded sequences (lengths 1..6) of 3 features, 4 classes per step: with batch 5, the
    batches split 3+2, 3+2 and 1+0 over two workers (uneven, and one worker idle)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((11, 6, 3))
    y = rng.integers(0, 4, (11, 6))
    lengths = rng.integers(1, 7, 11)
    return x, y, lengths


def _lstm_classifier() -> mt.Sequential:
    return mt.Sequential(mt.Unroll(mt.LSTMCell(3, 5, seed=0)), mt.Dense(5, 4, seed=1)).to(
        np.float64
    )


def _fit(
    make_optimizer: Callable[[list[mt.Parameter]], Any],
    loss: mt.Loss,
    strategy: RayStrategy | None,
    epochs: int = 3,
) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    x, y, lengths = _padded_problem()
    model = _lstm_classifier()
    trainer = mt.Trainer(
        model, loss, make_optimizer(model.parameters()), strategy=strategy, seed=3, clip_norm=5.0
    )
    history = trainer.fit(x, y, lengths=lengths, epochs=epochs, batch_size=5, progress=False)
    return model.state_dict(), dict(history)


def _assert_same_training(
    local: tuple[dict[str, np.ndarray], dict[str, list[float]]],
    remote: tuple[dict[str, np.ndarray], dict[str, list[float]]],
) -> None:
    for name, value in local[0].items():
        np.testing.assert_allclose(remote[0][name], value, rtol=0, atol=TOLERANCE, err_msg=name)
    assert set(local[1]) == set(remote[1])
    for key, values in local[1].items():
        np.testing.assert_allclose(remote[1][key], values, rtol=TOLERANCE, err_msg=key)


def _sgd(parameters: list[mt.Parameter]) -> Any:
    return mt.optim.SGD(parameters, lr=0.3, momentum=0.5)


def _adam(parameters: list[mt.Parameter]) -> Any:
    return mt.optim.Adam(parameters, lr=0.05)


@pytest.mark.parametrize(
    ("make_optimizer", "reduction", "ignore_index"),
    [
        (_sgd, "mean", None),
        (_sgd, "sum", None),
        (_sgd, "batch_mean", None),
        (_adam, "mean", 2),
    ],
    ids=["sgd-mean", "sgd-sum", "sgd-batch_mean", "adam-mean-ignore_index"],
)
def test_two_workers_train_like_one_process_on_padded_uneven_batches(
    make_optimizer: Callable[[list[mt.Parameter]], Any], reduction: str, ignore_index: int | None
) -> None:
    def loss() -> mt.Loss:
        return mt.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)

    local = _fit(make_optimizer, loss(), None)
    remote = _fit(make_optimizer, loss(), RayStrategy(num_workers=2))
    _assert_same_training(local, remote)
    before = _lstm_classifier().state_dict()
    assert any(np.abs(local[0][name] - before[name]).max() > 1e-3 for name in before)


def test_a_stateful_model_carries_each_workers_rows_across_chunks() -> None:
    ids = np.random.default_rng(0).integers(0, 6, 200)
    loader = StreamLoader(ids, batch_size=4, seq_len=5)

    def train(strategy: RayStrategy | None) -> dict[str, np.ndarray]:
        model = build_char_model(6, 3, "lstm", 5, stateful=True, seed=0).to(np.float64)
        trainer = mt.Trainer(
            model,
            mt.CrossEntropyLoss(),
            mt.optim.Adam(model.parameters(), lr=0.05),
            strategy=strategy,
            metrics=(),
        )
        trainer.fit(loader, epochs=2, progress=False)
        return model.state_dict()

    local, remote = train(None), train(RayStrategy(2))
    for name, value in local.items():
        np.testing.assert_allclose(remote[name], value, rtol=0, atol=TOLERANCE, err_msg=name)


class _KillWorker(mt.callbacks.Callback):
    """At batch ``at`` of the first epoch: remember the weights, then kill worker 1."""

    def __init__(self, strategy: RayStrategy, at: int) -> None:
        super().__init__()
        self.strategy, self.at = strategy, at
        self.weights: dict[str, np.ndarray] = {}
        self.killed_at = 0.0

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        if batch == self.at and not self.weights:
            self.weights = self.trainer.model.state_dict()
            self.killed_at = time.monotonic()
            ray.kill(self.strategy.workers[1])


def test_a_killed_worker_ends_fit_quickly_naming_it_and_keeps_the_last_weights() -> None:
    x, y, lengths = _padded_problem()
    model = _lstm_classifier()
    strategy = RayStrategy(2)
    killer = _KillWorker(strategy, at=1)
    trainer = mt.Trainer(
        model,
        mt.CrossEntropyLoss(),
        _adam(model.parameters()),
        callbacks=[killer],
        strategy=strategy,
    )
    with pytest.raises(WorkerError, match=r"worker 1 of 2 \(pid \d+\) died at epoch 1, batch 2"):
        trainer.fit(x, y, lengths=lengths, epochs=2, batch_size=5, progress=False)
    assert time.monotonic() - killer.killed_at < 20.0
    for name, value in killer.weights.items():
        np.testing.assert_array_equal(model.state_dict()[name], value, err_msg=name)
    assert strategy.workers == []  # teardown killed the surviving worker too


def test_resume_from_a_checkpoint_continues_exactly_with_dropout(tmp_path: Path) -> None:
    ids = np.random.default_rng(1).integers(0, 6, 120)
    x, y = ids[:-1][:112].reshape(16, 7), ids[1:][:112].reshape(16, 7)

    def trainer_for(callbacks: list[mt.callbacks.Callback]) -> mt.Trainer:
        model = build_char_model(6, 3, "gru", 5, layers=2, dropout=0.3, seed=0).to(np.float64)
        return mt.Trainer(
            model,
            mt.CrossEntropyLoss(),
            _adam(model.parameters()),
            strategy=RayStrategy(2),
            seed=5,
            callbacks=callbacks,
        )

    every_epoch = mt.callbacks.ModelCheckpoint(
        tmp_path / "epoch{epoch}.npz", monitor="loss", save_best_only=False
    )
    straight = trainer_for([every_epoch])
    straight.fit(x, y, epochs=3, batch_size=6, progress=False)
    resumed = trainer_for([])
    resumed.fit(x, y, epochs=3, batch_size=6, progress=False, resume_from=tmp_path / "epoch2.npz")
    for name, value in straight.model.state_dict().items():
        np.testing.assert_array_equal(resumed.model.state_dict()[name], value, err_msg=name)
    assert resumed.history["loss"] == straight.history["loss"]


def test_a_nan_batch_stops_before_any_step_with_the_trainers_error() -> None:
    x, y, lengths = _padded_problem()
    x[7, 0, 0] = np.nan  # in the second batch, on worker 0
    model = _lstm_classifier()
    trainer = mt.Trainer(
        model, mt.CrossEntropyLoss(), _sgd(model.parameters()), strategy=RayStrategy(2)
    )
    reference = _lstm_classifier()
    mt.Trainer(reference, mt.CrossEntropyLoss(), _sgd(reference.parameters())).fit(
        x[:5], y[:5], lengths=lengths[:5], epochs=1, batch_size=5, shuffle=False, progress=False
    )
    with pytest.raises(mt.NonFiniteError, match="epoch 1, batch 2"):
        trainer.fit(x, y, lengths=lengths, epochs=1, batch_size=5, shuffle=False, progress=False)
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value, atol=TOLERANCE, err_msg=name)


class _DriverOnlyDense(mt.Dense):
    """A layer that cannot be rebuilt outside the process that made it (as when a node lacks
    the code a model needs)."""

    def __init__(self) -> None:
        super().__init__(6, 4, seed=0)
        self.home = os.getpid()

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state["home"] != os.getpid():
            raise ImportError("this layer's code is missing here")
        self.__dict__.update(state)


class _SlowOutsideHome(mt.Dense):
    """A layer whose forward hangs in any process but the one that made it (a hung worker)."""

    def __init__(self) -> None:
        super().__init__(6, 4, seed=0)
        self.home = os.getpid()

    def forward(self, x: Any) -> Any:
        if os.getpid() != self.home:
            time.sleep(60)
        return super().forward(x)


def test_a_step_that_outlasts_the_timeout_ends_fit_naming_the_worker() -> None:
    model = mt.Sequential(_SlowOutsideHome()).to(np.float64)
    strategy = RayStrategy(2, timeout=1.0)
    trainer = mt.Trainer(model, mt.MSELoss(), _sgd(model.parameters()), strategy=strategy)
    before = model.state_dict()
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"worker 0 of 2 .* did not answer at epoch 1, batch 1"):
        trainer.fit(np.ones((4, 6)), np.ones((4, 4)), epochs=1, progress=False)
    assert time.monotonic() - start < 30.0
    for name, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    assert strategy.workers == []


class _FailingOutsideHome(mt.Dense):
    """A layer whose forward raises a plain error in any process but the one that made it."""

    def __init__(self) -> None:
        super().__init__(6, 4, seed=0)
        self.home = os.getpid()

    def forward(self, x: Any) -> Any:
        if os.getpid() != self.home:
            raise ValueError("this shard is odd")
        return super().forward(x)


def test_a_worker_exception_arrives_as_the_worker_raised_it_naming_the_worker() -> None:
    model = mt.Sequential(_FailingOutsideHome()).to(np.float64)
    trainer = mt.Trainer(model, mt.MSELoss(), _sgd(model.parameters()), strategy=RayStrategy(2))
    before = model.state_dict()
    with pytest.raises(ValueError) as raised:
        trainer.fit(np.ones((4, 6)), np.ones((4, 4)), epochs=1, progress=False)
    # the worker's own class and message, not Ray's wrapper with its remote traceback
    assert type(raised.value) is ValueError
    assert str(raised.value) == "this shard is odd"
    (note,) = raised.value.__notes__
    assert re.fullmatch(
        r"RayStrategy: worker 0 of 2 \(pid \d+\) raised at epoch 1, batch 1; .*", note
    )
    for name, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[name], value)


def test_joining_a_cluster_that_refuses_the_token_names_authentication(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from minitorch_rnn.distributed import connect as connecting

    def refused(**options: Any) -> None:
        # how Ray 2.60 reports it: a plain ConnectionError over the GCS client's status
        try:
            raise RuntimeError("Failed to connect to GCS: InvalidAuthToken: token is missing")
        except RuntimeError:
            raise ConnectionError("Failed to connect to Ray cluster at 127.0.0.1:1") from None

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refused)
    with pytest.raises(ConnectionError, match="authentication failed") as raised:
        connecting.connect("auto", "RayStrategy")
    assert "RAY_AUTH_TOKEN" in str(raised.value) and "ray get-auth-token" in str(raised.value)


def test_a_worker_that_cannot_build_its_replica_fails_fit_at_the_start() -> None:
    model = mt.Sequential(_DriverOnlyDense()).to(np.float64)
    trainer = mt.Trainer(model, mt.MSELoss(), _sgd(model.parameters()), strategy=RayStrategy(2))
    before = model.state_dict()
    with pytest.raises(WorkerError, match="RayStrategy: a worker failed to start"):
        trainer.fit(np.ones((4, 6)), np.ones((4, 4)), epochs=1, progress=False)
    for name, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    assert trainer.strategy.workers == []


def test_more_workers_than_the_cluster_has_cpus_is_an_error_not_a_hang() -> None:
    model = _lstm_classifier()
    trainer = mt.Trainer(
        model, mt.CrossEntropyLoss(), _sgd(model.parameters()), strategy=RayStrategy(3)
    )
    x, y, _ = _padded_problem()
    with pytest.raises(RuntimeError, match="3 workers of 1 CPU need 3 CPUs, the Ray cluster has 2"):
        trainer.fit(x, y, epochs=1, progress=False)


def test_a_loss_without_a_reduction_is_refused_at_setup() -> None:
    class Custom:
        def forward(self, pred: Any, target: Any) -> float:
            return 0.0

        def backward(self) -> Any:
            return 0.0

    model = _lstm_classifier()
    trainer = mt.Trainer(model, Custom(), _sgd(model.parameters()), strategy=RayStrategy(2))
    x, y, _ = _padded_problem()
    with pytest.raises(TypeError, match="RayStrategy: the loss must be a minitorch_rnn Loss"):
        trainer.fit(x, y, epochs=1, progress=False)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"num_workers": 0}, ValueError, "num_workers must be >= 1"),
        ({"num_workers": 2.0}, TypeError, "num_workers must be an int"),
        ({"address": 6379}, TypeError, "address must be a str or None"),
        ({"timeout": 0}, ValueError, "timeout must be a positive number"),
    ],
)
def test_bad_arguments_name_the_strategy(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"RayStrategy: {message}"):
        RayStrategy(**arguments)


@pytest.mark.parametrize(("batch", "parts"), [(5, 2), (1, 2), (7, 3), (4, 4), (0, 2)])
def test_shards_cover_the_batch_in_order_with_sizes_one_apart(batch: int, parts: int) -> None:
    bounds = shard_bounds(batch, parts)
    assert len(bounds) == parts
    assert [start for start, _ in bounds] == [0] + [stop for _, stop in bounds[:-1]]
    assert bounds[-1][1] == batch
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
