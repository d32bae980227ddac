"""The base of every callback: :class:`Callback`, and what a callback may use of its Trainer.

The Trainer sets ``callback.trainer`` and calls, in the order the callbacks were given::

    on_train_begin(logs)                       # logs: {"log_keys": keys each epoch will log}
        on_epoch_begin(epoch, logs)            # epoch counts from 0
            on_batch_begin(batch, logs)        # batch counts from 0 within the epoch
            on_batch_end(batch, logs)          # logs: {"loss": this batch's loss, "size": B}
        on_epoch_end(epoch, logs)              # logs: the epoch's entry of the history
    on_train_end(logs)                         # logs: the last epoch's logs

    on_checkpoint_error(path, error)           # writing a checkpoint failed; error is raised next

Setting ``trainer.stop_training = True`` ends ``fit`` after the current epoch; set in
``on_batch_begin``/``on_batch_end``, it also ends the current epoch after that batch (as in Keras):
the shortened epoch is validated and logged like any other. A callback whose
progress must survive a resume (:meth:`Trainer.fit` with ``resume_from``) returns it from
:meth:`Callback.state_dict` (JSON-serialisable values or numpy arrays) and restores it in
:meth:`Callback.load_state_dict`. The built-in callbacks are in
:mod:`~minitorch_rnn.training.callbacks`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from ..module import Module
from .history import History

__all__ = ["Callback", "Logs", "TrainerLike"]

Logs = dict[str, Any]


class TrainerLike(Protocol):
    """What a callback may use of the Trainer that runs it (the Trainer satisfies it)."""

    model: Module
    optimizer: Any
    stop_training: bool
    history: History

    def save_checkpoint(self, path: str | os.PathLike[str], **meta: Any) -> None: ...


class Callback:
    """Base class: every hook does nothing. Override the ones you need.

    Attributes
    ----------
    trainer : TrainerLike
        The Trainer running this callback (set by the Trainer; reading it before raises
        ``RuntimeError``).
    """

    _trainer: TrainerLike | None = None

    @property
    def trainer(self) -> TrainerLike:
        if self._trainer is None:
            raise RuntimeError(f"{type(self).__name__}: not attached to a Trainer")
        return self._trainer

    @trainer.setter
    def trainer(self, trainer: TrainerLike) -> None:
        self._trainer = trainer

    def on_train_begin(self, logs: Logs) -> None:
        """Before the first epoch of :meth:`Trainer.fit`."""

    def on_train_end(self, logs: Logs) -> None:
        """After the last epoch (also after an early stop)."""

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        """Before epoch ``epoch`` (0-based) starts."""

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        """After epoch ``epoch``: ``logs`` holds its loss, metrics, validation values and lr."""

    def on_batch_begin(self, batch: int, logs: Logs) -> None:
        """Before training batch ``batch`` (0-based within the epoch)."""

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        """After the optimiser step of batch ``batch``."""

    def on_checkpoint_error(self, path: str, error: BaseException) -> None:
        """Writing the checkpoint ``path`` failed (a full disk, say); ``error`` is raised next.

        Undo what was changed in anticipation of the write (``ModelCheckpoint`` keeps its
        previous ``best``)."""

    def state_dict(self) -> dict[str, Any]:
        """Progress to save in a resume checkpoint (none by default)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
