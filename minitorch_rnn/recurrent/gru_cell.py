"""The GRU cell: one time step, written with the public cell protocol (gate order r, z, n)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..module import Config
from .cell import ACTIVATIONS, Cache, RecurrentCell, State, check_gate, gate_blocks

__all__ = ["GRUCell"]


class GRUCell(RecurrentCell):
    r"""Gated recurrent unit step (gate order r, z, n, as PyTorch):

    .. math::
        r &= \sigma(x W_{ir}^\top + b_{ir} + h_{prev} W_{hr}^\top + b_{hr}) \\
        z &= \sigma(x W_{iz}^\top + b_{iz} + h_{prev} W_{hz}^\top + b_{hz}) \\
        n &= \tanh(x W_{in}^\top + b_{in} + r \odot (h_{prev} W_{hn}^\top + b_{hn}))
             \quad\text{(reset_after=True, PyTorch/cuDNN)} \\
        n &= \tanh(x W_{in}^\top + b_{in} + (r \odot h_{prev}) W_{hn}^\top + b_{hn})
             \quad\text{(reset_after=False, Cho et al. 2014)} \\
        h &= (1 - z) \odot n + z \odot h_{prev}

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
    reset_after : bool
        Where the reset gate acts: on the recurrent product (True, PyTorch's form, whose weights
        load from ``torch.nn.GRUCell``) or on the state before it (False: Cho et al. 2014's original form).
    gate : {"sigmoid", "hard_sigmoid"}
        Activation of the gates r and z: the logistic sigmoid, or Theano's piecewise-linear
        ``clip(0.2 a + 0.5, 0, 1)`` as in Theano's GRU tutorials.
    **options
        ``init``, ``seed``, ``dtype`` (keyword-only): the initialisation scheme, its random
        state and the parameter dtype, as in :class:`RecurrentCell`.

    Shapes
    ------
    x ``(B, I)``; h ``(B, H)``; ``weight_ih`` ``(3H, I)``, ``weight_hh`` ``(3H, H)``, biases ``(3H,)``.
    """

    num_gates = 3
    state_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        reset_after: bool = True,
        *,
        gate: str = "sigmoid",
        **options: Any,
    ) -> None:
        check_gate("GRUCell", gate)
        super().__init__(input_size, hidden_size, bias, **options)
        self.reset_after = bool(reset_after)
        self.gate = gate

    def cache_widths(self) -> dict[str, int]:
        # reset_after keeps h_prev W_hn^T + b_hn; Cho's form keeps r * h_prev, the recurrent input
        return {"gates": 3 * self.hidden_size, "recurrent_n": self.hidden_size}

    def project_input(self, x: np.ndarray) -> np.ndarray:
        if self.reset_after and self.bias_hh is not None:
            # b_hn acts inside r * (...): only the r and z parts of bias_hh fold into the input
            x_proj = x @ self.weight_ih.data.T
            if self.bias_ih is not None:
                x_proj += self.bias_ih.data
            x_proj[:, : 2 * self.hidden_size] += self.bias_hh.data[: 2 * self.hidden_size]
            return x_proj
        return super().project_input(x)

    def step(self, x_proj: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        (h_prev,), (h,) = state_prev, state_next
        gates, recurrent_n = cache["gates"], cache["recurrent_n"]
        assert self.weight_hh is not None
        H = self.hidden_size
        weight_hh = self.weight_hh.data
        reset_update, n = gates[:, : 2 * H], gates[:, 2 * H :]
        r, z, _ = gate_blocks(gates, 3)
        gate_function, _ = ACTIVATIONS[self.gate]
        if self.reset_after:
            np.matmul(h_prev, weight_hh.T, out=gates)
            np.copyto(recurrent_n, n)
            if self.bias_hh is not None:
                recurrent_n += self.bias_hh.data[2 * H :]
            reset_update += x_proj[:, : 2 * H]
            gate_function(reset_update, out=reset_update)
            np.multiply(r, recurrent_n, out=n)
        else:
            np.matmul(h_prev, weight_hh[: 2 * H].T, out=reset_update)
            reset_update += x_proj[:, : 2 * H]
            gate_function(reset_update, out=reset_update)
            np.multiply(r, h_prev, out=recurrent_n)
            np.matmul(recurrent_n, weight_hh[2 * H :].T, out=n)
        n += x_proj[:, 2 * H :]
        np.tanh(n, out=n)
        np.subtract(h_prev, n, out=h)
        h *= z
        h += n

    def step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        (grad_h,), (h_prev,) = grad_state, state_prev
        gates, recurrent_n = cache["gates"], cache["recurrent_n"]
        assert self.weight_hh is not None
        H = self.hidden_size
        weight_hh = self.weight_hh.data
        r, z, n = gate_blocks(gates, 3)
        grad_r, grad_z, grad_n = gate_blocks(grad_preact, 3)
        _, gate_derivative = ACTIVATIONS[self.gate]
        np.subtract(h_prev, n, out=grad_z)
        grad_z *= grad_h
        np.subtract(1, z, out=grad_n)
        grad_n *= grad_h
        grad_n *= F.tanh_derivative(n)
        grad_h_prev = grad_h * z
        grad_reset_update = grad_preact[:, : 2 * H]
        if self.reset_after:
            np.multiply(grad_n, recurrent_n, out=grad_r)
            grad_reset_update *= gate_derivative(gates[:, : 2 * H])
            grad_h_prev += grad_reset_update @ weight_hh[: 2 * H]
            grad_h_prev += (grad_n * r) @ weight_hh[2 * H :]
        else:
            grad_reset_h = grad_n @ weight_hh[2 * H :]
            np.multiply(grad_reset_h, h_prev, out=grad_r)
            grad_reset_update *= gate_derivative(gates[:, : 2 * H])
            grad_reset_h *= r
            grad_h_prev += grad_reset_h
            grad_h_prev += grad_reset_update @ weight_hh[: 2 * H]
        return (grad_h_prev,)

    def accumulate_grads(
        self,
        grad_preact: np.ndarray,
        x: np.ndarray,
        state_prev: State,
        cache: Cache,
        *,
        input_grad: bool = True,
    ) -> np.ndarray | None:
        # r and z rows multiply h_prev; the candidate rows see r * (.) (reset_after, so their
        # gradient is scaled by r) or multiply r * h_prev (Cho's form)
        (h_prev,) = state_prev
        assert self.weight_hh is not None
        gates = slice(0, 2 * self.hidden_size)
        candidate = slice(2 * self.hidden_size, None)
        if self.reset_after:
            grad_candidate = grad_preact[:, candidate] * cache["gates"][:, : self.hidden_size]
            candidate_input = h_prev
        else:
            grad_candidate = grad_preact[:, candidate]
            candidate_input = cache["recurrent_n"]
        self.weight_hh.grad[gates] += grad_preact[:, gates].T @ h_prev
        self.weight_hh.grad[candidate] += grad_candidate.T @ candidate_input
        if self.bias_hh is not None:
            self.bias_hh.grad[gates] += grad_preact[:, gates].sum(axis=0)
            self.bias_hh.grad[candidate] += grad_candidate.sum(axis=0)
        return self.accumulate_input_grads(grad_preact, x, input_grad=input_grad)

    def config(self) -> Config:
        """The :class:`RecurrentCell` config, ``"reset_after"`` and ``"gate"``."""
        return {**super().config(), "reset_after": self.reset_after, "gate": self.gate}

    def extra_repr(self) -> str:
        text = super().extra_repr() + f", reset_after={self.reset_after}"
        return text + (f", gate={self.gate!r}" if self.gate != "sigmoid" else "")
