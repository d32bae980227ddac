"""The built-in callbacks: code that runs at fixed points of :meth:`Trainer.fit`.

:class:`EarlyStopping`, :class:`ModelCheckpoint`, :class:`LearningRateScheduler`,
:class:`TimeBudget`, :class:`CosineAnnealingOverTime` (in its own file, a schedule over a time
budget) and :class:`GradientFlow` (in its own file, it needs the recurrent layers).
The base class :class:`Callback` (its hooks, their order and arguments) lives in
:mod:`~minitorch_rnn.training.callback` and is re-exported here with ``History``, so that
``mt.callbacks`` holds everything a user subclasses or passes to the Trainer.
"""

from __future__ import annotations

import math
import os
import re
import string
import time
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from ..validation import check_flag, is_int
from .callback import Callback, Logs, TrainerLike
from .gradient_flow import GradientFlow
from .history import History
from .time_schedule import CosineAnnealingOverTime

__all__ = [
    "Callback",
    "CosineAnnealingOverTime",
    "EarlyStopping",
    "GradientFlow",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "TimeBudget",
    "TrainerLike",
]


class _Monitor:
    """Tracks the best value of one logged quantity; shared by EarlyStopping and ModelCheckpoint.

    ``min_delta`` is the smallest change that counts as an improvement. NaN never improves.
    """

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"{owner}: monitor must be a non-empty str, got {monitor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', got {mode!r}")
        if not (
            isinstance(min_delta, (int, float)) and math.isfinite(min_delta) and min_delta >= 0
        ):
            raise ValueError(f"{owner}: min_delta must be a finite number >= 0, got {min_delta!r}")
        self.owner = owner
        self.monitor = monitor
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: Mapping[str, Any]) -> float:
        """The monitored value in ``logs``; a clear error when it is not logged."""
        if self.monitor not in logs:
            hint = " (val_ keys need validation_data)" if self.monitor.startswith("val_") else ""
            raise KeyError(
                f"{self.owner}: monitored key {self.monitor!r} is not in the epoch logs{hint}; "
                f"available keys: {sorted(logs)}"
            )
        return float(logs[self.monitor])

    def improves(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def reaches(self, value: float, target: float) -> bool:
        return value <= target if self.mode == "min" else value >= target


class EarlyStopping(Callback):
    """Stop training when the monitored value stops improving, or once it reaches a target.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs: ``"val_loss"``, ``"loss"``, ``"accuracy"``,
        ``"val_sequence_accuracy"``, ...
    mode : {"min", "max"}
        Whether smaller or larger values are better.
    patience : int
        Training stops once ``patience`` epochs in a row (at least one) have not improved on the
        best value, as in Keras.
    target : float, optional
        Stop as soon as the value reaches it (``<=`` in min mode, ``>=`` in max mode), e.g.
        ``EarlyStopping("val_accuracy", mode="max", target=1.0)``: stop at 100% accuracy.
    min_delta : float
        Smallest change that counts as an improvement.
    restore_best_weights : bool
        At the end of training, put back the weights of the best epoch. (The snapshot is kept in
        memory, not in resume checkpoints: after a resume it covers the epochs run since.)

    Attributes
    ----------
    best : float
        Best value so far.
    best_epoch : int or None
        The (0-based) epoch where it was reached.
    wait : int
        Epochs since the last improvement.
    stopped_epoch : int or None
        The epoch at which this callback stopped training, None if it did not.

    Raises
    ------
    KeyError
        At the end of an epoch whose logs do not contain ``monitor``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "min",
        patience: int = 5,
        target: float | None = None,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ) -> None:
        self._monitor = _Monitor("EarlyStopping", monitor, mode, min_delta)
        if not is_int(patience) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        if target is not None and not (isinstance(target, (int, float)) and math.isfinite(target)):
            raise ValueError(
                f"EarlyStopping: target must be a finite number or None, got {target!r}"
            )
        self.monitor = monitor
        self.mode = mode
        self.patience = int(patience)
        self.target = None if target is None else float(target)
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self._monitor.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_weights: dict[str, np.ndarray] | None = None

    @property
    def best(self) -> float:
        return self._monitor.best

    def on_train_begin(self, logs: Logs) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        trainer = self.trainer
        value = self._monitor.value(logs)
        if self._monitor.improves(value):
            self._monitor.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self._best_weights = trainer.model.state_dict()
        else:
            self.wait += 1
        reached = self.target is not None and self._monitor.reaches(value, self.target)
        if reached or self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, logs: Logs) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            self.trainer.model.load_state_dict(self._best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._monitor.best = float(state["best"])
        self.best_epoch = None if state["best_epoch"] is None else int(state["best_epoch"])
        self.wait = int(state["wait"])


class ModelCheckpoint(Callback):
    """Save a resumable checkpoint (:meth:`Trainer.save_checkpoint`) at the end of epochs.

    Parameters
    ----------
    path : str or path-like
        The file. It may contain ``str.format`` fields: ``{epoch}`` (1-based) and any key of the
        epoch logs, e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``. A malformed pattern is refused
        here; a field the epoch logs will not hold (``{val_loss}`` without validation data) when
        :meth:`Trainer.fit` starts, before the first epoch.
    monitor : str
        The logged value that decides which epoch is best (checked at the start of ``fit`` too,
        when ``save_best_only``).
    mode : {"min", "max"}
        Whether smaller or larger values are better.
    save_best_only : bool
        Save only when ``monitor`` improves on the best so far; otherwise after every epoch.
    meta : dict, optional
        JSON-serialisable values stored in every checkpoint (e.g. how to rebuild the model).

    Attributes
    ----------
    best : float
        The best monitored value so far; if writing its checkpoint fails (a full disk), the
        previous value is put back.

    Notes
    -----
    The file is written after every callback's ``on_epoch_end`` of the epoch has run (so that it
    holds, say, this epoch's learning-rate-scheduler step), whatever this callback's position.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str = "val_loss",
        mode: str = "min",
        save_best_only: bool = True,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self._monitor = _Monitor("ModelCheckpoint", monitor, mode)
        self.meta = dict(meta or {})
        self.path = os.fspath(path)
        self._fields = _path_fields(self.path)
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = bool(save_best_only)
        # The best before the latest improvement, and the file that should record it: put
        # back if writing that file fails.
        self._undo_best: tuple[float, str] | None = None

    @property
    def best(self) -> float:
        return self._monitor.best

    def on_train_begin(self, logs: Logs) -> None:
        self._undo_best = None
        keys = logs.get("log_keys")
        if keys is None:  # a trainer that does not announce its log keys
            return
        available = {"epoch", *keys}
        unknown = sorted(field for field in self._fields if field not in available)
        if unknown:
            hint = " (val_ keys need validation_data)" if any("val_" in k for k in unknown) else ""
            raise ValueError(
                f"ModelCheckpoint: path {self.path!r} uses {unknown}, which the epoch logs will "
                f"not hold{hint}; available: {sorted(available)}"
            )
        if self.save_best_only:
            self._monitor.value(dict.fromkeys(keys, 0.0))

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        self._undo_best = None  # the previous epoch's checkpoint was written

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        trainer = self.trainer
        path = self.path.format_map({**logs, "epoch": epoch + 1})
        self._undo_best = None
        if self.save_best_only:
            value = self._monitor.value(logs)
            if not self._monitor.improves(value):
                return
            self._undo_best = (self._monitor.best, path)
            self._monitor.best = value
        try:
            trainer.save_checkpoint(path, **self.meta)
        except BaseException as error:
            self.on_checkpoint_error(path, error)
            raise

    def on_checkpoint_error(self, path: str, error: BaseException) -> None:
        if self._undo_best is not None and self._undo_best[1] == path:
            self._monitor.best = self._undo_best[0]
            self._undo_best = None

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        best = state["best"]
        if isinstance(best, bool) or not isinstance(best, (int, float)) or math.isnan(best):
            raise ValueError(f"ModelCheckpoint: saved 'best' must be a number, got {best!r:.80}")
        self._monitor.best, self._undo_best = float(best), None


def _path_fields(path: str) -> list[str]:
    """The log keys a ``ModelCheckpoint`` path pattern names; a malformed pattern is an error."""
    try:
        parsed = list(string.Formatter().parse(path))
        fields = [name for _, name, _, _ in parsed if name is not None]
        if any(not name for name in fields):
            raise ValueError("positional fields such as '{}' or '{0}' have no value")
        roots = [re.split(r"[.\[]", name, maxsplit=1)[0] for name in fields]
        # every field as a number (an int for epoch): a bad format spec shows now
        path.format_map({root: 1 if root == "epoch" else 0.5 for root in roots})
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as error:
        raise ValueError(
            f"ModelCheckpoint: path {path!r} is not a valid pattern: {error}"
        ) from error
    return roots


class LearningRateScheduler(Callback):
    """Step a learning-rate scheduler at the end of every epoch.

    Parameters
    ----------
    scheduler : object
        With ``step()`` (``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``) or, if it has a
        class attribute ``needs_metric = True``, ``step(metric)`` (``ReduceLROnPlateau``), and
        ideally ``state_dict``/``load_state_dict`` (saved for an exact resume).
    monitor : str, optional
        The logged value passed to ``step(metric)``; required by schedulers whose ``step`` takes
        a metric, e.g. ``LearningRateScheduler(ReduceLROnPlateau(opt), monitor="val_loss")``.

    Notes
    -----
    The learning rate each epoch used is in the history under ``"lr"``.
    """

    def __init__(self, scheduler: Any, monitor: str | None = None) -> None:
        step = getattr(scheduler, "step", None)
        if not callable(step):
            raise TypeError(
                f"LearningRateScheduler: scheduler must have a step() method, got "
                f"{type(scheduler).__name__}"
            )
        # A scheduler whose step takes the epoch's metric says so (ReduceLROnPlateau).
        needs_metric = bool(getattr(scheduler, "needs_metric", False))
        if needs_metric and monitor is None:
            raise ValueError(
                f"LearningRateScheduler: {type(scheduler).__name__}.step needs a metric; pass "
                "monitor='val_loss' (or another logged key)"
            )
        self.scheduler = scheduler
        self.monitor = monitor
        self._value = None if monitor is None else _Monitor("LearningRateScheduler", monitor, "min")

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self._value is None:
            self.scheduler.step()
        else:
            self.scheduler.step(self._value.value(logs))

    def state_dict(self) -> dict[str, Any]:
        saver = getattr(self.scheduler, "state_dict", None)
        return {"scheduler": dict(saver())} if callable(saver) else {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "scheduler" in state:
            self.scheduler.load_state_dict(
                {key: np.asarray(value) for key, value in state["scheduler"].items()}
            )


class TimeBudget(Callback):
    """Stop training once ``seconds`` have passed since training began.

    By default the epoch running when the budget ends is finished (an epoch is never cut
    short); with ``finish_epoch=False`` training stops after the first *batch* that ends past
    the budget, and that shortened epoch is validated and logged like any other (the way to
    keep a run of long epochs within its budget).

    Parameters
    ----------
    seconds : float
        The budget, a finite number >= 0 (0: stop after the first epoch, or the first batch),
        counted from ``on_train_begin`` on a monotonic clock.
    finish_epoch : bool
        True: the budget is checked after every epoch. False: after every batch.

    Attributes
    ----------
    stopped_epoch : int or None
        The (0-based) epoch after which this callback stopped training, None if it did not.

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> budget = mt.callbacks.TimeBudget(60.0 * 5)  # e.g. a --minutes 5 option
    >>> strict = mt.callbacks.TimeBudget(60.0 * 15, finish_epoch=False)
    """

    def __init__(self, seconds: float, finish_epoch: bool = True) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, Real):
            raise TypeError(f"TimeBudget: seconds must be a number, got {type(seconds).__name__}")
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"TimeBudget: seconds must be a finite number >= 0, got {seconds!r}")
        self.seconds: float = float(seconds)
        self.finish_epoch: bool = check_flag(finish_epoch, "TimeBudget", "finish_epoch")
        self.stopped_epoch: int | None = None
        self._start: float = 0.0
        self._epoch: int = 0

    def on_train_begin(self, logs: Logs) -> None:
        self._start = time.monotonic()
        self.stopped_epoch = None

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        if not self.finish_epoch:
            self._stop_when_spent(self._epoch)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self._stop_when_spent(epoch)

    def elapsed(self) -> float:
        """Seconds since training began (on the monotonic clock)."""
        return time.monotonic() - self._start

    def _stop_when_spent(self, epoch: int) -> None:
        if self.elapsed() >= self.seconds:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
