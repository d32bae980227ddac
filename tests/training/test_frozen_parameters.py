"""Frozen parameters through a whole training run: the Trainer with Adam leaves them untouched."""

from __future__ import annotations

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn.optim import Adam
from minitorch_rnn.training import Trainer


def test_a_frozen_embedding_stays_bitwise_unchanged_through_fit_with_adam() -> None:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10, size=(64, 6))
    targets = (ids.sum(axis=1) % 2).astype(np.int64)
    model = mt.Sequential(
        mt.Embedding(10, 4, seed=0),
        mt.GRU(4, 8, return_sequences=False, seed=1),
        mt.Dense(8, 2, seed=2),
    )
    embedding, dense = model[0], model[2]
    embedding.requires_grad_(False)
    frozen_before = embedding.weight.data.copy()
    dense_before = dense.weight.data.copy()
    optimizer = Adam(model.parameters(), lr=0.01, weight_decay=0.1)
    initial_state = optimizer.state_dict()
    trainer = Trainer(model, mt.CrossEntropyLoss(), optimizer)
    trainer.fit(ids, targets, epochs=2, batch_size=16, progress=False)
    assert np.array_equal(embedding.weight.data, frozen_before)
    assert not np.array_equal(dense.weight.data, dense_before)  # the rest did train
    state = optimizer.state_dict()
    for name in ("exp_avg", "exp_avg_sq"):
        assert np.array_equal(state[f"state.0.{name}"], initial_state[f"state.0.{name}"])
        assert not np.array_equal(state[f"state.1.{name}"], initial_state[f"state.1.{name}"])
    assert "Non-trainable params: 40" in mt.summary(model)
