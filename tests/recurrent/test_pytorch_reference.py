"""Agreement with ``torch.nn.RNN/GRU/LSTM`` on stored fixtures (see tests/fixtures/make_fixtures.py).

Each fixture holds PyTorch's weights, inputs, initial states, outputs, final states and the
vector-Jacobian products of ``loss = sum(out * grad_out) + sum(h_n * grad_h_n) [+ c term]``; the
``*_lengths`` files ran packed sequences with garbage past each length.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

FIXTURES = Path(__file__).parent.parent / "fixtures"
INPUT_SIZE, HIDDEN_SIZE = 4, 5
ATOL = 1e-10
SINGLE = ["rnn_tanh", "rnn_relu", "gru", "lstm"]
STACKED = ["rnn_bi2", "gru_bi2", "lstm_bi2", "gru_bi2_lengths", "lstm_bi2_lengths"]


def load(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def single_cell(kind: str) -> mt.RecurrentCell:
    if kind.startswith("rnn"):
        return mt.RNNCell(INPUT_SIZE, HIDDEN_SIZE, nonlinearity=kind[4:], dtype=np.float64)
    if kind == "gru":
        return mt.GRUCell(INPUT_SIZE, HIDDEN_SIZE, dtype=np.float64)
    return mt.LSTMCell(INPUT_SIZE, HIDDEN_SIZE, dtype=np.float64)


def state_of(data: dict[str, np.ndarray], h: str, c: str) -> Any:
    return (data[h], data[c]) if c in data else data[h]


def assert_close(got: Any, want: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL, err_msg=what)


@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("kind", SINGLE)
def test_single_layer_unroll_matches_pytorch(kind: str, lengths: bool) -> None:
    data = load(f"{kind}_lengths" if lengths else kind)
    cell = single_cell(kind)
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert list(cell.state_dict()) == names
    cell.load_state_dict({name: data[name] for name in names})
    unroll = mt.Unroll(cell)

    out = unroll.forward(data["x"], state_of(data, "h0", "c0"), lengths=data.get("lengths"))
    assert_close(out, data["out"], "out")
    final = unroll.state if isinstance(unroll.state, tuple) else (unroll.state,)
    assert_close(final[0], data["h_n"], "h_n")
    if kind == "lstm":
        assert_close(final[1], data["c_n"], "c_n")

    grad_x = unroll.backward(data["grad_out"], state_of(data, "grad_h_n", "grad_c_n"))
    assert_close(grad_x, data["grad_x"], "grad_x")
    grad_initial = unroll.grad_initial_state
    grad_initial = grad_initial if isinstance(grad_initial, tuple) else (grad_initial,)
    assert_close(grad_initial[0], data["grad_h0"], "grad_h0")
    if kind == "lstm":
        assert_close(grad_initial[1], data["grad_c0"], "grad_c0")
    for name, parameter in cell.named_parameters():
        assert_close(parameter.grad, data[f"grad_{name}"], f"grad_{name}")


@pytest.mark.parametrize("fixture", STACKED)
def test_two_layer_bidirectional_stack_matches_pytorch(fixture: str) -> None:
    data = load(fixture)
    stack_class = {"rnn": mt.RNN, "gru": mt.GRU, "lstm": mt.LSTM}[fixture.split("_")[0]]
    stack = stack_class(INPUT_SIZE, HIDDEN_SIZE, num_layers=2, bidirectional=True, dtype=np.float64)
    torch_names = [key[len("param.") :] for key in data if key.startswith("param.")]
    assert list(stack.state_dict()) == torch_names
    stack.load_state_dict({name: data[f"param.{name}"] for name in torch_names})

    out = stack.forward(data["x"], state_of(data, "h0", "c0"), lengths=data.get("lengths"))
    assert_close(out, data["out"], "out")
    final = stack.state if isinstance(stack.state, tuple) else (stack.state,)
    assert_close(final[0], data["h_n"], "h_n")
    if "c_n" in data:
        assert_close(final[1], data["c_n"], "c_n")

    grad_x = stack.backward(data["grad_out"], state_of(data, "grad_h_n", "grad_c_n"))
    assert_close(grad_x, data["grad_x"], "grad_x")
    grad_initial = stack.grad_initial_state
    grad_initial = grad_initial if isinstance(grad_initial, tuple) else (grad_initial,)
    assert_close(grad_initial[0], data["grad_h0"], "grad_h0")
    if "grad_c0" in data:
        assert_close(grad_initial[1], data["grad_c0"], "grad_c0")
    for name, parameter in stack.named_parameters():
        assert_close(parameter.grad, data[f"grad.{name}"], f"grad.{name}")


def test_fixtures_have_garbage_past_each_length() -> None:
    # guards the meaning of the *_lengths comparisons: padded input is not zeros
    data = load("lstm_lengths")
    for sample, length in enumerate(data["lengths"]):
        if length < data["x"].shape[1]:
            assert np.abs(data["x"][sample, length:]).max() > 1.0
    assert sorted(data["lengths"].tolist()) != data["lengths"].tolist()
