"""Dense: ``y = x @ weight.T + bias`` on the last axis, its gradients and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_rnn as mt


def make_dense(in_features: int, out_features: int, bias: bool = True) -> mt.Dense:
    """A float64 Dense with non-zero biases (zero biases would hide a missing bias gradient)."""
    dense = mt.Dense(in_features, out_features, bias=bias, seed=0, dtype=np.float64)
    if dense.bias is not None:
        dense.bias.data = np.random.default_rng(1).uniform(0.5, 1.5, out_features)
    return dense


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,)], ids=["(B, F)", "(B, T, F)", "1-D"])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_passes_gradcheck(
    shape: tuple[int, ...], bias: bool, rng: np.random.Generator
) -> None:
    assert mt.gradcheck(make_dense(3, 2, bias), rng.standard_normal(shape))


@settings(max_examples=15, deadline=None)
@given(
    leading=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    in_features=st.integers(1, 4),
    out_features=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_dense_passes_gradcheck_for_any_shape(
    leading: list[int], in_features: int, out_features: int, seed: int
) -> None:
    x = np.random.default_rng(seed).standard_normal((*leading, in_features))
    assert mt.gradcheck(make_dense(in_features, out_features), x, seed=seed)


def test_dense_computes_the_affine_map_with_pytorch_layout(rng: np.random.Generator) -> None:
    dense = make_dense(3, 2)
    assert dense.weight.shape == (2, 3) and dense.bias is not None and dense.bias.shape == (2,)
    x = rng.standard_normal((4, 5, 3))
    expected = np.einsum("btf,of->bto", x, dense.weight.data) + dense.bias.data
    np.testing.assert_allclose(dense.forward(x), expected, rtol=1e-12)


def test_dense_gradients_match_the_closed_form(rng: np.random.Generator) -> None:
    dense = make_dense(3, 2)
    x, grad_y = rng.standard_normal((4, 5, 3)), rng.standard_normal((4, 5, 2))
    dense.forward(x)
    grad_x = dense.backward(grad_y)
    np.testing.assert_allclose(grad_x, grad_y @ dense.weight.data, rtol=1e-12)
    np.testing.assert_allclose(dense.weight.grad, np.einsum("bto,btf->of", grad_y, x), rtol=1e-12)
    assert dense.bias is not None
    np.testing.assert_allclose(dense.bias.grad, grad_y.sum(axis=(0, 1)), rtol=1e-12)


def test_dense_accumulates_gradients_over_calls(rng: np.random.Generator) -> None:
    dense = make_dense(3, 2)
    x, grad_y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    dense.forward(x)
    dense.backward(grad_y)
    once = dense.weight.grad.copy()
    dense.forward(x)
    dense.backward(grad_y)
    np.testing.assert_allclose(dense.weight.grad, 2 * once, rtol=1e-12)


def test_dense_without_bias_has_only_a_weight() -> None:
    dense = mt.Dense(3, 2, bias=False, seed=0)
    assert dense.bias is None
    assert [name for name, _ in dense.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(dense.forward(np.zeros((1, 3))), np.zeros((1, 2)))


def test_dense_accepts_integer_and_boolean_input() -> None:
    dense = mt.Dense(2, 1, seed=0)
    np.testing.assert_allclose(dense.forward(np.array([[1, 0]])), dense.forward([[True, False]]))


@pytest.mark.parametrize("x", [np.ones(()), np.ones((4, 2)), np.ones((4, 3, 4))])
def test_dense_rejects_input_without_in_features_on_the_last_axis(x: np.ndarray) -> None:
    with pytest.raises(ValueError, match="Dense: input must have"):
        mt.Dense(3, 2, seed=0).forward(x)


@pytest.mark.parametrize("sizes", [(0, 2), (3, 0), (-1, 2), (3, -4)])
def test_dense_rejects_non_positive_sizes(sizes: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=r"Dense: (in|out)_features must be >= 1"):
        mt.Dense(*sizes)


@pytest.mark.parametrize(
    "sizes, name",
    [((3.7, 2), "in_features"), ((3, 2.0), "out_features"), ((True, 2), "in_features")],
    ids=["float-in", "integral-float-out", "bool-in"],
)
def test_dense_sizes_must_be_integers_not_floats_or_bools(
    sizes: tuple[object, object], name: str
) -> None:
    with pytest.raises(TypeError, match=f"Dense: {name} must be an int"):
        mt.Dense(*sizes)  # type: ignore[arg-type]


def test_dense_accepts_numpy_integer_sizes() -> None:
    assert mt.Dense(np.int64(3), np.int32(2)).weight.shape == (2, 3)
