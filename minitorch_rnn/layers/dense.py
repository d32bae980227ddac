"""Dense (fully connected) layer: ``y = x @ weight.T + bias`` on the last axis."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..module import Config, Module, Parameter, Shapes, described, dtype_name
from ..validation import (
    check_last_dim,
    check_min_rank,
    check_size,
    float_input,
    grad_input,
    no_forward_error,
)

__all__ = ["Dense"]


class Dense(Module):
    r"""Affine map on the last axis of any ``(..., in_features)`` input.

    .. math:: y = x W^\top + b, \qquad
              \frac{\partial L}{\partial x} = g W, \quad
              \frac{\partial L}{\partial W} \mathrel{+}= g^\top x, \quad
              \frac{\partial L}{\partial b} \mathrel{+}= \textstyle\sum g

    where ``g`` is the upstream gradient and the sums run over all leading axes.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the last axis of the input and of the output.
    bias : bool
        Whether to add a learned bias.
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation (PyTorch's ``uniform(±1/sqrt(in_features))``).
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.

    Shapes
    ------
    input ``(..., in_features)`` -> output ``(..., out_features)``;
    ``weight`` ``(out_features, in_features)``, ``bias`` ``(out_features,)``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        in_features = check_size(in_features, "Dense", "in_features")
        out_features = check_size(out_features, "Dense", "out_features")
        rng = init.as_generator(seed)
        bound = 1.0 / math.sqrt(in_features)
        shape = (out_features, in_features)
        self.weight = Parameter(init.uniform(shape, -bound, bound, rng, dtype))
        self.bias = (
            Parameter(init.uniform((out_features,), -bound, bound, rng, dtype)) if bias else None
        )
        self._x: np.ndarray | None = None

    def config(self) -> Config:
        """``{"class": "Dense", "in_features", "out_features", "bias", "dtype"}``."""
        return described(
            self,
            in_features=self.in_features,
            out_features=self.out_features,
            bias=self.bias is not None,
            dtype=dtype_name(self.weight.dtype),
        )

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        in_features = check_size(arguments.get("in_features"), "Dense", "in_features")
        out_features = check_size(arguments.get("out_features"), "Dense", "out_features")
        shapes: Shapes = {"weight": (out_features, in_features)}
        if arguments.get("bias", True):
            shapes["bias"] = (out_features,)
        return shapes

    @property
    def in_features(self) -> int:
        """Size of the input's last axis, read from ``weight`` (which may be reassigned)."""
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        """Size of the output's last axis, read from ``weight``."""
        return int(self.weight.shape[0])

    def forward(self, x: Any) -> np.ndarray:
        """Return ``x @ weight.T + bias``; remembers ``x`` for ``backward``."""
        x = float_input(x, "Dense", dtype=self.weight.dtype)
        check_min_rank(x, "Dense", 1)
        check_last_dim(x, "Dense", self.in_features)
        if self.bias is not None and self.bias.shape != (self.out_features,):
            # Both parameters can be reassigned independently; catch a half-done resize here.
            raise ValueError(
                f"Dense: bias must have shape ({self.out_features},) to match weight of shape "
                f"{self.weight.shape}, got {self.bias.shape}"
            )
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        self._x = x
        return y

    def backward(self, grad_output: Any) -> np.ndarray:
        """Return d loss / d x; accumulate into ``weight.grad`` and ``bias.grad``."""
        if self._x is None:
            raise no_forward_error("Dense")
        x = self._x
        grad = grad_input(grad_output, "Dense", (*x.shape[:-1], self.out_features), x.dtype)
        grad_2d = grad.reshape(-1, self.out_features)
        self.weight.grad += grad_2d.T @ x.reshape(-1, self.in_features)
        if self.bias is not None:
            self.bias.grad += grad_2d.sum(axis=0)
        return grad @ self.weight.data

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"
