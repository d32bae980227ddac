"""Unroll: BPTT over whole sequences, against gradcheck, a hand-unrolled cell, per-sample runs,
a brute-force truncation reference, reversed and stateful use."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_rnn as mt

B, T, I, H = 3, 4, 3, 4
LENGTHS = np.array([4, 1, 3])  # unsorted, with a full-length and a one-step sample

MakeCell = Callable[..., mt.RecurrentCell]
MakeState = Callable[..., Any]


# -- state helpers (an RNN/GRU state is h, an LSTM state is (h, c)) ------------------------------


def parts(state: Any) -> tuple[np.ndarray, ...]:
    return state if isinstance(state, tuple) else (state,)


def like(template: Any, new_parts: list[np.ndarray] | tuple[np.ndarray, ...]) -> Any:
    return tuple(new_parts) if isinstance(template, tuple) else new_parts[0]


def select(state: Any, rows: Any) -> Any:
    return None if state is None else like(state, [p[rows] for p in parts(state)])


def zeros_like_state(state: Any) -> Any:
    return like(state, [np.zeros_like(p) for p in parts(state)])


def add_states(a: Any, b: Any) -> Any:
    return like(a, [p + q for p, q in zip(parts(a), parts(b), strict=True)])


def with_h_gradient(state_grad: Any, grad_h: np.ndarray) -> Any:
    """Add an output gradient to the ``h`` part of a state gradient (an LSTM's ``c`` is not an
    output)."""
    first, *rest = parts(state_grad)
    return like(state_grad, [first + grad_h, *rest])


def assert_states_close(got: Any, want: Any, **tolerance: Any) -> None:
    assert isinstance(got, tuple) == isinstance(want, tuple)
    for got_part, want_part in zip(parts(got), parts(want), strict=True):
        np.testing.assert_allclose(got_part, want_part, **tolerance)


# -- one forward/backward, recorded ------------------------------------------------------------


@dataclass
class Run:
    output: np.ndarray
    state: Any
    grad_x: np.ndarray
    grad_initial_state: Any
    grads: dict[str, np.ndarray]


def forward_backward(
    unroll: mt.Unroll,
    x: np.ndarray,
    grad_output: np.ndarray,
    state: Any = None,
    lengths: Any = None,
    grad_state: Any = None,
) -> Run:
    """Run ``unroll`` once from zeroed gradients and record everything."""
    unroll.zero_grad()
    output = unroll.forward(x, state, lengths=lengths)
    final = unroll.state
    grad_x = unroll.backward(grad_output, grad_state)
    grads = {name: p.grad.copy() for name, p in unroll.named_parameters()}
    return Run(output, final, grad_x, unroll.grad_initial_state, grads)


def assert_same_grads(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert got.keys() == want.keys()
    for name in got:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)


def relu_guard_sequences(
    relu_guard: Callable[..., None],
    cell: mt.RecurrentCell,
    x: np.ndarray,
    state: Any,
    lengths: np.ndarray | None = None,
    reverse: bool = False,
) -> None:
    """Check the ReLU kink guard on every sample's valid steps, in the order they are read."""
    for i in range(x.shape[0]):
        steps = x[i : i + 1, : (x.shape[1] if lengths is None else lengths[i])]
        h = None if state is None else parts(state)[0][i : i + 1]
        relu_guard(cell, steps[:, ::-1] if reverse else steps, h)


# -- gradcheck ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_unroll_passes_gradcheck_with_initial_and_final_state_gradients(
    cell_kind: str,
    reverse: bool,
    make_cell: MakeCell,
    make_state: MakeState,
    state_probe: Callable[..., mt.Module],
    relu_guard: Callable[..., None],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=11)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    relu_guard_sequences(relu_guard, cell, x, state, reverse=reverse)
    assert mt.gradcheck(state_probe(mt.Unroll(cell, reverse=reverse)), x, state)


