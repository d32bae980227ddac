"""Seq2Seq: logits and every gradient against a float64 PyTorch reference, gradcheck, padding,
state_dict keys, a user's cell, and errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import minitorch_rnn as mt

FIXTURES = Path(__file__).parent.parent / "fixtures"
CELLS = ("rnn", "gru", "lstm")
SCORES = ("none", "dot", "general", "additive")
CASES = list(itertools.product(CELLS, (1, 2), SCORES, (False, True)))


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "seq2seq.npz", allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def model_for(cell: str, layers: int, score: str, **options: object) -> mt.Seq2Seq:
    attention = None if score == "none" else score
    return mt.Seq2Seq(
        7, 6, 3, 4, cell=cell, num_layers=layers, attention=attention, dtype=np.float64, **options
    )


@pytest.mark.parametrize(
    ("cell", "layers", "score", "lengths"),
    CASES,
    ids=[f"{c}-l{n}-{s}{'-lengths' if m else ''}" for c, n, s, m in CASES],
)
def test_seq2seq_matches_torch_reference(
    reference: dict[str, np.ndarray], cell: str, layers: int, score: str, lengths: bool
) -> None:
    prefix = f"{cell}_l{layers}_{score}" + ("_lengths" if lengths else "") + "."
    case = {k[len(prefix) :]: v for k, v in reference.items() if k.startswith(prefix)}
    model = model_for(cell, layers, score, seed=0)
    # the documented keys load the torch modules' weights as they are
    model.load_state_dict({k[6:]: v for k, v in case.items() if k.startswith("param.")})
    logits = model.forward(case["src"], case["tgt_in"], case.get("src_lengths"))
    np.testing.assert_allclose(logits, case["logits"], rtol=0, atol=1e-10)
    if score == "none":
        assert model.attention_weights is None
    else:
        np.testing.assert_allclose(
            model.attention_weights, case["attention_weights"], rtol=0, atol=1e-10
        )
    model.zero_grad()
    assert model.backward(case["grad_logits"]) is None
    for name, parameter in model.named_parameters():
        np.testing.assert_allclose(parameter.grad, case["grad." + name], rtol=0, atol=1e-10)


# each score is gradchecked on its own (test_attention.py) and every case is checked against torch
@pytest.mark.parametrize(
    ("cell", "score"), [("rnn", "general"), ("gru", "additive"), ("lstm", "dot"), ("lstm", "none")]
)
def test_seq2seq_passes_gradcheck(cell: str, score: str, rng: np.random.Generator) -> None:
    attention = None if score == "none" else score
    model = mt.Seq2Seq(
        5, 4, 2, 3, cell, 2, attention, dropout=0.25, seed=1, dtype=np.float64
    )  # small: every entry is perturbed twice
    src, tgt_in = rng.integers(0, 5, (2, 4)), rng.integers(0, 4, (2, 3))
    assert mt.gradcheck(model, src, tgt_in, np.array([4, 2]))


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("cell", CELLS)
def test_a_padded_batch_equals_each_sample_run_alone(
    cell: str, score: str, rng: np.random.Generator
) -> None:
    model = model_for(cell, 2, score, seed=2)
    lengths = np.array([5, 2, 3])
    src, tgt_in = rng.integers(0, 7, (3, 5)), rng.integers(0, 6, (3, 4))
    logits = model.forward(src, tgt_in, lengths)
    grad = rng.standard_normal(logits.shape)
    model.zero_grad()
    model.backward(grad)
    batch_grads = {name: p.grad.copy() for name, p in model.named_parameters()}
    summed = {name: np.zeros_like(g) for name, g in batch_grads.items()}
    for b, n in enumerate(lengths):
        alone = model.forward(src[b : b + 1, :n], tgt_in[b : b + 1])
        np.testing.assert_allclose(logits[b : b + 1], alone, rtol=0, atol=1e-12)
        model.zero_grad()
        model.backward(grad[b : b + 1])
        for name, parameter in model.named_parameters():
            summed[name] += parameter.grad
    for name, value in batch_grads.items():
        np.testing.assert_allclose(value, summed[name], rtol=0, atol=1e-12, err_msg=name)


def test_state_dict_has_the_documented_keys() -> None:
    model = mt.Seq2Seq(7, 6, 3, 4, cell="gru", num_layers=2, attention="additive", seed=0)
    stack = [f"{w}_l{k}" for k in (0, 1) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    expected = (
        ["encoder.embedding.weight"]
        + [f"encoder.rnn.{key}" for key in stack]
        + ["decoder.embedding.weight"]
        + [f"decoder.rnn.{key}" for key in stack]
        + [f"decoder.attention.{key}" for key in ("query_weight", "key_weight", "v")]
        + ["decoder.output.weight", "decoder.output.bias"]
    )
    assert list(model.state_dict()) == expected
    assert model.state_dict()["decoder.output.weight"].shape == (6, 8)
    plain = mt.Seq2Seq(7, 6, 3, 4, cell="rnn", attention=None, seed=0)
    assert plain.state_dict()["decoder.output.weight"].shape == (6, 4)
    assert not any(key.startswith("decoder.attention") for key in plain.state_dict())


def test_lstm_by_name_has_forget_bias_one() -> None:
    model = mt.Seq2Seq(7, 6, 3, 4, cell="lstm", seed=0)
    forget = model.state_dict()["encoder.rnn.bias_ih_l0"][4:8]
    np.testing.assert_array_equal(forget, 1.0)


class ScaledTanhCell(mt.RecurrentCell):
    """A user's cell: h' = 0.9 tanh(W x + U h + b) (the protocol's default projections add b)."""

    def step(self, x_proj, state_prev, state_next, cache):  # type: ignore[no-untyped-def]
        assert self.weight_hh is not None
        pre = x_proj + state_prev[0] @ self.weight_hh.data.T
        np.multiply(np.tanh(pre), 0.9, out=state_next[0])

    def step_backward(self, grad_state, state_prev, state_next, cache, grad_preact):  # type: ignore[no-untyped-def]
        assert self.weight_hh is not None
        tanh = state_next[0] / 0.9
        grad_preact[...] = grad_state[0] * 0.9 * (1 - tanh * tanh)
        return (grad_preact @ self.weight_hh.data,)


def test_a_users_cell_class_works_and_passes_gradcheck(rng: np.random.Generator) -> None:
    model = mt.Seq2Seq(7, 6, 3, 4, cell=ScaledTanhCell, attention="dot", seed=0, dtype=np.float64)
    src, tgt_in = rng.integers(0, 7, (2, 5)), rng.integers(0, 6, (2, 3))
    assert mt.gradcheck(model, src, tgt_in, np.array([5, 3]))


def test_float32_model_stays_float32(rng: np.random.Generator) -> None:
    model = mt.Seq2Seq(7, 6, 3, 4, attention="general", seed=0, dtype=np.float32)
    logits = model.forward(rng.integers(0, 7, (2, 5)), rng.integers(0, 6, (2, 3)))
    assert logits.dtype == np.float32
    model.backward(np.ones_like(logits))
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


@pytest.mark.parametrize(
    ("src", "tgt_in", "lengths", "error", "message"),
    [
        ([[0, 7]], [[0]], None, ValueError, r"Seq2Seq: src ids must lie in \[0, 6\]"),
        ([[0, 1]], [[6]], None, ValueError, r"Seq2Seq: tgt_in ids must lie in \[0, 5\]"),
        ([[0, 1]], [[0.0]], None, TypeError, "Seq2Seq: tgt_in must be an integer array"),
        ([0, 1], [[0]], None, ValueError, "Seq2Seq: src must be a 2-D array"),
        ([[0, 1]], [[0], [1]], None, ValueError, "same batch size .* got 1 and 2"),
        ([[0, 1]], [[0]], [3], ValueError, r"Seq2Seq: src_lengths: lengths must lie in 1..2"),
        ([[0, 1]], [[0]], [0], ValueError, r"Seq2Seq: src_lengths: lengths must lie in 1..2"),
        ([[0, 1]], [[0]], [1, 2], ValueError, r"Seq2Seq: src_lengths: lengths must have shape"),
    ],
)
def test_bad_input_is_refused_naming_the_argument_before_any_state_changes(
    src: list, tgt_in: list, lengths: list | None, error: type, message: str
) -> None:
    model = mt.Seq2Seq(7, 6, 3, 4, seed=0, dtype=np.float64)
    logits = model.forward([[1, 2]], [[3]])
    with pytest.raises(error, match=message):
        model.forward(src, tgt_in, lengths)
    model.backward(np.ones_like(logits))  # the pending forward is intact


def test_backward_without_a_pending_forward_is_an_error() -> None:
    model = mt.Seq2Seq(7, 6, 3, 4, seed=0)
    with pytest.raises(RuntimeError, match="Seq2Seq: backward called before forward"):
        model.backward(np.zeros((1, 1, 6)))
    logits = model.forward([[1, 2]], [[3]])
    with pytest.raises(ValueError, match="grad_output must have shape"):
        model.backward(np.zeros((1, 2, 6)))
    model.backward(np.ones_like(logits))
    with pytest.raises(RuntimeError, match="twice"):
        model.backward(np.ones_like(logits))
    model.eval()
    model.forward([[1, 2]], [[3]])
    with pytest.raises(RuntimeError, match="eval-mode"):
        model.backward(np.ones_like(logits))


def test_bad_constructor_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="attention must be one of dot, general, additive or None"):
        mt.Seq2Seq(7, 6, 3, 4, attention="cosine")
    with pytest.raises(ValueError, match="unknown cell 'lstn'"):
        mt.Seq2Seq(7, 6, 3, 4, cell="lstn")
    with pytest.raises(TypeError, match="Seq2Seq: src_vocab must be an int"):
        mt.Seq2Seq(7.0, 6, 3, 4)  # type: ignore[arg-type]
