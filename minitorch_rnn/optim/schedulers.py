r"""Learning-rate schedulers: call ``step()`` once per epoch, after the optimiser's steps.

Each scheduler changes ``optimizer.lr`` (a plain attribute) and reproduces the learning-rate
sequence of :mod:`torch.optim.lr_scheduler`'s class of the same name, including its *chainable*
(recursive) form: every new rate is computed from the optimiser's current one, so a
``CosineAnnealingLR`` keeps cycling past ``T_max`` exactly as PyTorch's does.

``state_dict()`` is a flat ``dict[str, np.ndarray]`` of 0-d arrays (storable in an ``.npz`` without
pickle). As in PyTorch, it does not hold the optimiser's ``lr``: that lives in the optimiser's own
state dict, so restore both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .optimizers import Optimizer, check_keys, coerce_scalar

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "ReduceLROnPlateau",
    "StepLR",
]


class _SchedulerState:
    """Flat state-dict machinery shared by every scheduler.

    Subclasses list their saved attributes in :attr:`state_kinds` (name -> kind, see
    :func:`~minitorch_rnn.optim.optimizers.coerce_scalar`) and check a complete set of values
    in :meth:`_check_values`, which the constructor and :meth:`load_state_dict` both use.
    """

    state_kinds: ClassVar[dict[str, str]] = {}
    last_lr: float

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer

    def _check_values(self, values: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` if a value is out of range."""

    def _set_checked(self, raw: Mapping[str, Any], where: str) -> None:
        values = {
            name: coerce_scalar(raw[name], kind, f"{where}: {name}")
            for name, kind in self.state_kinds.items()
        }
        self._check_values(values)
        for name, value in values.items():
            setattr(self, name, value)

    def _require(self, condition: bool, message: str) -> None:
        if not condition:
            raise ValueError(f"{type(self).__name__}: {message}")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Hyper-parameters and progress as 0-d arrays (no optimiser, no ``lr``)."""
        return {name: np.asarray(getattr(self, name)) for name in self.state_kinds}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output, all or nothing.

        Raises
        ------
        TypeError
            If ``state`` is not a mapping, or a value has the wrong type.
        ValueError
            Naming missing or unexpected keys, or an out-of-range value.
        """
        owner = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{owner}.load_state_dict: expected a mapping, got {type(state).__name__}"
            )
        check_keys(owner, self.state_kinds, state)
        where = f"{owner}.load_state_dict"
        self._set_checked({name: np.asarray(state[name]) for name in self.state_kinds}, where)

    def get_last_lr(self) -> float:
        """The learning rate set by the latest ``step`` (the optimiser's at construction)."""
        return float(self.last_lr)


class LRScheduler(_SchedulerState):
    """Base class of the epoch-driven schedulers: ``step()`` sets ``optimizer.lr`` to the next rate.

    Subclasses implement :meth:`_next_lr`, the rate for epoch ``last_epoch`` (already advanced)
    from the optimiser's current rate, as PyTorch's chainable ``get_lr``.

    Attributes
    ----------
    base_lr : float
        The optimiser's learning rate when the scheduler was created.
    last_epoch : int
        Number of ``step()`` calls so far.
    """

    base_lr: float
    last_epoch: int

    def __init__(self, optimizer: Optimizer, **hyper: Any) -> None:
        super().__init__(optimizer)
        start = coerce_scalar(optimizer.lr, "float", f"{type(self).__name__}: optimizer.lr")
        self._set_checked(
            {**hyper, "base_lr": start, "last_epoch": 0, "last_lr": start}, type(self).__name__
        )

    def _next_lr(self, current_lr: float) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement _next_lr")

    def step(self) -> None:
        """Advance one epoch and set ``optimizer.lr`` to that epoch's rate."""
        current = coerce_scalar(self.optimizer.lr, "float", f"{type(self).__name__}: optimizer.lr")
        self.last_epoch += 1
        self.last_lr = self._next_lr(current)
        self.optimizer.lr = self.last_lr