def test_unroll_passes_gradcheck_for_the_initial_state_alone(
    cell_kind: str,
    make_cell: MakeCell,
    make_state: MakeState,
    state_probe: Callable[..., mt.Module],
    relu_guard: Callable[..., None],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=12)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    relu_guard_sequences(relu_guard, cell, x, state)
    probe = state_probe(mt.Unroll(cell), with_final_state=False)
    assert mt.gradcheck(probe, x, state)


def test_unroll_passes_gradcheck_from_the_zero_state(
    cell_kind: str, make_cell: MakeCell, relu_guard: Callable[..., None], rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, bias=False, seed=13)
    x = rng.standard_normal((B, T, I))
    relu_guard_sequences(relu_guard, cell, x, None)
    assert mt.gradcheck(mt.Unroll(cell), x)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_unroll_passes_gradcheck_with_lengths(
    cell_kind: str,
    reverse: bool,
    make_cell: MakeCell,
    make_state: MakeState,
    state_probe: Callable[..., mt.Module],
    relu_guard: Callable[..., None],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=14)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    relu_guard_sequences(relu_guard, cell, x, state, LENGTHS, reverse)
    probe = state_probe(mt.Unroll(cell, reverse=reverse))
    assert mt.gradcheck(probe, x, state, forward_kwargs={"lengths": LENGTHS})


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
def test_unroll_without_return_sequences_passes_gradcheck(
    cell_kind: str,
    lengths: np.ndarray | None,
    make_cell: MakeCell,
    make_state: MakeState,
    state_probe: Callable[..., mt.Module],
    relu_guard: Callable[..., None],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=15)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    relu_guard_sequences(relu_guard, cell, x, state, lengths)
    unroll = mt.Unroll(cell, return_sequences=False)
    assert mt.gradcheck(unroll, x, forward_kwargs={"lengths": lengths})
    probe = state_probe(mt.Unroll(copy.deepcopy(cell), return_sequences=False))
    assert mt.gradcheck(probe, x, state, forward_kwargs={"lengths": lengths})


# -- Unroll equals the cell unrolled by hand -------------------------------------------------------


def hand_unrolled(
    cell: mt.RecurrentCell,
    x: np.ndarray,
    state: Any,
    grad_output: np.ndarray,
    grad_state: Any,
) -> Run:
    """One cell object driven step by step, as the source documents unroll by hand.

    Backward feeds each step ``grad_h_out[t] + grad_h_next`` (and the LSTM's ``grad_c``) and
    relies on the cell returning its remembered steps newest first.
    """
    cell = copy.deepcopy(cell)
    cell.reset()
    cell.zero_grad()
    outputs = []
    for t in range(x.shape[1]):
        state = cell.forward(x[:, t], state)
        outputs.append(parts(state)[0])
    final = state
    grad_next = grad_state
    grad_x = np.zeros_like(x)
    for t in reversed(range(x.shape[1])):
        grad_x[:, t], grad_next = cell.backward(with_h_gradient(grad_next, grad_output[:, t]))
    grads = {f"cell.{name}": p.grad.copy() for name, p in cell.named_parameters()}
    return Run(np.stack(outputs, axis=1), final, grad_x, grad_next, grads)


def test_unroll_equals_the_cell_unrolled_by_hand(
    cell_kind: str, make_cell: MakeCell, make_state: MakeState, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=16)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    grad_out, grad_state = rng.standard_normal((B, T, H)), make_state(cell, B, rng)
    expected = hand_unrolled(cell, x, state, grad_out, grad_state)
    got = forward_backward(mt.Unroll(cell), x, grad_out, state, grad_state=grad_state)
    np.testing.assert_allclose(got.output, expected.output, rtol=1e-12, atol=1e-14)
    assert_states_close(got.state, expected.state, rtol=1e-12, atol=1e-14)
    for t in range(T):
        np.testing.assert_allclose(got.grad_x[:, t], expected.grad_x[:, t], rtol=1e-10, atol=1e-13)
    assert_states_close(got.grad_initial_state, expected.grad_initial_state, rtol=1e-10, atol=1e-13)
    assert_same_grads(got.grads, expected.grads)


