r"""A learning-rate schedule over a time budget: :class:`CosineAnnealingOverTime`.

The schedulers of :mod:`minitorch_rnn.optim` count epochs. A run bounded by the clock
(:class:`~minitorch_rnn.training.callbacks.TimeBudget`) does not know how many epochs or batches
it will get, so this schedule reads the clock instead: before every batch it sets the rate for the
share of the budget already spent, and the rate reaches its floor just as the budget ends.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from ..validation import check_real
from .callback import Callback, Logs

__all__ = ["CosineAnnealingOverTime"]


class CosineAnnealingOverTime(Callback):
    r"""Set the learning rate before every batch along a half cosine over ``seconds``.

    With :math:`\eta_0` the optimiser's ``lr`` when training begins (the peak), :math:`t` the
    seconds since then, :math:`w` the warm-up and :math:`S` the budget:

    .. math::

        \eta(t) = \begin{cases}
            \eta_0 \, t / w & t < w \\
            \eta_{min} + \tfrac{1}{2} (\eta_0 - \eta_{min})
                \left(1 + \cos\left(\pi \, \min\left(1, \frac{t - w}{S - w}\right)\right)\right)
                & t \ge w
        \end{cases}

    the rate of :class:`~minitorch_rnn.optim.CosineAnnealingLR` with the epoch count replaced by
    the clock, after a linear warm-up. Past the budget the rate stays :math:`\eta_{min}`. Pair it
    with ``TimeBudget(seconds, finish_epoch=False)`` so that training ends when the rate does.

    Parameters
    ----------
    seconds : float
        The budget :math:`S` over which the rate falls, > 0.
    eta_min : float
        The floor :math:`\eta_{min}`, >= 0.
    warmup_seconds : float
        The linear warm-up :math:`w` from 0 to the peak, ``0 <= w < S`` (0: none).

    Notes
    -----
    A resumed :meth:`Trainer.fit` continues the schedule: the peak and the seconds already spent
    are saved in the checkpoint (:meth:`state_dict`). The optimiser needs a float attribute
    ``lr`` (every :mod:`minitorch_rnn.optim` optimiser has one). The rate of each epoch's first
    batch is logged under ``"lr"``.

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> budget = 15 * 60.0
    >>> callbacks = [
    ...     mt.callbacks.TimeBudget(budget, finish_epoch=False),
    ...     mt.callbacks.CosineAnnealingOverTime(budget, warmup_seconds=10.0),
    ... ]
    """

    def __init__(self, seconds: float, eta_min: float = 0.0, warmup_seconds: float = 0.0) -> None:
        owner = type(self).__name__
        self.seconds = _non_negative(seconds, owner, "seconds")
        self.eta_min = _non_negative(eta_min, owner, "eta_min")
        self.warmup_seconds = _non_negative(warmup_seconds, owner, "warmup_seconds")
        if not self.warmup_seconds < self.seconds:
            raise ValueError(
                f"{owner}: warmup_seconds must be below seconds ({self.seconds}), got "
                f"{self.warmup_seconds}"
            )
        self.peak_lr = 0.0
        self._start = 0.0
        self._spent_before = 0.0

    def learning_rate(self, elapsed: float) -> float:
        """The rate :math:`\\eta(t)` after ``elapsed`` seconds."""
        if elapsed < self.warmup_seconds:
            return self.peak_lr * elapsed / self.warmup_seconds
        progress = min(1.0, (elapsed - self.warmup_seconds) / (self.seconds - self.warmup_seconds))
        return self.eta_min + 0.5 * (self.peak_lr - self.eta_min) * (
            1 + math.cos(math.pi * progress)
        )

    def elapsed(self) -> float:
        """Seconds of training so far, those before a resume included."""
        return self._spent_before + time.monotonic() - self._start

    def on_train_begin(self, logs: Logs) -> None:
        lr = getattr(self.trainer.optimizer, "lr", None)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
            raise TypeError(
                f"{type(self).__name__}: the optimiser needs a finite float attribute lr, got "
                f"{lr!r}"
            )
        if lr < self.eta_min:
            raise ValueError(
                f"{type(self).__name__}: the optimiser's lr ({lr}) is below eta_min "
                f"({self.eta_min})"
            )
        self.peak_lr = float(lr)
        self._start = time.monotonic()
        self._spent_before = 0.0
        # the first epoch's logged rate is the schedule's (0 under a warm-up), not the peak
        self.trainer.optimizer.lr = self.learning_rate(0.0)

    def on_batch_begin(self, batch: int, logs: Logs) -> None:
        self._set_rate()

    def state_dict(self) -> dict[str, Any]:
        return {"peak_lr": self.peak_lr, "elapsed": self.elapsed()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        owner = type(self).__name__
        peak = _non_negative(float(state["peak_lr"]), owner, "saved peak_lr")
        spent = _non_negative(float(state["elapsed"]), owner, "saved elapsed")
        self.peak_lr, self._spent_before, self._start = peak, spent, time.monotonic()
        self._set_rate()

    def _set_rate(self) -> None:
        self.trainer.optimizer.lr = self.learning_rate(self.elapsed())


def _non_negative(value: Any, owner: str, name: str) -> float:
    """``value`` as a float if it is a finite real number >= 0; else a named error."""
    number = check_real(value, owner, name)
    if number < 0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {value!r}")
    return number