_PROGRESS_KINDS = {"base_lr": "float", "last_epoch": "int", "last_lr": "float"}


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \gamma_e = \gamma_0 \cdot \text{gamma}^{\lfloor e / \text{step\_size} \rfloor}

    Parameters
    ----------
    optimizer : Optimizer
        Whose ``lr`` to schedule.
    step_size : int
        Epochs between decays, >= 1.
    gamma : float
        Multiplicative factor, > 0.
    """

    state_kinds: ClassVar[dict[str, str]] = {
        "step_size": "int",
        "gamma": "float",
        **_PROGRESS_KINDS,
    }
    step_size: int
    gamma: float

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    def _check_values(self, values: Mapping[str, Any]) -> None:
        self._require(
            values["step_size"] >= 1, f"step_size must be >= 1, got {values['step_size']}"
        )
        self._require(values["gamma"] > 0.0, f"gamma must be > 0, got {values['gamma']}")
        self._require(
            values["last_epoch"] >= 0, f"last_epoch must be >= 0, got {values['last_epoch']}"
        )

    def _next_lr(self, current_lr: float) -> float:
        if self.last_epoch % self.step_size != 0:
            return current_lr
        return current_lr * self.gamma


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every epoch: :math:`\gamma_e = \gamma_0\,\text{gamma}^e`.

    Parameters
    ----------
    optimizer : Optimizer
        Whose ``lr`` to schedule.
    gamma : float
        Multiplicative factor, > 0.
    """

    state_kinds: ClassVar[dict[str, str]] = {"gamma": "float", **_PROGRESS_KINDS}
    gamma: float

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer, gamma=gamma)

    def _check_values(self, values: Mapping[str, Any]) -> None:
        self._require(values["gamma"] > 0.0, f"gamma must be > 0, got {values['gamma']}")
        self._require(
            values["last_epoch"] >= 0, f"last_epoch must be >= 0, got {values['last_epoch']}"
        )

    def _next_lr(self, current_lr: float) -> float:
        return current_lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial rate :math:`\gamma_0` to ``eta_min`` over ``T_max`` epochs.

    .. math:: \gamma_e = \eta_{min} + \tfrac12 (\gamma_0 - \eta_{min})
              \left(1 + \cos\frac{e\pi}{T_{max}}\right) \quad (e \le T_{max})

    computed, as in PyTorch, by the recursion

    .. math:: \gamma_e = \eta_{min} + (\gamma_{e-1} - \eta_{min})
              \frac{1 + \cos(e\pi/T_{max})}{1 + \cos((e-1)\pi/T_{max})}

    (with an additive form at the restarts ``e - 1 - T_max ≡ 0 mod 2 T_max``), so past
    ``T_max`` the rate climbs back to :math:`\gamma_0` and keeps cycling with period ``2 T_max``.

    Parameters
    ----------
    optimizer : Optimizer
        Whose ``lr`` to schedule.
    T_max : int
        Half-period in epochs, >= 1.
    eta_min : float
        Minimum rate, >= 0.
    """

    state_kinds: ClassVar[dict[str, str]] = {
        "T_max": "int",
        "eta_min": "float",
        **_PROGRESS_KINDS,
    }
    T_max: int
    eta_min: float

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer, T_max=T_max, eta_min=eta_min)

    def _check_values(self, values: Mapping[str, Any]) -> None:
        self._require(values["T_max"] >= 1, f"T_max must be >= 1, got {values['T_max']}")
        self._require(values["eta_min"] >= 0.0, f"eta_min must be >= 0, got {values['eta_min']}")
        self._require(
            values["last_epoch"] >= 0, f"last_epoch must be >= 0, got {values['last_epoch']}"
        )

    def _next_lr(self, current_lr: float) -> float:
        epoch, period = self.last_epoch, self.T_max
        if (epoch - 1 - period) % (2 * period) == 0:
            # At the bottom of the cosine the ratio below would divide by zero.
            return (
                current_lr + (self.base_lr - self.eta_min) * (1.0 - math.cos(math.pi / period)) / 2
            )
        ratio = (1.0 + math.cos(math.pi * epoch / period)) / (
            1.0 + math.cos(math.pi * (epoch - 1) / period)
        )
        return ratio * (current_lr - self.eta_min) + self.eta_min


class ReduceLROnPlateau(_SchedulerState):
    """Reduce the learning rate by ``factor`` when a metric stops improving (PyTorch's rules).

    ``step(metric)`` once per epoch: a metric better than the best so far (by ``threshold``,
    relative or absolute) resets the count of bad epochs; after more than ``patience`` bad epochs
    the rate becomes ``max(lr * factor, min_lr)`` (unchanged if that changes it by ``eps`` or less)
    and the next ``cooldown`` epochs count no bad epochs.

    Parameters
    ----------
    optimizer : Optimizer
        Whose ``lr`` to schedule.
    mode : {"min", "max"}
        Whether lower or higher metric values are better.
    factor : float
        Multiplicative factor, in (0, 1).
    patience : int
        Bad epochs tolerated before reducing, >= 0.
    threshold : float
        Minimum improvement that counts, >= 0.
    threshold_mode : {"rel", "abs"}
        ``"rel"``: better than ``best * (1 ∓ threshold)``; ``"abs"``: than ``best ∓ threshold``.
    cooldown : int
        Epochs after a reduction during which bad epochs are not counted, >= 0.
    min_lr : float
        Lower bound of the rate, >= 0.
    eps : float
        Smallest change of the rate that is applied, >= 0.

    Attributes
    ----------
    best : float
        Best metric so far (``inf`` or ``-inf`` before the first step).
    num_bad_epochs, cooldown_counter, last_epoch : int
        Progress counters, as in PyTorch.
    """

    state_kinds: ClassVar[dict[str, str]] = {
        "mode": "str",
        "factor": "float",
        "patience": "int",
        "threshold": "float",
        "threshold_mode": "str",
        "cooldown": "int",
        "min_lr": "float",
        "eps": "float",
        "best": "real",
        "num_bad_epochs": "int",
        "cooldown_counter": "int",
        "last_epoch": "int",
        "last_lr": "float",
    }
    mode: str
    factor: float
    patience: int
    threshold: float
    threshold_mode: str
    cooldown: int
    min_lr: float
    eps: float
    best: float
    num_bad_epochs: int
    cooldown_counter: int
    last_epoch: int

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(optimizer)
        start = coerce_scalar(optimizer.lr, "float", f"{type(self).__name__}: optimizer.lr")
        self._set_checked(
            {
                "mode": mode,
                "factor": factor,
                "patience": patience,
                "threshold": threshold,
                "threshold_mode": threshold_mode,
                "cooldown": cooldown,
                "min_lr": min_lr,
                "eps": eps,
                "best": math.inf if mode == "min" else -math.inf,
                "num_bad_epochs": 0,
                "cooldown_counter": 0,
                "last_epoch": 0,
                "last_lr": start,
            },
            type(self).__name__,
        )

    def _check_values(self, values: Mapping[str, Any]) -> None:
        self._require(
            values["mode"] in ("min", "max"), f"mode must be 'min' or 'max', got {values['mode']!r}"
        )
        self._require(
            values["threshold_mode"] in ("rel", "abs"),
            f"threshold_mode must be 'rel' or 'abs', got {values['threshold_mode']!r}",
        )
        self._require(
            0.0 < values["factor"] < 1.0, f"factor must be in (0, 1), got {values['factor']}"
        )
        for name in ("patience", "cooldown", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            self._require(values[name] >= 0, f"{name} must be >= 0, got {values[name]}")
        for name in ("threshold", "min_lr", "eps"):
            self._require(values[name] >= 0.0, f"{name} must be >= 0, got {values[name]}")

    def _is_better(self, metric: float) -> bool:
        # The threshold moves the bar towards "better": down in min mode, up in max mode.
        sign = 1.0 if self.mode == "max" else -1.0
        if self.threshold_mode == "rel":
            bound = self.best * (1.0 + sign * self.threshold)
        else:
            bound = self.best + sign * self.threshold
        return metric > bound if self.mode == "max" else metric < bound

    def step(self, metric: Any) -> None:
        """Record this epoch's ``metric`` and reduce ``optimizer.lr`` if it has plateaued.

        Raises
        ------
        TypeError
            If ``metric`` is not a real number (a 0-d or size-1 array is accepted).
        """
        value = coerce_metric(metric, f"{type(self).__name__}.step: metric")
        current = coerce_scalar(self.optimizer.lr, "float", f"{type(self).__name__}: optimizer.lr")
        self.last_epoch += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            reduced = max(current * self.factor, self.min_lr)
            if current - reduced > self.eps:
                self.optimizer.lr = reduced
                current = reduced
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self.last_lr = current


def coerce_metric(value: Any, where: str) -> float:
    """A metric as a Python float: any real number, NaN and ±inf included."""
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "iuf":
        raise TypeError(f"{where} must be a real number, got {value!r}")
    return float(array.reshape(()))
