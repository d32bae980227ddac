"""Gradient clipping by value and by global norm."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import optim


def params_with_grads(*grads: np.ndarray, dtype: type = np.float64) -> list[mt.Parameter]:
    params = []
    for grad in grads:
        param = mt.Parameter(np.zeros_like(grad), dtype=dtype)
        param.grad[...] = grad
        params.append(param)
    return params


def global_norm(params: list[mt.Parameter], order: float = 2.0) -> float:
    flat = np.concatenate([p.grad.ravel().astype(np.float64) for p in params])
    return float(np.linalg.norm(flat, ord=order))


RNG = np.random.default_rng(0)
GRADS = (RNG.normal(size=(3, 4)) * 5, RNG.normal(size=(6,)) * 5)


# -- by value ----------------------------------------------------------------------------------


def test_clip_grad_value_clips_every_entry_in_place() -> None:
    params = params_with_grads(*GRADS)
    arrays = [p.grad for p in params]
    expected = [np.clip(g, -1.5, 1.5) for g in GRADS]
    optim.clip_grad_value(params, 1.5)
    for param, array, want in zip(params, arrays, expected, strict=True):
        assert param.grad is array
        np.testing.assert_array_equal(array, want)


def test_clip_grad_value_keeps_float32() -> None:
    params = params_with_grads(*GRADS, dtype=np.float32)
    optim.clip_grad_value(params, np.float64(0.5))
    assert all(p.grad.dtype == np.float32 for p in params)
    assert max(np.abs(p.grad).max() for p in params) == np.float32(0.5)


def test_clip_grad_value_accepts_a_single_parameter() -> None:
    (param,) = params_with_grads(np.array([-3.0, 0.2, 3.0]))
    optim.clip_grad_value(param, 1.0)
    np.testing.assert_array_equal(param.grad, [-1.0, 0.2, 1.0])


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_clip_grad_value_rejects_invalid_limit_without_clipping(bad: float) -> None:
    params = params_with_grads(*GRADS)
    with pytest.raises(ValueError, match="clip_value"):
        optim.clip_grad_value(params, bad)
    np.testing.assert_array_equal(params[0].grad, GRADS[0])


# -- by norm -----------------------------------------------------------------------------------


def test_clip_grad_norm_returns_norm_before_clipping_and_clips_to_max_norm() -> None:
    params = params_with_grads(*GRADS)
    before = global_norm(params)
    assert before > 1.0
    returned = optim.clip_grad_norm(params, 1.0)
    assert isinstance(returned, float)
    assert returned == pytest.approx(before, rel=1e-12)
    assert global_norm(params) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_uses_torch_scale_factor_and_keeps_direction() -> None:
    params = params_with_grads(*GRADS)
    norm = optim.clip_grad_norm(params, 2.0)
    scale = 2.0 / (norm + 1e-6)
    for param, grad in zip(params, GRADS, strict=True):
        np.testing.assert_allclose(param.grad, grad * scale, rtol=1e-14)


def test_clip_grad_norm_leaves_small_gradients_unchanged() -> None:
    params = params_with_grads(np.array([0.3, 0.4]))
    assert optim.clip_grad_norm(params, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad, [0.3, 0.4])


@pytest.mark.parametrize("order", [1.0, 3.0, math.inf])
def test_clip_grad_norm_supports_other_norm_orders(order: float) -> None:
    params = params_with_grads(*GRADS)
    before = global_norm(params, order)
    assert optim.clip_grad_norm(params, 1.0, norm_type=order) == pytest.approx(before)
    assert global_norm(params, order) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_keeps_float32_and_does_not_overflow() -> None:
    # Squares of 1e30 overflow float32; the norm is accumulated in float64.
    params = params_with_grads(np.full(4, 1e30), dtype=np.float32)
    norm = optim.clip_grad_norm(params, 1.0)
    assert norm == pytest.approx(2e30, rel=1e-6)
    assert params[0].grad.dtype == np.float32
    np.testing.assert_allclose(params[0].grad, np.full(4, 0.5), rtol=1e-5)


def test_clip_grad_norm_counts_a_duplicated_parameter_once() -> None:
    params = params_with_grads(np.array([3.0, 4.0]))
    assert optim.clip_grad_norm(params + params, 100.0) == pytest.approx(5.0)


def test_clip_grad_norm_of_no_parameters_is_zero() -> None:
    assert optim.clip_grad_norm([], 1.0) == 0.0


@pytest.mark.parametrize("bad_value", [math.nan, math.inf])
def test_non_finite_norm_is_returned_and_gradients_are_left_unchanged(bad_value: float) -> None:
    params = params_with_grads(np.array([1.0, bad_value]), np.array([2.0, 3.0]))
    norm = optim.clip_grad_norm(params, 1.0)
    assert not math.isfinite(norm)
    np.testing.assert_array_equal(params[0].grad, [1.0, bad_value])
    np.testing.assert_array_equal(params[1].grad, [2.0, 3.0])


def test_non_finite_norm_raises_when_asked_and_changes_nothing() -> None:
    params = params_with_grads(np.array([1.0, math.inf]))
    with pytest.raises(ValueError, match="non-finite"):
        optim.clip_grad_norm(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad, [1.0, math.inf])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(max_norm=-1.0), "max_norm"),
        (dict(max_norm=math.nan), "max_norm"),
        (dict(max_norm=1.0, norm_type=0.0), "norm_type"),
        (dict(max_norm=1.0, norm_type=-2.0), "norm_type"),
        (dict(max_norm=1.0, norm_type=math.nan), "norm_type"),
    ],
)
def test_clip_grad_norm_rejects_invalid_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.clip_grad_norm(params_with_grads(*GRADS), **kwargs)


def test_clipping_rejects_a_module_and_non_parameters() -> None:
    with pytest.raises(TypeError, match=r"parameters\(\)"):
        optim.clip_grad_norm(mt.Dense(2, 2), 1.0)
    with pytest.raises(TypeError, match="Parameter"):
        optim.clip_grad_value([np.zeros(3)], 1.0)


def test_clipping_ignores_frozen_parameters() -> None:
    trained, frozen = mt.Parameter(np.zeros(2)), mt.Parameter(np.zeros(2), requires_grad=False)
    trained.grad[...] = [3.0, 4.0]
    frozen.grad[...] = [100.0, 0.0]
    norm = mt.clip_grad_norm([trained, frozen], max_norm=1.0)
    assert norm == pytest.approx(5.0)  # the frozen gradient is not counted
    assert np.allclose(trained.grad, [0.6, 0.8], atol=1e-6)
    assert np.array_equal(frozen.grad, [100.0, 0.0])
    mt.clip_grad_value([trained, frozen], 0.1)
    assert np.array_equal(frozen.grad, [100.0, 0.0])
    assert np.allclose(trained.grad, [0.1, 0.1])
