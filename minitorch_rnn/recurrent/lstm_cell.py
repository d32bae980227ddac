"""The LSTM cell: one time step, written with the public cell protocol (gate order i, f, g, o)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..module import Config
from ..validation import check_real
from .cell import ACTIVATIONS, Cache, RecurrentCell, State, check_gate, gate_blocks

__all__ = ["LSTMCell"]


class LSTMCell(RecurrentCell):
    r"""Long short-term memory step (gate order i, f, g, o, as PyTorch):

    .. math::
        [a_i, a_f, a_g, a_o] &= x W_{ih}^\top + b_{ih} + h_{prev} W_{hh}^\top + b_{hh} \\
        i, f, o &= \sigma(a_i), \sigma(a_f), \sigma(a_o), \qquad g = \tanh(a_g) \\
        c &= f \odot c_{prev} + i \odot g, \qquad h = o \odot \tanh(c)

    Backward, with :math:`g_c` the total cell gradient
    :math:`g_c = g_c^{next} + g_h \odot o \odot (1 - \tanh^2 c)`:
    :math:`g_o = g_h \odot \tanh c`, :math:`g_f = g_c \odot c_{prev}`, :math:`g_i = g_c \odot g`,
    :math:`g_g = g_c \odot i`, :math:`g_{c_{prev}} = g_c \odot f`, each gate's pre-activation
    gradient through :math:`\sigma' = s(1-s)` or :math:`\tanh' = 1 - g^2`, and
    :math:`g_{h_{prev}} = \delta W_{hh}` with :math:`\delta = [\delta_i, \delta_f, \delta_g, \delta_o]`.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
    forget_bias : float
        Initial forget-gate bias: ``bias_ih[f] = forget_bias`` and ``bias_hh[f] = 0``, so the bias that
        acts equals it (1.0 is a common choice that lets gradients flow early in training). Applied
        after ``init``.
    gate : {"sigmoid", "hard_sigmoid"}
        Activation of the gates i, f, o: the logistic sigmoid, or Theano's piecewise-linear
        ``clip(0.2 a + 0.5, 0, 1)`` (see :func:`minitorch_rnn.functional.hard_sigmoid`).
    **options
        ``init``, ``seed``, ``dtype`` (keyword-only): the initialisation scheme, its random
        state and the parameter dtype, as in :class:`RecurrentCell`.

    Shapes
    ------
    x ``(B, I)``; h, c ``(B, H)``; ``weight_ih`` ``(4H, I)``, ``weight_hh`` ``(4H, H)``, biases ``(4H,)``.
    ``forward(x, (h, c)) -> (h, c)``; ``backward((grad_h, grad_c)) -> (grad_x, (grad_h_prev, grad_c_prev))``.
    """

    num_gates = 4
    state_names = ("h", "c")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        forget_bias: float = 0.0,
        *,
        gate: str = "sigmoid",
        **options: Any,
    ) -> None:
        check_gate("LSTMCell", gate)
        forget_bias = check_real(forget_bias, "LSTMCell", "forget_bias")
        super().__init__(input_size, hidden_size, bias, **options)
        self.gate = gate
        self.forget_bias = forget_bias
        if forget_bias and self.bias_ih is not None and self.bias_hh is not None:
            forget = slice(hidden_size, 2 * hidden_size)
            self.bias_ih.data[forget] = forget_bias
            self.bias_hh.data[forget] = 0.0

    def cache_widths(self) -> dict[str, int]:
        return {"gates": 4 * self.hidden_size, "tanh_c": self.hidden_size}

    def step(self, x_proj: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        (h_prev, c_prev), (h, c) = state_prev, state_next
        gates, tanh_c = cache["gates"], cache["tanh_c"]
        assert self.weight_hh is not None
        np.matmul(h_prev, self.weight_hh.data.T, out=gates)
        gates += x_proj
        i, f, g, o = gate_blocks(gates, 4)
        if self.gate == "sigmoid":
            # one exp pass over all four blocks: tanh(a) = 2 sigmoid(2a) - 1
            g *= 2
            F.sigmoid(gates, out=gates)
            g *= 2
            g -= 1
        else:
            F.tanh(g, out=g)
            F.hard_sigmoid(gates[:, : 2 * self.hidden_size], out=gates[:, : 2 * self.hidden_size])
            F.hard_sigmoid(o, out=o)
        np.multiply(f, c_prev, out=c)
        np.multiply(i, g, out=tanh_c)  # tanh_c doubles as scratch before it holds tanh(c)
        c += tanh_c
        np.tanh(c, out=tanh_c)
        np.multiply(o, tanh_c, out=h)

    def step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        (grad_h, grad_c_next), (_, c_prev) = grad_state, state_prev
        gates, tanh_c = cache["gates"], cache["tanh_c"]
        assert self.weight_hh is not None
        i, f, g, o = gate_blocks(gates, 4)
        grad_i, grad_f, grad_g, grad_o = gate_blocks(grad_preact, 4)
        np.multiply(grad_h, tanh_c, out=grad_o)
        grad_c = grad_h * o
        grad_c *= F.tanh_derivative(tanh_c)
        grad_c += grad_c_next
        np.multiply(grad_c, c_prev, out=grad_f)
        np.multiply(grad_c, g, out=grad_i)
        np.multiply(grad_c, i, out=grad_g)
        grad_c_prev = grad_c
        grad_c_prev *= f
        _, gate_derivative = ACTIVATIONS[self.gate]
        input_forget = slice(0, 2 * self.hidden_size)
        grad_preact[:, input_forget] *= gate_derivative(gates[:, input_forget])
        grad_g *= F.tanh_derivative(g)
        grad_o *= gate_derivative(o)
        return grad_preact @ self.weight_hh.data, grad_c_prev

    def config(self) -> Config:
        """The :class:`RecurrentCell` config, ``"forget_bias"`` and ``"gate"``."""
        return {**super().config(), "forget_bias": self.forget_bias, "gate": self.gate}

    def extra_repr(self) -> str:
        text = super().extra_repr()
        text += f", forget_bias={self.forget_bias}" if self.forget_bias else ""
        return text + (f", gate={self.gate!r}" if self.gate != "sigmoid" else "")
