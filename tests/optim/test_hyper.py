"""Hyper-parameters declared once: derived signatures, checks at assignment and at step."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import optim
from minitorch_rnn.optim.hyper import hyper


def _param(seed: int = 0) -> mt.Parameter:
    parameter = mt.Parameter(np.random.default_rng(seed).standard_normal(4))
    parameter.grad[...] = np.random.default_rng(seed + 1).standard_normal(4)
    return parameter


def test_constructor_signatures_come_from_the_declarations() -> None:
    assert str(inspect.signature(optim.SGD)) == (
        "(params, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0)"
    )
    assert str(inspect.signature(optim.AdamW)) == (
        "(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)"
    )
    assert list(inspect.signature(optim.StepLR).parameters) == ["optimizer", "step_size", "gamma"]
    assert set(optim.Adam([_param()]).state_dict()) >= set(optim.Adam.hyper_fields)


def test_a_missing_or_unknown_constructor_argument_is_a_type_error_naming_the_class() -> None:
    with pytest.raises(TypeError, match="SGD: missing a required argument: 'lr'"):
        optim.SGD([_param()])
    with pytest.raises(TypeError, match="AdamW: got an unexpected keyword argument 'decoupled'"):
        optim.AdamW([_param()], decoupled=False)
    with pytest.raises(TypeError, match="SGD: multiple values for argument 'lr'"):
        optim.SGD([_param()], 0.1, lr=0.2)
    with pytest.raises(TypeError, match="SGD: takes 6 positional arguments but 7 were given"):
        optim.SGD([_param()], 0.1, 0.0, 0.0, False, 0.0, 1.0)


def test_constructor_arguments_bind_by_position_or_name_and_take_declared_defaults() -> None:
    by_position = optim.SGD([_param()], 0.1, 0.9, 0.0, True)
    by_name = optim.SGD(nesterov=True, momentum=0.9, lr=0.1, params=[_param()])
    assert by_position.hyper_parameters() == by_name.hyper_parameters()
    assert by_name.hyper_parameters() == {
        "lr": 0.1,
        "momentum": 0.9,
        "dampening": 0.0,
        "nesterov": True,
        "weight_decay": 0.0,
    }
    assert optim.AdamW([_param()]).decoupled is True  # init=False: the declared default


@pytest.mark.parametrize(
    ("make", "name", "value", "error", "message"),
    [
        (lambda p: optim.SGD(p, lr=0.1), "lr", -5.0, ValueError, "SGD: lr must be >= 0"),
        (lambda p: optim.SGD(p, lr=0.1), "lr", "fast", TypeError, "SGD: lr must be a real"),
        (
            lambda p: optim.Adam(p),
            "betas",
            (0.9, 2.0),
            ValueError,
            r"betas\[1\] must be in \[0, 1\)",
        ),
        (lambda p: optim.RMSprop(p), "alpha", 1.5, ValueError, r"alpha must be in \[0, 1\]"),
        (lambda p: optim.Adagrad(p), "eps", float("nan"), ValueError, "eps must be finite"),
        (lambda p: optim.StepLR(optim.SGD(p, lr=0.1), 2), "gamma", 0.0, ValueError, "gamma"),
        (
            lambda p: optim.ReduceLROnPlateau(optim.SGD(p, lr=0.1)),
            "mode",
            "lowest",
            ValueError,
            "mode must be 'min' or 'max'",
        ),
    ],
)
def test_assigning_a_bad_hyper_parameter_raises_at_once_and_keeps_the_old_value(
    make: Any, name: str, value: Any, error: type[Exception], message: str
) -> None:
    target = make([_param()])
    old = getattr(target, name)
    with pytest.raises(error, match=message):
        setattr(target, name, value)
    assert getattr(target, name) == old


def test_a_bad_combination_assigned_later_is_refused_by_step_before_anything_moves() -> None:
    parameter = _param()
    optimizer = optim.SGD([parameter], lr=0.1, momentum=0.9)
    optimizer.step()
    data, state = parameter.data.copy(), optimizer.state_dict()
    optimizer.dampening = 0.5
    optimizer.nesterov = True  # each value is fine alone; together they are not
    with pytest.raises(ValueError, match="nesterov=True requires"):
        optimizer.step()
    np.testing.assert_array_equal(parameter.data, data)
    assert optimizer.step_count == 1
    np.testing.assert_array_equal(
        optimizer.state[0]["momentum_buffer"], state["state.0.momentum_buffer"]
    )


def test_a_user_optimizer_declares_its_hyper_parameters_the_same_way() -> None:
    class SignSGD(optim.Optimizer):
        lr: float = hyper(default=0.01, minimum=0.0)
        scale: float = hyper(default=1.0, above=0.0)

        def _update(
            self, data: Any, grad: Any, state: Any, hyper: Any, step: int, out: Any
        ) -> None:
            np.subtract(data, hyper["lr"] * hyper["scale"] * np.sign(grad), out=out["weights"])

    parameter = _param()
    before = parameter.data.copy()
    optimizer = SignSGD([parameter], scale=2.0)
    assert str(inspect.signature(SignSGD)) == "(params, lr=0.01, scale=1.0)"
    optimizer.step()
    np.testing.assert_allclose(parameter.data, before - 0.02 * np.sign(parameter.grad))
    with pytest.raises(ValueError, match=r"SignSGD: scale must be > 0, got 0\.0"):
        optimizer.scale = 0.0
    assert set(optimizer.state_dict()) == {"lr", "scale", "step"}


def test_a_hyper_parameter_of_an_unsupported_type_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"Odd.shape: a hyper-parameter is annotated with one of"):

        class Odd(optim.Optimizer):
            shape: list[int] = hyper(default=[1])
