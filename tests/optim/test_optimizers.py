"""Optimisers: PyTorch's update rules, dtype preservation, validation and exact resumption."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import optim

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES: dict[str, dict[str, Any]] = json.loads((FIXTURES / "optim_cases.json").read_text())
REFERENCE = dict(np.load(FIXTURES / "optim.npz", allow_pickle=False))
NUM_STEPS = REFERENCE["grads"].shape[0]

# One configuration per optimiser that exercises every optional branch of its update.
FULL_OPTIONS: dict[str, tuple[type[optim.Optimizer], dict[str, Any]]] = {
    "SGD": (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "SGD-dampening": (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "Adam": (optim.Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    "AdamW": (optim.AdamW, dict(lr=0.01, amsgrad=True)),
    "RMSprop": (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    "Adagrad": (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
}


def make_optimizer(case: str, params: list[mt.Parameter]) -> optim.Optimizer:
    spec = CASES[case]
    optimizer_class = getattr(optim, spec["optimizer"])
    return optimizer_class(params, **spec["kwargs"])


def run_steps(optimizer: optim.Optimizer, param: mt.Parameter, grads: np.ndarray) -> list:
    """Take one step per gradient in ``grads``; return the parameter after each."""
    history = []
    for grad in grads:
        param.grad[...] = grad
        optimizer.step()
        history.append(param.data.copy())
    return history


def npz_round_trip(state: dict[str, Any]) -> dict[str, np.ndarray]:
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


# -- PyTorch reference values -----------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_updates_match_torch_reference_for_every_case(case: str) -> None:
    param = mt.Parameter(REFERENCE["p0"], dtype=np.float64)
    optimizer = make_optimizer(case, [param])
    history = run_steps(optimizer, param, REFERENCE["grads"])
    np.testing.assert_allclose(np.stack(history), REFERENCE[case], rtol=1e-10, atol=0)


def test_fixture_covers_every_optimizer_class() -> None:
    used = {spec["optimizer"] for spec in CASES.values()}
    assert used == {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}


# -- dtype and in-place behaviour --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FULL_OPTIONS))
def test_float32_parameters_and_states_stay_float32(name: str) -> None:
    optimizer_class, kwargs = FULL_OPTIONS[name]
    param = mt.Parameter(REFERENCE["p0"], dtype=np.float32)
    # numpy 2 would promote float32 * np.float64 to float64: the optimiser must not let it.
    kwargs = {**kwargs, "lr": np.float64(kwargs["lr"])}
    optimizer = optimizer_class([param], **kwargs)
    optimizer.lr = np.float64(optimizer.lr)
    run_steps(optimizer, param, REFERENCE["grads"].astype(np.float32))
    assert param.data.dtype == np.float32
    assert param.grad.dtype == np.float32
    states = [value for key, value in optimizer.state_dict().items() if key.startswith("state.")]
    assert states, "every configuration here keeps per-parameter state"
    assert all(value.dtype == np.float32 for value in states)


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_updates_stay_close_to_float64_reference(case: str) -> None:
    param = mt.Parameter(REFERENCE["p0"], dtype=np.float32)
    optimizer = make_optimizer(case, [param])
    history = run_steps(optimizer, param, REFERENCE["grads"].astype(np.float32))
    np.testing.assert_allclose(np.stack(history), REFERENCE[case], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(FULL_OPTIONS))
def test_step_updates_the_same_array_object_in_place(name: str) -> None:
    optimizer_class, kwargs = FULL_OPTIONS[name]
    param = mt.Parameter(REFERENCE["p0"])
    array = param.data
    before = array.copy()
    optimizer = optimizer_class([param], **kwargs)
    param.grad[...] = REFERENCE["grads"][0]
    optimizer.step()
    assert param.data is array
    assert not np.array_equal(array, before)


def test_layer_sees_the_update_through_its_parameter() -> None:
    layer = mt.Dense(4, 3, seed=0, dtype=np.float64)
    x = np.ones((2, 4))
    before = layer.forward(x)
    optimizer = optim.SGD(layer.parameters(), lr=0.5)
    layer.backward(np.ones((2, 3)))
    optimizer.step()
    assert not np.allclose(layer.forward(x), before)


def test_parameter_with_zero_gradient_is_still_updated_by_weight_decay() -> None:
    param = mt.Parameter(np.ones(3), dtype=np.float64)
    optim.SGD([param], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_array_equal(param.data, np.full(3, 1.0 - 0.1 * 0.5))


def test_changing_lr_attribute_takes_effect_at_next_step() -> None:
    param = mt.Parameter(np.zeros(2), dtype=np.float64)
    optimizer = optim.SGD([param], lr=1.0)
    param.grad[...] = 1.0
    optimizer.lr = 0.25
    optimizer.step()
    np.testing.assert_array_equal(param.data, [-0.25, -0.25])


def test_state_follows_the_model_when_converted_to_float64() -> None:
    model = mt.Dense(3, 2, seed=0, dtype=np.float32)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for param in model.parameters():
        param.grad[...] = 1.0
    optimizer.step()
    model.to(np.float64)
    for param in model.parameters():
        param.grad[...] = 1.0
    optimizer.step()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert all(value.dtype == np.float64 for value in optimizer.state_dict().values() if value.ndim)


def test_step_with_misshapen_gradient_raises_and_updates_nothing() -> None:
    first = mt.Parameter(np.zeros(2), dtype=np.float64)
    second = mt.Parameter(np.zeros(3), dtype=np.float64)
    optimizer = optim.Adam([first, second], lr=0.1)
    first.grad[...] = 1.0
    second.grad = np.ones(4)
    with pytest.raises(ValueError, match="parameter 1"):
        optimizer.step()
    np.testing.assert_array_equal(first.data, [0.0, 0.0])
    assert optimizer.step_count == 0
    np.testing.assert_array_equal(optimizer.state[0]["exp_avg"], [0.0, 0.0])


def test_zero_grad_zeroes_every_gradient_in_place() -> None:
    params = [mt.Parameter(np.ones((2, 2))), mt.Parameter(np.ones(3))]
    grads = [p.grad for p in params]
    for grad in grads:
        grad[...] = 5.0
    optim.SGD(params, lr=0.1).zero_grad()
    for param, grad in zip(params, grads, strict=True):
        assert param.grad is grad
        assert not grad.any()


# -- the parameter list ------------------------------------------------------------------------


def test_accepts_module_parameters_and_drops_duplicates() -> None:
    model = mt.Sequential(mt.Dense(2, 3, seed=0), mt.Tanh(), mt.Dense(3, 1, seed=1))
    params = model.parameters()
    optimizer = optim.SGD(params + params[:2], lr=0.1)
    assert len(optimizer.params) == len(params)
    assert all(a is b for a, b in zip(optimizer.params, params, strict=True))


def test_duplicated_parameter_is_updated_once_per_step() -> None:
    param = mt.Parameter(np.zeros(2), dtype=np.float64)
    optimizer = optim.SGD([param, param], lr=1.0)
    param.grad[...] = 1.0
    optimizer.step()
    np.testing.assert_array_equal(param.data, [-1.0, -1.0])


def test_accepts_a_generator_of_parameters() -> None:
    model = mt.Dense(2, 3, seed=0)
    optimizer = optim.Adam(p for _, p in model.named_parameters())
    assert len(optimizer.params) == 2


def test_empty_parameter_list_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)


def test_passing_a_module_instead_of_its_parameters_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"parameters\(\)"):
        optim.SGD(mt.Dense(2, 2), lr=0.1)


def test_non_parameter_entry_is_a_type_error_naming_its_index() -> None:
    with pytest.raises(TypeError, match=r"params\[1\].*ndarray"):
        optim.Adam([mt.Parameter(np.zeros(2)), np.zeros(2)])


# -- hyper-parameter validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("optimizer_class", "kwargs", "message"),
    [
        (optim.SGD, dict(lr=-0.1), "lr"),
        (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
        (optim.SGD, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
        (optim.SGD, dict(lr=0.1, dampening=1.5), "dampening"),
        (optim.SGD, dict(lr=0.1, nesterov=True), "nesterov"),
        (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (optim.SGD, dict(lr=float("nan")), "lr"),
        (optim.SGD, dict(lr=float("inf")), "lr"),
        (optim.Adam, dict(lr=-1e-3), "lr"),
        (optim.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
        (optim.Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
        (optim.Adam, dict(eps=-1e-8), "eps"),
        (optim.Adam, dict(weight_decay=-0.1), "weight_decay"),
        (optim.AdamW, dict(lr=-1.0), "lr"),
        (optim.RMSprop, dict(lr=-0.01), "lr"),
        (optim.RMSprop, dict(alpha=-0.1), "alpha"),
        (optim.RMSprop, dict(alpha=1.5), "alpha"),
        (optim.RMSprop, dict(eps=-1.0), "eps"),
        (optim.RMSprop, dict(momentum=-0.1), "momentum"),
        (optim.RMSprop, dict(weight_decay=-0.1), "weight_decay"),
        (optim.Adagrad, dict(lr=-0.1), "lr"),
        (optim.Adagrad, dict(lr_decay=-0.1), "lr_decay"),
        (optim.Adagrad, dict(weight_decay=-0.1), "weight_decay"),
        (optim.Adagrad, dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
        (optim.Adagrad, dict(eps=-0.1), "eps"),
    ],
)
def test_invalid_hyper_parameter_is_a_value_error_naming_it(
    optimizer_class: type[optim.Optimizer], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as error:
        optimizer_class([mt.Parameter(np.zeros(2))], **kwargs)
    assert optimizer_class.__name__ in str(error.value)


@pytest.mark.parametrize(
    ("optimizer_class", "kwargs"),
    [
        (optim.SGD, dict(lr="0.1")),
        (optim.SGD, dict(lr=True)),
        (optim.SGD, dict(lr=0.1, nesterov=1)),
        (optim.Adam, dict(betas=0.9)),
        (optim.Adam, dict(betas=(0.9, 0.99, 0.999))),
        (optim.RMSprop, dict(centered="yes")),
    ],
)
def test_wrongly_typed_hyper_parameter_is_a_type_error(
    optimizer_class: type[optim.Optimizer], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(TypeError, match=optimizer_class.__name__):
        optimizer_class([mt.Parameter(np.zeros(2))], **kwargs)


def test_adamw_is_adam_with_decoupled_decay_and_torch_default_weight_decay() -> None:
    param = mt.Parameter(np.zeros(2))
    adamw = optim.AdamW([param])
    assert isinstance(adamw, optim.Adam)
    assert adamw.decoupled is True
    assert adamw.weight_decay == 1e-2


def test_adamw_equals_adam_with_decoupled_true() -> None:
    first = mt.Parameter(REFERENCE["p0"], dtype=np.float64)
    second = mt.Parameter(REFERENCE["p0"], dtype=np.float64)
    adamw = optim.AdamW([first], lr=0.01, weight_decay=0.1)
    adam = optim.Adam([second], lr=0.01, weight_decay=0.1, decoupled=True)
    assert np.array_equal(
        run_steps(adamw, first, REFERENCE["grads"]), run_steps(adam, second, REFERENCE["grads"])
    )


# -- state dicts -------------------------------------------------------------------------------


def test_state_dict_is_flat_arrays_with_hyper_parameters_step_and_state() -> None:
    params = [mt.Parameter(np.zeros((2, 3))), mt.Parameter(np.zeros(4))]
    optimizer = optim.Adam(params, lr=0.01, amsgrad=True)
    optimizer.step()
    state = optimizer.state_dict()
    assert all(isinstance(value, np.ndarray) for value in state.values())
    assert set(state) == {
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "decoupled",
        "step",
        *(f"state.{i}.{n}" for i in (0, 1) for n in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    }
    assert state["lr"].shape == () and float(state["lr"]) == 0.01
    assert state["step"].shape == () and int(state["step"]) == 1
    assert state["betas"].shape == (2,)
    assert state["state.1.exp_avg"].shape == (4,)


def test_state_dict_returns_copies() -> None:
    param = mt.Parameter(np.zeros(2))
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9)
    optimizer.state_dict()["state.0.momentum_buffer"][...] = 7.0
    assert not optimizer.state[0]["momentum_buffer"].any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", sorted(CASES))
def test_resuming_from_state_dict_equals_never_stopping(case: str, dtype: type) -> None:
    grads = REFERENCE["grads"][:3].astype(dtype)
    straight = mt.Parameter(REFERENCE["p0"], dtype=dtype)
    run_steps(make_optimizer(case, [straight]), straight, grads)

    first = mt.Parameter(REFERENCE["p0"], dtype=dtype)
    first_optimizer = make_optimizer(case, [first])
    run_steps(first_optimizer, first, grads[:2])
    saved = npz_round_trip(first_optimizer.state_dict())

    resumed = mt.Parameter(first.data.copy(), dtype=dtype)
    # Fresh optimiser with a different lr: the state dict must restore it too.
    spec = CASES[case]
    fresh = getattr(optim, spec["optimizer"])([resumed], **{**spec["kwargs"], "lr": 0.5})
    fresh.load_state_dict(saved)
    run_steps(fresh, resumed, grads[2:])
    assert resumed.data.dtype == dtype
    assert np.array_equal(resumed.data, straight.data)


def test_load_state_dict_restores_hyper_parameters() -> None:
    source = optim.RMSprop([mt.Parameter(np.zeros(2))], lr=0.02, alpha=0.8, momentum=0.3)
    target = optim.RMSprop([mt.Parameter(np.zeros(2))])
    target.load_state_dict(source.state_dict())
    assert (target.lr, target.alpha, target.momentum) == (0.02, 0.8, 0.3)
    assert isinstance(target.lr, float) and isinstance(target.centered, bool)


def test_load_state_dict_with_momentum_creates_the_buffer() -> None:
    source = optim.SGD([mt.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    target = optim.SGD([mt.Parameter(np.zeros(2))], lr=0.1)
    target.load_state_dict(source.state_dict())
    assert target.momentum == 0.9
    assert "momentum_buffer" in target.state[0]


def test_state_dict_follows_a_reassigned_structural_hyper_parameter() -> None:
    optimizer = optim.SGD([mt.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    optimizer.step()
    optimizer.momentum = 0.0
    state = optimizer.state_dict()
    assert not [key for key in state if key.startswith("state.")]
    fresh = optim.SGD([mt.Parameter(np.zeros(2))], lr=0.1, momentum=0.5)
    fresh.load_state_dict(state)
    assert fresh.momentum == 0.0 and fresh.state == [{}]


def _trained_adam() -> optim.Adam:
    optimizer = optim.Adam([mt.Parameter(np.zeros((2, 3))), mt.Parameter(np.zeros(4))], lr=0.01)
    for param in optimizer.params:
        param.grad[...] = 1.0
    optimizer.step()
    return optimizer


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("state.1.exp_avg_sq"), r"missing keys \['state.1.exp_avg_sq'\]"),
        (lambda s: s.pop("eps"), r"missing keys \['eps'\]"),
        (lambda s: s.update({"state.2.exp_avg": np.zeros(1)}), r"unexpected keys \['state.2"),
        (lambda s: s.update({"momentum": np.asarray(0.9)}), r"unexpected keys \['momentum'\]"),
        (lambda s: s.update({"state.0.exp_avg": np.zeros((3, 2))}), "state.0.exp_avg.*shape"),
        (lambda s: s.update({"state.1.exp_avg": np.full(4, np.nan)}), "state.1.exp_avg.*NaN"),
        (lambda s: s.update({"state.1.exp_avg": np.zeros(4, dtype=int)}), "state.1.exp_avg"),
        (lambda s: s.update({"lr": np.asarray(-1.0)}), "lr"),
        (lambda s: s.update({"step": np.asarray(-1)}), "step"),
        (lambda s: s.update({"betas": np.asarray(0.9)}), "betas"),
        (lambda s: s.update({"amsgrad": np.asarray(1.5)}), "amsgrad"),
    ],
)
def test_bad_state_dict_raises_naming_the_key_and_changes_nothing(edit: Any, message: str) -> None:
    optimizer = _trained_adam()
    before = optimizer.state_dict()
    bad = optimizer.state_dict()
    bad["lr"] = np.asarray(0.5)  # a valid change that must not be applied either
    edit(bad)
    with pytest.raises((ValueError, TypeError), match=message):
        optimizer.load_state_dict(bad)
    after = optimizer.state_dict()
    assert set(after) == set(before)
    assert all(np.array_equal(after[key], before[key]) for key in before)
    assert optimizer.lr == 0.01


def test_validate_state_dict_raises_like_load_without_changing_anything() -> None:
    optimizer = _trained_adam()
    good = optimizer.state_dict()
    good["lr"] = np.asarray(0.5)
    optimizer.validate_state_dict(good)
    assert optimizer.lr == 0.01
    good.pop("step")
    with pytest.raises(ValueError, match="step"):
        optimizer.validate_state_dict(good)


def test_load_state_dict_rejects_a_non_mapping() -> None:
    with pytest.raises(TypeError, match="mapping"):
        _trained_adam().load_state_dict([("lr", 0.1)])  # type: ignore[arg-type]


def test_loading_another_optimizer_type_names_the_mismatched_keys() -> None:
    sgd = optim.SGD([mt.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    adam = optim.Adam([mt.Parameter(np.zeros(2))])
    with pytest.raises(ValueError, match=r"missing keys.*betas.*unexpected keys.*dampening"):
        adam.load_state_dict(sgd.state_dict())


# -- L2 decay in one place; all-or-nothing steps ------------------------------------------------


def _param(seed: int = 0) -> mt.Parameter:
    parameter = mt.Parameter(np.random.default_rng(seed).standard_normal(4))
    parameter.grad[...] = np.random.default_rng(seed + 1).standard_normal(4)
    return parameter


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        (optim.Adam, {"lr": 0.01}),
        (optim.RMSprop, {"lr": 0.01, "centered": True}),
        (optim.Adagrad, {"lr": 0.1}),
    ],
)
def test_l2_weight_decay_is_the_penalty_added_to_the_gradient(
    make: Any, kwargs: dict[str, Any]
) -> None:
    decayed, plain = _param(), _param()
    with_decay = make([decayed], weight_decay=0.3, **kwargs)
    without = make([plain], **kwargs)
    for _ in range(3):
        plain.grad[...] = decayed.grad + 0.3 * plain.data
        with_decay.step()
        without.step()
        np.testing.assert_allclose(decayed.data, plain.data, rtol=1e-12)


def test_adam_decoupled_decay_shrinks_the_weights_instead() -> None:
    decayed, plain = _param(), _param()
    plain.grad[...] = 0.0
    decayed.grad[...] = 0.0
    optim.AdamW([decayed], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(decayed.data, plain.data * (1 - 0.1 * 0.5))


def test_an_adam_step_that_overflows_float32_is_refused_and_changes_nothing() -> None:
    parameter = mt.Parameter(np.ones(3, dtype=np.float32))
    optimizer = optim.Adam([parameter], lr=0.1)
    parameter.grad[...] = 1.0
    optimizer.step()
    before = optimizer.state_dict()
    data = parameter.data.copy()
    parameter.grad[...] = np.float32(1e22)  # finite, but (1 - beta2) g^2 is not in float32
    with pytest.raises(optim.NonFiniteStepError, match=r"parameter 0 .*exp_avg_sq"):
        optimizer.step()
    np.testing.assert_array_equal(parameter.data, data)
    after = optimizer.state_dict()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value)
    assert all(np.isfinite(value).all() for value in after.values())


def test_a_step_refused_at_a_later_parameter_leaves_the_earlier_ones_unchanged() -> None:
    first = mt.Parameter(np.ones(3, dtype=np.float32))
    second = mt.Parameter(np.ones(2, dtype=np.float32))
    optimizer = optim.SGD([first, second], lr=0.1, momentum=0.9)
    first.grad[...] = 1.0
    second.grad[...] = np.float32(3e38)
    optimizer.step()
    before = optimizer.state_dict()
    weights = [first.data.copy(), second.data.copy()]
    # Finite gradients again, but 0.9 * 3e38 + 3e38 is not a float32: parameter 0's update is
    # fine and computed first, parameter 1's is not.
    with pytest.raises(optim.NonFiniteStepError, match=r"parameter 1 .*momentum_buffer"):
        optimizer.step()
    np.testing.assert_array_equal(first.data, weights[0])
    np.testing.assert_array_equal(second.data, weights[1])
    after = optimizer.state_dict()
    assert set(after) == set(before)
    assert all(np.array_equal(after[key], before[key]) for key in before)


@pytest.mark.parametrize("name", sorted(FULL_OPTIONS))
def test_a_refused_step_leaves_no_trace_in_the_next_steps(name: str) -> None:
    optimizer_class, kwargs = FULL_OPTIONS[name]
    grads = REFERENCE["grads"].astype(np.float32)
    straight = mt.Parameter(REFERENCE["p0"], dtype=np.float32)
    run_steps(optimizer_class([straight], **kwargs), straight, grads)

    interrupted = mt.Parameter(REFERENCE["p0"], dtype=np.float32)
    optimizer = optimizer_class([interrupted], **kwargs)
    run_steps(optimizer, interrupted, grads[:2])
    interrupted.grad[...] = np.float32(np.inf)
    with pytest.raises(optim.NonFiniteStepError):
        optimizer.step()
    run_steps(optimizer, interrupted, grads[2:])
    assert np.array_equal(interrupted.data, straight.data)


def test_the_weights_are_named_first_when_they_would_become_non_finite() -> None:
    parameter = mt.Parameter(np.full(2, 3e38, dtype=np.float32))
    parameter.grad[...] = np.float32(-3e38)
    with pytest.raises(optim.NonFiniteStepError, match=r"parameter 0 would make the weights NaN"):
        optim.SGD([parameter], lr=1.0).step()
    np.testing.assert_array_equal(parameter.data, np.full(2, 3e38, dtype=np.float32))


def test_turning_momentum_off_and_on_between_steps_restarts_the_buffer_from_zero() -> None:
    parameter = mt.Parameter(np.zeros(2), dtype=np.float64)
    optimizer = optim.SGD([parameter], lr=1.0, momentum=0.5)
    parameter.grad[...] = 1.0
    optimizer.step()  # buffer 1, weights -1
    optimizer.momentum = 0.0
    optimizer.step()  # plain SGD, weights -2
    optimizer.momentum = 0.5
    optimizer.step()  # a new zero buffer at step 3: 0.5 * 0 + 1 = 1, weights -3
    np.testing.assert_array_equal(parameter.data, [-3.0, -3.0])
    np.testing.assert_array_equal(optimizer.state[0]["momentum_buffer"], [1.0, 1.0])


@pytest.mark.parametrize(
    "make",
    [
        lambda params: optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda params: optim.Adam(params, lr=0.1, weight_decay=0.1),
        lambda params: optim.Adam(params, lr=0.1, weight_decay=0.1, decoupled=True),
        lambda params: optim.RMSprop(params, lr=0.1, momentum=0.5, centered=True),
        lambda params: optim.Adagrad(params, lr=0.1),
    ],
)
def test_a_step_skips_frozen_parameters_and_leaves_their_state_untouched(make: Any) -> None:
    trained = mt.Parameter(np.ones(3))
    frozen = mt.Parameter(np.ones(3), requires_grad=False)
    optimizer = make([trained, frozen])
    initial = optimizer.state_dict()
    for _ in range(3):
        trained.grad[...] = frozen.grad[...] = [1.0, -2.0, 3.0]
        optimizer.step()
    assert np.array_equal(frozen.data, np.ones(3))
    assert not np.array_equal(trained.data, np.ones(3))
    state = optimizer.state_dict()
    for key in state:
        if key.startswith("state.1."):
            assert np.array_equal(state[key], initial[key]), key
    frozen.requires_grad = True  # unfreezing takes effect at the next step
    optimizer.step()
    assert not np.array_equal(frozen.data, np.ones(3))