def test_unroll_without_grad_state_treats_the_final_state_gradient_as_zero(
    cell_kind: str, make_cell: MakeCell, make_state: MakeState, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=17)
    x, grad_out = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    zero = zeros_like_state(make_state(cell, B, rng))
    implicit = forward_backward(mt.Unroll(cell), x, grad_out)
    explicit = forward_backward(mt.Unroll(copy.deepcopy(cell)), x, grad_out, grad_state=zero)
    np.testing.assert_array_equal(implicit.grad_x, explicit.grad_x)
    assert_same_grads(implicit.grads, explicit.grads)


def test_unroll_without_return_sequences_outputs_the_final_h(
    cell_kind: str, make_cell: MakeCell, make_state: MakeState, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=18)
    x, grad_h = rng.standard_normal((B, T, I)), rng.standard_normal((B, H))
    last_only = mt.Unroll(cell, return_sequences=False)
    full = mt.Unroll(copy.deepcopy(cell))
    grad_seq = np.zeros((B, T, H))
    grad_seq[:, -1] = grad_h
    got = forward_backward(last_only, x, grad_h)
    want = forward_backward(full, x, grad_seq)
    assert got.output.shape == (B, H)
    np.testing.assert_array_equal(got.output, want.output[:, -1])
    np.testing.assert_allclose(got.grad_x, want.grad_x, rtol=1e-12)
    assert_same_grads(got.grads, want.grads)


