"""``mt.functional``: activations and their derivatives from the output, in place on request."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import functional as F

PAIRS = {
    "sigmoid": (F.sigmoid, F.sigmoid_derivative),
    "tanh": (F.tanh, F.tanh_derivative),
    "hard_sigmoid": (F.hard_sigmoid, F.hard_sigmoid_derivative),
    "relu": (F.relu, F.relu_derivative),
}
REFERENCE = {
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "tanh": np.tanh,
    "hard_sigmoid": lambda a: np.clip(0.2 * a + 0.5, 0, 1),
    "relu": lambda a: np.maximum(a, 0),
}


def _away_from_kinks(rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(-4, 4, size=200)
    kinks = np.array([-2.5, 0.0, 2.5])
    return a[np.abs(a[:, None] - kinks).min(axis=1) > 1e-3]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_function_matches_its_definition(name: str) -> None:
    a = np.random.default_rng(0).uniform(-4, 4, size=100)
    function, _ = PAIRS[name]
    np.testing.assert_allclose(function(a), REFERENCE[name](a), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_derivative_from_the_output_matches_central_differences(name: str) -> None:
    a = _away_from_kinks(np.random.default_rng(1))
    function, derivative = PAIRS[name]
    eps = 1e-6
    numeric = (function(a + eps) - function(a - eps)) / (2 * eps)
    np.testing.assert_allclose(derivative(function(a)), numeric, rtol=1e-6, atol=1e-9)


def test_hard_sigmoid_derivative_is_a_fifth_strictly_inside_and_zero_at_and_beyond_the_kinks() -> (
    None
):
    a = np.array([-3.0, -2.5, -2.4999, 0.0, 2.4999, 2.5, 3.0])
    np.testing.assert_array_equal(
        F.hard_sigmoid_derivative(F.hard_sigmoid(a)), [0, 0, 0.2, 0.2, 0.2, 0, 0]
    )


def test_relu_derivative_at_zero_is_zero_as_in_pytorch() -> None:
    assert F.relu_derivative(F.relu(np.array([0.0])))[0] == 0.0


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_writes_in_place_and_the_dtype_is_kept(name: str, dtype: type) -> None:
    function, derivative = PAIRS[name]
    a = np.linspace(-3, 3, 13).astype(dtype)
    expected = function(a.copy())
    assert expected.dtype == dtype
    returned = function(a, out=a)
    assert returned is a
    np.testing.assert_array_equal(a, expected)
    scratch = np.empty_like(a)
    assert derivative(a, out=scratch) is scratch and scratch.dtype == dtype
    np.testing.assert_array_equal(scratch, derivative(a))


def test_sigmoid_is_stable_at_extremes_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            y = F.sigmoid(np.array([-1e4, -800.0, 0.0, 800.0, 1e4], dtype=dtype))
            np.testing.assert_array_equal(y, np.array([0, 0, 0.5, 1, 1], dtype=dtype))


def test_functional_is_reachable_as_mt_functional() -> None:
    assert mt.functional is F
    assert set(F.__all__) == {
        name for pair in PAIRS.values() for name in (p.__name__ for p in pair)
    } | {"softmax", "log_softmax", "softmax_backward"}


def test_softmax_sums_to_one_and_log_softmax_is_its_log_at_extreme_logits() -> None:
    logits = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    s = F.softmax(logits)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0)
    np.testing.assert_allclose(F.log_softmax(logits)[1], np.log(s[1]))
    assert F.log_softmax(logits)[0, 2] == -2000.0  # no log(0) = -inf


def test_softmax_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    a, grad = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    eps = 1e-6
    numeric = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = ((F.softmax(plus) - F.softmax(minus)) * grad).sum() / (2 * eps)
    np.testing.assert_allclose(F.softmax_backward(F.softmax(a), grad), numeric, atol=1e-8)


def test_softmax_over_an_empty_axis_is_empty() -> None:
    assert F.softmax(np.zeros((2, 0))).shape == (2, 0)
    assert F.log_softmax(np.zeros((2, 0))).shape == (2, 0)
