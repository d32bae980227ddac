r"""Losses: ``forward(pred, target, mask=None)`` returns a float, ``backward()`` d loss / d pred.

Reductions (shared by every loss):

- ``"mean"``: the sum over counted elements divided by their number (PyTorch's default);
- ``"sum"``: the sum over counted elements;
- ``"batch_mean"``: the sum over counted elements divided by the batch size ``B`` (the first axis
  of the per-element loss, 1 if it has none) — the per-sequence loss of the classic char-RNN
  (summed over time, averaged over sequences).

An element is *counted* unless ``mask`` is False there (padding past a sequence's length) or, for
:class:`CrossEntropyLoss`, its target equals ``ignore_index``. Uncounted elements get zero gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .validation import check_min_rank, float_input, is_int, no_forward_error, read_only

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Loss", "MSELoss"]

_REDUCTIONS = ("mean", "sum", "batch_mean")


class Loss:
    """Base class: reduction, masking and the forward/backward bookkeeping.

    Subclasses implement :meth:`_elementwise`, which returns the per-element losses, their
    gradients with respect to ``pred`` (both unreduced) and which elements count.

    Attributes
    ----------
    prediction_rule : {"argmax", "probability", "logit"} or None
        How accuracy metrics read a prediction as a class: the argmax of the last (class) axis,
        1 where a probability is ``> 0.5``, or 1 where a logit is ``> 0``. None (the default) for
        a loss without classes, which gets no accuracy metrics.
    """

    prediction_rule: str | None = None

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}"
            )
        self.reduction = reduction
        self._grad: np.ndarray | None = None
        self._divisor: float | None = None

    def _elementwise(
        self, pred: np.ndarray, target: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(losses, grads, counted)``: per-element losses of shape ``E``, gradients of
        ``pred``'s shape, and a boolean ``counted`` array of shape ``E``."""
        raise NotImplementedError

    def forward(self, pred: Any, target: Any, mask: Any = None) -> float:
        """Return the reduced loss and remember its gradient for :meth:`backward`.

        Parameters
        ----------
        pred : array
            Predictions (see each subclass for their meaning).
        target : array
            Targets (see each subclass).
        mask : array of bool, optional
            False where an element must not count (e.g. padding); its shape equals the leading
            axes of the per-element loss, e.g. ``(B, T)`` for a ``(B, T, 1)`` prediction.
        """
        name = type(self).__name__
        pred = float_input(pred, name, name="pred")
        check_min_rank(pred, name, 1, "pred")
        losses, grads, counted = self._elementwise(pred, target)
        if mask is not None:
            counted = counted & _broadcast_mask(mask, counted.shape, name)
        if self.reduction == "sum":
            denominator = 1.0
        elif self.reduction == "batch_mean":
            # The batch axis is the first axis of the per-element losses: for class scores of
            # shape (C,) (one unbatched sample) it is absent, not the class axis. An empty batch
            # sums to 0 and divides by 1, as "mean" does when nothing counts.
            denominator = max(float(losses.shape[0]), 1.0) if losses.ndim else 1.0
        else:
            denominator = max(float(np.count_nonzero(counted)), 1.0)
        total = float(np.sum(losses, where=counted, dtype=np.float64))
        scale = (counted / denominator).astype(pred.dtype)
        scale = scale.reshape(scale.shape + (1,) * (grads.ndim - scale.ndim))
        self._grad = grads * scale
        self._divisor = denominator
        return total / denominator

    __call__ = forward

    def counted(self, pred: Any, target: Any, mask: Any = None) -> np.ndarray:
        """Which elements count, as :meth:`forward` would count them (metrics ask this).

        Returns
        -------
        np.ndarray of bool
            Of the per-element loss's shape: False where ``mask`` is False or the element is left
            out by the loss itself (``CrossEntropyLoss``'s ``ignore_index``).
        """
        name = type(self).__name__
        pred = float_input(pred, name, name="pred")
        check_min_rank(pred, name, 1, "pred")
        counted = self._elementwise(pred, target)[2]
        if mask is not None:
            counted = counted & _broadcast_mask(mask, counted.shape, name)
        return counted

    def divisor(self) -> float:
        """What the last :meth:`forward` divided the summed loss by: 1 for ``"sum"``, the batch
        size for ``"batch_mean"``, the number of counted elements (at least 1) for ``"mean"``.

        A batch's loss and gradient are its ``"sum"`` ones divided by this number, which is how
        ``minitorch_rnn.distributed`` combines the summed gradients of a batch split over workers.
        """
        if self._divisor is None:
            raise RuntimeError(f"{type(self).__name__}.divisor: called before forward")
        return self._divisor

    def backward(self) -> np.ndarray:
        """d loss / d pred of the last :meth:`forward`, same shape and dtype as ``pred``.

        A read-only view of the gradient kept for the next call (copy it to edit it).
        """
        if self._grad is None:
            raise no_forward_error(type(self).__name__)
        return read_only(self._grad)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