def test_eval_mode_unroll_computes_the_same_output_and_keeps_nothing_for_backward(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    unroll = mt.Unroll(make_cell(cell_kind, seed=19))
    x = rng.standard_normal((B, T, I))
    training_output = unroll.forward(x, lengths=LENGTHS)
    unroll.eval()
    np.testing.assert_array_equal(unroll.forward(x, lengths=LENGTHS), training_output)
    with pytest.raises(RuntimeError, match=r"Unroll\(.*\): backward"):
        unroll.backward(np.zeros((B, T, H)))


def test_sequential_hands_lengths_to_the_unroll(
    make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell("gru", seed=20)
    model = mt.Sequential(mt.Unroll(cell), mt.Dense(H, 2, seed=0, dtype=np.float64))
    x = rng.standard_normal((B, T, I))
    alone = mt.Unroll(copy.deepcopy(cell)).forward(x, lengths=LENGTHS)
    np.testing.assert_allclose(model.forward(x, lengths=LENGTHS), model[1].forward(alone))


# -- padded batches ---------------------------------------------------------------------------------


def assert_padded_equals_per_sample(
    cell: mt.RecurrentCell,
    x: np.ndarray,
    lengths: np.ndarray,
    rng: np.random.Generator,
    make_state: MakeState,
    **options: Any,
) -> None:
    """A padded batch run with ``lengths`` equals each sample run alone on its valid steps."""
    batch, steps, _ = x.shape
    return_sequences = options.get("return_sequences", True)
    state, grad_state = make_state(cell, batch, rng), make_state(cell, batch, rng)
    out_shape = (batch, steps, H) if return_sequences else (batch, H)
    grad_out = rng.standard_normal(out_shape)
    padded = forward_backward(
        mt.Unroll(copy.deepcopy(cell), **options), x, grad_out, state, lengths, grad_state
    )
    grad_sum = {name: np.zeros_like(g) for name, g in padded.grads.items()}
    for i, length in enumerate(lengths):
        alone = forward_backward(
            mt.Unroll(copy.deepcopy(cell), **options),
            x[i : i + 1, :length],
            grad_out[i : i + 1, :length] if return_sequences else grad_out[i : i + 1],
            select(state, slice(i, i + 1)),
            grad_state=select(grad_state, slice(i, i + 1)),
        )
        if return_sequences:
            np.testing.assert_allclose(
                padded.output[i, :length], alone.output[0], rtol=1e-12, atol=1e-14
            )
            np.testing.assert_array_equal(padded.output[i, length:], 0.0)
        else:
            np.testing.assert_allclose(padded.output[i], alone.output[0], rtol=1e-12, atol=1e-14)
        assert_states_close(select(padded.state, i), select(alone.state, 0), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            padded.grad_x[i, :length], alone.grad_x[0], rtol=1e-10, atol=1e-13
        )
        np.testing.assert_array_equal(padded.grad_x[i, length:], 0.0)
        assert_states_close(
            select(padded.grad_initial_state, i),
            select(alone.grad_initial_state, 0),
            rtol=1e-10,
            atol=1e-13,
        )
        for name in grad_sum:
            grad_sum[name] += alone.grads[name]
    assert_same_grads(padded.grads, grad_sum)


@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_padded_batch_equals_each_sample_run_alone(
    cell_kind: str,
    reverse: bool,
    return_sequences: bool,
    make_cell: MakeCell,
    make_state: MakeState,
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=21)
    x = rng.standard_normal((B, T, I))
    assert_padded_equals_per_sample(
        cell, x, LENGTHS, rng, make_state, reverse=reverse, return_sequences=return_sequences
    )


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_padded_batch_equals_per_sample_runs_for_any_batch_and_lengths(
    data: st.DataObject, cell_kinds: tuple[str, ...], make_cell: MakeCell, make_state: MakeState
) -> None:
    steps = data.draw(st.integers(1, 5), label="T")
    lengths = np.array(
        data.draw(st.lists(st.integers(1, steps), min_size=1, max_size=4), label="lengths")
    )
    kind = data.draw(st.sampled_from(cell_kinds), label="kind")
    reverse = data.draw(st.booleans(), label="reverse")
    return_sequences = data.draw(st.booleans(), label="return_sequences")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((len(lengths), steps, I))
    assert_padded_equals_per_sample(
        make_cell(kind, seed=seed),
        x,
        lengths,
        rng,
        make_state,
        reverse=reverse,
        return_sequences=return_sequences,
    )


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_garbage_in_padded_positions_has_no_effect(
    cell_kind: str,
    reverse: bool,
    make_cell: MakeCell,
    make_state: MakeState,
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=22)
    clean = rng.standard_normal((B, T, I))
    dirty = clean.copy()
    clean_state = make_state(cell, B, rng)
    for i, length in enumerate(LENGTHS):
        clean[i, length:] = 0.0
        dirty[i, length:] = rng.standard_normal((T - length, I)) * 1e6 + 3.0
    grad_out = rng.standard_normal((B, T, H))
    runs = [
        forward_backward(
            mt.Unroll(copy.deepcopy(cell), reverse=reverse), x, grad_out, clean_state, LENGTHS
        )
        for x in (clean, dirty)
    ]
    np.testing.assert_array_equal(runs[0].output, runs[1].output)
    np.testing.assert_array_equal(runs[0].grad_x, runs[1].grad_x)
    assert_states_close(runs[0].state, runs[1].state, rtol=0, atol=0)
    assert_same_grads(runs[0].grads, runs[1].grads)


def test_lengths_all_equal_to_the_steps_equal_no_lengths(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=23)
    x, grad_out = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    full = np.full(B, T)
    with_lengths = forward_backward(mt.Unroll(cell, reverse=True), x, grad_out, lengths=full)
    without = forward_backward(mt.Unroll(copy.deepcopy(cell), reverse=True), x, grad_out)
    np.testing.assert_array_equal(with_lengths.output, without.output)
    np.testing.assert_array_equal(with_lengths.grad_x, without.grad_x)


# -- reverse --------------------------------------------------------------------------------------


def test_reverse_output_is_aligned_with_input_positions(
    cell_kind: str, make_cell: MakeCell, make_state: MakeState, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=24)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    grad_out, grad_state = rng.standard_normal((B, T, H)), make_state(cell, B, rng)
    backwards = forward_backward(
        mt.Unroll(cell, reverse=True), x, grad_out, state, None, grad_state
    )
    flipped = forward_backward(
        mt.Unroll(copy.deepcopy(cell)), x[:, ::-1], grad_out[:, ::-1], state, None, grad_state
    )
    np.testing.assert_allclose(backwards.output, flipped.output[:, ::-1], rtol=1e-12)
    assert_states_close(backwards.state, flipped.state, rtol=1e-12)
    np.testing.assert_allclose(backwards.grad_x, flipped.grad_x[:, ::-1], rtol=1e-10)
    assert_states_close(backwards.grad_initial_state, flipped.grad_initial_state, rtol=1e-10)
    assert_same_grads(backwards.grads, flipped.grads)


def test_reverse_with_lengths_reads_each_sample_from_its_own_last_valid_step(
    cell_kind: str, make_cell: MakeCell, make_state: MakeState, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=25)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    unroll = mt.Unroll(cell, reverse=True)
    output = unroll.forward(x, state, lengths=LENGTHS)
    one_step = copy.deepcopy(cell)
    for i, length in enumerate(LENGTHS):
        # the first step read is the last valid one, from the initial state
        first = one_step.forward(x[i : i + 1, length - 1], select(state, slice(i, i + 1)))
        np.testing.assert_allclose(output[i, length - 1], parts(first)[0][0], rtol=1e-12)
        # the last step read is position 0: the final state is the output there
        np.testing.assert_array_equal(parts(unroll.state)[0][i], output[i, 0])


@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
def test_reverse_truncated_bptt_equals_forward_truncated_bptt_on_the_flipped_input(
    cell_kind: str,
    return_sequences: bool,
    make_cell: MakeCell,
    make_state: MakeState,
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=26)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    grad_out = rng.standard_normal((B, T, H) if return_sequences else (B, H))
    flip_grad = grad_out[:, ::-1] if return_sequences else grad_out
    options: dict[str, Any] = {"return_sequences": return_sequences, "bptt_truncate": 1}
    backwards = forward_backward(mt.Unroll(cell, reverse=True, **options), x, grad_out, state)
    flipped = forward_backward(
        mt.Unroll(copy.deepcopy(cell), **options), x[:, ::-1], flip_grad, state
    )
    np.testing.assert_allclose(backwards.grad_x, flipped.grad_x[:, ::-1], rtol=1e-10)
    assert_same_grads(backwards.grads, flipped.grads)


# -- truncated BPTT -------------------------------------------------------------------------------


def truncated_reference(
    cell: mt.RecurrentCell,
    x: np.ndarray,
    state: Any,
    grad_output: np.ndarray,
    grad_state: Any,
    k: int,
) -> Run:
    """Brute force: output ``t``'s gradient is that of a fresh Unroll over steps
    ``max(0, t-k)..t`` started from the (constant) forward state before that window, with the
    upstream gradient at its last output only (plus ``grad_state`` for the last output)."""
    steps = x.shape[1]
    grad_x = np.zeros_like(x)
    grad_initial = zeros_like_state(state)
    grads: dict[str, np.ndarray] = {}
    for t in range(steps):
        start = max(0, t - k)
        window_state = state
        if start > 0:
            prefix = mt.Unroll(copy.deepcopy(cell))
            prefix.forward(x[:, :start], state)
            window_state = prefix.state
        upstream = np.zeros((x.shape[0], t + 1 - start, H))
        upstream[:, -1] = grad_output[:, t]
        window = forward_backward(
            mt.Unroll(copy.deepcopy(cell)),
            x[:, start : t + 1],
            upstream,
            window_state,
            grad_state=grad_state if t == steps - 1 else None,
        )
        grad_x[:, start : t + 1] += window.grad_x
        if start == 0:
            grad_initial = add_states(grad_initial, window.grad_initial_state)
        for name, value in window.grads.items():
            grads[name] = grads.get(name, 0.0) + value
    return Run(np.empty(0), None, grad_x, grad_initial, grads)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_truncated_bptt_equals_a_brute_force_sum_over_windows(
    cell_kind: str, k: int, make_cell: MakeCell, make_state: MakeState, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=27)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    grad_out, grad_state = rng.standard_normal((B, T, H)), make_state(cell, B, rng)
    expected = truncated_reference(cell, x, state, grad_out, grad_state, k)
    got = forward_backward(
        mt.Unroll(copy.deepcopy(cell), bptt_truncate=k), x, grad_out, state, grad_state=grad_state
    )
    np.testing.assert_allclose(got.grad_x, expected.grad_x, rtol=1e-10, atol=1e-13)
    assert_states_close(got.grad_initial_state, expected.grad_initial_state, rtol=1e-10, atol=1e-13)
    assert_same_grads(got.grads, expected.grads)


@pytest.mark.parametrize("k", [T - 1, T + 5], ids=["T-1", "beyond"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
def test_truncation_covering_the_whole_sequence_equals_full_bptt(
    cell_kind: str,
    k: int,
    return_sequences: bool,
    make_cell: MakeCell,
    make_state: MakeState,
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, seed=28)
    x, state = rng.standard_normal((B, T, I)), make_state(cell, B, rng)
    grad_out = rng.standard_normal((B, T, H) if return_sequences else (B, H))
    grad_state = make_state(cell, B, rng)
    full, truncated = (
        forward_backward(
            mt.Unroll(copy.deepcopy(cell), return_sequences=return_sequences, bptt_truncate=trunc),
            x,
            grad_out,
            state,
            grad_state=grad_state,
        )
        for trunc in (None, k)
    )
    np.testing.assert_allclose(truncated.grad_x, full.grad_x, rtol=1e-12, atol=1e-15)
    assert_states_close(
        truncated.grad_initial_state, full.grad_initial_state, rtol=1e-12, atol=1e-15
    )
    assert_same_grads(truncated.grads, full.grads)


def test_truncation_zero_gives_each_input_only_its_own_output_gradient(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=29)
    x, grad_out = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    full = forward_backward(mt.Unroll(cell, bptt_truncate=0), x, grad_out)
    for t in range(T):
        only_t = np.zeros_like(grad_out)
        only_t[:, t] = grad_out[:, t]
        alone = forward_backward(mt.Unroll(copy.deepcopy(cell), bptt_truncate=0), x, only_t)
        np.testing.assert_allclose(full.grad_x[:, t], alone.grad_x[:, t], rtol=1e-12)
        assert np.all(alone.grad_x[:, :t] == 0.0) and np.all(alone.grad_x[:, t + 1 :] == 0.0)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_truncation_without_return_sequences_reaches_only_the_last_k_plus_one_steps(
    cell_kind: str, k: int, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=30)
    x, grad_h = rng.standard_normal((B, T, I)), rng.standard_normal((B, H))
    unroll = mt.Unroll(cell, return_sequences=False, bptt_truncate=k)
    got = forward_backward(unroll, x, grad_h)
    np.testing.assert_array_equal(got.grad_x[:, : T - 1 - k], 0.0)
    assert np.all(np.abs(got.grad_x[:, T - 1 - k :]).max(axis=(0, 2)) > 0)
    assert_states_close(got.grad_initial_state, zeros_like_state(got.state), rtol=0, atol=0)


@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
def test_truncated_bptt_with_lengths_equals_each_sample_truncated_alone(
    return_sequences: bool, make_cell: MakeCell, make_state: MakeState, rng: np.random.Generator
) -> None:
    cell = make_cell("rnn_tanh", seed=31)
    x = rng.standard_normal((B, T, I))
    assert_padded_equals_per_sample(
        cell, x, LENGTHS, rng, make_state, return_sequences=return_sequences, bptt_truncate=1
    )


# -- stateful -------------------------------------------------------------------------------------


def test_stateful_chunks_continue_one_long_sequence(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=32)
    x = rng.standard_normal((B, 2 * T, I))
    whole = mt.Unroll(copy.deepcopy(cell))
    expected = whole.forward(x)
    stream = mt.Unroll(cell, stateful=True)
    chunks = [stream.forward(x[:, :T]), stream.forward(x[:, T:])]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), expected, rtol=1e-12)
    assert_states_close(stream.state, whole.state, rtol=1e-12)


def test_stateful_gradients_stop_at_the_chunk_boundary(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=33)
    x, grad_out = rng.standard_normal((B, 2 * T, I)), rng.standard_normal((B, T, H))
    stream = mt.Unroll(cell, stateful=True)
    stream.forward(x[:, :T])
    boundary = stream.state
    second = forward_backward(stream, x[:, T:], grad_out)
    # the same chunk from the boundary state taken as a constant initial state
    detached = forward_backward(mt.Unroll(copy.deepcopy(cell)), x[:, T:], grad_out, boundary)
    np.testing.assert_allclose(second.output, detached.output, rtol=1e-12)
    np.testing.assert_allclose(second.grad_x, detached.grad_x, rtol=1e-12)
    assert second.grad_x.shape == (B, T, I)  # nothing for the first chunk's input
    assert_same_grads(second.grads, detached.grads)
    assert_states_close(second.grad_initial_state, detached.grad_initial_state, rtol=1e-12)


def test_stateful_eval_mode_also_carries_the_state(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=34)
    x = rng.standard_normal((B, 2 * T, I))
    expected = mt.Unroll(copy.deepcopy(cell)).forward(x)
    stream = mt.Unroll(cell, stateful=True)
    stream.eval()
    chunks = [stream.forward(x[:, t : t + 1]) for t in range(2 * T)]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), expected, rtol=1e-12)


