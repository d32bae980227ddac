"""Tanh, Logistic (Sigmoid), ReLU and Softmax: values, gradients, stability and errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minitorch_rnn as mt

REFERENCE: dict[str, tuple[Callable[[], mt.Module], Callable[[np.ndarray], np.ndarray]]] = {
    "Tanh": (mt.Tanh, np.tanh),
    "Logistic": (mt.Logistic, lambda x: 1.0 / (1.0 + np.exp(-x))),
    "ReLU": (mt.ReLU, lambda x: np.maximum(x, 0.0)),
}


def test_sigmoid_is_an_alias_of_logistic() -> None:
    assert mt.Sigmoid is mt.Logistic


@pytest.mark.parametrize("name", list(REFERENCE))
def test_activation_matches_its_formula(name: str, rng: np.random.Generator) -> None:
    make, formula = REFERENCE[name]
    x = rng.standard_normal((3, 4, 5)) * 3
    np.testing.assert_allclose(make().forward(x), formula(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "make", [mt.Tanh, mt.Logistic, mt.Sigmoid], ids=["Tanh", "Logistic", "Sigmoid"]
)
def test_smooth_activation_passes_gradcheck(
    make: Callable[[], mt.Module], rng: np.random.Generator
) -> None:
    assert mt.gradcheck(make(), rng.standard_normal((3, 4)) * 2)


def test_relu_passes_gradcheck_away_from_zero(rng: np.random.Generator) -> None:
    # The kink at 0 has no derivative; keep every input at least 0.1 away from it.
    magnitude = rng.uniform(0.1, 2.0, (3, 4))
    x = magnitude * rng.choice([-1.0, 1.0], (3, 4))
    assert mt.gradcheck(mt.ReLU(), x)


def test_relu_gradient_at_zero_is_zero() -> None:
    relu = mt.ReLU()
    relu.forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(relu.backward(np.ones(3)), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_softmax_passes_gradcheck_on_any_axis(axis: int, rng: np.random.Generator) -> None:
    assert mt.gradcheck(mt.Softmax(axis=axis), rng.standard_normal((2, 3, 4)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_matches_its_formula(axis: int, rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4))
    expected = np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(mt.Softmax(axis=axis).forward(x), expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
        elements=st.floats(-1e4, 1e4),
    ),
    axis_choice=st.integers(0, 2),
)
def test_softmax_is_a_distribution_along_its_axis(x: np.ndarray, axis_choice: int) -> None:
    axis = axis_choice % x.ndim
    s = mt.Softmax(axis=axis).forward(x)
    assert np.all(s >= 0) and np.all(s <= 1)
    np.testing.assert_allclose(s.sum(axis=axis), 1.0, rtol=1e-12)


def test_softmax_rejects_an_axis_outside_the_input() -> None:
    with pytest.raises(ValueError, match=r"Softmax: axis 2 is out of range for shape \(3, 4\)"):
        mt.Softmax(axis=2).forward(np.zeros((3, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [mt.Tanh, mt.Logistic, mt.ReLU, mt.Softmax, lambda: mt.Softmax(axis=0)],
    ids=["Tanh", "Logistic", "ReLU", "Softmax", "Softmax axis 0"],
)
def test_activation_is_finite_and_silent_on_huge_inputs(
    make: Callable[[], mt.Module], dtype: type
) -> None:
    x: np.ndarray = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    layer = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer.forward(x)
        grad_x = layer.backward(np.ones_like(x))
    assert y.dtype == dtype and grad_x.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(grad_x).all()


def test_saturated_activations_reach_their_limits() -> None:
    x = np.array([-1e4, 1e4])
    np.testing.assert_array_equal(mt.Logistic().forward(x), [0.0, 1.0])
    np.testing.assert_array_equal(mt.Tanh().forward(x), [-1.0, 1.0])
    np.testing.assert_array_equal(mt.Softmax().forward(x), [0.0, 1.0])


def test_activation_backward_uses_the_last_forward(rng: np.random.Generator) -> None:
    tanh = mt.Tanh()
    tanh.forward(rng.standard_normal(3))
    x = rng.standard_normal(3)
    tanh.forward(x)
    np.testing.assert_allclose(tanh.backward(np.ones(3)), 1 - np.tanh(x) ** 2, rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [mt.Tanh, mt.Logistic, mt.ReLU, mt.Softmax],
    ids=["Tanh", "Logistic", "ReLU", "Softmax"],
)
def test_editing_the_output_in_place_cannot_corrupt_the_gradient(
    make: Callable[[], mt.Module], rng: np.random.Generator
) -> None:
    # The output is the backward cache: it is handed out read-only, so an in-place edit fails
    # loudly and the gradient stays that of the forward input.
    x = rng.standard_normal((3, 4))
    grad = rng.standard_normal((3, 4))
    reference = make()
    reference.forward(x)
    expected = reference.backward(grad)
    layer = make()
    y = layer.forward(x)
    with pytest.raises(ValueError, match="read-only"):
        y *= 2.0
    np.testing.assert_array_equal(layer.backward(grad), expected)
    edited = y.copy()
    edited *= 2.0  # a copy is the caller's to edit
    np.testing.assert_array_equal(layer.backward(grad), expected)


@pytest.mark.parametrize("axis", [1.5, "0", True], ids=["float", "string", "bool"])
def test_softmax_axis_must_be_an_int(axis: object) -> None:
    with pytest.raises(TypeError, match="Softmax: axis must be an int"):
        mt.Softmax(axis=axis)  # type: ignore[arg-type]


def test_softmax_of_an_empty_class_axis_is_empty_forward_and_backward() -> None:
    layer = mt.Softmax()
    assert layer.forward(np.zeros((2, 0))).shape == (2, 0)
    assert layer.backward(np.zeros((2, 0))).shape == (2, 0)
