"""Attention: scores, masking, gradients against a float64 PyTorch reference, and its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCORES = ("dot", "general", "additive")


def load_case(case: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "attention.npz", allow_pickle=False) as archive:
        prefix = case + "."
        return {k[len(prefix) :]: archive[k] for k in archive.files if k.startswith(prefix)}


def attention_from(score: str, case: dict[str, np.ndarray]) -> mt.Attention:
    hq, hk = case["query"].shape[-1], case["keys"].shape[-1]
    size = case["param.v"].shape[0] if score == "additive" else None
    attention = mt.Attention(hq, hk, score, attention_size=size, dtype=np.float64)
    params = {k[len("param.") :]: v for k, v in case.items() if k.startswith("param.")}
    attention.load_state_dict(params)
    return attention


@pytest.mark.parametrize("lengths", [False, True], ids=["full", "key_lengths"])
@pytest.mark.parametrize("score", SCORES)
def test_attention_matches_torch_reference(score: str, lengths: bool) -> None:
    case = load_case(score + ("_lengths" if lengths else ""))
    attention = attention_from(score, case)
    context = attention.forward(case["query"], case["keys"], case.get("key_lengths"))
    np.testing.assert_allclose(context, case["context"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(attention.weights, case["weights"], rtol=0, atol=1e-10)
    grad_query, grad_keys = attention.backward(case["grad_context"])
    np.testing.assert_allclose(grad_query, case["grad_query"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(grad_keys, case["grad_keys"], rtol=0, atol=1e-10)
    for name, parameter in attention.named_parameters():
        np.testing.assert_allclose(parameter.grad, case["grad." + name], rtol=0, atol=1e-10)


def make_inputs(score: str, rng: np.random.Generator) -> tuple[mt.Attention, Any, Any]:
    key_size = 4 if score == "dot" else 3
    attention = mt.Attention(4, key_size, score, seed=0, dtype=np.float64)
    return (
        attention,
        rng.standard_normal((2, 3, 4)),
        rng.standard_normal((2, 5, key_size)),
    )


@pytest.mark.parametrize("score", SCORES)
def test_attention_passes_gradcheck_with_and_without_key_lengths(
    score: str, rng: np.random.Generator
) -> None:
    attention, query, keys = make_inputs(score, rng)
    assert mt.gradcheck(attention, query, keys)
    assert mt.gradcheck(attention, query, keys, np.array([5, 2]))


@pytest.mark.parametrize("score", SCORES)
def test_padded_keys_get_exactly_zero_weight_and_gradient(
    score: str, rng: np.random.Generator
) -> None:
    attention, query, keys = make_inputs(score, rng)
    keys[1, 2:] = 1e3  # garbage past the length must not matter
    context = attention.forward(query, keys, np.array([5, 2]))
    assert attention.weights is not None
    assert np.all(attention.weights[1, :, 2:] == 0.0)
    np.testing.assert_allclose(attention.weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    _, grad_keys = attention.backward(rng.standard_normal(context.shape))
    assert np.all(grad_keys[1, 2:] == 0.0)
    # and the valid part equals the same sample run alone on its valid keys
    alone = attention.forward(query[1:], keys[1:, :2])
    np.testing.assert_allclose(context[1:], alone, rtol=0, atol=1e-12)


def test_weights_are_kept_read_only(rng: np.random.Generator) -> None:
    attention, query, keys = make_inputs("general", rng)
    attention.forward(query, keys)
    assert attention.weights is not None and attention.weights.shape == (2, 3, 5)
    with pytest.raises(ValueError, match="read-only"):
        attention.weights[0, 0, 0] = 1.0


def test_float32_attention_stays_float32(rng: np.random.Generator) -> None:
    for score in SCORES:
        attention = mt.Attention(4, 4, score, seed=0, dtype=np.float32)
        query = rng.standard_normal((2, 3, 4)).astype(np.float32)
        context = attention.forward(query, rng.standard_normal((2, 5, 4)).astype(np.float32))
        grads = attention.backward(np.ones_like(context))
        assert context.dtype == np.float32
        assert all(g.dtype == np.float32 for g in grads)


def test_dot_score_with_unequal_sizes_is_refused_at_construction() -> None:
    with pytest.raises(
        ValueError, match=r"Attention: the 'dot' score needs query_size == key_size"
    ):
        mt.Attention(4, 3, "dot")


def test_unknown_score_and_misplaced_attention_size_are_refused() -> None:
    with pytest.raises(ValueError, match="score must be one of dot, general, additive"):
        mt.Attention(4, 4, "cosine")
    with pytest.raises(ValueError, match="attention_size applies to the 'additive' score only"):
        mt.Attention(4, 4, "general", attention_size=3)


@pytest.mark.parametrize("bad", [[0, 2], [6, 2], [5]])
def test_key_lengths_outside_one_to_steps_are_refused_before_any_state_changes(
    bad: list[int], rng: np.random.Generator
) -> None:
    attention, query, keys = make_inputs("additive", rng)
    attention.forward(query, keys)
    before = attention.weights
    with pytest.raises(ValueError, match="Attention: key_lengths"):
        attention.forward(query, keys, np.array(bad))
    assert attention.weights is before


@pytest.mark.parametrize(
    ("query_shape", "keys_shape", "message"),
    [
        ((2, 3), (2, 5, 4), "query must have 3 dimensions"),
        ((2, 3, 5), (2, 5, 4), "query must have 4 features"),
        ((2, 3, 4), (2, 5, 3), "keys must have 4 features"),
        ((2, 3, 4), (3, 5, 4), "same batch size, got 2 and 3"),
    ],
)
def test_bad_shapes_are_refused_naming_the_input(
    query_shape: tuple[int, ...], keys_shape: tuple[int, ...], message: str
) -> None:
    attention = mt.Attention(4, 4, "dot")
    with pytest.raises(ValueError, match=message):
        attention.forward(np.zeros(query_shape), np.zeros(keys_shape))


def test_backward_before_forward_and_wrong_gradient_shape_are_errors(
    rng: np.random.Generator,
) -> None:
    attention, query, keys = make_inputs("dot", rng)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        attention.backward(np.zeros((2, 3, 4)))
    attention.forward(query, keys)
    with pytest.raises(ValueError, match="grad_output must have shape"):
        attention.backward(np.zeros((2, 3, 5)))