def _broadcast_mask(mask: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A mask of the element shape, or of its leading axes (expanded over the trailing ones)."""
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biu":
        raise TypeError(f"{name}: mask must be boolean, got dtype {mask.dtype}")
    if mask.shape != shape[: mask.ndim]:
        raise ValueError(f"{name}: mask of shape {mask.shape} does not fit elements of {shape}")
    mask = mask.astype(bool).reshape(mask.shape + (1,) * (len(shape) - mask.ndim))
    return np.broadcast_to(mask, shape)


def _float_target(target: Any, pred: np.ndarray, name: str) -> np.ndarray:
    target = float_input(target, name, dtype=pred.dtype, name="target")
    if target.shape != pred.shape:
        raise ValueError(
            f"{name}: target must have the shape of pred {pred.shape}, got {target.shape}"
        )
    return target


def _check_unit_interval(values: np.ndarray, name: str, what: str, hint: str = "") -> None:
    """Raise a ``ValueError`` naming the loss unless every value lies in ``[0, 1]``."""
    if values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError(
            f"{name}: {what} must lie in [0, 1], got values in [{values.min()}, {values.max()}]"
            + hint
        )


class CrossEntropyLoss(Loss):
    r"""Categorical cross-entropy for integer class ids.

    With logits ``z`` (``from_logits=True``), :math:`p = \mathrm{softmax}(z)` and
    :math:`\ell = -\log p_y`, computed as :math:`\mathrm{logsumexp}(z) - z_y` so that any finite
    logit is safe; the gradient is :math:`p - \mathrm{onehot}(y)` divided by the reduction's count.
    With probabilities (``from_logits=False``, after a :class:`Softmax` layer)
    :math:`\ell = -\log \max(p_y, \epsilon)` and
    :math:`\partial\ell/\partial p_y = -1/\max(p_y,\epsilon)`.

    Parameters
    ----------
    from_logits : bool
        Whether ``pred`` holds logits (default) or probabilities.
    reduction : {"mean", "sum", "batch_mean"}
    ignore_index : int, optional
        Targets equal to it do not count (PyTorch uses -100 for padding).

    Shapes
    ------
    pred ``(..., C)``; target ``(...)`` integer ids in ``[0, C)``; mask ``(...)``.
    """

    prediction_rule = "argmax"

    def __init__(
        self, from_logits: bool = True, reduction: str = "mean", ignore_index: int | None = None
    ) -> None:
        if not isinstance(from_logits, (bool, np.bool_)):
            raise TypeError(f"CrossEntropyLoss: from_logits must be a bool, got {from_logits!r}")
        if ignore_index is not None and not is_int(ignore_index):
            raise TypeError(
                f"CrossEntropyLoss: ignore_index must be an int or None, got {ignore_index!r}"
            )
        super().__init__(reduction)
        self.from_logits = bool(from_logits)
        self.ignore_index = None if ignore_index is None else int(ignore_index)

    def _elementwise(
        self, pred: np.ndarray, target: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        target = np.asarray(target)
        if target.dtype.kind not in "iu":
            raise TypeError(
                f"CrossEntropyLoss: target must hold integer class ids, got dtype {target.dtype}"
            )
        if target.shape != pred.shape[:-1]:
            raise ValueError(
                f"CrossEntropyLoss: target must have shape {pred.shape[:-1]} for pred of shape "
                f"{pred.shape}, got {target.shape}"
            )
        classes = pred.shape[-1]
        counted = np.ones(target.shape, dtype=bool)
        if self.ignore_index is not None:
            counted = target != self.ignore_index
        valid = target[counted]
        if valid.size and (valid.min() < 0 or valid.max() >= classes):
            raise ValueError(
                f"CrossEntropyLoss: targets must lie in [0, {classes - 1}], got values in "
                f"[{valid.min()}, {valid.max()}]"
            )
        safe_target = np.where(counted, target, 0)[..., None]
        if self.from_logits:
            log_probabilities = F.log_softmax(pred)
            losses = -np.take_along_axis(log_probabilities, safe_target, axis=-1)[..., 0]
            grads = np.exp(log_probabilities)  # softmax(pred)
            np.put_along_axis(
                grads, safe_target, np.take_along_axis(grads, safe_target, axis=-1) - 1, axis=-1
            )
        else:
            _check_unit_interval(
                pred,
                "CrossEntropyLoss",
                "probabilities (from_logits=False)",
                "; pass from_logits=True for logits",
            )
            eps = pred.dtype.type(1e-12)
            chosen = np.maximum(np.take_along_axis(pred, safe_target, axis=-1), eps)
            losses = -np.log(chosen)[..., 0]
            grads = np.zeros_like(pred)
            np.put_along_axis(grads, safe_target, -1.0 / chosen, axis=-1)
        return losses, grads, counted

    def __repr__(self) -> str:
        return (
            f"CrossEntropyLoss(from_logits={self.from_logits}, reduction={self.reduction!r}, "
            f"ignore_index={self.ignore_index})"
        )


class BCELoss(Loss):
    r"""Binary cross-entropy on probabilities (e.g. after :class:`Logistic`).

    :math:`\ell = -[y \log p + (1-y)\log(1-p)]`, each log clamped at -100 as in PyTorch;
    :math:`\partial\ell/\partial p = (p - y) / \max(p(1-p), 10^{-12})`.

    Shapes: pred and target of the same shape, target values in ``[0, 1]``.
    """

    prediction_rule = "probability"

    def _elementwise(
        self, pred: np.ndarray, target: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        target = _float_target(target, pred, "BCELoss")
        _check_unit_interval(
            pred, "BCELoss", "pred (probabilities)", "; use BCEWithLogitsLoss for logits"
        )
        _check_unit_interval(target, "BCELoss", "target")
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(pred), -100)
            log_1mp = np.maximum(np.log1p(-pred), -100)
        losses = -(target * log_p + (1 - target) * log_1mp)
        grads = (pred - target) / np.maximum(pred * (1 - pred), pred.dtype.type(1e-12))
        return losses, grads, np.ones(pred.shape, dtype=bool)


class BCEWithLogitsLoss(Loss):
    r"""Binary cross-entropy on logits, fused with the sigmoid for stability.

    :math:`\ell = \max(z, 0) - z y + \log(1 + e^{-|z|})`,
    :math:`\partial\ell/\partial z = \sigma(z) - y`.

    Shapes: pred and target of the same shape, target values in ``[0, 1]``.
    """

    prediction_rule = "logit"

    def _elementwise(
        self, pred: np.ndarray, target: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        target = _float_target(target, pred, "BCEWithLogitsLoss")
        _check_unit_interval(target, "BCEWithLogitsLoss", "target")
        losses = np.maximum(pred, 0) - pred * target + np.log1p(np.exp(-np.abs(pred)))
        grads = F.sigmoid(pred) - target
        return losses, grads, np.ones(pred.shape, dtype=bool)


class MSELoss(Loss):
    r"""Squared error :math:`\ell = (p - y)^2`, :math:`\partial\ell/\partial p = 2(p - y)`.

    Shapes: pred and target of the same shape.
    """

    def _elementwise(
        self, pred: np.ndarray, target: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        target = _float_target(target, pred, "MSELoss")
        diff = pred - target
        return diff * diff, 2 * diff, np.ones(pred.shape, dtype=bool)
