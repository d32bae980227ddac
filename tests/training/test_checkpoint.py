"""Checkpoints and exact resume: a run continued from a checkpoint ends where the uninterrupted
run ends; a resume is all or nothing."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch_rnn import serialization
from minitorch_rnn.layers import Dense, Dropout, Tanh
from minitorch_rnn.losses import CrossEntropyLoss
from minitorch_rnn.module import Sequential
from minitorch_rnn.optim import Adam, ReduceLROnPlateau, StepLR
from minitorch_rnn.training import (
    Callback,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    Trainer,
    checkpoint,
)

_RNG = np.random.default_rng(0)
X = _RNG.normal(size=(40, 4)).astype(np.float32)
Y = np.argmax(X[:, :3] + 0.5 * _RNG.normal(size=(40, 3)), axis=1)
X_VAL, Y_VAL = X[:10], Y[:10]


class _Epochs(Callback):
    def __init__(self) -> None:
        self.run: list[int] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.run.append(epoch)


def _setup(seed: int, extra: tuple[Callback, ...] = ()) -> tuple[Trainer, _Epochs]:
    """Fresh model, optimiser, scheduler and trainer; ``seed`` changes every random state."""
    model = Sequential(
        Dense(4, 16, seed=seed), Tanh(), Dropout(0.3, seed=seed + 1), Dense(16, 3, seed=seed + 2)
    )
    optimizer = Adam(model.parameters(), lr=0.02)
    epochs = _Epochs()
    callbacks = [
        LearningRateScheduler(StepLR(optimizer, step_size=1, gamma=0.7)),
        EarlyStopping(monitor="val_loss", patience=50),
        epochs,
        *extra,
    ]
    trainer = Trainer(model, CrossEntropyLoss(), optimizer, callbacks=callbacks, seed=seed + 3)
    return trainer, epochs


def _fit(trainer: Trainer, epochs: int, **kwargs: Any) -> dict[str, list[float]]:
    return trainer.fit(
        X,
        Y,
        epochs=epochs,
        batch_size=8,
        shuffle=True,
        validation_data=(X_VAL, Y_VAL),
        progress=False,
        **kwargs,
    )


def _assert_same_parameters(a: Trainer, b: Trainer) -> None:
    for (name, p), (_, q) in zip(
        a.model.named_parameters(), b.model.named_parameters(), strict=True
    ):
        assert np.array_equal(p.data, q.data), name


def test_resume_with_shuffling_dropout_adam_and_a_scheduler_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    reference, _ = _setup(seed=0)
    expected_history = _fit(reference, epochs=3)

    first, _ = _setup(seed=0)
    _fit(first, epochs=2)
    path = tmp_path / "after2.npz"
    first.save_checkpoint(path)

    resumed, epochs = _setup(seed=100)  # every random state different until restored
    history = _fit(resumed, epochs=3, resume_from=path)
    assert epochs.run == [2]
    _assert_same_parameters(resumed, reference)
    assert history == expected_history
    assert resumed.optimizer.step_count == reference.optimizer.step_count
    assert resumed.optimizer.lr == reference.optimizer.lr
    assert resumed.completed_epochs == 3


def test_resume_from_a_model_checkpoint_file_written_during_fit(tmp_path: Path) -> None:
    reference, _ = _setup(seed=0)
    _fit(reference, epochs=4)

    pattern = str(tmp_path / "epoch{epoch}.npz")
    first, _ = _setup(seed=0, extra=(ModelCheckpoint(pattern, save_best_only=False),))
    _fit(first, epochs=4)

    resumed, epochs = _setup(seed=7)
    _fit(resumed, epochs=4, resume_from=tmp_path / "epoch2.npz")
    assert epochs.run == [2, 3]
    _assert_same_parameters(resumed, reference)


def test_resume_restores_callback_progress(tmp_path: Path) -> None:
    first, _ = _setup(seed=0)
    _fit(first, epochs=2)
    path = tmp_path / "ckpt.npz"
    first.save_checkpoint(path)
    stopper = first.callbacks[1]
    assert isinstance(stopper, EarlyStopping)

    resumed, _ = _setup(seed=0)
    _fit(resumed, epochs=2, resume_from=path)  # nothing left to run
    restored = resumed.callbacks[1]
    assert isinstance(restored, EarlyStopping)
    assert (restored.best, restored.best_epoch, restored.wait) == (
        stopper.best,
        stopper.best_epoch,
        stopper.wait,
    )


def test_checkpoint_meta_is_plain_json(tmp_path: Path) -> None:
    trainer, _ = _setup(seed=0)
    _fit(trainer, epochs=1)
    path = tmp_path / "ckpt.npz"
    trainer.save_checkpoint(path)
    state = serialization.read_meta(path)["trainer"]
    assert state["completed_epochs"] == 1
    assert set(state["history"]) >= {"loss", "val_loss", "accuracy", "lr"}
    assert list(state["module_rngs"]) == ["2.rng"]
    assert state["rng"]["bit_generator"] == "PCG64"


def test_resume_from_an_incompatible_checkpoint_changes_nothing(tmp_path: Path) -> None:
    other = Sequential(Dense(4, 3, seed=0))
    path = tmp_path / "other.npz"
    Trainer(other, CrossEntropyLoss(), Adam(other.parameters())).save_checkpoint(path)

    trainer, epochs = _setup(seed=0)
    before = trainer.model.state_dict()
    rng_before = trainer.rng.bit_generator.state
    with pytest.raises(ValueError, match="random generators"):
        _fit(trainer, epochs=2, resume_from=path)
    assert epochs.run == []
    assert trainer.rng.bit_generator.state == rng_before
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_resume_from_a_plain_save_without_trainer_state_is_refused(tmp_path: Path) -> None:
    trainer, _ = _setup(seed=0)
    path = tmp_path / "plain.npz"
    serialization.save(path, trainer.model, trainer.optimizer)
    with pytest.raises(ValueError, match="holds no trainer state"):
        _fit(trainer, epochs=2, resume_from=path)


def test_a_resume_whose_callback_state_does_not_fit_is_undone_completely(tmp_path: Path) -> None:
    first, _ = _setup(seed=0)
    _fit(first, epochs=2)
    path = tmp_path / "ckpt.npz"
    first.save_checkpoint(path)

    trainer, epochs = _setup(seed=5)
    # Same callback class, different scheduler: its saved StepLR state cannot load.
    optimizer = trainer.optimizer
    trainer.callbacks[0] = LearningRateScheduler(ReduceLROnPlateau(optimizer), monitor="val_loss")
    trainer.callbacks[0].trainer = trainer
    before = trainer.model.state_dict()
    optimizer_before = optimizer.state_dict()
    rng_before = trainer.rng.bit_generator.state
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        _fit(trainer, epochs=3, resume_from=path)
    assert epochs.run == []
    assert trainer.completed_epochs == 0 and trainer.history == {}
    assert trainer.rng.bit_generator.state == rng_before
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    for key, value in optimizer.state_dict().items():
        np.testing.assert_array_equal(value, optimizer_before[key])


class _FailsToBegin(Callback):
    def on_train_begin(self, logs: dict[str, Any]) -> None:
        raise RuntimeError("on_train_begin failed")


def test_a_callback_failing_in_on_train_begin_of_a_resume_undoes_the_restore(
    tmp_path: Path,
) -> None:
    first, _ = _setup(seed=0)
    _fit(first, epochs=2)
    path = tmp_path / "ckpt.npz"
    first.save_checkpoint(path)

    trainer, epochs = _setup(seed=5, extra=(_FailsToBegin(),))
    before = trainer.model.state_dict()
    optimizer_before = trainer.optimizer.state_dict()
    rng_before = trainer.rng.bit_generator.state
    with pytest.raises(RuntimeError, match="on_train_begin failed"):
        _fit(trainer, epochs=3, resume_from=path)
    assert epochs.run == []
    assert trainer.completed_epochs == 0 and trainer.history == {}
    assert trainer.rng.bit_generator.state == rng_before
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    for key, value in trainer.optimizer.state_dict().items():
        np.testing.assert_array_equal(value, optimizer_before[key])


def test_the_json_codec_round_trips_arrays_and_non_finite_floats() -> None:
    value = {"key": np.arange(3, dtype=np.uint32), "best": float("inf"), "n": np.int64(4)}
    encoded = checkpoint.to_json(value)
    assert json.loads(json.dumps(encoded, allow_nan=False)) == encoded
    decoded = checkpoint.from_json(encoded)
    np.testing.assert_array_equal(decoded["key"], value["key"])
    assert decoded["key"].dtype == np.uint32
    assert decoded["best"] == float("inf") and decoded["n"] == 4
    with pytest.raises(TypeError, match="cannot store a set"):
        checkpoint.to_json({"bad": {1, 2}})


# -- hostile trainer state: checked before it is decoded -----------------------------------------


def _checkpoint_with_trainer_state(tmp_path: Path, edit: Any) -> Path:
    """A real resumable checkpoint whose JSON trainer state ``edit(state)`` changed in place."""
    first, _ = _setup(seed=0)
    _fit(first, epochs=2)
    path = tmp_path / "edited.npz"
    first.save_checkpoint(path)
    with np.load(path) as archive:
        entries = {key: archive[key] for key in archive.files}
    meta = json.loads(str(entries["meta"]))
    edit(meta["trainer"])
    entries["meta"] = np.array(json.dumps(meta))
    np.savez(path, **entries)
    return path


def _peak_memory_of(call: Any) -> int:
    tracemalloc.start()
    try:
        call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def _assert_resume_refused_changing_nothing(path: Path, message: str) -> None:
    trainer, epochs = _setup(seed=5)
    before = trainer.model.state_dict()
    with pytest.raises(ValueError, match=message):
        _fit(trainer, epochs=3, resume_from=path)
    assert epochs.run == [] and trainer.completed_epochs == 0
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_an_array_of_a_huge_declared_dtype_is_refused_before_it_is_decoded(
    tmp_path: Path,
) -> None:
    def huge(state: dict[str, Any]) -> None:
        # three items of 400 MB each, were they decoded
        state["callbacks"][0]["state"]["scheduler"]["last_epoch"] = {
            "__ndarray__": ["a", "b", "c"],
            "dtype": "S400000000",
        }

    path = _checkpoint_with_trainer_state(tmp_path, huge)
    assert path.stat().st_size < 20_000
    message = r"callbacks\[0\]\.state\.scheduler\.last_epoch: array dtype must be a plain number"
    peak = _peak_memory_of(lambda: _assert_resume_refused_changing_nothing(path, message))
    assert peak < 4 * 2**20


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s["rng"]["state"].update(state={"__ndarray__": [1], "dtype": "q9"}),
            r"rng\.state\.state: array dtype .* got 'q9'",
        ),
        (
            lambda s: s["rng"]["state"].update(
                state={"__ndarray__": [[1], [2, 3]], "dtype": "<u8"}
            ),
            r"rng\.state\.state: array data is not a rectangular",
        ),
        (
            lambda s: s["callbacks"][1]["state"].update(best={"__float__": "abc"}),
            r"callbacks\[1\]\.state\.best: a non-finite float must be",
        ),
        (
            lambda s: s["callbacks"][1]["state"].pop("wait"),
            r"callbacks\[1\] \(EarlyStopping\): the saved state lacks the field 'wait'",
        ),
        (
            lambda s: s["history"]["loss"].append(0.5),
            r"history\.loss has 3 entries for 2 completed epochs",
        ),
        (
            lambda s: s["history"]["loss"].__setitem__(0, "1.5"),
            r"history\.loss must be a list of numbers",
        ),
    ],
    ids=["unknown-dtype", "ragged-array", "float-string", "missing-field", "long-history", "text"],
)
def test_a_malformed_trainer_state_is_a_value_error_naming_the_field(
    tmp_path: Path, edit: Any, message: str
) -> None:
    _assert_resume_refused_changing_nothing(_checkpoint_with_trainer_state(tmp_path, edit), message)


def test_a_history_longer_than_a_checkpoint_holds_is_refused_before_writing(
    tmp_path: Path,
) -> None:
    trainer, _ = _setup(seed=0)
    _fit(trainer, epochs=1)
    path = tmp_path / "ckpt.npz"
    trainer.save_checkpoint(path)
    previous = path.read_bytes()
    # four keys for 200k epochs: about 14 MB of JSON, over the 4 Mi characters load reads
    trainer.history = History(
        {key: [0.12345678] * 200_000 for key in ("loss", "accuracy", "val_loss", "lr")}
    )
    trainer.completed_epochs = 200_000
    with pytest.raises(ValueError, match="characters"):
        trainer.save_checkpoint(path)
    assert path.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]


# -- a resume is all or nothing across callbacks -------------------------------------------------


class _FailsToLoad(Callback):
    def state_dict(self) -> dict[str, Any]:
        return {"ready": True}

    def load_state_dict(self, state: Any) -> None:
        raise RuntimeError("load_state_dict failed")


def test_a_callback_failing_to_load_leaves_no_other_callbacks_loaded_state(
    tmp_path: Path,
) -> None:
    pattern = str(tmp_path / "best.npz")
    first, _ = _setup(seed=0, extra=(ModelCheckpoint(pattern), _FailsToLoad()))
    _fit(first, epochs=3)

    best = ModelCheckpoint(pattern)
    trainer, epochs = _setup(seed=5, extra=(best, _FailsToLoad()))
    scheduler_callback = trainer.callbacks[0]
    assert isinstance(scheduler_callback, LearningRateScheduler)
    scheduler = scheduler_callback.scheduler
    lr_before = trainer.optimizer.lr
    with pytest.raises(RuntimeError, match="load_state_dict failed"):
        _fit(trainer, epochs=5, resume_from=pattern)
    assert epochs.run == []
    assert scheduler.last_epoch == 0 and trainer.optimizer.lr == lr_before
    assert best.best == float("inf")
    # the next fresh fit saves its best epochs as if the failed resume never happened
    (tmp_path / "best.npz").unlink()
    trainer.callbacks[-1] = _Epochs()
    trainer.callbacks[-1].trainer = trainer
    _fit(trainer, epochs=1)
    assert (tmp_path / "best.npz").exists() and best.best < float("inf")
