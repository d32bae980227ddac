"""The eval-mode path: the same outputs as training mode, nothing kept, memory independent of T."""

from __future__ import annotations

import copy
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.recurrent.unroll import eval_chunk_steps

from .conftest import CELL_KINDS, build_cell

BATCH, INPUT, HIDDEN = 5, 3, 4


def _lengths(steps: int) -> np.ndarray:
    """Samples ending in several chunks, one running to the end."""
    return np.array([steps, steps - 1, steps // 2, 1, eval_chunk_steps(BATCH) + 1])


@pytest.mark.parametrize("kind", CELL_KINDS)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("padded", [False, True])
def test_eval_forward_over_several_chunks_equals_the_training_forward(
    kind: str, reverse: bool, return_sequences: bool, padded: bool
) -> None:
    steps = 2 * eval_chunk_steps(BATCH) + 7  # three projection chunks, the last one partial
    x = np.random.default_rng(1).standard_normal((BATCH, steps, INPUT))
    lengths = _lengths(steps) if padded else None
    state = build_cell(kind).check_state(None, BATCH)
    state = tuple(np.random.default_rng(2).standard_normal(s.shape) for s in state)
    unroll = mt.Unroll(build_cell(kind, seed=3), return_sequences, reverse=reverse)
    public_state = unroll.cell.public_state(state)

    training = unroll.forward(x, public_state, lengths=lengths)
    training_state = copy.deepcopy(unroll.state)
    unroll.eval()
    evaluated = unroll.forward(x, public_state, lengths=lengths)

    np.testing.assert_allclose(evaluated, training, rtol=1e-12, atol=1e-14)
    for got, want in zip(np.atleast_3d(unroll.state), np.atleast_3d(training_state), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_backward_after_an_eval_forward_raises_a_clear_error() -> None:
    unroll = mt.Unroll(build_cell("lstm"), return_sequences=False)
    unroll.forward(np.ones((BATCH, 6, INPUT)))  # a pending training forward ...
    unroll.eval()
    unroll.forward(np.ones((BATCH, 6, INPUT)))  # ... that an eval forward discards
    with pytest.raises(RuntimeError, match=r"Unroll\(LSTMCell\): backward .* eval mode"):
        unroll.backward(np.ones((BATCH, HIDDEN)))


def _eval_peak_bytes(model: Any, steps: int, padded: bool) -> int:
    """Peak bytes traced during an eval forward over ``steps`` steps, the input made beforehand.

    A forward of the same kind runs first: the interpreter and numpy fill bounded caches on their
    first few thousand calls (``np.errstate``'s context variables, ufunc state: ~150 kB, measured),
    which would otherwise count against whichever length runs first.
    """
    rng = np.random.default_rng(0)
    model.eval()
    for length in (2_500, steps):
        x = rng.standard_normal((BATCH, length, INPUT)).astype(np.float32)
        lengths = _lengths(length) if padded else None
        if length == steps:
            tracemalloc.start()
        model.forward(x, lengths=lengths)
    try:
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def _unroll(kind: str, reverse: bool = False) -> mt.Unroll:
    cell = build_cell(kind, INPUT, HIDDEN, dtype=np.float32)
    return mt.Unroll(cell, return_sequences=False, reverse=reverse)


MODELS: dict[str, tuple[Callable[[], Any], bool]] = {
    "lstm, padded": (lambda: _unroll("lstm"), True),
    "lstm reverse, padded": (lambda: _unroll("lstm", reverse=True), True),
    "gru": (lambda: _unroll("gru"), False),
    "bidirectional gru": (lambda: mt.Bidirectional(_unroll("gru"), _unroll("gru", True)), False),
    "2-layer lstm stack, padded": (
        lambda: mt.LSTM(INPUT, HIDDEN, num_layers=2, return_sequences=False, dtype=np.float32),
        True,
    ),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_eval_forward_memory_does_not_grow_with_the_sequence_length(name: str) -> None:
    make_model, padded = MODELS[name]
    short, long = 200, 20_000
    peaks = {steps: _eval_peak_bytes(make_model(), steps, padded) for steps in (short, long)}
    # 100x the steps: anything kept per step (a state, a cache, a projection, a mask) would show
    # as ~100x; the input itself is made before tracing starts
    assert peaks[long] <= 1.5 * peaks[short], peaks
    assert peaks[long] < 0.1 * BATCH * long * INPUT * 4, "a small fraction of the input's size"


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("padded", [False, True])
def test_a_stack_run_chunk_by_chunk_in_eval_mode_equals_its_training_forward(
    kind: str, padded: bool
) -> None:
    steps = 2 * eval_chunk_steps(BATCH) + 7
    rng = np.random.default_rng(4)
    x = rng.standard_normal((BATCH, steps, INPUT))
    lengths = _lengths(steps) if padded else None
    stack = mt.RecurrentStack(
        kind, INPUT, HIDDEN, num_layers=3, return_sequences=False, seed=5, dtype=np.float64
    )
    state_shape = (3, BATCH, HIDDEN)
    state: Any = rng.standard_normal(state_shape)
    if kind == "lstm":
        state = (state, rng.standard_normal(state_shape))

    training = stack.forward(x, state, lengths=lengths)
    training_state = copy.deepcopy(stack.state)
    stack.eval()
    evaluated = stack.forward(x, state, lengths=lengths)

    np.testing.assert_allclose(evaluated, training, rtol=1e-12, atol=1e-14)
    for got, want in zip(np.atleast_3d(stack.state), np.atleast_3d(training_state), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        stack.backward(np.ones_like(evaluated))
