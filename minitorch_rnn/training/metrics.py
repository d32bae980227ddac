r"""Epoch metrics, accumulated from counts over every batch of an epoch.

A metric is not the average of per-batch averages: "accuracy" is the number of right elements of
the whole epoch over the number of counted elements of the whole epoch, so batches of different
sizes, or padded batches with different numbers of valid steps, weigh what they hold.

Which elements *count* is the loss's answer (:meth:`~minitorch_rnn.losses.Loss.counted`): not
where the time mask of a padded batch is False (``mask[b, t] = t < lengths[b]``), nor, for
:class:`~minitorch_rnn.losses.CrossEntropyLoss`, where the target equals its ``ignore_index``
(padding never counts). How a prediction is read as a class is the loss's ``prediction_rule``, so
a new loss class that declares one gets these metrics with no change here.

Built-in metrics:

- ``"accuracy"``: right counted elements / counted elements. With ``prediction_rule="argmax"``
  (``CrossEntropyLoss``) the predicted class is the argmax over the last (class) axis; with
  ``"probability"`` (``BCELoss``) an element is predicted 1 when ``pred > 0.5``, with ``"logit"``
  (``BCEWithLogitsLoss``) when ``pred > 0``; a binary target counts as 1 when ``> 0.5``.
- ``"sequence_accuracy"``: the fraction of samples whose counted elements are *all* right (the
  exact-match accuracy of the binary-subtraction task: every bit of the result right). Samples
  with no counted element are left out.
- ``"perplexity"``: :math:`\exp(\bar\ell)` and ``"bits_per_char"``: :math:`\bar\ell / \ln 2`, where
  :math:`\bar\ell` is the mean cross-entropy (natural log) per counted token over the epoch,
  computed from the predictions whatever the loss's reduction (``CrossEntropyLoss`` only).
- a callable ``fn(pred, target, mask) -> float`` (``mask`` is the ``(B, T)`` time mask of a padded
  batch, or None): its per-batch values are averaged, weighted by batch size. It is reported under
  ``fn.__name__``.
- a :class:`Metric` instance, for anything else.

The epoch loss (:class:`LossAverage`) is the average of the per-batch loss values weighted by the
number of counted elements for ``reduction="mean"`` (so it equals the loss of the whole epoch
taken as one batch) and by the batch size for the other reductions (``"batch_mean"``: again the
whole-epoch value; ``"sum"``: the batch-size-weighted mean of per-batch sums).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

import numpy as np

from ..losses import CrossEntropyLoss

__all__ = [
    "Accuracy",
    "BatchOutcome",
    "BitsPerChar",
    "EpochMetrics",
    "FunctionMetric",
    "LossAverage",
    "Metric",
    "Perplexity",
    "SequenceAccuracy",
    "grades_predictions",
    "resolve_metrics",
]

# The threshold of each binary prediction rule (a binary target is 1 when > 0.5).
_THRESHOLDS = {"probability": 0.5, "logit": 0.0}


def grades_predictions(loss: Any) -> bool:
    """Whether ``loss`` says how to read a prediction as a class (its ``prediction_rule``), so
    that accuracy metrics apply."""
    return getattr(loss, "prediction_rule", None) in ("argmax", *_THRESHOLDS)


class BatchOutcome:
    """One batch's predictions, targets and time mask, with the quantities metrics share.

    Each derived quantity is computed at most once per batch, however many metrics use it.

    Parameters
    ----------
    loss : object
        The training loss; it decides how predictions are read (argmax, threshold).
    pred, target : np.ndarray
        The model output and the target of the batch.
    mask : np.ndarray of bool, optional
        ``(B, T)`` (or any leading axes of the per-element shape): False at padded positions.
    """

    def __init__(self, loss: Any, pred: np.ndarray, target: np.ndarray, mask: Any) -> None:
        self.loss = loss
        self.pred = pred
        self.target = target
        self.mask = mask

    @property
    def size(self) -> int:
        """The number of samples (the first axis of the prediction)."""
        return int(self.pred.shape[0]) if self.pred.ndim else 1

    @cached_property
    def counted(self) -> np.ndarray:
        """Boolean, of the per-element shape: which elements count (the loss's answer)."""
        counted = getattr(self.loss, "counted", None)
        if callable(counted):
            return np.asarray(counted(self.pred, self.target, self.mask), dtype=bool)
        # A loss that is not a Loss: every element of the prediction counts, but masked steps.
        everything = np.ones(np.shape(self.pred), dtype=bool)
        if self.mask is None:
            return everything
        mask = np.asarray(self.mask, dtype=bool)
        return everything & mask.reshape(mask.shape + (1,) * (everything.ndim - mask.ndim))

    @cached_property
    def correct(self) -> np.ndarray:
        """Boolean, of the per-element shape: which predictions are right (see the module doc)."""
        target = np.asarray(self.target)
        rule = self.loss.prediction_rule
        if rule == "argmax":
            return np.argmax(self.pred, axis=-1) == target
        return (self.pred > _THRESHOLDS[rule]) == (target > 0.5)

    @cached_property
    def cross_entropy_total(self) -> float:
        """Sum of the per-token cross-entropy (natural log) over the counted tokens."""
        loss = self.loss
        summed = CrossEntropyLoss(
            from_logits=loss.from_logits, reduction="sum", ignore_index=loss.ignore_index
        )
        return summed.forward(self.pred, self.target, mask=self.mask)


class Metric:
    """An accumulator: :meth:`reset` at the start of an epoch, :meth:`update` per batch,
    :meth:`result` for the epoch so far.

    Subclass it for a metric that needs more than a batch-size-weighted average; set
    :attr:`name` (the key in the logs and history).
    """

    name: str = "metric"

    def reset(self) -> None:
        """Forget every batch."""
        raise NotImplementedError(f"{type(self).__name__} does not implement reset")

    def update(self, batch: BatchOutcome) -> None:
        """Add one batch."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update")

    def result(self) -> float:
        """The value over the batches added since :meth:`reset` (NaN before any)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement result")


class _Ratio(Metric):
    """``numerator / denominator`` summed over batches; subclasses say what each batch adds."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.numerator = 0.0
        self.denominator = 0.0

    def _add(self, numerator: float, denominator: float) -> None:
        self.numerator += numerator
        self.denominator += denominator

    def _ratio(self) -> float:
        return self.numerator / self.denominator if self.denominator else math.nan

    def result(self) -> float:
        return self._ratio()


class Accuracy(_Ratio):
    """Right counted elements / counted elements over the epoch."""

    name = "accuracy"

    def update(self, batch: BatchOutcome) -> None:
        counted = batch.counted
        self._add(
            float(np.count_nonzero(batch.correct & counted)), float(np.count_nonzero(counted))
        )


class SequenceAccuracy(_Ratio):
    """Samples whose counted elements are all right / samples with a counted element."""

    name = "sequence_accuracy"

    def update(self, batch: BatchOutcome) -> None:
        counted = batch.counted.reshape(batch.size, -1)
        wrong = (~batch.correct).reshape(batch.size, -1) & counted
        has_counted = counted.any(axis=1)
        self._add(
            float(np.count_nonzero(has_counted & ~wrong.any(axis=1))),
            float(np.count_nonzero(has_counted)),
        )


class _MeanCrossEntropy(_Ratio):
    """Cross-entropy summed over counted tokens / counted tokens."""

    def update(self, batch: BatchOutcome) -> None:
        self._add(batch.cross_entropy_total, float(np.count_nonzero(batch.counted)))


class Perplexity(_MeanCrossEntropy):
    r""":math:`\exp` of the mean cross-entropy per counted token."""

    name = "perplexity"

    def result(self) -> float:
        mean = self._ratio()
        # math.exp raises OverflowError past ~709; a perplexity that large is simply infinite.
        return math.exp(mean) if mean < 709.0 else math.inf


class BitsPerChar(_MeanCrossEntropy):
    r"""Mean cross-entropy per counted token in bits: :math:`\bar\ell / \ln 2`."""

    name = "bits_per_char"

    def result(self) -> float:
        return self._ratio() / math.log(2.0)


class FunctionMetric(_Ratio):
    """A user function ``fn(pred, target, mask) -> float``, averaged weighted by batch size."""

    def __init__(self, function: Callable[[np.ndarray, np.ndarray, Any], Any], name: str) -> None:
        super().__init__()
        self.function = function
        self.name = name

    def update(self, batch: BatchOutcome) -> None:
        value = self.function(batch.pred, batch.target, batch.mask)
        try:
            number = float(value)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"metric {self.name!r} must return a real number, got {type(value).__name__}"
            ) from error
        self._add(number * batch.size, float(batch.size))


class LossAverage(_Ratio):
    """The epoch loss: per-batch loss values averaged with the weights described above."""

    name = "loss"

    def __init__(self, loss: Any) -> None:
        super().__init__()
        self.by_elements = getattr(loss, "reduction", None) == "mean"

    def update_value(self, value: float, batch: BatchOutcome) -> None:
        """Add one batch's loss ``value``."""
        weight = float(np.count_nonzero(batch.counted)) if self.by_elements else float(batch.size)
        self._add(value * weight, weight)


_BUILTIN: dict[str, type[Metric]] = {
    "accuracy": Accuracy,
    "sequence_accuracy": SequenceAccuracy,
    "perplexity": Perplexity,
    "bits_per_char": BitsPerChar,
}
_RESERVED = ("loss", "lr")


class EpochMetrics:
    """The loss and every metric accumulated over one pass (an epoch, or an evaluation).

    Creating it resets ``metrics``; :meth:`update` adds a batch; :meth:`results` is
    ``{"loss": ..., <metric name>: ...}`` so far.
    """

    def __init__(self, loss: Any, metrics: list[Metric]) -> None:
        self.loss_average = LossAverage(loss)
        self.metrics = metrics
        for metric in metrics:
            metric.reset()

    def update(self, loss_value: float, outcome: BatchOutcome) -> None:
        """Add one batch: its loss value and its outcome."""
        self.loss_average.update_value(loss_value, outcome)
        for metric in self.metrics:
            metric.update(outcome)

    def results(self) -> dict[str, float]:
        """The averages so far, by name."""
        results = {"loss": self.loss_average.result()}
        results.update({metric.name: metric.result() for metric in self.metrics})
        return results


def resolve_metrics(specs: Iterable[Any], loss: Any, *, owner: str = "Trainer") -> list[Metric]:
    """Turn metric names, callables and :class:`Metric` objects into fresh accumulators.

    Parameters
    ----------
    specs : iterable
        Each a built-in name (see the module doc), a callable ``fn(pred, target, mask)``, or a
        :class:`Metric`.
    loss : object
        The training loss, which decides which built-ins apply.

    Raises
    ------
    ValueError
        For an unknown name, a built-in that does not fit the loss (accuracy with ``MSELoss``,
        perplexity without ``CrossEntropyLoss``), or two metrics of the same name.
    TypeError
        For anything else.
    """
    if isinstance(specs, (str, bytes)) or callable(specs) or isinstance(specs, Metric):
        raise TypeError(f"{owner}: metrics must be a sequence (e.g. ('accuracy',)), got {specs!r}")
    metrics: list[Metric] = []
    for spec in specs:
        metric: Metric
        if isinstance(spec, str):
            if spec not in _BUILTIN:
                raise ValueError(
                    f"{owner}: unknown metric {spec!r}; expected one of {sorted(_BUILTIN)} or a "
                    "callable fn(pred, target, mask)"
                )
            metric_class = _BUILTIN[spec]
            wanted = CrossEntropyLoss if spec in ("perplexity", "bits_per_char") else None
            if wanted is not None and not isinstance(loss, wanted):
                raise ValueError(
                    f"{owner}: metric {spec!r} needs a CrossEntropyLoss, got {type(loss).__name__}"
                )
            if not grades_predictions(loss):
                raise ValueError(
                    f"{owner}: metric {spec!r} needs a classification loss (one whose "
                    "prediction_rule is 'argmax', 'probability' or 'logit', such as "
                    f"CrossEntropyLoss, BCELoss or BCEWithLogitsLoss), got {type(loss).__name__}"
                )
            metric = metric_class()
        elif isinstance(spec, Metric):
            metric = spec
        elif callable(spec):
            metric = FunctionMetric(spec, getattr(spec, "__name__", type(spec).__name__))
        else:
            raise TypeError(
                f"{owner}: each metric must be a name, a callable or a Metric, got "
                f"{type(spec).__name__}"
            )
        metrics.append(metric)
    names = [metric.name for metric in metrics]
    for name in names:
        if names.count(name) > 1 or name in _RESERVED or name.startswith("val_"):
            raise ValueError(
                f"{owner}: metric names must be distinct and must not be 'loss', 'lr' or start "
                f"with 'val_', got {names}"
            )
    return metrics
