"""History: the per-epoch record returned by Trainer.fit."""

from __future__ import annotations

import numpy as np

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
