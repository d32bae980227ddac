"""Where a training step's gradients are computed: in this process, or spread over workers.

The :class:`~minitorch_rnn.training.trainer.Trainer` owns the loop, the checks and the update
(zero the gradients, compute them, refuse non-finite ones, clip, ``optimizer.step()``). A
*strategy* owns only the middle part: given a batch, leave in every parameter's ``.grad`` the
gradient of the batch's loss, exactly as if the whole batch ran in this process, and return the
prediction and the loss value. :class:`LocalStrategy` does that here; the optional
``minitorch_rnn.distributed.RayStrategy`` splits the batch over Ray workers. The core never imports
the distributed package: it only knows this protocol.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..errors import NonFiniteLossError, NonFiniteOutputError
from ..module import Module, accepts_lengths, input_grad_needed
from ..validation import time_mask

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = [
    "LocalStrategy",
    "Strategy",
    "finite_forward",
    "forward_backward",
    "masked_loss",
    "model_forward",
    "target_mask",
]


@runtime_checkable
class Strategy(Protocol):
    """What the Trainer asks of a strategy.

    ``setup`` is called at the start of :meth:`Trainer.fit` (after a resume has restored the
    weights), ``teardown`` when ``fit`` ends, normally or not. ``forward_backward`` is called once
    per training batch (already checked, see :class:`~minitorch_rnn.training.source.Batch`) with
    the model's gradients zeroed; its loss is :func:`masked_loss`'s.
    """

    def setup(self, trainer: Trainer) -> None: ...

    def forward_backward(
        self, trainer: Trainer, x: Any, y: Any, lengths: np.ndarray | None
    ) -> tuple[Any, float]: ...

    def teardown(self) -> None: ...


def model_forward(model: Module, x: Any, lengths: np.ndarray | None) -> Any:
    """``model.forward(x)`` (``model.forward(*x)`` for a tuple of inputs), with ``lengths=`` only
    for a model whose ``forward`` declares it."""
    inputs = x if isinstance(x, tuple) else (x,)
    if lengths is not None and accepts_lengths(model):
        return model.forward(*inputs, lengths=lengths)
    return model.forward(*inputs)


def finite_forward(model: Module, x: Any, lengths: np.ndarray | None) -> Any:
    """:func:`model_forward`, raising :class:`NonFiniteOutputError` on a NaN or inf output."""
    pred = model_forward(model, x, lengths)
    if not np.isfinite(np.asarray(pred)).all():
        raise NonFiniteOutputError("non-finite model output (NaN or inf)")
    return pred


def target_mask(x: Any, pred: Any, lengths: np.ndarray | None) -> np.ndarray | None:
    """The ``(B, T)`` time mask ``mask[b, t] = t < lengths[b]`` of a padded batch, or None.

    Whether the mask applies is read from what the model returned: one output per input step,
    a prediction ``(B, T, ...)`` with at least three axes (steps, then classes or features, as
    every layer here keeps) whose ``T`` is the input's. A many-to-one model (``Unroll
    (return_sequences=False)`` then ``Dense``: ``(B, C)``) gets the lengths but no mask, even when
    its target happens to have ``T`` columns.
    """
    if lengths is None:
        return None
    steps = np.shape(x)[1]
    if np.ndim(pred) >= 3 and np.shape(pred)[1] == steps:
        return time_mask(lengths, steps)
    return None


def masked_loss(loss: Any, x: Any, pred: Any, y: Any, lengths: np.ndarray | None) -> float:
    """The batch's loss value: ``loss.forward(pred, y, mask=target_mask(x, pred, lengths))``.

    The one place a loss meets a padded batch's mask, for the local strategy, the Ray strategy
    and its replicas, evaluation and the dry run of validation data. ``mask`` is passed only when
    there is one (a user's loss need not take it otherwise).
    """
    mask = target_mask(x, pred, lengths)
    return float(loss.forward(pred, y) if mask is None else loss.forward(pred, y, mask=mask))


def forward_backward(
    model: Module, loss: Any, x: Any, y: Any, lengths: np.ndarray | None
) -> tuple[Any, float]:
    """One batch in this process: forward, loss, backward; returns ``(pred, loss_value)``.

    ``lengths`` reach the model only if its ``forward`` declares them, and mask the loss as
    :func:`target_mask` says. A NaN or infinite prediction or loss raises
    (:class:`NonFiniteOutputError`, :class:`NonFiniteLossError`) before ``backward`` runs, so no
    gradient is added.
    """
    pred = finite_forward(model, x, lengths)
    value = masked_loss(loss, x, pred, y, lengths)
    if not math.isfinite(value):
        raise NonFiniteLossError(f"non-finite loss ({value})")
    with input_grad_needed(model, False):  # the input is data: it needs no gradient
        model.backward(loss.backward())
    return pred, value


class LocalStrategy:
    """Compute each step's gradients in this process (the default)."""

    def setup(self, trainer: Trainer) -> None:
        """Nothing to prepare."""

    def forward_backward(
        self, trainer: Trainer, x: Any, y: Any, lengths: np.ndarray | None
    ) -> tuple[Any, float]:
        """Run :func:`forward_backward` on the trainer's own model and loss."""
        return forward_backward(trainer.model, trainer.loss, x, y, lengths)

    def teardown(self) -> None:
        """Nothing to release."""
