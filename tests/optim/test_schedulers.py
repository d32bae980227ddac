"""Learning-rate schedulers: PyTorch's sequences, validation and exact resumption."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import optim

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES: dict[str, dict[str, Any]] = json.loads((FIXTURES / "schedulers.json").read_text())


def make(case: str) -> tuple[optim.SGD, Any]:
    spec = CASES[case]
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=spec["base_lr"])
    scheduler = getattr(optim, spec["scheduler"])(optimizer, **spec["kwargs"])
    return optimizer, scheduler


def advance(case: str, scheduler: Any, epoch: int) -> None:
    metrics = CASES[case].get("metrics")
    if metrics is None:
        scheduler.step()
    else:
        scheduler.step(metrics[epoch])


def run(case: str, optimizer: optim.SGD, scheduler: Any, epochs: range) -> list[float]:
    """The learning rate in force during each epoch (read before that epoch's ``step``)."""
    lrs = []
    for epoch in epochs:
        lrs.append(optimizer.lr)
        advance(case, scheduler, epoch)
    return lrs


def npz_round_trip(state: dict[str, Any]) -> dict[str, np.ndarray]:
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.mark.parametrize("case", sorted(CASES))
def test_learning_rates_match_torch_reference(case: str) -> None:
    optimizer, scheduler = make(case)
    expected = CASES[case]["lrs"]
    lrs = run(case, optimizer, scheduler, range(len(expected)))
    np.testing.assert_allclose(lrs, expected, rtol=1e-10, atol=0)


def test_fixture_covers_every_scheduler_and_cosine_past_t_max() -> None:
    assert {spec["scheduler"] for spec in CASES.values()} == {
        "StepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "ReduceLROnPlateau",
    }
    cosine = CASES["cosine_lr"]
    assert len(cosine["lrs"]) > 2 * cosine["kwargs"]["T_max"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_get_last_lr_is_the_rate_just_set(case: str) -> None:
    optimizer, scheduler = make(case)
    assert scheduler.get_last_lr() == CASES[case]["base_lr"]
    for epoch in range(len(CASES[case]["lrs"])):
        advance(case, scheduler, epoch)
        assert isinstance(scheduler.get_last_lr(), float)
        assert scheduler.get_last_lr() == optimizer.lr


@pytest.mark.parametrize("case", sorted(CASES))
def test_resuming_from_state_dicts_equals_never_stopping(case: str) -> None:
    total = len(CASES[case]["lrs"])
    optimizer, scheduler = make(case)
    straight = run(case, optimizer, scheduler, range(total))

    optimizer, scheduler = make(case)
    first_part = run(case, optimizer, scheduler, range(7))
    saved_scheduler = npz_round_trip(scheduler.state_dict())
    saved_optimizer = npz_round_trip(optimizer.state_dict())

    fresh_optimizer, fresh_scheduler = make(case)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh_scheduler.load_state_dict(saved_scheduler)
    second_part = run(case, fresh_optimizer, fresh_scheduler, range(7, total))
    assert first_part + second_part == straight


@pytest.mark.parametrize("case", sorted(CASES))
def test_state_dict_holds_only_arrays(case: str) -> None:
    _, scheduler = make(case)
    state = scheduler.state_dict()
    assert state
    assert all(isinstance(value, np.ndarray) and value.shape == () for value in state.values())


def test_step_lr_decays_every_step_size_epochs() -> None:
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=1.0)
    scheduler = optim.StepLR(optimizer, step_size=2, gamma=0.5)
    assert run("step_lr", optimizer, scheduler, range(6)) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_reaches_eta_min_at_t_max_and_base_lr_at_twice_t_max() -> None:
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=1.0)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=4, eta_min=0.1)
    lrs = run("cosine_lr", optimizer, scheduler, range(9))
    assert lrs[4] == pytest.approx(0.1)
    assert lrs[8] == pytest.approx(1.0)
    assert lrs[2] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 2)) / 2)


def test_scheduler_follows_manual_lr_changes_like_torch_chainable_form() -> None:
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=1.0)
    scheduler = optim.ExponentialLR(optimizer, gamma=0.5)
    optimizer.lr = 4.0
    scheduler.step()
    assert optimizer.lr == 2.0


def _plateau(**kwargs: Any) -> tuple[optim.SGD, optim.ReduceLROnPlateau]:
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=1.0)
    return optimizer, optim.ReduceLROnPlateau(optimizer, **kwargs)


def test_plateau_max_mode_reduces_after_patience_bad_epochs() -> None:
    optimizer, scheduler = _plateau(mode="max", factor=0.5, patience=1)
    for metric, expected_lr in [(1.0, 1.0), (2.0, 1.0), (2.0, 1.0), (1.5, 0.5), (3.0, 0.5)]:
        scheduler.step(metric)
        assert optimizer.lr == expected_lr


