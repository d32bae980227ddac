"""``record_grad_norms``: the norm of d loss / d h_t through time, against a step-by-step PyTorch
cell with ``retain_grad`` (fixtures from tests/fixtures/make_fixtures.py, section G)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minitorch_rnn as mt

FIXTURES = Path(__file__).parent.parent / "fixtures" / "grad_norms.npz"
KINDS = ("rnn_tanh", "gru", "lstm")
SUFFIXES = ("", "_lengths", "_reverse_lengths", "_bptt2", "_reverse_bptt2")


def load_case(case: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES, allow_pickle=False) as archive:
        prefix = case + "."
        return {k[len(prefix) :]: archive[k] for k in archive.files if k.startswith(prefix)}


def cell_for(kind: str, data: dict[str, np.ndarray]) -> mt.RecurrentCell:
    input_size, hidden_size = data["weight_ih"].shape[1], data["weight_hh"].shape[1]
    if kind == "rnn_tanh":
        cell: mt.RecurrentCell = mt.RNNCell(input_size, hidden_size, dtype=np.float64)
    elif kind == "gru":
        cell = mt.GRUCell(input_size, hidden_size, dtype=np.float64)
    else:
        cell = mt.LSTMCell(input_size, hidden_size, dtype=np.float64)
    cell.load_state_dict({k: data[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    return cell


@pytest.mark.parametrize("suffix", SUFFIXES, ids=lambda s: s.strip("_") or "plain")
@pytest.mark.parametrize("kind", KINDS)
def test_grad_norms_match_pytorch_retain_grad_step_by_step(kind: str, suffix: str) -> None:
    data = load_case(kind + suffix)
    truncate = int(data["bptt_truncate"])
    rnn = mt.Unroll(
        cell_for(kind, data),
        reverse=bool(data["reverse"]),
        bptt_truncate=None if truncate < 0 else truncate,
        record_grad_norms=True,
    )
    lstm = kind == "lstm"
    state = (data["h0"], data["c0"]) if lstm else data["h0"]
    grad_state = (data["grad_h_n"], data["grad_c_n"]) if lstm else data["grad_h_n"]
    rnn.forward(data["x"], state, lengths=data.get("lengths"))
    rnn.backward(data["grad_out"], grad_state)
    assert rnn.grad_norms is not None
    assert rnn.grad_norms.dtype == np.float64
    assert rnn.grad_norms.shape == (data["x"].shape[1],)
    np.testing.assert_allclose(rnn.grad_norms, data["grad_norms"], rtol=1e-10, atol=1e-12)


def test_grad_norms_are_float64_for_a_float32_model_and_match_float64() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 3))
    grad = rng.standard_normal((2, 6, 4))
    norms = []
    for dtype in (np.float32, np.float64):
        rnn = mt.Unroll(mt.GRUCell(3, 4, seed=1, dtype=dtype), record_grad_norms=True)
        rnn.forward(x.astype(dtype))
        rnn.backward(grad.astype(dtype))
        assert rnn.grad_norms is not None and rnn.grad_norms.dtype == np.float64
        norms.append(rnn.grad_norms)
    np.testing.assert_allclose(norms[0], norms[1], rtol=1e-4)


def test_grad_norms_without_return_sequences_see_only_the_last_output() -> None:
    rng = np.random.default_rng(1)
    rnn = mt.Unroll(mt.RNNCell(3, 4, seed=0, dtype=np.float64), return_sequences=False)
    rnn.record_grad_norms = True
    x = rng.standard_normal((2, 5, 3))
    grad_last = rng.standard_normal((2, 4))
    rnn.forward(x)
    rnn.backward(grad_last)
    assert rnn.grad_norms is not None
    assert rnn.grad_norms[-1] == pytest.approx(np.linalg.norm(grad_last))
    # tanh RNN with small weights: what reaches earlier steps only shrinks through the recurrence
    assert np.all(rnn.grad_norms > 0)


def test_grad_norms_are_not_recorded_unless_asked() -> None:
    rnn = mt.Unroll(mt.LSTMCell(3, 4, seed=0))
    rnn.forward(np.ones((2, 5, 3)))
    rnn.backward(np.ones((2, 5, 4)))
    assert rnn.grad_norms is None


def test_bidirectional_and_stacks_expose_grad_norms_per_layer_and_direction() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 3))
    stack = mt.GRU(3, 4, num_layers=2, bidirectional=True, record_grad_norms=True, seed=0)
    out = stack.forward(x)
    stack.backward(np.ones_like(out))
    norms = stack.grad_norms
    assert list(norms) == ["l0", "l0_reverse", "l1", "l1_reverse"]
    for value in norms.values():
        assert value is not None and value.shape == (5,) and np.all(value > 0)
    assert norms["l1"] is stack.layer1.forward_unroll.grad_norms
    forward_norms, backward_norms = stack.layer0.grad_norms
    assert forward_norms is norms["l0"] and backward_norms is norms["l0_reverse"]
    # the output gradient of the top layer enters every step: the last forward step sees only it
    assert norms["l1"][-1] == pytest.approx(np.linalg.norm(np.ones((2, 4))))
    assert norms["l1_reverse"][0] == pytest.approx(np.linalg.norm(np.ones((2, 4))))
