"""Bidirectional: two Unrolls over the same input, merged by concatenation or sum."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

B, T, I, H = 3, 3, 3, 4
LENGTHS = np.array([2, 3, 1])

MakeCell = Callable[..., mt.RecurrentCell]


def make_bidirectional(
    make_cell: MakeCell,
    kind: str,
    merge: str = "concat",
    backward_hidden: int = H,
    dtype: Any = np.float64,
    **options: Any,
) -> mt.Bidirectional:
    forward_cell = make_cell(kind, hidden_size=H, seed=1, dtype=dtype)
    backward_cell = make_cell(kind, hidden_size=backward_hidden, seed=2, dtype=dtype)
    return mt.Bidirectional(
        mt.Unroll(forward_cell, **options),
        mt.Unroll(backward_cell, reverse=True, **options),
        merge=merge,
    )


def state_pair(bidirectional: mt.Bidirectional, rng: np.random.Generator) -> tuple[Any, Any]:
    states = []
    for unroll in (bidirectional.forward_unroll, bidirectional.backward_unroll):
        cell = unroll.cell
        parts = tuple(rng.standard_normal((B, cell.hidden_size)) for _ in range(cell.state_size))
        states.append(parts[0] if cell.state_size == 1 else parts)
    return states[0], states[1]


def relu_safe(kind: str) -> str:
    # ReLU data would need a per-direction kink guard; its Unroll checks cover it already.
    return "rnn_tanh" if kind == "rnn_relu" else kind


def test_bidirectional_concat_passes_gradcheck_with_states_and_lengths(
    cell_kind: str,
    make_cell: MakeCell,
    state_probe: Callable[..., mt.Module],
    rng: np.random.Generator,
) -> None:
    bidirectional = make_bidirectional(make_cell, relu_safe(cell_kind), "concat")
    x, states = rng.standard_normal((B, T, I)), state_pair(bidirectional, rng)
    assert mt.gradcheck(state_probe(bidirectional), x, states, forward_kwargs={"lengths": LENGTHS})


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
def test_bidirectional_sum_passes_gradcheck_with_states(
    lengths: np.ndarray | None,
    make_cell: MakeCell,
    state_probe: Callable[..., mt.Module],
    rng: np.random.Generator,
) -> None:
    bidirectional = make_bidirectional(make_cell, "lstm", "sum")
    x, states = rng.standard_normal((B, T, I)), state_pair(bidirectional, rng)
    assert mt.gradcheck(state_probe(bidirectional), x, states, forward_kwargs={"lengths": lengths})


@pytest.mark.parametrize("merge", ["concat", "sum"])
def test_bidirectional_without_return_sequences_passes_gradcheck(
    merge: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    bidirectional = make_bidirectional(make_cell, "gru", merge, return_sequences=False)
    x = rng.standard_normal((B, T, I))
    assert mt.gradcheck(bidirectional, x, forward_kwargs={"lengths": LENGTHS})


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
def test_bidirectional_equals_its_two_unrolls_run_separately(
    cell_kind: str,
    lengths: np.ndarray | None,
    return_sequences: bool,
    make_cell: MakeCell,
    rng: np.random.Generator,
) -> None:
    bidirectional = make_bidirectional(
        make_cell, cell_kind, backward_hidden=5, return_sequences=return_sequences
    )
    forward_alone = copy.deepcopy(bidirectional.forward_unroll)
    backward_alone = copy.deepcopy(bidirectional.backward_unroll)
    x = rng.standard_normal((B, T, I))
    output = bidirectional.forward(x, lengths=lengths)
    forward_out = forward_alone.forward(x, lengths=lengths)
    backward_out = backward_alone.forward(x, lengths=lengths)
    np.testing.assert_array_equal(output, np.concatenate([forward_out, backward_out], axis=-1))
    assert output.shape == ((B, T, H + 5) if return_sequences else (B, H + 5))

    grad = rng.standard_normal(output.shape)
    grad_x = bidirectional.backward(grad)
    expected = forward_alone.backward(grad[..., :H]) + backward_alone.backward(grad[..., H:])
    np.testing.assert_allclose(grad_x, expected, rtol=1e-12)
    for mine, alone in (
        (bidirectional.forward_unroll, forward_alone),
        (bidirectional.backward_unroll, backward_alone),
    ):
        for got, want in zip(mine.parameters(), alone.parameters(), strict=True):
            np.testing.assert_array_equal(got.grad, want.grad)


def test_bidirectional_sum_adds_the_directions_and_sends_both_the_whole_gradient(
    make_cell: MakeCell, rng: np.random.Generator
) -> None:
    concat = make_bidirectional(make_cell, "gru", "concat")
    summed = mt.Bidirectional(
        copy.deepcopy(concat.forward_unroll), copy.deepcopy(concat.backward_unroll), merge="sum"
    )
    x = rng.standard_normal((B, T, I))
    both = concat.forward(x, lengths=LENGTHS)
    np.testing.assert_allclose(summed.forward(x, lengths=LENGTHS), both[..., :H] + both[..., H:])
    grad = rng.standard_normal((B, T, H))
    np.testing.assert_allclose(
        summed.backward(grad), concat.backward(np.concatenate([grad, grad], axis=-1)), rtol=1e-12
    )


def test_bidirectional_state_and_initial_state_gradient_are_direction_pairs(
    make_cell: MakeCell, rng: np.random.Generator
) -> None:
    bidirectional = make_bidirectional(make_cell, "lstm")
    states = state_pair(bidirectional, rng)
    bidirectional.forward(rng.standard_normal((B, T, I)), states)
    assert bidirectional.state == (
        bidirectional.forward_unroll.state,
        bidirectional.backward_unroll.state,
    )
    bidirectional.backward(rng.standard_normal((B, T, 2 * H)), state_pair(bidirectional, rng))
    forward_grad, backward_grad = bidirectional.grad_initial_state
    assert forward_grad is bidirectional.forward_unroll.grad_initial_state
    assert backward_grad is bidirectional.backward_unroll.grad_initial_state
    assert [part.shape for part in forward_grad] == [(B, H), (B, H)]


def test_bidirectional_reset_state_resets_both_stateful_directions(
    make_cell: MakeCell, rng: np.random.Generator
) -> None:
    bidirectional = make_bidirectional(make_cell, "gru", stateful=True)
    x = rng.standard_normal((B, T, I))
    first = bidirectional.forward(x)
    assert not np.allclose(bidirectional.forward(x), first)
    bidirectional.reset_state()
    np.testing.assert_array_equal(bidirectional.forward(x), first)


@pytest.mark.parametrize("merge", ["concat", "sum"])
def test_float32_bidirectional_stays_float32(
    cell_kind: str, merge: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    bidirectional = make_bidirectional(make_cell, cell_kind, merge, dtype=np.float32)
    output = bidirectional.forward(rng.standard_normal((B, T, I)), lengths=LENGTHS)
    grad_x = bidirectional.backward(rng.standard_normal(output.shape))
    assert output.dtype == grad_x.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in bidirectional.parameters())