def test_plateau_absolute_threshold_counts_small_improvements_as_bad() -> None:
    optimizer, scheduler = _plateau(factor=0.5, patience=0, threshold=0.1, threshold_mode="abs")
    scheduler.step(1.0)
    scheduler.step(0.95)  # better, but by less than the threshold
    assert optimizer.lr == 0.5
    assert scheduler.best == 1.0


def test_plateau_relative_threshold_scales_with_best() -> None:
    optimizer, scheduler = _plateau(factor=0.5, patience=0, threshold=0.1)
    scheduler.step(10.0)
    scheduler.step(9.5)  # within 10% of the best
    assert optimizer.lr == 0.5
    scheduler.step(8.0)  # more than 10% better
    assert optimizer.lr == 0.5
    assert scheduler.best == 8.0


def test_plateau_never_goes_below_min_lr() -> None:
    optimizer, scheduler = _plateau(factor=0.1, patience=0, min_lr=0.05)
    for _ in range(5):
        scheduler.step(1.0)
    assert optimizer.lr == 0.05


def test_plateau_accepts_numpy_and_size_one_array_metrics() -> None:
    _, scheduler = _plateau()
    scheduler.step(np.float32(0.5))
    scheduler.step(np.array([0.25]))
    assert scheduler.best == 0.25


def test_plateau_rejects_non_numeric_metric_without_changing_state() -> None:
    _, scheduler = _plateau()
    before = scheduler.state_dict()
    with pytest.raises(TypeError, match="metric"):
        scheduler.step("low")
    assert scheduler.state_dict() == before


def test_plateau_state_dict_keeps_infinite_best_and_string_mode_through_npz() -> None:
    _, scheduler = _plateau(mode="max")
    state = npz_round_trip(scheduler.state_dict())
    _, fresh = _plateau()
    fresh.load_state_dict(state)
    assert fresh.mode == "max" and isinstance(fresh.mode, str)
    assert fresh.best == -math.inf


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda o: optim.StepLR(o, step_size=0), "step_size"),
        (lambda o: optim.StepLR(o, step_size=2, gamma=0.0), "gamma"),
        (lambda o: optim.ExponentialLR(o, gamma=-0.5), "gamma"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=5, eta_min=-1.0), "eta_min"),
        (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), "factor"),
        (lambda o: optim.ReduceLROnPlateau(o, mode="lowest"), "mode"),
        (lambda o: optim.ReduceLROnPlateau(o, threshold_mode="pct"), "threshold_mode"),
        (lambda o: optim.ReduceLROnPlateau(o, patience=-1), "patience"),
        (lambda o: optim.ReduceLROnPlateau(o, cooldown=-1), "cooldown"),
        (lambda o: optim.ReduceLROnPlateau(o, min_lr=-0.1), "min_lr"),
    ],
)
def test_invalid_arguments_are_value_errors_naming_them(factory: Any, message: str) -> None:
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=message):
        factory(optimizer)
    assert optimizer.lr == 0.1


def test_wrong_argument_types_are_type_errors() -> None:
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=0.1)
    with pytest.raises(TypeError, match="Optimizer"):
        optim.StepLR("sgd", step_size=2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step_size"):
        optim.StepLR(optimizer, step_size=2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("gamma"), r"missing keys \['gamma'\]"),
        (lambda s: s.update({"momentum": np.asarray(0.1)}), r"unexpected keys \['momentum'\]"),
        (lambda s: s.update({"step_size": np.asarray(0)}), "step_size"),
        (lambda s: s.update({"gamma": np.zeros(2)}), "gamma"),
    ],
)
def test_bad_scheduler_state_dict_raises_and_changes_nothing(edit: Any, message: str) -> None:
    optimizer, scheduler = make("step_lr")
    run("step_lr", optimizer, scheduler, range(4))
    before = scheduler.state_dict()
    bad = scheduler.state_dict()
    bad["last_epoch"] = np.asarray(99)
    edit(bad)
    with pytest.raises((ValueError, TypeError), match=message):
        scheduler.load_state_dict(bad)
    assert scheduler.state_dict() == before


def test_a_refused_step_changes_neither_last_epoch_nor_any_rate() -> None:
    optimizer = optim.SGD([mt.Parameter(np.zeros(1))], lr=1e300)
    scheduler = optim.ExponentialLR(optimizer, gamma=1e10)
    before = scheduler.state_dict()
    with pytest.raises(mt.NonFiniteValueError, match=r"ExponentialLR.step: .* would be inf"):
        scheduler.step()
    assert scheduler.state_dict() == before
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == 1e300
    assert optimizer.lr == 1e300
    optimizer.lr = 1.0  # the next valid step behaves as if the refused one never happened
    scheduler.step()
    assert scheduler.last_epoch == 1 and optimizer.lr == 1e10


def test_only_a_scheduler_whose_step_takes_a_metric_declares_needs_metric() -> None:
    assert optim.ReduceLROnPlateau.needs_metric is True
    for scheduler_class in (optim.StepLR, optim.ExponentialLR, optim.CosineAnnealingLR):
        assert scheduler_class.needs_metric is False
    assert "needs_metric" not in optim.ReduceLROnPlateau.hyper_fields
