"""Recurrent cells, one step: the equations, their gradients, hand unrolling and dtypes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

GATES = {"gru": 3, "gru_cho": 3, "lstm": 4}  # every RNN kind has one


def as_tuple(state: Any) -> tuple[np.ndarray, ...]:
    return state if isinstance(state, tuple) else (state,)


class ZeroStateCell(mt.Module):
    """Gradcheck adapter: one step from the default (``None``, zeros) state; returns grad_x."""

    def __init__(self, cell: mt.RecurrentCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x: np.ndarray) -> Any:
        return self.cell.forward(x)

    def backward(self, grad_state: Any) -> np.ndarray:
        grad_x, _ = self.cell.backward(grad_state)
        return grad_x


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_cell_passes_gradcheck_from_a_given_state(
    cell_kind: str,
    bias: bool,
    make_cell: Callable[..., mt.RecurrentCell],
    make_state: Callable[..., Any],
    relu_guard: Callable[..., None],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, bias=bias, seed=1)
    x, state = rng.standard_normal((3, 3)), make_state(cell, 3, rng)
    relu_guard(cell, x[:, None], as_tuple(state)[0])
    assert mt.gradcheck(cell, x, state)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_cell_passes_gradcheck_from_the_zero_state(
    cell_kind: str,
    bias: bool,
    make_cell: Callable[..., mt.RecurrentCell],
    relu_guard: Callable[..., None],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, bias=bias, seed=2)
    x = rng.standard_normal((3, 3))
    relu_guard(cell, x[:, None])
    assert mt.gradcheck(ZeroStateCell(cell), x)


def test_lstm_cell_with_forget_bias_passes_gradcheck(
    make_state: Callable[..., Any], rng: np.random.Generator
) -> None:
    cell = mt.LSTMCell(3, 4, forget_bias=1.0, seed=3, dtype=np.float64)
    assert mt.gradcheck(cell, rng.standard_normal((3, 3)), make_state(cell, 3, rng))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_cell_step_follows_the_textbook_equations(
    cell_kind: str,
    bias: bool,
    make_cell: Callable[..., mt.RecurrentCell],
    make_state: Callable[..., Any],
    step_reference: Callable[..., tuple[Any, np.ndarray]],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, bias=bias)
    x, state = rng.standard_normal((5, 3)), make_state(cell, 5, rng)
    expected, _ = step_reference(cell, x, state)
    for got, want in zip(as_tuple(cell.forward(x, state)), as_tuple(expected), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_cell_state_none_means_zeros(
    cell_kind: str, make_cell: Callable[..., mt.RecurrentCell], rng: np.random.Generator
) -> None:
    cell = make_cell(cell_kind)
    x = rng.standard_normal((2, 3))
    zeros = np.zeros((2, 4))
    explicit = cell.forward(x, (zeros, zeros) if cell_kind == "lstm" else zeros)
    for got, want in zip(as_tuple(cell.forward(x)), as_tuple(explicit), strict=True):
        np.testing.assert_array_equal(got, want)


def test_gru_reset_after_switches_between_two_different_candidates(
    make_cell: Callable[..., mt.RecurrentCell], rng: np.random.Generator
) -> None:
    pytorch_form, cho_form = make_cell("gru"), make_cell("gru_cho")
    cho_form.load_state_dict(pytorch_form.state_dict())
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    assert not np.allclose(pytorch_form.forward(x, h), cho_form.forward(x, h))


def test_cell_parameters_have_pytorch_names_shapes_and_gate_counts(
    cell_kind: str, make_cell: Callable[..., mt.RecurrentCell]
) -> None:
    rows = GATES.get(cell_kind, 1) * 4
    shapes = {name: array.shape for name, array in make_cell(cell_kind).state_dict().items()}
    assert shapes == {
        "weight_ih": (rows, 3),
        "weight_hh": (rows, 4),
        "bias_ih": (rows,),
        "bias_hh": (rows,),
    }
    no_bias = make_cell(cell_kind, bias=False)
    assert list(no_bias.state_dict()) == ["weight_ih", "weight_hh"]
    assert no_bias.bias_ih is None and no_bias.bias_hh is None


def test_cell_initialisation_is_uniform_within_one_over_sqrt_hidden_size(
    cell_kind: str, make_cell: Callable[..., mt.RecurrentCell]
) -> None:
    cell = make_cell(cell_kind, hidden_size=16, seed=5)
    for name, value in cell.state_dict().items():
        assert np.abs(value).max() <= 0.25, name
        assert np.abs(value).max() > 0.2, name  # spread over the range, not a tiny scale
    again = make_cell(cell_kind, hidden_size=16, seed=5).state_dict()
    assert all(np.array_equal(again[k], v) for k, v in cell.state_dict().items())


def test_lstm_forget_bias_sets_the_forget_gate_and_leaves_the_others(
    rng: np.random.Generator,
) -> None:
    plain = mt.LSTMCell(3, 4, seed=7, dtype=np.float64)
    forgetful = mt.LSTMCell(3, 4, forget_bias=1.0, seed=7, dtype=np.float64)
    assert plain.bias_ih is not None and forgetful.bias_ih is not None
    assert plain.bias_hh is not None and forgetful.bias_hh is not None
    forget, others = slice(4, 8), np.r_[0:4, 8:16]
    np.testing.assert_array_equal(forgetful.bias_ih.data[forget], 1.0)
    np.testing.assert_array_equal(forgetful.bias_hh.data[forget], 0.0)
    np.testing.assert_array_equal(forgetful.bias_ih.data[others], plain.bias_ih.data[others])
    np.testing.assert_array_equal(forgetful.bias_hh.data[others], plain.bias_hh.data[others])
    np.testing.assert_array_equal(forgetful.weight_ih.data, plain.weight_ih.data)
    # with zero weights the forget gate is sigmoid(1): the acting bias is exactly forget_bias
    forgetful.weight_ih.data = np.zeros((16, 3))
    forgetful.weight_hh.data = np.zeros((16, 4))
    c_prev = rng.standard_normal((2, 4))
    bias = forgetful.bias_ih.data + forgetful.bias_hh.data
    i, g = 1 / (1 + np.exp(-bias[:4])), np.tanh(bias[8:12])
    _, c = forgetful.forward(np.zeros((2, 3)), (np.zeros((2, 4)), c_prev))
    np.testing.assert_allclose(c, c_prev / (1 + np.exp(-1.0)) + i * g, rtol=1e-12)


def test_relu_cell_gradient_at_the_kink_is_zero() -> None:
    cell = mt.RNNCell(3, 4, nonlinearity="relu", seed=0, dtype=np.float64)
    for parameter in cell.parameters():
        parameter.data = np.zeros(parameter.shape)
    h = cell.forward(np.ones((2, 3)), np.ones((2, 4)))
    np.testing.assert_array_equal(h, 0.0)
    grad_x, grad_h = cell.backward(np.ones((2, 4)))
    for gradient in (grad_x, grad_h, *(p.grad for p in cell.parameters())):
        np.testing.assert_array_equal(gradient, 0.0)


def step_gradients(
    cell: mt.RecurrentCell, x: np.ndarray, state: Any, grad: Any
) -> tuple[np.ndarray, Any, dict[str, np.ndarray]]:
    """grad_x, grad_state_prev and parameter gradients of one fresh step (on a copy of cell)."""
    fresh = copy.deepcopy(cell)
    fresh.reset()
    fresh.zero_grad()
    fresh.forward(x, state)
    grad_x, grad_state = fresh.backward(grad)
    return grad_x, grad_state, {name: p.grad.copy() for name, p in fresh.named_parameters()}


def test_training_cell_remembers_steps_and_backward_consumes_them_newest_first(
    cell_kind: str,
    make_cell: Callable[..., mt.RecurrentCell],
    make_state: Callable[..., Any],
    rng: np.random.Generator,
) -> None:
    # one object over the steps, as the source documents unroll by hand
    cell = make_cell(cell_kind)
    x1, x2, state0 = (
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 3)),
        make_state(cell, 2, rng),
    )
    grad1, grad2 = make_state(cell, 2, rng), make_state(cell, 2, rng)
    state1 = cell.forward(x1, state0)
    cell.forward(x2, state1)
    second = step_gradients(cell, x2, state1, grad2)
    first = step_gradients(cell, x1, state0, grad1)

    grad_x2, grad_state1 = cell.backward(grad2)
    np.testing.assert_allclose(grad_x2, second[0], rtol=1e-12)
    for got, want in zip(as_tuple(grad_state1), as_tuple(second[1]), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    grad_x1, _ = cell.backward(grad1)
    np.testing.assert_allclose(grad_x1, first[0], rtol=1e-12)
    for name, parameter in cell.named_parameters():
        np.testing.assert_allclose(parameter.grad, first[2][name] + second[2][name], rtol=1e-12)
    with pytest.raises(RuntimeError, match="no remembered step"):
        cell.backward(grad1)


def test_eval_cell_remembers_no_step(
    cell_kind: str,
    make_cell: Callable[..., mt.RecurrentCell],
    make_state: Callable[..., Any],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind)
    cell.eval()
    cell.forward(rng.standard_normal((2, 3)))
    with pytest.raises(RuntimeError, match=f"{type(cell).__name__}: backward"):
        cell.backward(make_state(cell, 2, rng))


def test_reset_forgets_every_remembered_step(
    cell_kind: str,
    make_cell: Callable[..., mt.RecurrentCell],
    make_state: Callable[..., Any],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind)
    for _ in range(3):
        cell.forward(rng.standard_normal((2, 3)))
    cell.reset()
    with pytest.raises(RuntimeError, match="no remembered step"):
        cell.backward(make_state(cell, 2, rng))


def test_mutating_a_returned_state_does_not_change_the_remembered_step(
    cell_kind: str,
    make_cell: Callable[..., mt.RecurrentCell],
    make_state: Callable[..., Any],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind)
    x, grad = rng.standard_normal((2, 3)), make_state(cell, 2, rng)
    expected = step_gradients(cell, x, None, grad)
    for part in as_tuple(cell.forward(x)):
        part += 100.0  # a user updating "h" in place between steps
    grad_x, _ = cell.backward(grad)
    np.testing.assert_allclose(grad_x, expected[0], rtol=1e-12)


def test_float32_cell_stays_float32_even_with_float64_input(
    cell_kind: str,
    make_cell: Callable[..., mt.RecurrentCell],
    make_state: Callable[..., Any],
    rng: np.random.Generator,
) -> None:
    cell = make_cell(cell_kind, dtype=np.float32)
    state = cell.forward(rng.standard_normal((2, 3)), make_state(cell, 2, rng))
    assert all(part.dtype == np.float32 for part in as_tuple(state))
    grad_x, grad_state = cell.backward(make_state(cell, 2, rng))
    assert grad_x.dtype == np.float32
    assert all(part.dtype == np.float32 for part in as_tuple(grad_state))
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in cell.parameters())


def test_cells_default_to_float32_and_follow_the_default_dtype(
    cell_kind: str, make_cell: Callable[..., mt.RecurrentCell]
) -> None:
    assert make_cell(cell_kind, dtype=None).weight_ih.dtype == np.float32
    mt.set_default_dtype(np.float64)
    assert make_cell(cell_kind, dtype=None).weight_hh.dtype == np.float64
