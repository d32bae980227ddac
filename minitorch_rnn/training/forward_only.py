"""Running a model on data without training it: eval mode, padded-batch masks, loss values, and
the dry run that checks data fits the model before training starts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..module import Module, StateSnapshot
from .data import Batch, time_mask
from .protocols import LossLike
from .source import checked_lengths
from .strategy import model_forward

__all__ = ["batch_mask", "check_fits_model", "eval_mode", "loss_value", "reset_recurrent_state"]


def reset_recurrent_state(model: Module) -> None:
    """Forget the carried state of every stateful module (``reset_state()``)."""
    for module in model.modules():
        reset = getattr(module, "reset_state", None)
        if callable(reset):
            reset()


@contextlib.contextmanager
def eval_mode(model: Module) -> Iterator[None]:
    """Eval mode and fresh recurrent state for other data; the previous mode afterwards."""
    was_training = model.training
    model.eval()
    reset_recurrent_state(model)
    try:
        yield
    finally:
        model.train(was_training)


def batch_mask(x: Any, y: Any, lengths: np.ndarray | None, owner: str) -> np.ndarray | None:
    """The ``(B, T)`` time mask of a padded batch whose target has the time axis of ``x``."""
    if lengths is None:
        return None
    lengths = checked_lengths(x, lengths, owner)
    steps = np.shape(x[0] if isinstance(x, tuple) else x)[1]
    if np.ndim(y) >= 2 and np.shape(y)[1] == steps:
        return time_mask(lengths, steps)
    return None


def loss_value(loss: LossLike, pred: Any, y: Any, mask: np.ndarray | None) -> float:
    """``loss.forward`` as a float (``mask`` passed only when there is one)."""
    if mask is None:
        return float(loss.forward(pred, y))
    return float(loss.forward(pred, y, mask=mask))


def check_fits_model(
    model: Module, loss: LossLike, batch: Batch | None, like: Batch | None, owner: str
) -> None:
    """Raise what model and loss raise on ``batch`` (named after ``owner``), unless it is laid out
    as ``like`` (a batch the model is known to take) or there is none.

    Changes nothing: a forward pass moves caches, recurrent states and random generators in ways
    no check can predict, so they are restored from a snapshot.
    """
    if batch is None or _same_layout(batch, like):
        return
    x, y, lengths = batch
    model_state = StateSnapshot(model)
    loss_state = dict(vars(loss)) if hasattr(loss, "__dict__") else None
    try:
        with eval_mode(model):
            mask = batch_mask(x, y, lengths, owner)
            loss_value(loss, model_forward(model, x, lengths), y, mask)
    except (ValueError, TypeError) as error:
        raise type(error)(f"{owner} does not fit the model: {error}") from error
    finally:
        model_state.restore()
        if loss_state is not None:
            vars(loss).clear()
            vars(loss).update(loss_state)


def _same_layout(batch: Batch, other: Batch | None) -> bool:
    """Whether two batches differ only in their number of samples."""
    if other is None:
        return False
    return all(_same_array_layout(a, b) for a, b in zip(batch, other, strict=True))


def _same_array_layout(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (
            isinstance(a, tuple)
            and isinstance(b, tuple)
            and len(a) == len(b)
            and all(_same_array_layout(p, q) for p, q in zip(a, b, strict=True))
        )
    return (a is None) == (b is None) and (
        a is None or (np.shape(a)[1:] == np.shape(b)[1:] and a.dtype.kind == b.dtype.kind)
    )
