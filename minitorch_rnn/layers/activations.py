"""Elementwise and softmax activation layers; the math itself lives in :mod:`minitorch_rnn.functional`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..module import Config, Module, described, no_parameters
from ..validation import float_input, grad_input, is_int, no_forward_error, read_only

__all__ = ["Logistic", "ReLU", "Sigmoid", "Softmax", "Tanh"]


class _Elementwise(Module):
    """Shared plumbing: validate, remember the output, check the upstream gradient.

    The output is also ``backward``'s cache, so it is returned as a read-only view: editing it in
    place would silently change the gradient (copy it first, ``y.copy()``, to edit).
    """

    parameter_shapes = classmethod(no_parameters)

    def __init__(self) -> None:
        super().__init__()
        self._y: np.ndarray | None = None

    def config(self) -> Config:
        """``{"class": <the activation's name>}``: it has no arguments."""
        return described(self)

    def _activate(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _derivative(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, x: Any) -> np.ndarray:
        x = float_input(x, type(self).__name__)
        self._y = self._activate(x)
        return read_only(self._y)

    def backward(self, grad_output: Any) -> np.ndarray:
        if self._y is None:
            raise no_forward_error(type(self).__name__)
        grad = grad_input(grad_output, type(self).__name__, self._y.shape, self._y.dtype)
        return grad * self._derivative(self._y)


class Tanh(_Elementwise):
    r"""Hyperbolic tangent, :math:`y = \tanh x`, :math:`\partial y / \partial x = 1 - y^2`.

    Shapes: any input shape; output has the same shape.
    """

    def _activate(self, x: np.ndarray) -> np.ndarray:
        return F.tanh(x)

    def _derivative(self, y: np.ndarray) -> np.ndarray:
        return F.tanh_derivative(y)


class Logistic(_Elementwise):
    r"""Logistic sigmoid, :math:`y = 1/(1+e^{-x})`, :math:`\partial y / \partial x = y(1-y)`.

    Also available as ``Sigmoid``. Shapes: any input shape; output has the same shape.
    """

    def _activate(self, x: np.ndarray) -> np.ndarray:
        return F.sigmoid(x)

    def _derivative(self, y: np.ndarray) -> np.ndarray:
        return F.sigmoid_derivative(y)


Sigmoid = Logistic


class ReLU(_Elementwise):
    r"""Rectifier, :math:`y = \max(x, 0)`; the gradient at 0 is 0 (as in PyTorch).

    Shapes: any input shape; output has the same shape.
    """

    def _activate(self, x: np.ndarray) -> np.ndarray:
        return F.relu(x)

    def _derivative(self, y: np.ndarray) -> np.ndarray:
        return F.relu_derivative(y)


class Softmax(Module):
    r"""Softmax along ``axis``: :math:`s_i = e^{x_i} / \sum_j e^{x_j}`.

    Backward: :math:`\partial L/\partial x = s \odot (g - \sum_j g_j s_j)`.
    For classification prefer ``CrossEntropyLoss(from_logits=True)`` on the logits: it is one
    fused, more accurate step.

    Parameters
    ----------
    axis : int
        The axis that sums to one (default: the last).
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        if not is_int(axis):
            raise TypeError(f"Softmax: axis must be an int, got {axis!r}")
        self.axis = int(axis)
        self._s: np.ndarray | None = None

    parameter_shapes = classmethod(no_parameters)

    def config(self) -> Config:
        """``{"class": "Softmax", "axis"}``."""
        return described(self, axis=self.axis)

    def forward(self, x: Any) -> np.ndarray:
        x = float_input(x, "Softmax")
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError(f"Softmax: axis {self.axis} is out of range for shape {x.shape}")
        self._s = F.softmax(x, self.axis)
        # the output is backward's cache: hand it out read-only (see _Elementwise)
        return read_only(self._s)

    def backward(self, grad_output: Any) -> np.ndarray:
        if self._s is None:
            raise no_forward_error("Softmax")
        s = self._s
        grad = grad_input(grad_output, "Softmax", s.shape, s.dtype)
        return F.softmax_backward(s, grad, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
