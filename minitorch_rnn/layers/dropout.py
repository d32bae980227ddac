"""Inverted dropout."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import init
from ..module import Config, Module, described, no_parameters
from ..validation import check_probability, float_input, grad_input, no_forward_error

__all__ = ["Dropout"]


class Dropout(Module):
    r"""Zero each element with probability ``p`` in training mode and scale the survivors by
    :math:`1/(1-p)`, so that eval mode (the identity) needs no rescaling.

    Parameters
    ----------
    p : float
        Drop probability, ``0 <= p < 1``.
    seed : int or numpy.random.Generator, optional
        Random state of the masks; the same seed gives the same masks.

    Shapes
    ------
    Any input shape; the output has the same shape.
    """

    def __init__(self, p: float = 0.5, *, seed: init.Seed = None) -> None:
        super().__init__()
        self.p = check_probability(p, "Dropout", "p")
        self.rng = init.as_generator(seed)
        self._scale_mask: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None
        self._dtype: np.dtype | None = None

    parameter_shapes = classmethod(no_parameters)

    def config(self) -> Config:
        """``{"class": "Dropout", "p"}`` (not the random state: a rebuilt layer draws anew)."""
        return described(self, p=self.p)

    def forward(self, x: Any) -> np.ndarray:
        x = float_input(x, "Dropout")
        self._shape, self._dtype = x.shape, x.dtype
        if not self.training or self.p == 0.0:
            self._scale_mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self._scale_mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        return x * self._scale_mask

    def backward(self, grad_output: Any) -> np.ndarray:
        if self._shape is None or self._dtype is None:
            raise no_forward_error("Dropout")
        grad = grad_input(grad_output, "Dropout", self._shape, self._dtype)
        return grad if self._scale_mask is None else grad * self._scale_mask

    def extra_repr(self) -> str:
        return f"p={self.p}"
