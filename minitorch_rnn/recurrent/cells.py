r"""Recurrent cells: one time step of a vanilla RNN, a GRU and an LSTM.

A cell knows no time. It writes its step math once, as four methods that :class:`RecurrentCell`
(hand unrolling, one step per call) and :class:`~minitorch_rnn.Unroll` (a whole sequence) both
drive:

``_project_input(x)``
    The input projection :math:`x W_{ih}^\top + b_{ih}` (plus whatever part of :math:`b_{hh}` can
    be folded in); ``Unroll`` computes it for all steps in one matrix product.
``_step(xp, state_prev, state_next, cache)``
    The recurrent product and the elementwise work of one step, written into preallocated
    ``state_next`` and ``cache`` arrays.
``_step_backward(grad_state, state_prev, state_next, cache, grad_preact)``
    Back through one step: writes the gradient of the input projection into ``grad_preact`` and
    returns the gradient of the previous state.
``_accumulate_grads(grad_preact, x, h_prev, cache)``
    The weight and bias gradients of any number of steps at once (rows of the 2-D arguments are
    (step, sample) pairs) and the input gradient.

Parameter names, shapes and gate order are PyTorch's (GRU: r, z, n; LSTM: i, f, g, o), so a
converted ``torch.nn.*Cell`` state dict loads unchanged. The derivations are in ``docs/``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..module import Module, Parameter
from ..validation import check_last_dim, check_rank, check_shape, float_input
from .activations import gate_activations_, sigmoid_, sigmoid_derivative_, tanh_derivative_

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "RecurrentCell"]

State = tuple[np.ndarray, ...]
Cache = dict[str, np.ndarray]


class RecurrentCell(Module):
    """Base class of the cells: parameters, state handling and the one-step forward/backward.

    Subclasses set ``num_gates`` and ``state_size`` (1 for ``h``, 2 for ``(h, c)``) and implement
    ``_step``, ``_step_backward`` and ``cache_widths``; they override ``_project_input`` and
    ``_accumulate_grads`` only when their biases or recurrent input differ from the plain
    ``h_prev @ weight_hh.T + bias_hh``.

    In training mode each ``forward`` remembers its step and each ``backward`` consumes the newest
    remembered one (last in, first out), so a cell can be unrolled by hand; in eval mode nothing is
    remembered. :meth:`reset` forgets every remembered step.
    """

    num_gates: int = 1
    state_size: int = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if input_size < 1 or hidden_size < 1:
            raise ValueError(
                f"{name}: sizes must be positive, got input_size={input_size}, "
                f"hidden_size={hidden_size}"
            )
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        rng = init.as_generator(seed)
        bound = 1.0 / math.sqrt(hidden_size)
        rows = self.num_gates * self.hidden_size

        def uniform(shape: tuple[int, ...]) -> Parameter:
            return Parameter(init.uniform(shape, -bound, bound, rng, dtype))

        self.weight_ih = uniform((rows, self.input_size))
        self.weight_hh = uniform((rows, self.hidden_size))
        self.bias_ih = uniform((rows,)) if bias else None
        self.bias_hh = uniform((rows,)) if bias else None
        self._steps: list[tuple[np.ndarray, State, State, Cache]] = []

    # -- what subclasses provide ------------------------------------------------------------

    def cache_widths(self) -> dict[str, int]:
        """Name and width (columns) of every per-step array the backward pass needs."""
        raise NotImplementedError

    def _step(self, xp: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        raise NotImplementedError

    def _step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        raise NotImplementedError

    # -- shared machinery ---------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """The dtype the cell computes in: that of ``weight_ih``."""
        return self.weight_ih.dtype

    def _project_input(self, x: np.ndarray) -> np.ndarray:
        """``x @ weight_ih.T + bias_ih + bias_hh`` for every row of ``x`` ``(N, input_size)``.

        Folding ``bias_hh`` in here saves one addition per step; cells where ``bias_hh`` acts
        inside a gate (GRU) override this.
        """
        xp = x @ self.weight_ih.data.T
        if self.bias_ih is not None and self.bias_hh is not None:
            xp += self.bias_ih.data + self.bias_hh.data  # one pass over (N, gates), not two
        return xp

    def _accumulate_grads(
        self, grad_preact: np.ndarray, x: np.ndarray, h_prev: np.ndarray, cache: Cache
    ) -> np.ndarray:
        """Accumulate all parameter gradients of many steps at once; return d loss / d x.

        Parameters
        ----------
        grad_preact : (N, num_gates * hidden_size)
            Gradient of the pre-activations of N (step, sample) rows.
        x : (N, input_size)
        h_prev : (N, hidden_size)
            The state each row's recurrent product was applied to.
        cache : dict of (N, width) arrays
            What ``_step`` stored for those rows.
        """
        self.weight_ih.grad += grad_preact.T @ x
        self._accumulate_recurrent_grads(grad_preact, h_prev, cache)
        if self.bias_ih is not None:
            self.bias_ih.grad += grad_preact.sum(axis=0)
        return grad_preact @ self.weight_ih.data

    def _accumulate_recurrent_grads(
        self, grad_preact: np.ndarray, h_prev: np.ndarray, cache: Cache
    ) -> None:
        """``weight_hh.grad += grad.T @ h_prev`` and ``bias_hh.grad += sum(grad)``."""
        self.weight_hh.grad += grad_preact.T @ h_prev
        if self.bias_hh is not None:
            self.bias_hh.grad += grad_preact.sum(axis=0)

    def check_state(self, state: Any, batch_size: int, owner: str | None = None) -> State:
        """Validate a public state (``h``, or ``(h, c)`` for an LSTM) and return it as a tuple of
        ``(batch_size, hidden_size)`` arrays in the cell's dtype; ``None`` means zeros."""
        owner = owner or type(self).__name__
        shape = (batch_size, self.hidden_size)
        if state is None:
            return tuple(np.zeros(shape, self.dtype) for _ in range(self.state_size))
        if self.state_size == 1:
            parts = (state,)
        else:
            if not isinstance(state, (tuple, list)) or len(state) != self.state_size:
                raise TypeError(
                    f"{owner}: state must be a tuple (h, c) or None, got {type(state).__name__}"
                )
            parts = tuple(state)
        names = ("h", "c")
        checked = []
        for name, part in zip(names, parts, strict=False):
            array = float_input(part, owner, dtype=self.dtype, name=f"state {name}")
            check_shape(array, owner, shape, f"state {name}")
            checked.append(array)
        return tuple(checked)

    def public_state(self, state: State) -> Any:
        """The user-facing form of a state tuple: ``h``, or ``(h, c)`` for an LSTM."""
        return state[0] if self.state_size == 1 else tuple(state)

    def allocate_cache(self, leading: tuple[int, ...]) -> Cache:
        """Uninitialised arrays of shape ``leading + (width,)`` for every cache entry."""
        return {
            name: np.empty(leading + (width,), self.dtype)
            for name, width in self.cache_widths().items()
        }

    def forward(self, x: Any, state: Any = None) -> Any:
        """One time step.

        Parameters
        ----------
        x : (B, input_size)
            Input at this step.
        state : (B, hidden_size) array, (h, c) tuple for LSTMCell, or None for zeros

        Returns
        -------
        h, or (h, c) for LSTMCell, each (B, hidden_size).
        """
        name = type(self).__name__
        x = float_input(x, name, dtype=self.dtype)
        check_rank(x, name, (2,))
        check_last_dim(x, name, self.input_size)
        state_prev = self.check_state(state, x.shape[0])
        state_next = tuple(np.empty_like(state_prev[0]) for _ in range(self.state_size))
        cache = self.allocate_cache((x.shape[0],))
        self._step(self._project_input(x), state_prev, state_next, cache)
        if self.training:
            self._steps.append((x, state_prev, state_next, cache))
        return self.public_state(tuple(s.copy() for s in state_next))

    def backward(self, grad_state: Any) -> tuple[np.ndarray, Any]:
        """Back through the newest remembered step.

        Parameters
        ----------
        grad_state : (B, hidden_size) array, or (grad_h, grad_c) for LSTMCell
            Gradient arriving at this step's output state.

        Returns
        -------
        grad_x : (B, input_size)
        grad_state_prev : like ``grad_state``, for the previous state.
        """
        name = type(self).__name__
        if not self._steps:
            raise RuntimeError(
                f"{name}: backward called with no remembered step (forward in training mode first; "
                "each backward consumes one forward, newest first)"
            )
        x, state_prev, state_next, cache = self._steps[-1]
        grads = self.check_state(grad_state, x.shape[0], owner=f"{name}.backward")
        self._steps.pop()
        grad_preact = np.empty((x.shape[0], self.num_gates * self.hidden_size), self.dtype)
        grad_state_prev = self._step_backward(grads, state_prev, state_next, cache, grad_preact)
        grad_x = self._accumulate_grads(grad_preact, x, state_prev[0], cache)
        return grad_x, self.public_state(grad_state_prev)

    def reset(self) -> None:
        """Forget every remembered step."""
        self._steps.clear()

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class RNNCell(RecurrentCell):
    r"""Elman (vanilla) RNN step: :math:`h = \phi(x W_{ih}^\top + b_{ih} + h_{prev} W_{hh}^\top + b_{hh})`
    with :math:`\phi` = tanh or ReLU — the source documents' ``a_t = tanh(Wax x_t + Waa a_{t-1} + ba)``.

    Backward: :math:`\delta = g_h \odot \phi'(\cdot)` (``1 - h^2`` for tanh, ``h > 0`` for ReLU),
    :math:`g_{h_{prev}} = \delta W_{hh}`, :math:`g_x = \delta W_{ih}`.

    Parameters
    ----------
    input_size, hidden_size : int
    nonlinearity : {"tanh", "relu", "sigmoid"}
        "sigmoid" (derivative ``h (1 - h)``) is not in PyTorch; it answers the source documents'
        exercise of a logistic hidden layer.
    bias : bool
        Whether to learn ``bias_ih`` and ``bias_hh``.
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation.
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.

    Shapes
    ------
    x ``(B, input_size)``, h ``(B, hidden_size)``; ``weight_ih`` ``(H, I)``, ``weight_hh`` ``(H, H)``,
    ``bias_ih``, ``bias_hh`` ``(H,)``.
    """

    num_gates = 1
    state_size = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        bias: bool = True,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu", "sigmoid"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got {nonlinearity!r}"
            )
        super().__init__(input_size, hidden_size, bias, seed=seed, dtype=dtype)
        self.nonlinearity = nonlinearity

    def cache_widths(self) -> dict[str, int]:
        return {}

    def _step(self, xp: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        (h_prev,), (h,) = state_prev, state_next
        np.matmul(h_prev, self.weight_hh.data.T, out=h)
        h += xp
        if self.nonlinearity == "tanh":
            np.tanh(h, out=h)
        elif self.nonlinearity == "sigmoid":
            sigmoid_(h)
        else:
            np.maximum(h, 0, out=h)

    def _step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        (grad_h,), (h,) = grad_state, state_next
        np.copyto(grad_preact, grad_h)
        if self.nonlinearity == "tanh":
            tanh_derivative_(grad_preact, h)
        elif self.nonlinearity == "sigmoid":
            sigmoid_derivative_(grad_preact, h)
        else:
            grad_preact *= h > 0
        return (grad_preact @ self.weight_hh.data,)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"


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
        acts equals it (1.0 is a common choice that lets gradients flow early in training).
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation.
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.

    Shapes
    ------
    x ``(B, I)``; h, c ``(B, H)``; ``weight_ih`` ``(4H, I)``, ``weight_hh`` ``(4H, H)``, biases ``(4H,)``.
    ``forward(x, (h, c)) -> (h, c)``; ``backward((grad_h, grad_c)) -> (grad_x, (grad_h_prev, grad_c_prev))``.
    """

    num_gates = 4
    state_size = 2

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        forget_bias: float = 0.0,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, seed=seed, dtype=dtype)
        self.forget_bias = float(forget_bias)
        if forget_bias and self.bias_ih is not None and self.bias_hh is not None:
            forget = slice(hidden_size, 2 * hidden_size)
            self.bias_ih.data[forget] = forget_bias
            self.bias_hh.data[forget] = 0.0

    def cache_widths(self) -> dict[str, int]:
        return {"gates": 4 * self.hidden_size, "tanh_c": self.hidden_size}

    def _gates(self, gates: np.ndarray) -> tuple[np.ndarray, ...]:
        """Views ``i, f, g, o`` of a fused gate block."""
        H = self.hidden_size
        return gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]

    def _step(self, xp: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        (h_prev, c_prev), (h, c) = state_prev, state_next
        gates, tanh_c = cache["gates"], cache["tanh_c"]
        H = self.hidden_size
        np.matmul(h_prev, self.weight_hh.data.T, out=gates)
        gates += xp
        gate_activations_(gates, slice(2 * H, 3 * H))
        i, f, g, o = self._gates(gates)
        np.multiply(f, c_prev, out=c)
        np.multiply(i, g, out=tanh_c)  # tanh_c doubles as scratch before it holds tanh(c)
        c += tanh_c
        np.tanh(c, out=tanh_c)
        np.multiply(o, tanh_c, out=h)

    def _step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        (grad_h, grad_c_next), (_, c_prev) = grad_state, state_prev
        gates, tanh_c = cache["gates"], cache["tanh_c"]
        i, f, g, o = self._gates(gates)
        grad_i, grad_f, grad_g, grad_o = self._gates(grad_preact)
        np.multiply(grad_h, tanh_c, out=grad_o)
        grad_c = grad_h * o
        tanh_derivative_(grad_c, tanh_c)
        grad_c += grad_c_next
        np.multiply(grad_c, c_prev, out=grad_f)
        np.multiply(grad_c, g, out=grad_i)
        np.multiply(grad_c, i, out=grad_g)
        grad_c_prev = grad_c
        grad_c_prev *= f
        H = self.hidden_size
        sigmoid_derivative_(grad_preact[:, : 2 * H], gates[:, : 2 * H])
        tanh_derivative_(grad_g, g)
        sigmoid_derivative_(grad_o, o)
        return grad_preact @ self.weight_hh.data, grad_c_prev

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + (f", forget_bias={self.forget_bias}" if self.forget_bias else "")


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
        load from ``torch.nn.GRUCell``) or on the state before it (False, the source documents').
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation.
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.

    Shapes
    ------
    x ``(B, I)``; h ``(B, H)``; ``weight_ih`` ``(3H, I)``, ``weight_hh`` ``(3H, H)``, biases ``(3H,)``.
    """

    num_gates = 3
    state_size = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        reset_after: bool = True,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, seed=seed, dtype=dtype)
        self.reset_after = bool(reset_after)

    def cache_widths(self) -> dict[str, int]:
        # reset_after keeps h_prev W_hn^T + b_hn; Cho's form keeps r * h_prev, the recurrent input
        return {"gates": 3 * self.hidden_size, "recurrent_n": self.hidden_size}

    def _project_input(self, x: np.ndarray) -> np.ndarray:
        if self.reset_after:
            xp = x @ self.weight_ih.data.T
            if self.bias_ih is not None and self.bias_hh is not None:
                xp += self.bias_ih.data
                xp[:, : 2 * self.hidden_size] += self.bias_hh.data[: 2 * self.hidden_size]
            return xp
        return super()._project_input(x)

    def _step(self, xp: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        (h_prev,), (h,) = state_prev, state_next
        gates, recurrent_n = cache["gates"], cache["recurrent_n"]
        H = self.hidden_size
        weight_hh = self.weight_hh.data
        reset_update, n = gates[:, : 2 * H], gates[:, 2 * H :]
        r, z = gates[:, :H], gates[:, H : 2 * H]
        if self.reset_after:
            np.matmul(h_prev, weight_hh.T, out=gates)
            np.copyto(recurrent_n, n)
            if self.bias_hh is not None:
                recurrent_n += self.bias_hh.data[2 * H :]
            reset_update += xp[:, : 2 * H]
            sigmoid_(reset_update)
            np.multiply(r, recurrent_n, out=n)
        else:
            np.matmul(h_prev, weight_hh[: 2 * H].T, out=reset_update)
            reset_update += xp[:, : 2 * H]
            sigmoid_(reset_update)
            np.multiply(r, h_prev, out=recurrent_n)
            np.matmul(recurrent_n, weight_hh[2 * H :].T, out=n)
        n += xp[:, 2 * H :]
        np.tanh(n, out=n)
        np.subtract(h_prev, n, out=h)
        h *= z
        h += n

    def _step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        (grad_h,), (h_prev,) = grad_state, state_prev
        gates, recurrent_n = cache["gates"], cache["recurrent_n"]
        H = self.hidden_size
        weight_hh = self.weight_hh.data
        r, z, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
        grad_r, grad_z, grad_n = (
            grad_preact[:, :H],
            grad_preact[:, H : 2 * H],
            grad_preact[:, 2 * H :],
        )
        np.subtract(h_prev, n, out=grad_z)
        grad_z *= grad_h
        np.subtract(1, z, out=grad_n)
        grad_n *= grad_h
        tanh_derivative_(grad_n, n)
        grad_h_prev = grad_h * z
        if self.reset_after:
            np.multiply(grad_n, recurrent_n, out=grad_r)
            sigmoid_derivative_(grad_preact[:, : 2 * H], gates[:, : 2 * H])
            grad_h_prev += grad_preact[:, : 2 * H] @ weight_hh[: 2 * H]
            grad_h_prev += (grad_n * r) @ weight_hh[2 * H :]
        else:
            grad_reset_h = grad_n @ weight_hh[2 * H :]
            np.multiply(grad_reset_h, h_prev, out=grad_r)
            sigmoid_derivative_(grad_preact[:, : 2 * H], gates[:, : 2 * H])
            grad_reset_h *= r
            grad_h_prev += grad_reset_h
            grad_h_prev += grad_preact[:, : 2 * H] @ weight_hh[: 2 * H]
        return (grad_h_prev,)

    def _accumulate_recurrent_grads(
        self, grad_preact: np.ndarray, h_prev: np.ndarray, cache: Cache
    ) -> None:
        # r and z rows multiply h_prev; the candidate rows see r * (.) (reset_after, so their
        # gradient is scaled by r) or multiply r * h_prev (Cho's form)
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

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"
