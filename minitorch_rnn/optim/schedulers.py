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

from ..errors import NonFiniteValueError
from ..validation import check_keys
from .hyper import Declared, coerce_scalar, hyper, leading
from .optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "ReduceLROnPlateau",
    "StepLR",
]


class _SchedulerState(Declared):
    """Flat state-dict machinery shared by every scheduler.

    Subclasses declare their arguments and their progress (``init=False``) with
    :func:`~minitorch_rnn.optim.hyper.hyper`; both are saved by :meth:`state_dict`, and
    :meth:`_progress_start` gives the progress its values at construction. A ``step`` computes
    the new progress and rate first and hands them to :meth:`_commit`, so a refused step changes
    nothing.
    """

    # Whether step() takes the epoch's metric (ReduceLROnPlateau); read by the Trainer's
    # LearningRateScheduler callback.
    needs_metric: ClassVar[bool] = False

    optimizer: Optimizer = leading()
    last_epoch: int = hyper(minimum=0, init=False)
    last_lr: float = hyper(init=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        optimizer, values = self._bind(args, kwargs)
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}"
            )
        start = coerce_scalar(optimizer.lr, "float", f"{type(self).__name__}: optimizer.lr")
        progress = self._progress_start(start, values)
        self._assign(self._checked({**values, **progress}))
        self.optimizer = optimizer

    def _progress_start(self, lr: float, values: Mapping[str, Any]) -> dict[str, Any]:
        """The progress values of a new scheduler of an optimiser at rate ``lr``."""
        return {"last_epoch": 0, "last_lr": lr}

    def _current_lr(self) -> float:
        return coerce_scalar(self.optimizer.lr, "float", f"{type(self).__name__}: optimizer.lr")

    def _commit(self, progress: Mapping[str, Any], lr: float) -> None:
        """Set the progress values and ``optimizer.lr`` once every one of them is accepted.

        Raises
        ------
        NonFiniteValueError
            If ``lr`` is NaN or infinite (an ``ExponentialLR`` whose rate overflows).
        ValueError
            If a value is out of its range; in both cases nothing changes.
        """
        where = f"{type(self).__name__}.step"
        if not math.isfinite(lr):
            raise NonFiniteValueError(
                f"{where}: the next learning rate would be {lr} (now {self._current_lr()}); "
                f"the step was refused and nothing changed (last_epoch stays {self.last_epoch})"
            )
        checked = self._checked(progress, where)
        optimizer_lr = self.optimizer.hyper_fields["lr"]
        new_lr = optimizer_lr.check(lr, f"{where}: {type(self.optimizer).__name__}")
        self._assign(checked)
        self.optimizer.lr = new_lr

    def state_dict(self) -> dict[str, np.ndarray]:
        """Hyper-parameters and progress as 0-d arrays (no optimiser, no ``lr``)."""
        return {name: np.asarray(value) for name, value in self.hyper_parameters().items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output, all or nothing.

        Raises
        ------
        TypeError
            If ``state`` is not a mapping, or a value has the wrong type.
        ValueError
            Naming missing or unexpected keys, or an out-of-range value.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where}: expected a mapping, got {type(state).__name__}")
        check_keys(where, self.hyper_fields, state)
        self._assign(
            self._checked({name: np.asarray(state[name]) for name in self.hyper_fields}, where)
        )

    def get_last_lr(self) -> float:
        """The learning rate set by the latest ``step`` (the optimiser's at construction)."""
        return float(self.last_lr)


class LRScheduler(_SchedulerState):
    """Base class of the epoch-driven schedulers: ``step()`` sets ``optimizer.lr`` to the next rate.

    Subclasses implement :meth:`_next_lr`, the rate for a new epoch from the optimiser's current
    rate, as PyTorch's chainable ``get_lr``.

    Attributes
    ----------
    base_lr : float
        The optimiser's learning rate when the scheduler was created.
    last_epoch : int
        Number of ``step()`` calls so far.
    """

    base_lr: float = hyper(init=False)

    def _progress_start(self, lr: float, values: Mapping[str, Any]) -> dict[str, Any]:
        return {**super()._progress_start(lr, values), "base_lr": lr}

    def _next_lr(self, current_lr: float, epoch: int) -> float:
        """The rate of ``epoch`` (``last_epoch + 1``, counted from 1) after ``current_lr``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _next_lr")

    def step(self) -> None:
        """Advance one epoch and set ``optimizer.lr`` to that epoch's rate.

        Raises
        ------
        NonFiniteValueError
            If the new rate would be NaN or infinite; the step is refused and changes nothing
            (neither ``last_epoch`` nor any rate).
        """
        epoch = self.last_epoch + 1
        lr = self._next_lr(self._current_lr(), epoch)
        self._commit({"last_epoch": epoch, "last_lr": lr}, lr)


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

    step_size: int = hyper(minimum=1)
    gamma: float = hyper(default=0.1, above=0.0)

    def _next_lr(self, current_lr: float, epoch: int) -> float:
        if epoch % self.step_size != 0:
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

    gamma: float = hyper(above=0.0)

    def _next_lr(self, current_lr: float, epoch: int) -> float:
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

    T_max: int = hyper(minimum=1)
    eta_min: float = hyper(default=0.0, minimum=0.0)

    def _next_lr(self, current_lr: float, epoch: int) -> float:
        period = self.T_max
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

    mode: str = hyper(default="min", choices=("min", "max"))
    factor: float = hyper(default=0.1, above=0.0, below=1.0)
    patience: int = hyper(default=10, minimum=0)
    threshold: float = hyper(default=1e-4, minimum=0.0)
    threshold_mode: str = hyper(default="rel", choices=("rel", "abs"))
    cooldown: int = hyper(default=0, minimum=0)
    min_lr: float = hyper(default=0.0, minimum=0.0)
    eps: float = hyper(default=1e-8, minimum=0.0)
    best: float = hyper(finite=False, init=False)
    needs_metric: ClassVar[bool] = True
    num_bad_epochs: int = hyper(minimum=0, init=False)
    cooldown_counter: int = hyper(minimum=0, init=False)

    def _progress_start(self, lr: float, values: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **super()._progress_start(lr, values),
            "best": -math.inf if values["mode"] == "max" else math.inf,
            "num_bad_epochs": 0,
            "cooldown_counter": 0,
        }

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

        A refused step (a metric that is not a number) changes nothing.

        Raises
        ------
        TypeError
            If ``metric`` is not a real number (a 0-d or size-1 array is accepted).
        """
        value = coerce_metric(metric, f"{type(self).__name__}.step: metric")
        lr = self._current_lr()
        best, bad_epochs, cooldown_counter = (
            self.best,
            self.num_bad_epochs + 1,
            self.cooldown_counter,
        )
        if self._is_better(value):
            best, bad_epochs = value, 0
        if cooldown_counter > 0:
            cooldown_counter -= 1
            bad_epochs = 0
        if bad_epochs > self.patience:
            reduced = max(lr * self.factor, self.min_lr)
            if lr - reduced > self.eps:
                lr = reduced
            cooldown_counter = self.cooldown
            bad_epochs = 0
        progress = {
            "last_epoch": self.last_epoch + 1,
            "best": best,
            "num_bad_epochs": bad_epochs,
            "cooldown_counter": cooldown_counter,
            "last_lr": lr,
        }
        self._commit(progress, lr)


def coerce_metric(value: Any, where: str) -> float:
    """A metric as a Python float: any real number, NaN and ±inf included."""
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "iuf":
        raise TypeError(f"{where} must be a real number, got {value!r}")
    return float(array.reshape(()))