def test_reset_state_starts_the_next_chunk_from_zeros(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind, seed=35)
    x = rng.standard_normal((B, T, I))
    stream = mt.Unroll(cell, stateful=True)
    first = stream.forward(x)
    assert not np.allclose(stream.forward(x), first)
    stream.reset_state()
    np.testing.assert_array_equal(stream.forward(x), first)


def test_stateful_batch_size_change_needs_reset_state(
    make_cell: MakeCell, rng: np.random.Generator
) -> None:
    stream = mt.Unroll(make_cell("lstm"), stateful=True)
    stream.forward(rng.standard_normal((B, T, I)))
    carried = stream.state
    with pytest.raises(ValueError, match=rf"Unroll\(LSTMCell\).*batch {B}.*batch 2.*reset_state"):
        stream.forward(rng.standard_normal((2, T, I)))
    assert stream.state is carried  # the rejected call changed nothing
    stream.reset_state()
    assert stream.forward(rng.standard_normal((2, T, I))).shape == (2, T, H)


# -- dtypes and extreme values --------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"reverse": True},
        {"return_sequences": False},
        {"bptt_truncate": 1},
        {"stateful": True},
    ],
    ids=["plain", "reverse", "last", "truncated", "stateful"],
)
def test_float32_unroll_stays_float32_with_float64_input(
    cell_kind: str,
    options: dict[str, Any],
    make_cell: MakeCell,
    make_state: MakeState,
    rng: np.random.Generator,
) -> None:
    unroll = mt.Unroll(make_cell(cell_kind, dtype=np.float32), **options)
    for _ in range(2):  # the second call of a stateful Unroll starts from the carried state
        output = unroll.forward(rng.standard_normal((B, T, I)), lengths=LENGTHS)
        grad_x = unroll.backward(rng.standard_normal(output.shape), make_state(unroll.cell, B, rng))
    assert output.dtype == grad_x.dtype == np.float32
    assert all(part.dtype == np.float32 for part in parts(unroll.state))
    assert all(part.dtype == np.float32 for part in parts(unroll.grad_initial_state))
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in unroll.parameters())


def test_float32_and_float64_unrolls_agree(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    x = rng.standard_normal((B, T, I))
    single = mt.Unroll(make_cell(cell_kind, dtype=np.float32, seed=36)).forward(x)
    double = mt.Unroll(make_cell(cell_kind, dtype=np.float64, seed=36)).forward(x)
    assert double.dtype == np.float64
    np.testing.assert_allclose(single, double, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_inputs_of_ten_thousand_give_finite_results_without_warnings(
    cell_kind: str, dtype: Any, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    unroll = mt.Unroll(make_cell(cell_kind, dtype=dtype, seed=37))
    x = 1e4 * rng.choice([-1.0, 1.0], size=(B, T, I))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        output = unroll.forward(x)
        grad_x = unroll.backward(np.ones_like(output))
    assert np.isfinite(output).all() and np.isfinite(grad_x).all()
    assert all(np.isfinite(p.grad).all() for p in unroll.parameters())
