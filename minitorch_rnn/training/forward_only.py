"""Running a model on data without training it: evaluation and prediction in eval mode, and the
dry run that checks validation data fits the model before training starts."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import NonFiniteError, NonFiniteOutputError
from ..module import Module
from .data import batches
from .metrics import BatchOutcome, EpochMetrics, Metric
from .protocols import LossLike
from .source import Batch, BatchSource, sample_count
from .strategy import finite_forward, masked_loss, model_forward, target_mask

__all__ = [
    "check_fits_model",
    "eval_mode",
    "evaluate",
    "predict",
    "reset_recurrent_state",
    "trainer_error",
]


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


def evaluate(
    model: Module, loss: LossLike, metrics: list[Metric], source: BatchSource, batch_size: int
) -> dict[str, float]:
    """The loss and ``metrics`` over every batch of ``source``, in eval mode (see
    :meth:`Trainer.evaluate`)."""
    averages = EpochMetrics(loss, metrics)
    count = 0
    with eval_mode(model):
        for index, (x, y, lengths) in enumerate(source.iterate(batch_size, False, None)):
            count += 1
            try:
                pred = finite_forward(model, x, lengths)
            except NonFiniteOutputError as error:
                raise trainer_error(
                    NonFiniteOutputError, f"{error} at evaluation batch {index + 1}"
                ) from error
            value = masked_loss(loss, x, pred, y, lengths)
            averages.update(value, BatchOutcome(loss, pred, y, target_mask(x, pred, lengths)))
    if count == 0:
        raise ValueError("Trainer.evaluate: the data yielded no batches")
    return averages.results()


def predict(model: Module, inputs: Batch, batch_size: int) -> np.ndarray:
    """The model's outputs for ``inputs.x`` (with ``inputs.lengths``), in eval mode, in batches
    of ``batch_size``, concatenated along the first axis."""
    if sample_count(inputs.x, "Trainer.predict") == 0:
        raise ValueError("Trainer.predict: x must hold at least one sample, got none")
    outputs = []
    with eval_mode(model):
        for x, lengths in batches(inputs.x, inputs.lengths, batch_size=batch_size):
            outputs.append(np.asarray(model_forward(model, x, lengths)))
    return np.concatenate(outputs, axis=0)


def trainer_error(kind: type[NonFiniteError], what: str) -> NonFiniteError:
    """The error ``kind`` (the same class as its cause) with the Trainer's context."""
    return kind(
        f"Trainer: {what}; no optimiser step was taken, the weights are those of the last good step"
    )


def check_fits_model(
    model: Module, loss: LossLike, batch: Batch | None, like: Batch | None, owner: str
) -> None:
    """Raise what model and loss raise on ``batch`` (named after ``owner``), unless it is laid out
    as ``like`` (a batch the model is known to take) or there is none.

    Changes nothing: the forward pass runs on copies of the model and the loss, since it moves
    caches, recurrent states and random generators in ways no check can predict.
    """
    if batch is None or _same_layout(batch, like):
        return
    x, y, lengths = batch
    probe_model, probe_loss = copy.deepcopy(model), copy.deepcopy(loss)
    try:
        with eval_mode(probe_model):
            masked_loss(probe_loss, x, model_forward(probe_model, x, lengths), y, lengths)
    except (ValueError, TypeError) as error:
        raise type(error)(f"{owner} does not fit the model: {error}") from error


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
