"""The character model of ``dinos``/``charlm``/``sample``: where its dropout goes."""

from __future__ import annotations

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn.examples.char_model import build_char_model


def test_dropout_also_regularises_the_last_layer_output_before_the_head() -> None:
    model = build_char_model(10, 4, "gru", 8, layers=2, dropout=0.3, seed=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Embedding", "RecurrentStack", "Dropout", "Dense"]
    assert model[2].p == 0.3 and model[1].dropout == 0.3  # between the layers too
    x = np.arange(12).reshape(2, 6) % 10
    model.train()
    assert not np.array_equal(model.forward(x), model.forward(x))  # fresh masks each pass
    model.eval()
    assert np.array_equal(model.forward(x), model.forward(x))


def test_without_dropout_the_model_has_no_dropout_layer_and_rebuilds_from_its_config() -> None:
    model = build_char_model(10, 4, "lstm", 8, seed=0)
    assert [type(layer).__name__ for layer in model] == ["Embedding", "RecurrentStack", "Dense"]
    with_dropout = build_char_model(10, 4, "gru", 8, dropout=0.5, seed=0)
    rebuilt = mt.build(with_dropout.config())
    assert [type(layer).__name__ for layer in rebuilt] == [
        "Embedding",
        "RecurrentStack",
        "Dropout",
        "Dense",
    ]
