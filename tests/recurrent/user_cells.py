"""Two cells written as a user would, against the public protocol only.

Their class definitions are shown verbatim in ``docs/tutorials/custom-cell.md`` (whose blocks the
docs tests execute); ``test_user_cells.py`` checks that the page and this file say the same.
"""

from __future__ import annotations

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn import functional as F


class IndRNNCell(mt.RecurrentCell):
    """IndRNN (Li et al., 2018): each unit only sees its own past, h = relu(W x + u * h_prev + b)."""

    num_gates = 1
    state_names = ("h",)

    def __init__(self, input_size, hidden_size, bias=True, **options):
        super().__init__(input_size, hidden_size, bias, **options)
        self.weight_hh = None  # the recurrent weight is a vector, not a matrix
        self.u = self.init_parameter("u", (hidden_size,))

    def step(self, x_proj, state_prev, state_next, cache):
        (h_prev,), (h,) = state_prev, state_next
        h[...] = F.relu(x_proj + self.u.data * h_prev)

    def step_backward(self, grad_state, state_prev, state_next, cache, grad_preact):
        (grad_h,), (h,) = grad_state, state_next
        grad_preact[...] = grad_h * F.relu_derivative(h)
        return (grad_preact * self.u.data,)

    def accumulate_grads(self, grad_preact, x, state_prev, cache, *, input_grad=True):
        (h_prev,) = state_prev
        self.u.grad += (grad_preact * h_prev).sum(axis=0)
        return super().accumulate_grads(grad_preact, x, state_prev, cache, input_grad=input_grad)


class PeepholeLSTMCell(mt.RecurrentCell):
    """LSTM with peepholes (Gers & Schmidhuber, 2000): the input and forget gates see c_prev,
    the output gate sees the new c, each through a vector of weights (H,)."""

    num_gates = 4
    state_names = ("h", "c")

    def __init__(self, input_size, hidden_size, bias=True, **options):
        super().__init__(input_size, hidden_size, bias, **options)
        self.peephole_i = self.init_parameter("peephole_i", (hidden_size,))
        self.peephole_f = self.init_parameter("peephole_f", (hidden_size,))
        self.peephole_o = self.init_parameter("peephole_o", (hidden_size,))

    def cache_widths(self):
        H = self.hidden_size
        return {"gates": 4 * H, "c": H, "tanh_c": H}

    def step(self, x_proj, state_prev, state_next, cache):
        (h_prev, c_prev), (h, c) = state_prev, state_next
        gates, tanh_c = cache["gates"], cache["tanh_c"]
        H = self.hidden_size
        i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))
        np.matmul(h_prev, self.weight_hh.data.T, out=gates)  # one product for all four gates
        gates += x_proj
        i += self.peephole_i.data * c_prev
        f += self.peephole_f.data * c_prev
        F.sigmoid(gates[:, : 2 * H], out=gates[:, : 2 * H])  # i and f are contiguous
        F.tanh(g, out=g)
        np.multiply(f, c_prev, out=c)
        c += i * g
        o += self.peephole_o.data * c
        F.sigmoid(o, out=o)
        F.tanh(c, out=tanh_c)
        np.multiply(o, tanh_c, out=h)
        cache["c"][...] = c  # accumulate_grads sees state_prev and the cache, not state_next

    def step_backward(self, grad_state, state_prev, state_next, cache, grad_preact):
        (grad_h, grad_c_next), (_, c_prev) = grad_state, state_prev
        gates, tanh_c = cache["gates"], cache["tanh_c"]
        H = self.hidden_size
        i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))
        grad_i, grad_f, grad_g, grad_o = (grad_preact[:, k * H : (k + 1) * H] for k in range(4))
        np.multiply(grad_h, tanh_c, out=grad_o)
        grad_o *= F.sigmoid_derivative(o)
        # c reaches the loss through h = o tanh(c), through the output gate's peephole, and
        # through the next step
        grad_c = grad_h * o
        grad_c *= F.tanh_derivative(tanh_c)
        grad_c += grad_c_next
        grad_c += grad_o * self.peephole_o.data
        np.multiply(grad_c, g, out=grad_i)
        grad_i *= F.sigmoid_derivative(i)
        np.multiply(grad_c, c_prev, out=grad_f)
        grad_f *= F.sigmoid_derivative(f)
        np.multiply(grad_c, i, out=grad_g)
        grad_g *= F.tanh_derivative(g)
        grad_c_prev = grad_c * f
        grad_c_prev += grad_i * self.peephole_i.data
        grad_c_prev += grad_f * self.peephole_f.data
        return grad_preact @ self.weight_hh.data, grad_c_prev

    def accumulate_grads(self, grad_preact, x, state_prev, cache, *, input_grad=True):
        # rows are (step, sample) pairs of the whole sequence: one reduction per peephole
        H = self.hidden_size
        _, c_prev = state_prev
        self.peephole_i.grad += np.einsum("nh,nh->h", grad_preact[:, :H], c_prev)
        self.peephole_f.grad += np.einsum("nh,nh->h", grad_preact[:, H : 2 * H], c_prev)
        self.peephole_o.grad += np.einsum("nh,nh->h", grad_preact[:, 3 * H :], cache["c"])
        return super().accumulate_grads(grad_preact, x, state_prev, cache, input_grad=input_grad)
