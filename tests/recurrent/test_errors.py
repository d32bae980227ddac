"""Bad input to the recurrent layers: clear errors that name the module, expected and actual
values, raised before anything changes (a rejected call leaves every trace and gradient as it was)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

B, T, I, H = 3, 4, 3, 4
MakeCell = Callable[..., mt.RecurrentCell]


def lstm_unroll(**options: Any) -> mt.Unroll:
    return mt.Unroll(mt.LSTMCell(I, H, seed=0, dtype=np.float64), **options)


def zeros_state(batch: int = B) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((batch, H)), np.zeros((batch, H))


# -- construction -----------------------------------------------------------------------------------


def test_bad_nonlinearity_is_rejected_with_the_allowed_values() -> None:
    with pytest.raises(
        ValueError, match=r"RNNCell: nonlinearity must be .*'tanh'.*'relu'.*got 'gelu'"
    ):
        mt.RNNCell(I, H, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"nonlinearity .*got 'softsign'"):
        mt.RNN(I, H, nonlinearity="softsign")


@pytest.mark.parametrize("sizes", [(0, 4), (3, 0)])
def test_cell_sizes_must_be_positive(sizes: tuple[int, int]) -> None:
    argument = "input_size" if sizes[0] == 0 else "hidden_size"
    with pytest.raises(ValueError, match=rf"GRUCell: {argument} must be >= 1, got 0"):
        mt.GRUCell(*sizes)


def test_bptt_truncate_must_be_a_non_negative_int() -> None:
    with pytest.raises(ValueError, match=r"Unroll: bptt_truncate must be >= 0, got -1"):
        lstm_unroll(bptt_truncate=-1)
    with pytest.raises(TypeError, match=r"Unroll: bptt_truncate must be an int, got 1.5"):
        lstm_unroll(bptt_truncate=1.5)


def test_unroll_needs_a_recurrent_cell() -> None:
    with pytest.raises(TypeError, match="Unroll: cell must be a RecurrentCell, got Dense"):
        mt.Unroll(mt.Dense(I, H))  # type: ignore[arg-type]


@pytest.mark.parametrize("stack", [mt.RNN, mt.GRU, mt.LSTM])
def test_stack_needs_at_least_one_layer(stack: type[mt.RecurrentStack]) -> None:
    with pytest.raises(ValueError, match=rf"{stack.__name__}: num_layers must be >= 1, got 0"):
        stack(I, H, num_layers=0)


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_stack_dropout_must_be_a_probability_below_one(p: float) -> None:
    with pytest.raises(ValueError, match=rf"GRU: dropout must be in \[0, 1\), got {p}"):
        mt.GRU(I, H, num_layers=2, dropout=p)


def test_bidirectional_needs_a_reverse_second_unroll() -> None:
    with pytest.raises(ValueError, match=r"Bidirectional: backward_unroll must have reverse=True"):
        mt.Bidirectional(lstm_unroll(), lstm_unroll())
    with pytest.raises(ValueError, match=r"Bidirectional: forward_unroll must have reverse=False"):
        mt.Bidirectional(lstm_unroll(reverse=True), lstm_unroll(reverse=True))


def test_bidirectional_rejects_an_unknown_merge_and_non_unrolls() -> None:
    with pytest.raises(
        ValueError, match=r"Bidirectional: merge must be 'concat' or 'sum', got 'mean'"
    ):
        mt.Bidirectional(lstm_unroll(), lstm_unroll(reverse=True), merge="mean")
    with pytest.raises(
        TypeError, match="Bidirectional: forward_unroll must be an Unroll, got LSTMCell"
    ):
        mt.Bidirectional(mt.LSTMCell(I, H), lstm_unroll(reverse=True))  # type: ignore[arg-type]


def test_bidirectional_sum_with_unequal_hidden_sizes_names_both_sizes() -> None:
    wider = mt.Unroll(mt.LSTMCell(I, H + 1), reverse=True)
    with pytest.raises(ValueError, match=rf"Bidirectional: .*{H}.*{H + 1}"):
        mt.Bidirectional(lstm_unroll(), wider, merge="sum")


# -- forward: shapes, states, lengths, values -----------------------------------------------------


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((B, I)), f"Unroll(LSTMCell): input must have 3 dimensions, got shape ({B}, {I})"),
        (
            np.zeros((B, T, I + 1)),
            f"Unroll(LSTMCell): input must have {I} features on its last axis, "
            f"got shape ({B}, {T}, {I + 1})",
        ),
    ],
    ids=["2-D", "features"],
)
def test_unroll_rejects_input_of_the_wrong_shape(x: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        lstm_unroll().forward(x)


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        (zeros_state(1), ValueError, f"state h must have shape (8, {H}), got (1, {H})"),
        ((np.zeros((8, H)), np.zeros((8, H + 1))), ValueError, "state c must have shape"),
        (np.zeros((8, H)), TypeError, "state must be a tuple (h, c) or None, got ndarray"),
        ((np.zeros((8, H)),) * 3, TypeError, "state must be a tuple (h, c)"),
    ],
    ids=["batch-1-for-8", "c-width", "h-only", "triple"],
)
def test_unroll_rejects_a_state_of_the_wrong_form(
    state: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape("Unroll(LSTMCell): " + message)):
        lstm_unroll().forward(np.zeros((8, T, I)), state)


def test_rnn_state_of_batch_one_is_not_broadcast() -> None:
    unroll = mt.Unroll(mt.RNNCell(I, H))
    with pytest.raises(
        ValueError, match=re.escape(f"state h must have shape (8, {H}), got (1, {H})")
    ):
        unroll.forward(np.zeros((8, T, I)), np.zeros((1, H)))


@pytest.mark.parametrize(
    ("lengths", "error", "message"),
    [
        (
            [0, 1, 2],
            ValueError,
            f"lengths must lie in 1..{T} (the number of steps), got values in 0..2",
        ),
        (
            [1, T + 1, 2],
            ValueError,
            f"lengths must lie in 1..{T} (the number of steps), got values in 1..{T + 1}",
        ),
        ([1, 2], ValueError, f"lengths must have shape ({B},) for a batch of {B}, got (2,)"),
        ([[1, 2, 3]], ValueError, f"lengths must have shape ({B},)"),
        ([1.0, 2.0, 3.0], TypeError, "lengths must be an integer array, got dtype float64"),
    ],
    ids=["zero", "beyond-T", "count", "2-D", "float"],
)
def test_unroll_rejects_bad_lengths(lengths: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape("Unroll(LSTMCell): " + message)):
        lstm_unroll().forward(np.zeros((B, T, I)), lengths=lengths)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_or_state_is_a_value_error(bad: float) -> None:
    x = np.zeros((B, T, I))
    x[1, 2, 0] = bad
    with pytest.raises(ValueError, match=re.escape("Unroll(LSTMCell): input contains NaN or inf")):
        lstm_unroll().forward(x)
    h, c = zeros_state()
    c[0, 0] = bad
    with pytest.raises(
        ValueError, match=re.escape("Unroll(LSTMCell): state c contains NaN or inf")
    ):
        lstm_unroll().forward(np.zeros((B, T, I)), (h, c))
    with pytest.raises(ValueError, match="GRUCell: input contains NaN or inf"):
        mt.GRUCell(I, H).forward(x[:, 2])
    # a stack reports through the layer that reads the input
    with pytest.raises(ValueError, match=re.escape("Unroll(RNNCell): input contains NaN or inf")):
        mt.RNN(I, H, num_layers=2, bidirectional=True).forward(x)


def test_cell_rejects_sequences_and_states_of_the_wrong_shape() -> None:
    cell = mt.GRUCell(I, H)
    with pytest.raises(
        ValueError,
        match=re.escape(f"GRUCell: input must have 2 dimensions, got shape ({B}, {T}, {I})"),
    ):
        cell.forward(np.zeros((B, T, I)))
    with pytest.raises(ValueError, match=re.escape(f"GRUCell: input must have {I} features")):
        cell.forward(np.zeros((B, I + 2)))
    with pytest.raises(
        ValueError, match=re.escape(f"GRUCell: state h must have shape ({B}, {H}), got (1, {H})")
    ):
        cell.forward(np.zeros((B, I)), np.zeros((1, H)))
    with pytest.raises(TypeError, match="LSTMCell: state must be a tuple"):
        mt.LSTMCell(I, H).forward(np.zeros((B, I)), np.zeros((B, H)))


def test_stack_rejects_a_state_not_in_pytorch_layout() -> None:
    stack = mt.LSTM(I, H, num_layers=2, bidirectional=True)
    per_layer = (np.zeros((2, B, H)), np.zeros((2, B, H)))
    with pytest.raises(
        ValueError,
        match=re.escape(f"LSTM: state h must have shape (4, {B}, {H}), got (2, {B}, {H})"),
    ):
        stack.forward(np.zeros((B, T, I)), per_layer)
    with pytest.raises(TypeError, match=r"LSTM: state must be a pair \(h, c\)"):
        stack.forward(np.zeros((B, T, I)), np.zeros((4, B, H)))


def test_bidirectional_state_must_be_a_direction_pair() -> None:
    bidirectional = mt.Bidirectional(lstm_unroll(), lstm_unroll(reverse=True))
    with pytest.raises(
        TypeError, match=r"Bidirectional: state must be a pair \(forward_state, backward_state\)"
    ):
        bidirectional.forward(np.zeros((B, T, I)), zeros_state()[0])


# -- backward ---------------------------------------------------------------------------------------


def test_backward_without_a_matching_forward_is_a_runtime_error() -> None:
    unroll = lstm_unroll()
    with pytest.raises(RuntimeError, match=r"Unroll\(LSTMCell\): backward called before forward"):
        unroll.backward(np.zeros((B, T, H)))
    unroll.forward(np.zeros((B, T, I)))
    unroll.backward(np.zeros((B, T, H)))
    with pytest.raises(RuntimeError, match=r"Unroll\(LSTMCell\): backward .*twice"):
        unroll.backward(np.zeros((B, T, H)))
    unroll.eval()
    unroll.forward(np.zeros((B, T, I)))
    with pytest.raises(RuntimeError, match=r"Unroll\(LSTMCell\): backward .*eval mode"):
        unroll.backward(np.zeros((B, T, H)))
    with pytest.raises(RuntimeError, match="LSTMCell: backward called with no remembered step"):
        mt.LSTMCell(I, H).backward(zeros_state())
    with pytest.raises(RuntimeError, match="GRU: backward called before forward"):
        mt.GRU(I, H).backward(np.zeros((B, T, H)))
    with pytest.raises(RuntimeError, match="Bidirectional: backward called before forward"):
        mt.Bidirectional(lstm_unroll(), lstm_unroll(reverse=True)).backward(np.zeros((B, T, 2 * H)))


@pytest.mark.parametrize(
    ("options", "grad", "message"),
    [
        (
            {},
            np.zeros((B, T, H + 1)),
            f"grad_output must have shape ({B}, {T}, {H}), got ({B}, {T}, {H + 1})",
        ),
        ({}, np.zeros((B, H)), f"grad_output must have shape ({B}, {T}, {H}), got ({B}, {H})"),
        (
            {"return_sequences": False},
            np.zeros((B, T, H)),
            f"grad_output must have shape ({B}, {H}), got ({B}, {T}, {H})",
        ),
    ],
    ids=["features", "missing-time", "last-only"],
)
def test_unroll_rejects_grad_output_of_the_wrong_shape(
    options: dict[str, Any], grad: np.ndarray, message: str
) -> None:
    unroll = lstm_unroll(**options)
    unroll.forward(np.zeros((B, T, I)))
    with pytest.raises(ValueError, match=re.escape("Unroll(LSTMCell): " + message)):
        unroll.backward(grad)


def test_bidirectional_and_stack_reject_grad_output_of_the_wrong_shape() -> None:
    bidirectional = mt.Bidirectional(lstm_unroll(), lstm_unroll(reverse=True))
    bidirectional.forward(np.zeros((B, T, I)))
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"Bidirectional: grad_output must have shape ({B}, {T}, {2 * H}), got ({B}, {T}, {H})"
        ),
    ):
        bidirectional.backward(np.zeros((B, T, H)))
    stack = mt.GRU(I, H, num_layers=2)
    stack.forward(np.zeros((B, T, I)))
    with pytest.raises(
        ValueError,
        match=re.escape(f"grad_output must have shape ({B}, {T}, {H}), got ({B}, {T}, {H + 1})"),
    ):
        stack.backward(np.zeros((B, T, H + 1)))
    with pytest.raises(
        ValueError,
        match=re.escape(f"GRU: grad_state h must have shape (2, {B}, {H}), got (1, {B}, {H})"),
    ):
        stack.backward(np.zeros((B, T, H)), np.zeros((1, B, H)))


def test_bidirectional_grad_state_must_be_a_direction_pair() -> None:
    bidirectional = mt.Bidirectional(lstm_unroll(), lstm_unroll(reverse=True))
    bidirectional.forward(np.zeros((B, T, I)))
    with pytest.raises(TypeError, match=r"Bidirectional: grad_state must be a pair"):
        bidirectional.backward(np.zeros((B, T, 2 * H)), np.zeros((B, H)))


# -- a rejected call changes nothing ------------------------------------------------------------------


def gradients(module: mt.Module) -> dict[str, np.ndarray]:
    return {name: p.grad.copy() for name, p in module.named_parameters()}


def assert_same_gradients(got: mt.Module, want: mt.Module) -> None:
    for (name, p), (_, q) in zip(got.named_parameters(), want.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)


BAD_FORWARDS: dict[str, dict[str, Any]] = {
    "2-D input": {"x": np.zeros((B, I))},
    "features": {"x": np.zeros((B, T, I + 1))},
    "nan input": {"x": np.full((B, T, I), np.nan)},
    "state batch": {"state": np.zeros((1, H))},
    "lengths": {"lengths": [0, 1, 2]},
}


@pytest.mark.parametrize("bad", list(BAD_FORWARDS))
def test_a_rejected_forward_keeps_the_previous_trace_and_state(
    bad: str, cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind)
    x, lengths = rng.standard_normal((B, T, I)), np.array([4, 2, 3])
    grad = rng.standard_normal((B, T, H))
    reference = mt.Unroll(copy.deepcopy(cell))
    reference.forward(x, lengths=lengths)
    expected_grad_x = reference.backward(grad)

    unroll = mt.Unroll(cell, stateful=True)
    unroll.forward(x, lengths=lengths)
    carried = unroll.state
    call = {"x": x, "state": None, "lengths": lengths, **BAD_FORWARDS[bad]}
    if cell_kind == "lstm" and call["state"] is not None:
        call["state"] = (call["state"], call["state"])
    with pytest.raises((ValueError, TypeError), match=r"Unroll\("):
        unroll.forward(call["x"], call["state"], lengths=call["lengths"])
    assert unroll.state is carried
    np.testing.assert_array_equal(unroll.backward(grad), expected_grad_x)
    assert_same_gradients(unroll, reference)


BAD_BACKWARDS: dict[str, dict[str, Any]] = {
    "grad shape": {"grad": np.zeros((B, T, H + 1))},
    "grad_state batch": {"grad_state": np.zeros((1, H))},
}


@pytest.mark.parametrize("bad", list(BAD_BACKWARDS))
def test_a_rejected_backward_keeps_the_trace_for_a_correct_backward(
    bad: str, cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind)
    x, grad = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    reference = mt.Unroll(copy.deepcopy(cell), bptt_truncate=2)
    reference.forward(x)
    expected_grad_x = reference.backward(grad)

    unroll = mt.Unroll(cell, bptt_truncate=2)
    unroll.forward(x)
    call = {"grad": grad, "grad_state": None, **BAD_BACKWARDS[bad]}
    if cell_kind == "lstm" and call["grad_state"] is not None:
        call["grad_state"] = (call["grad_state"], call["grad_state"])
    with pytest.raises(ValueError, match=r"Unroll\("):
        unroll.backward(call["grad"], call["grad_state"])
    assert all(not p.grad.any() for p in unroll.parameters())
    assert unroll.grad_initial_state is None
    np.testing.assert_array_equal(unroll.backward(grad), expected_grad_x)
    assert_same_gradients(unroll, reference)


def test_a_rejected_cell_call_neither_remembers_nor_consumes_a_step(
    cell_kind: str, make_cell: MakeCell, rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind)
    x = rng.standard_normal((B, I))
    grad_h = rng.standard_normal((B, H))
    grad = (grad_h, grad_h) if cell_kind == "lstm" else grad_h
    reference = copy.deepcopy(cell)
    reference.forward(x)
    expected_grad_x, _ = reference.backward(grad)

    cell.forward(x)
    with pytest.raises(ValueError):
        cell.forward(np.zeros((B, I + 1)))
    bad_grad = (grad_h[:1], grad_h[:1]) if cell_kind == "lstm" else grad_h[:1]
    with pytest.raises(
        ValueError, match=rf"{type(cell).__name__}.backward: state h must have shape"
    ):
        cell.backward(bad_grad)
    grad_x, _ = cell.backward(grad)
    np.testing.assert_array_equal(grad_x, expected_grad_x)
    assert_same_gradients(cell, reference)
    with pytest.raises(RuntimeError):  # exactly one step was remembered
        cell.backward(grad)


def test_a_rejected_stack_call_changes_nothing(rng: np.random.Generator) -> None:
    stack = mt.LSTM(I, H, num_layers=2, bidirectional=True, dropout=0.3, seed=0, dtype=np.float64)
    reference = copy.deepcopy(stack)
    x, grad = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, 2 * H))
    reference.forward(x, lengths=[4, 1, 2])
    expected = reference.backward(grad)

    stack.forward(x, lengths=[4, 1, 2])
    with pytest.raises(ValueError, match="LSTM: state h"):
        stack.forward(x, (np.zeros((4, 1, H)), np.zeros((4, 1, H))))
    with pytest.raises(ValueError, match="lengths"):
        stack.forward(x, lengths=[4, 1, 5])
    with pytest.raises(ValueError, match="LSTM: grad_state h"):
        stack.backward(grad, (np.zeros((4, 1, H)), np.zeros((4, 1, H))))
    with pytest.raises(ValueError, match="grad_output"):
        stack.backward(grad[..., :H])
    np.testing.assert_array_equal(stack.backward(grad), expected)
    assert_same_gradients(stack, reference)


def test_a_rejected_bidirectional_forward_keeps_both_traces(rng: np.random.Generator) -> None:
    bidirectional = mt.Bidirectional(lstm_unroll(), lstm_unroll(reverse=True))
    reference = copy.deepcopy(bidirectional)
    x, grad = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, 2 * H))
    reference.forward(x)
    expected = reference.backward(grad)
    bidirectional.forward(x)
    carried = bidirectional.state
    with pytest.raises(ValueError, match=r"Unroll\(LSTMCell\): state h"):
        # only the second direction's state is wrong; the first must not run either
        bidirectional.forward(x + 1.0, (zeros_state(), zeros_state(1)))
    assert bidirectional.state[0] is carried[0] and bidirectional.state[1] is carried[1]
    np.testing.assert_array_equal(bidirectional.backward(grad), expected)
    assert_same_gradients(bidirectional, reference)


def test_a_rejected_bidirectional_backward_keeps_both_traces(rng: np.random.Generator) -> None:
    bidirectional = mt.Bidirectional(lstm_unroll(), lstm_unroll(reverse=True))
    reference = copy.deepcopy(bidirectional)
    x, grad = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, 2 * H))
    reference.forward(x)
    expected = reference.backward(grad)
    bidirectional.forward(x)
    with pytest.raises(ValueError):
        bidirectional.backward(grad, (zeros_state(), zeros_state(1)))  # only the second is wrong
    assert all(not p.grad.any() for p in bidirectional.parameters())
    np.testing.assert_array_equal(bidirectional.backward(grad), expected)
    assert_same_gradients(bidirectional, reference)


@pytest.mark.parametrize(
    ("build", "argument", "value"),
    [
        (lambda v: mt.RNNCell(v, 4), "input_size", 3.0),
        (lambda v: mt.GRUCell(3, v), "hidden_size", 2.5),
        (lambda v: mt.LSTMCell(True, 4), "input_size", True),
        (lambda v: mt.RNN(3, v), "hidden_size", 2.5),
        (lambda v: mt.GRU(v, 4), "input_size", "3"),
        (lambda v: mt.LSTM(3, 4, num_layers=v), "num_layers", 2.0),
        (lambda v: mt.RecurrentStack(mt.RNNCell, 3, 4, num_layers=v), "num_layers", True),
    ],
)
def test_sizes_must_be_integers_not_floats_or_bools(build: Any, argument: str, value: Any) -> None:
    with pytest.raises(
        TypeError, match=rf": {argument} must be an int, got {re.escape(repr(value))}"
    ):
        build(value)


def test_recurrent_stack_refuses_a_cell_class_that_is_not_a_recurrent_cell() -> None:
    with pytest.raises(
        TypeError, match="RecurrentStack: cell_class must be a subclass of RecurrentCell"
    ):
        mt.RecurrentStack(mt.Dense, 3, 4)  # type: ignore[arg-type]


def test_a_cell_class_with_a_malformed_protocol_is_refused_by_name() -> None:
    class NoStates(mt.RecurrentCell):
        state_names = ()

    with pytest.raises(TypeError, match="NoStates: state_names must be a non-empty tuple"):
        NoStates(3, 4)
