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

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["LocalStrategy", "NonFiniteLossError", "Strategy", "forward_backward", "model_forward"]


@runtime_checkable
class Strategy(Protocol):
    """What the Trainer asks of a strategy.

    ``setup`` is called at the start of :meth:`Trainer.fit` (after a resume has restored the
    weights), ``teardown`` when ``fit`` ends, normally or not. ``forward_backward`` is called once
    per training batch with the model's gradients already zeroed.
    """

    def setup(self, trainer: Trainer) -> None: ...

    def forward_backward(
        self,
        trainer: Trainer,
        x: Any,
        y: Any,
        lengths: np.ndarray | None,
        mask: np.ndarray | None,
    ) -> tuple[Any, float]: ...

    def teardown(self) -> None: ...


def model_forward(model: Module, x: Any, lengths: np.ndarray | None) -> Any:
    """``model.forward(x)`` (``model.forward(*x)`` for a tuple of inputs), with ``lengths=`` only
    for a model whose ``forward`` declares it."""
    inputs = x if isinstance(x, tuple) else (x,)
    if lengths is not None and accepts_lengths(model):
        return model.forward(*inputs, lengths=lengths)
    return model.forward(*inputs)


def forward_backward(
    model: Module,
    loss: Any,
    x: Any,
    y: Any,
    lengths: np.ndarray | None,
    mask: np.ndarray | None,
) -> tuple[Any, float]:
    """One batch in this process: forward, loss, backward; returns ``(pred, loss_value)``.

    ``lengths`` reach the model only if its ``forward`` declares them; ``mask`` reaches the loss.
    A NaN or infinite prediction or loss raises :class:`NonFiniteLossError` before ``backward``
    runs, so no gradient is added.
    """
    pred = model_forward(model, x, lengths)
    if not np.isfinite(np.asarray(pred)).all():
        raise NonFiniteOutputError("non-finite model output (NaN or inf)")
    value = float(loss.forward(pred, y) if mask is None else loss.forward(pred, y, mask=mask))
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
        self,
        trainer: Trainer,
        x: Any,
        y: Any,
        lengths: np.ndarray | None,
        mask: np.ndarray | None,
    ) -> tuple[Any, float]:
        """Run :func:`forward_backward` on the trainer's own model and loss."""
        return forward_backward(trainer.model, trainer.loss, x, y, lengths, mask)

    def teardown(self) -> None:
        """Nothing to release."""
