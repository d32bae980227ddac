"""Data needs no input gradient: ``Unroll(input_grad=False)``, ``Module.needs_input_grad`` set by
``input_grad_needed`` (the Trainer's step, ``Sequential`` for its first child, the stacks for their
first layer) skip the ``(T*B, I)`` input-gradient product and leave every parameter gradient as it
was."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.module import input_grad_needed

B, T, I, H = 3, 4, 5, 6


def grads(model: mt.Module) -> dict[str, np.ndarray]:
    return {name: p.grad.copy() for name, p in model.named_parameters()}


def run(model: mt.Module, x: np.ndarray, needed: bool, **backward: Any) -> Any:
    model.zero_grad()
    out = model.forward(x)
    with input_grad_needed(model, needed):
        return model.backward(np.ones_like(out), **backward)


BUILDERS = {
    "unroll": lambda: mt.Unroll(mt.LSTMCell(I, H, seed=0, dtype=np.float64)),
    "bidirectional": lambda: mt.Bidirectional(
        mt.Unroll(mt.GRUCell(I, H, seed=0, dtype=np.float64)),
        mt.Unroll(mt.GRUCell(I, H, seed=1, dtype=np.float64), reverse=True),
    ),
    "stack": lambda: mt.LSTM(I, H, num_layers=2, bidirectional=True, seed=0, dtype=np.float64),
    "sequential": lambda: mt.Sequential(
        mt.RNN(I, H, seed=0, dtype=np.float64), mt.Dense(H, 2, seed=1, dtype=np.float64)
    ),
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_skipping_the_input_gradient_returns_none_and_keeps_every_parameter_gradient(
    kind: str,
) -> None:
    model = BUILDERS[kind]()
    x = np.random.default_rng(0).standard_normal((B, T, I))
    grad_x = run(model, x, needed=True)
    assert isinstance(grad_x, np.ndarray) and grad_x.shape == x.shape
    expected = grads(model)
    assert run(model, x, needed=False) is None
    for name, value in grads(model).items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
    assert all(m.needs_input_grad for m in model.modules()), "the flag must be restored"
    assert run(model, x, needed=True) is not None


def test_unroll_built_with_input_grad_false_never_returns_one() -> None:
    rnn = mt.Unroll(mt.GRUCell(I, H, seed=0), input_grad=False)
    out = rnn.forward(np.ones((B, T, I), np.float32))
    assert rnn.backward(np.ones_like(out)) is None


def test_a_user_cell_declaring_no_input_grad_keyword_still_works() -> None:
    class PlainCell(mt.RNNCell):
        takes_input_grad = False

        def accumulate_grads(self, grad_preact, x, state_prev, cache):  # type: ignore[no-untyped-def,override]
            return super().accumulate_grads(grad_preact, x, state_prev, cache)

    rnn = mt.Unroll(PlainCell(I, H, seed=0, dtype=np.float64))
    x = np.random.default_rng(1).standard_normal((B, T, I))
    assert run(rnn, x, needed=False) is None
    skipped = grads(rnn)
    run(rnn, x, needed=True)
    for name, value in grads(rnn).items():
        np.testing.assert_array_equal(value, skipped[name], err_msg=name)


def test_the_trainer_asks_the_first_layer_for_no_input_gradient() -> None:
    seen: list[bool] = []

    class SpyCell(mt.GRUCell):
        def accumulate_grads(self, *args, input_grad=True, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(input_grad)
            return super().accumulate_grads(*args, input_grad=input_grad, **kwargs)

    model = mt.Sequential(
        mt.Unroll(SpyCell(I, H, seed=0), return_sequences=False), mt.Dense(H, 1, seed=1)
    )
    x = np.random.default_rng(2).standard_normal((8, T, I)).astype(np.float32)
    y = np.zeros((8, 1), np.float32)
    trainer = mt.Trainer(model, mt.MSELoss(), mt.optim.SGD(model.parameters(), lr=0.1))
    trainer.fit(x, y, epochs=1, batch_size=4, progress=False)
    assert seen == [False, False]
    assert mt.gradcheck(model, x[:2].astype(np.float64)), "direct backward still returns grad_x"
    assert seen[-1] is True
