"""Shared tools of the recurrent tests: cell factories, states, a closed-form reference step and a
gradcheck adapter that exposes initial and final states.

Everything is offered as a session-scoped fixture and is stateless, so hypothesis tests may use it
too (plain helpers several modules import belong in ``tests/helpers/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

# "gru" is PyTorch's reset-after form, "gru_cho" the form of Cho et al. (reset before W_hn).
CELL_KINDS = ("rnn_tanh", "rnn_relu", "rnn_sigmoid", "gru", "gru_cho", "lstm")

Recurrent = Any  # an Unroll, a Bidirectional or a stack: forward(x, state, lengths) / backward


def build_cell(
    kind: str,
    input_size: int = 3,
    hidden_size: int = 4,
    *,
    bias: bool = True,
    dtype: Any = np.float64,
    seed: int = 0,
    **options: Any,
) -> mt.RecurrentCell:
    """A cell of ``kind`` (one of ``CELL_KINDS``); the default initialisation has non-zero biases,
    so a missing bias gradient or a dropped bias term cannot hide."""
    common: dict[str, Any] = {"bias": bias, "seed": seed, "dtype": dtype, **options}
    if kind.startswith("rnn_"):
        return mt.RNNCell(input_size, hidden_size, nonlinearity=kind[4:], **common)
    if kind in ("gru", "gru_cho"):
        return mt.GRUCell(input_size, hidden_size, reset_after=kind == "gru", **common)
    if kind == "lstm":
        return mt.LSTMCell(input_size, hidden_size, **common)
    raise ValueError(f"unknown cell kind {kind!r}")


def build_state(
    cell: mt.RecurrentCell, batch: int, rng: np.random.Generator, leading: tuple[int, ...] = ()
) -> Any:
    """A random state for ``cell``: ``h``, or ``(h, c)`` for an LSTM, each ``leading + (B, H)``."""
    shape = (*leading, batch, cell.hidden_size)
    parts = tuple(0.5 * rng.standard_normal(shape) for _ in range(cell.state_size))
    return parts[0] if cell.state_size == 1 else parts


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def reference_step(cell: mt.RecurrentCell, x: np.ndarray, state: Any) -> tuple[Any, np.ndarray]:
    """The textbook equations of one step, written independently of the package's fused code.

    Returns the new state (``h`` or ``(h, c)``) and the pre-activations (for RNN cells the argument
    of the nonlinearity, used to keep ReLU data away from its kink).
    """
    H = cell.hidden_size
    w_ih, w_hh = cell.weight_ih.data, cell.weight_hh.data
    b_ih = cell.bias_ih.data if cell.bias_ih is not None else np.zeros(w_ih.shape[0])
    b_hh = cell.bias_hh.data if cell.bias_hh is not None else np.zeros(w_hh.shape[0])
    if isinstance(cell, mt.LSTMCell):
        h_prev, c_prev = state
        a = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
        i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))
        c = _sigmoid(f) * c_prev + _sigmoid(i) * np.tanh(g)
        return (_sigmoid(o) * np.tanh(c), c), a
    if isinstance(cell, mt.GRUCell):
        h_prev = state
        xi = x @ w_ih.T + b_ih
        r = _sigmoid(xi[:, :H] + h_prev @ w_hh[:H].T + b_hh[:H])
        z = _sigmoid(xi[:, H : 2 * H] + h_prev @ w_hh[H : 2 * H].T + b_hh[H : 2 * H])
        if cell.reset_after:
            n = np.tanh(xi[:, 2 * H :] + r * (h_prev @ w_hh[2 * H :].T + b_hh[2 * H :]))
        else:
            n = np.tanh(xi[:, 2 * H :] + (r * h_prev) @ w_hh[2 * H :].T + b_hh[2 * H :])
        return (1 - z) * n + z * h_prev, np.concatenate([r, z, n], axis=1)
    assert isinstance(cell, mt.RNNCell)
    a = x @ w_ih.T + b_ih + state @ w_hh.T + b_hh
    if cell.nonlinearity == "relu":
        return np.maximum(a, 0.0), a
    return (_sigmoid(a) if cell.nonlinearity == "sigmoid" else np.tanh(a)), a


def assert_away_from_relu_kink(
    cell: mt.RecurrentCell, x: np.ndarray, state: Any = None, margin: float = 1e-3
) -> None:
    """Guard of the test data: finite differences are wrong within ``eps`` of ReLU's kink, so a
    ReLU gradcheck is only meaningful when every pre-activation of every step is clear of 0."""
    if not (isinstance(cell, mt.RNNCell) and cell.nonlinearity == "relu"):
        return
    batch, steps, _ = x.shape
    h = np.zeros((batch, cell.hidden_size)) if state is None else state
    for t in range(steps):
        h, preact = reference_step(cell, x[:, t], h)
        assert np.abs(preact).min() > margin, "test data puts a ReLU unit on its kink"


class StateProbe(mt.Module):
    """Gradcheck adapter exposing the states of a recurrent module as inputs and outputs.

    ``forward(x, state)`` returns ``(output, final_state)``, so the check projects the final state
    too and ``backward`` receives a gradient for it (``grad_state``); ``backward`` returns
    ``(grad_x, grad_initial_state)``, so the initial-state gradient is checked as well.
    ``with_final_state=False`` returns only the output (the initial state alone is checked).
    """

    def __init__(self, recurrent: Recurrent, with_final_state: bool = True) -> None:
        super().__init__()
        self.recurrent = recurrent
        self.with_final_state = with_final_state

    def forward(self, x: np.ndarray, state: Any, lengths: Any = None) -> Any:
        output = self.recurrent.forward(x, state, lengths=lengths)
        return (output, self.recurrent.state) if self.with_final_state else output

    def backward(self, grad_output: Any) -> tuple[np.ndarray, Any]:
        grad_out, grad_state = grad_output if self.with_final_state else (grad_output, None)
        grad_x = self.recurrent.backward(grad_out, grad_state)
        return grad_x, self.recurrent.grad_initial_state


@pytest.fixture(scope="session", params=CELL_KINDS)
def cell_kind(request: pytest.FixtureRequest) -> str:
    """Each kind of cell in turn."""
    kind: str = request.param
    return kind


@pytest.fixture(scope="session")
def cell_kinds() -> tuple[str, ...]:
    """Every kind of cell (for hypothesis strategies)."""
    return CELL_KINDS


@pytest.fixture(scope="session")
def make_cell() -> Callable[..., mt.RecurrentCell]:
    """Factory ``make_cell(kind, input_size=3, hidden_size=4, *, bias, dtype, seed, **options)``."""
    return build_cell


@pytest.fixture(scope="session")
def make_state() -> Callable[..., Any]:
    """Factory ``make_state(cell, batch, rng, leading=())`` of random states."""
    return build_state


@pytest.fixture(scope="session")
def step_reference() -> Callable[..., tuple[Any, np.ndarray]]:
    """``step_reference(cell, x, state) -> (new_state, preactivations)`` from the equations."""
    return reference_step


@pytest.fixture(scope="session")
def relu_guard() -> Callable[..., None]:
    """``relu_guard(cell, x, state=None)`` asserts the data keeps every ReLU unit off its kink."""
    return assert_away_from_relu_kink


@pytest.fixture(scope="session")
def state_probe() -> type[StateProbe]:
    """The :class:`StateProbe` gradcheck adapter."""
    return StateProbe
