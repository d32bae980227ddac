"""Pooling over time: the mean of a sequence's valid steps."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..module import Config, Module, described, no_parameters
from ..validation import (
    check_lengths,
    check_rank,
    float_input,
    grad_input,
    no_forward_error,
    time_mask,
)

__all__ = ["MeanPool"]


class MeanPool(Module):
    r"""Average over the time axis, counting only each sample's valid steps.

    .. math:: y_b = \frac{1}{L_b} \sum_{t < L_b} x_{b,t}, \qquad
              \frac{\partial L}{\partial x_{b,t}} = \frac{g_b}{L_b}\,[t < L_b]

    With an :class:`Embedding` before it and a :class:`Dense` after, it is the bag-of-words
    baseline: word order is invisible to it.

    Shapes
    ------
    x ``(B, T, F)``, lengths ``(B,)`` in ``1..T`` (default: all ``T``) -> ``(B, F)``.
    """

    accepts_lengths: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._weights: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None

    parameter_shapes = classmethod(no_parameters)

    def config(self) -> Config:
        """``{"class": "MeanPool"}``: it has no arguments."""
        return described(self)

    def forward(self, x: Any, lengths: Any = None) -> np.ndarray:
        x = float_input(x, "MeanPool")
        check_rank(x, "MeanPool", (3,))
        batch, steps, _ = x.shape
        if batch < 1 or steps < 1:
            # a mean over no steps is undefined, and an empty batch is a caller's mistake
            raise ValueError(f"MeanPool: input needs at least one sample and step, got {x.shape}")
        if lengths is None:
            counts = np.full(batch, steps)
        else:
            counts = check_lengths(lengths, batch, steps, "MeanPool")
        valid = time_mask(counts, steps)
        self._weights = (valid / counts[:, None]).astype(x.dtype)[..., None]
        self._shape = x.shape
        return (x * self._weights).sum(axis=1)

    def backward(self, grad_output: Any) -> np.ndarray:
        if self._weights is None or self._shape is None:
            raise no_forward_error("MeanPool")
        batch, _, features = self._shape
        grad = grad_input(grad_output, "MeanPool", (batch, features), self._weights.dtype)
        return grad[:, None, :] * self._weights
