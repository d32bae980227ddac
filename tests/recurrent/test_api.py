"""The public cell and stack API: PyTorch's argument order, cells by name, validated options,
and user hooks whose mistakes are reported by the hook's name."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt


def test_rnn_cell_takes_bias_then_nonlinearity_as_torch_does() -> None:
    cell = mt.RNNCell(3, 4, False, "relu")
    assert cell.bias_ih is None and cell.nonlinearity == "relu"


def test_recurrent_stack_takes_a_registered_name_with_its_defaults() -> None:
    stack = mt.RecurrentStack("lstm", 3, 8, num_layers=2)
    assert stack.cell_class is mt.LSTMCell
    forget = slice(8, 16)
    np.testing.assert_array_equal(stack.bias_ih_l1.data[forget], 1.0)  # the registry's default
    np.testing.assert_array_equal(stack.bias_hh_l0.data[forget], 0.0)
    assert mt.RecurrentStack("irnn", 2, 4).cell_class is mt.RNNCell
    with pytest.raises(ValueError, match="RecurrentStack: unknown cell 'nope'"):
        mt.RecurrentStack("nope", 2, 4)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (float("nan"), ValueError, "LSTMCell: forget_bias must be finite, got nan"),
        ("abc", TypeError, "LSTMCell: forget_bias must be a real number, got 'abc'"),
    ],
)
def test_lstm_forget_bias_must_be_a_finite_number(value: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        mt.LSTMCell(3, 4, forget_bias=value)


@pytest.mark.parametrize("value", ["0.5", True, 1.0])
def test_stack_dropout_must_be_a_real_probability(value: Any) -> None:
    error = ValueError if value == 1.0 and not isinstance(value, bool) else TypeError
    with pytest.raises(error, match="GRU: dropout must"):
        mt.GRU(3, 4, num_layers=2, dropout=value)


def test_cell_class_attributes_are_documented_for_help() -> None:
    doc = mt.RecurrentCell.__doc__ or ""
    for attribute in ("num_gates", "state_names", "takes_input_grad"):
        assert f"{attribute} :" in doc


class BareArrayCell(mt.RNNCell):
    """step_backward returns the gradient without the tuple around it."""

    def step_backward(self, grad_state, state_prev, state_next, cache, grad_preact):  # type: ignore[no-untyped-def]
        return super().step_backward(grad_state, state_prev, state_next, cache, grad_preact)[0]


class NarrowCacheCell(mt.RNNCell):
    """Writes H columns into a cache entry it declared one column wide."""

    def cache_widths(self) -> dict[str, int]:
        return {"pre": 1}

    def step(self, x_proj, state_prev, state_next, cache):  # type: ignore[no-untyped-def]
        super().step(x_proj, state_prev, state_next, cache)
        cache["pre"][...] = state_next[0]


def test_a_step_backward_returning_a_bare_array_is_named_and_changes_nothing() -> None:
    unroll = mt.Unroll(BareArrayCell(2, 3, seed=0))
    out = unroll.forward(np.ones((2, 4, 2)))
    with pytest.raises(TypeError, match=r"BareArrayCell.step_backward must return a tuple of 1"):
        unroll.backward(np.ones_like(out))
    assert all(not p.grad.any() for p in unroll.parameters())
    cell = BareArrayCell(2, 3, seed=0)
    cell.forward(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"BareArrayCell.step_backward"):
        cell.backward(np.ones((2, 3)))
    cell.check_backward_ready()  # the step is still remembered


def test_a_cache_narrower_than_what_step_writes_names_cache_widths() -> None:
    with pytest.raises(ValueError, match=r"NarrowCacheCell.step failed .*cache_widths\(\)"):
        mt.Unroll(NarrowCacheCell(2, 3, seed=0)).forward(np.ones((2, 4, 2)))
