"""``gate="hard_sigmoid"`` for GRUCell and LSTMCell: Theano's piecewise-linear gates, exact gradients
everywhere except at the two kinks ``a = ±2.5`` (the test data keeps clear of them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

I, H, B, T = 3, 4, 2, 5
KINK = 2.5


def hard_sigmoid(a: np.ndarray) -> np.ndarray:
    return np.clip(0.2 * a + 0.5, 0.0, 1.0)


def reference_run(cell: mt.RecurrentCell, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outputs (B, T, H) and every sigmoid-gate pre-activation, from the textbook equations."""
    w_ih, w_hh = cell.weight_ih.data, cell.weight_hh.data
    b_ih, b_hh = cell.bias_ih.data, cell.bias_hh.data
    h = np.zeros((x.shape[0], H))
    c = np.zeros((x.shape[0], H))
    outputs, gate_preacts = [], []
    for t in range(x.shape[1]):
        xi = x[:, t] @ w_ih.T + b_ih
        hh = h @ w_hh.T + b_hh
        if isinstance(cell, mt.LSTMCell):
            a = xi + hh
            a_i, a_f, a_g, a_o = (a[:, k * H : (k + 1) * H] for k in range(4))
            c = hard_sigmoid(a_f) * c + hard_sigmoid(a_i) * np.tanh(a_g)
            h = hard_sigmoid(a_o) * np.tanh(c)
            gate_preacts += [a_i, a_f, a_o]
        else:
            a_r, a_z = xi[:, :H] + hh[:, :H], xi[:, H : 2 * H] + hh[:, H : 2 * H]
            r, z = hard_sigmoid(a_r), hard_sigmoid(a_z)
            n = np.tanh(xi[:, 2 * H :] + r * hh[:, 2 * H :])
            h = (1 - z) * n + z * h
            gate_preacts += [a_r, a_z]
        outputs.append(h)
    return np.stack(outputs, axis=1), np.concatenate([g.ravel() for g in gate_preacts])


def build(kind: str, seed: int) -> mt.RecurrentCell:
    cls: Any = mt.LSTMCell if kind == "lstm" else mt.GRUCell
    cell = cls(I, H, gate="hard_sigmoid", seed=seed, dtype=np.float64)
    for parameter in cell.parameters():  # wide weights: gates both saturated and linear
        parameter.data = parameter.data * 5
    return cell


@pytest.fixture(params=["gru", "lstm"])
def cell_and_input(request: pytest.FixtureRequest) -> tuple[mt.RecurrentCell, np.ndarray]:
    cell = build(request.param, seed=3)
    x = np.random.default_rng(4).standard_normal((B, T, I))
    _, preacts = reference_run(cell, x)
    assert np.abs(np.abs(preacts) - KINK).min() > 1e-3, "test data sits on a hard-sigmoid kink"
    assert (np.abs(preacts) > KINK).any() and (np.abs(preacts) < KINK).any()
    return cell, x


def test_hard_sigmoid_gates_follow_the_equations(
    cell_and_input: tuple[mt.RecurrentCell, np.ndarray],
) -> None:
    cell, x = cell_and_input
    expected, _ = reference_run(cell, x)
    np.testing.assert_allclose(mt.Unroll(cell).forward(x), expected, rtol=1e-12, atol=1e-14)


def test_hard_sigmoid_gates_pass_gradcheck_through_unroll(
    cell_and_input: tuple[mt.RecurrentCell, np.ndarray],
) -> None:
    cell, x = cell_and_input
    assert mt.gradcheck(mt.Unroll(cell), x)


def test_hard_sigmoid_gates_pass_gradcheck_for_one_hand_step(
    cell_and_input: tuple[mt.RecurrentCell, np.ndarray],
) -> None:
    cell, x = cell_and_input
    zeros = np.zeros((B, H))  # the reference run's first step, whose data the guard checked
    state = (zeros, zeros) if isinstance(cell, mt.LSTMCell) else zeros
    assert mt.gradcheck(cell, x[:, 0], state)


def test_hard_sigmoid_gates_in_a_stack_and_a_different_answer_from_sigmoid() -> None:
    x = np.random.default_rng(5).standard_normal((B, T, I))
    hard = mt.GRU(I, H, gate="hard_sigmoid", seed=0, dtype=np.float64)
    smooth = mt.GRU(I, H, seed=0, dtype=np.float64)
    assert hard.layer0.cell.gate == "hard_sigmoid"
    assert not np.allclose(hard.forward(x), smooth.forward(x))


@pytest.mark.parametrize("cls", [mt.GRUCell, mt.LSTMCell])
def test_unknown_gate_is_refused_naming_the_cell(cls: Any) -> None:
    with pytest.raises(
        ValueError, match=rf"{cls.__name__}: gate must be 'sigmoid' or 'hard_sigmoid'"
    ):
        cls(I, H, gate="softsign")
