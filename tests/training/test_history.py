"""History: the per-epoch record returned by Trainer.fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from minitorch_rnn.training import History


def test_history_appends_logs_per_key() -> None:
    history = History()
    history.append({"loss": 1.0, "accuracy": 0.5})
    history.append({"loss": np.float32(0.5), "accuracy": 1})
    assert history == {"loss": [1.0, 0.5], "accuracy": [0.5, 1.0]}
    assert history.epochs == 2
    assert all(type(v) is float for values in history.values() for v in values)


def test_history_is_still_reachable_as_mt_callbacks_history() -> None:
    import minitorch_rnn as mt

    assert mt.callbacks.History is History


def test_a_non_number_in_the_logs_adds_nothing_of_that_epoch() -> None:
    history = History()
    history.append({"loss": 1.0, "accuracy": 0.5})
    with pytest.raises(TypeError, match="'note' is 'slow'"):
        history.append({"loss": 0.5, "accuracy": 1.0, "note": "slow"})
    assert history == {"loss": [1.0], "accuracy": [0.5]}


def test_a_callback_logging_a_non_number_leaves_history_and_epochs_consistent() -> None:
    """Issue: lengths 2, 2, 2, 0 with 1 completed epoch; now every list has one entry."""
    import minitorch_rnn as mt

    class Note(mt.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            if epoch == 1:
                logs["note"] = "plateau"

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    model = mt.Sequential(mt.Dense(4, 3, seed=0))
    trainer = mt.Trainer(
        model, mt.CrossEntropyLoss(), mt.optim.SGD(model.parameters(), lr=0.1), callbacks=[Note()]
    )
    with pytest.raises(TypeError, match="'note'"):
        trainer.fit(x, np.arange(8) % 3, epochs=3, progress=False)
    assert trainer.completed_epochs == 1
    assert {key: len(values) for key, values in trainer.history.items()} == {
        "loss": 1,
        "accuracy": 1,
        "lr": 1,
    }
