"""The Elman (vanilla) RNN cell: one time step, written with the public cell protocol."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..module import Config
from .cell import ACTIVATIONS, Cache, RecurrentCell, State

__all__ = ["RNNCell"]


class RNNCell(RecurrentCell):
    r"""Elman (vanilla) RNN step: :math:`h = \phi(x W_{ih}^\top + b_{ih} + h_{prev} W_{hh}^\top + b_{hh})`
    with :math:`\phi` = tanh or ReLU — the classic per-step notation ``a_t = tanh(Wax x_t + Waa a_{t-1} + ba)``.

    Backward: :math:`\delta = g_h \odot \phi'(\cdot)` (``1 - h^2`` for tanh, ``h > 0`` for ReLU),
    :math:`g_{h_{prev}} = \delta W_{hh}`, :math:`g_x = \delta W_{ih}`.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
        Whether to learn ``bias_ih`` and ``bias_hh``.
    nonlinearity : {"tanh", "relu", "sigmoid"}
        The activation of the new state (PyTorch's name and argument order, so code written for
        ``torch.nn.RNNCell`` reads the same; the gated cells call their option ``gate`` because it
        chooses the activation of their gates, not of the state). "sigmoid" (derivative
        ``h (1 - h)``) is not in PyTorch; it answers the exercise of a logistic hidden layer.
    **options
        ``init``, ``seed``, ``dtype`` (keyword-only): the initialisation scheme, its random
        state and the parameter dtype, as in :class:`RecurrentCell` (``init="identity"`` with
        ``nonlinearity="relu"`` is the IRNN).

    Shapes
    ------
    x ``(B, input_size)``, h ``(B, hidden_size)``; ``weight_ih`` ``(H, I)``, ``weight_hh`` ``(H, H)``,
    ``bias_ih``, ``bias_hh`` ``(H,)``.
    """

    num_gates = 1
    state_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        **options: Any,
    ) -> None:
        if nonlinearity not in ("tanh", "relu", "sigmoid"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got {nonlinearity!r}"
            )
        super().__init__(input_size, hidden_size, bias, **options)
        self.nonlinearity = nonlinearity

    def config(self) -> Config:
        """The :class:`RecurrentCell` config and ``"nonlinearity"``."""
        return {**super().config(), "nonlinearity": self.nonlinearity}

    def step(self, x_proj: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        (h_prev,), (h,) = state_prev, state_next
        assert self.weight_hh is not None
        np.matmul(h_prev, self.weight_hh.data.T, out=h)
        h += x_proj
        activation, _ = ACTIVATIONS[self.nonlinearity]
        activation(h, out=h)

    def step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        (grad_h,), (h,) = grad_state, state_next
        assert self.weight_hh is not None
        _, derivative = ACTIVATIONS[self.nonlinearity]
        derivative(h, out=grad_preact)
        grad_preact *= grad_h
        return (grad_preact @ self.weight_hh.data,)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"
