r"""Recurrent cells: one time step of a vanilla RNN, a GRU and an LSTM, and the protocol they share.

A cell knows no time. It writes its step math once, in the public hooks of :class:`RecurrentCell`
(``step``, ``step_backward``, ``project_input``, ``accumulate_grads``), which both the one-step
``forward``/``backward`` (hand unrolling) and :class:`~minitorch_rnn.Unroll` (a whole sequence)
drive. A user's cell implements the same hooks and is then the built-in cells' equal.

Parameter names, shapes and gate order are PyTorch's (GRU: r, z, n; LSTM: i, f, g, o), so a
converted ``torch.nn.*Cell`` state dict loads unchanged. The derivations are in ``docs/``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

from .. import functional as F
from .. import init as initializers
from ..dtype import as_float_dtype
from ..module import Module, Parameter
from ..validation import (
    check_last_dim,
    check_rank,
    check_shape,
    check_size,
    float_input,
    is_int,
)

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "RecurrentCell"]

State = tuple[np.ndarray, ...]
Cache = dict[str, np.ndarray]
Activation = Callable[..., np.ndarray]

# name -> (function, derivative from the output), both taking ``out=``
ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "tanh": (F.tanh, F.tanh_derivative),
    "relu": (F.relu, F.relu_derivative),
    "sigmoid": (F.sigmoid, F.sigmoid_derivative),
    "hard_sigmoid": (F.hard_sigmoid, F.hard_sigmoid_derivative),
}
GATES = ("sigmoid", "hard_sigmoid")


def gate_blocks(array: np.ndarray, count: int) -> tuple[np.ndarray, ...]:
    """Views of the ``count`` equal column blocks of a fused ``(N, count * H)`` gate array."""
    width = array.shape[-1] // count
    return tuple(array[..., k * width : (k + 1) * width] for k in range(count))


def _check_gate(owner: str, gate: str) -> str:
    if gate not in GATES:
        raise ValueError(f"{owner}: gate must be 'sigmoid' or 'hard_sigmoid', got {gate!r}")
    return gate


class RecurrentCell(Module):
    """Base class of every recurrent cell, built-in or written by a user.

    It owns the parameters, input and state validation, hand unrolling (``forward``/``backward``
    one step at a time) and the link to :class:`~minitorch_rnn.Unroll`. A subclass sets
    :attr:`num_gates` and :attr:`state_names` and implements :meth:`step` and
    :meth:`step_backward` (and :meth:`cache_widths` when its backward needs per-step arrays);
    :meth:`project_input` and :meth:`accumulate_grads` have defaults that are right whenever the
    pre-activation is ``x @ weight_ih.T + bias_ih + state[0] @ weight_hh.T + bias_hh`` with every
    block of ``weight_hh`` multiplying ``state[0]`` itself.

    Parameters
    ----------
    input_size, hidden_size : int
        ``I`` and ``H``.
    bias : bool
        Whether to create ``bias_ih`` and ``bias_hh``.
    init : {"pytorch", "normal", "orthogonal", "identity"} or callable
        Initialisation scheme (see :func:`minitorch_rnn.init.recurrent_scheme`), or a callable
        ``(name, shape, rng, dtype) -> array`` called for every parameter.
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation.
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.

    Attributes
    ----------
    weight_ih : Parameter ``(num_gates * H, I)``
    weight_hh : Parameter ``(num_gates * H, H)``, or None if a subclass removed it
    bias_ih, bias_hh : Parameter ``(num_gates * H,)``, or None without bias

    Notes
    -----
    A subclass may replace or add parameters after ``super().__init__``: assigning
    ``self.weight_hh = None`` unregisters it (as in PyTorch) and
    ``self.u = self.init_parameter("u", (H,))`` adds one, initialised by the cell's scheme.

    In training mode each ``forward`` remembers its step and each ``backward`` consumes the newest
    remembered one (last in, first out), so a cell can be unrolled by hand; in eval mode nothing is
    remembered. :meth:`reset` forgets every remembered step.
    """

    num_gates: int = 1
    """Width of the fused pre-activation block, in units of ``hidden_size``."""

    state_names: tuple[str, ...] = ("h",)
    """Names of the state arrays, each ``(B, H)``; the first is the output (``("h", "c")`` for an
    LSTM; any number >= 1)."""

    takes_input_grad: ClassVar[bool] = True
    """Whether this class's :meth:`accumulate_grads` declares the ``input_grad`` keyword (set for
    every subclass; one without it is called without it and computes the input gradient)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.takes_input_grad = "input_grad" in inspect.signature(cls.accumulate_grads).parameters

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        init: str | initializers.ParameterInit = "pytorch",
        seed: initializers.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self._check_protocol(name)
        if is_int(input_size) and is_int(hidden_size) and min(input_size, hidden_size) < 1:
            raise ValueError(
                f"{name}: sizes must be positive, got input_size={input_size}, "
                f"hidden_size={hidden_size}"
            )
        self.input_size = check_size(input_size, name, "input_size")
        self.hidden_size = check_size(hidden_size, name, "hidden_size")
        initializers.recurrent_scheme(init, self.hidden_size, name)  # refuses an unknown name now
        self._init = (
            init  # the scheme's name (or callable), not a closure: the cell stays picklable
        )
        self._init_rng = initializers.as_generator(seed)
        self._init_dtype = as_float_dtype(dtype)
        rows = self.num_gates * self.hidden_size
        self.weight_ih = self.init_parameter("weight_ih", (rows, self.input_size))
        self.weight_hh: Parameter | None = self.init_parameter(
            "weight_hh", (rows, self.hidden_size)
        )
        self.bias_ih = self.init_parameter("bias_ih", (rows,)) if bias else None
        self.bias_hh = self.init_parameter("bias_hh", (rows,)) if bias else None
        self._steps: list[tuple[np.ndarray, State, State, Cache]] = []

    def _check_protocol(self, name: str) -> None:
        gates, names = self.num_gates, self.state_names
        if not is_int(gates) or gates < 1:
            raise TypeError(f"{name}: num_gates must be a positive int, got {gates!r}")
        if (
            not isinstance(names, tuple)
            or not names
            or not all(isinstance(n, str) for n in names)
            or len(set(names)) != len(names)
        ):
            raise TypeError(
                f"{name}: state_names must be a non-empty tuple of distinct str, got {names!r}"
            )

    def init_parameter(self, name: str, shape: tuple[int, ...]) -> Parameter:
        """A new parameter of ``shape``, initialised by the cell's scheme as ``name``.

        For subclasses that add parameters in ``__init__`` (after ``super().__init__``): the
        scheme treats a name starting with ``bias`` as a bias (zeros in every scheme but
        ``"pytorch"``); a callable ``init`` receives the name. The random state and dtype are the
        cell's.
        """
        scheme = initializers.recurrent_scheme(self._init, self.hidden_size, type(self).__name__)
        value = np.asarray(scheme(name, shape, self._init_rng, self._init_dtype))
        if value.shape != tuple(shape):
            raise ValueError(
                f"{type(self).__name__}: init returned shape {value.shape} for {name}, "
                f"expected {tuple(shape)}"
            )
        return Parameter(value, dtype=self._init_dtype)

    # -- the protocol: what a subclass provides ------------------------------------------------

    def cache_widths(self) -> dict[str, int]:
        """Name and width (columns) of every per-step array that :meth:`step_backward` needs.

        ``Unroll`` allocates each as ``(T, B, width)`` and hands :meth:`step` the ``(B, width)``
        slice of the current step. Default: none.
        """
        return {}

    def step(self, x_proj: np.ndarray, state_prev: State, state_next: State, cache: Cache) -> None:
        """One step forward, written into preallocated arrays.

        Parameters
        ----------
        x_proj : (B, num_gates * H)
            The input projection of this step, ``project_input(x_t)``. Read-only.
        state_prev : tuple of (B, H) arrays, one per :attr:`state_names`
            The state before the step. Must not be modified.
        state_next : tuple of (B, H) arrays, one per :attr:`state_names`
            Uninitialised: write the new state into them in place (``h[...] = ...`` or
            ``out=``); rebinding the name loses the result.
        cache : dict of (B, width) arrays, as :meth:`cache_widths` declares
            Uninitialised: write what :meth:`step_backward` needs.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step")

    def step_backward(
        self,
        grad_state: State,
        state_prev: State,
        state_next: State,
        cache: Cache,
        grad_preact: np.ndarray,
    ) -> State:
        """One step back: the gradients of this step's pre-activations and previous state.

        Parameters
        ----------
        grad_state : tuple of (B, H) arrays
            Total gradient arriving at ``state_next``, one per state name. Read-only.
        state_prev, state_next, cache
            What :meth:`step` read and wrote at this step. Read-only.
        grad_preact : (B, num_gates * H)
            Uninitialised: write d loss / d ``x_proj`` into it, in place.

        Returns
        -------
        tuple of (B, H) arrays
            d loss / d ``state_prev``, one per state name (new arrays: the caller may keep them).

        Adds nothing to any ``.grad``: parameter gradients are :meth:`accumulate_grads`' job.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step_backward")

    def project_input(self, x: np.ndarray) -> np.ndarray:
        """The part of the pre-activation that depends on the input only, for any rows.

        Default ``x @ weight_ih.T + bias_ih + bias_hh`` (``bias_hh`` folded in here saves one
        addition per step); override when a bias acts inside a gate (GRU's reset-after form).

        Parameters
        ----------
        x : (N, I)
            Inputs of N (step, sample) rows; ``Unroll`` passes all ``T * B`` rows at once.

        Returns
        -------
        (N, num_gates * H), a new array.
        """
        x_proj = x @ self.weight_ih.data.T
        if self.bias_ih is not None and self.bias_hh is not None:
            x_proj += self.bias_ih.data + self.bias_hh.data  # one pass over (N, gates), not two
        elif self.bias_ih is not None:
            x_proj += self.bias_ih.data
        return x_proj

    def accumulate_grads(
        self,
        grad_preact: np.ndarray,
        x: np.ndarray,
        state_prev: State,
        cache: Cache,
        *,
        input_grad: bool = True,
    ) -> np.ndarray | None:
        """Add every parameter's gradient for many steps at once; return d loss / d x.

        ``Unroll`` calls it once after the backward loop, with rows that are (step, sample) pairs,
        so every weight gradient is one whole-sequence matrix product.

        Parameters
        ----------
        grad_preact : (N, num_gates * H)
            What :meth:`step_backward` wrote, for N rows. Read-only.
        x : (N, I)
            The inputs of those rows. Read-only.
        state_prev : tuple of (N, H) arrays
            Every state part before each row (``(h_prev,)``, ``(h_prev, c_prev)``). Read-only.
        cache : dict of (N, width) arrays
            What :meth:`step` stored for those rows. Read-only.
        input_grad : bool
            False when the caller discards the input gradient (data needs none): skip it.

        Returns
        -------
        (N, I) array, or None when ``input_grad`` is False.

        The default adds ``grad_preact.T @ x`` to ``weight_ih``, ``grad_preact.T @ state_prev[0]``
        to ``weight_hh`` and the column sums to the biases (see :meth:`accumulate_input_grads`).
        """
        if self.weight_hh is not None:
            self.weight_hh.grad += grad_preact.T @ state_prev[0]
        if self.bias_hh is not None:
            self.bias_hh.grad += grad_preact.sum(axis=0)
        return self.accumulate_input_grads(grad_preact, x, input_grad=input_grad)

    def accumulate_input_grads(
        self, grad_preact: np.ndarray, x: np.ndarray, *, input_grad: bool = True
    ) -> np.ndarray | None:
        """The input side of :meth:`accumulate_grads`, for cells that override the recurrent side:
        ``weight_ih.grad += grad_preact.T @ x``, ``bias_ih.grad += sum(grad_preact)``; returns
        ``grad_preact @ weight_ih`` ``(N, I)`` (None when ``input_grad`` is False)."""
        self.weight_ih.grad += grad_preact.T @ x
        if self.bias_ih is not None:
            self.bias_ih.grad += grad_preact.sum(axis=0)
        return grad_preact @ self.weight_ih.data if input_grad else None

    # -- shared machinery ---------------------------------------------------------------------

    @property
    def state_size(self) -> int:
        """How many state arrays the cell carries: ``len(state_names)``."""
        return len(self.state_names)

    @property
    def dtype(self) -> np.dtype:
        """The dtype the cell computes in: that of ``weight_ih``."""
        return self.weight_ih.dtype

    def check_state(self, state: Any, batch_size: int, owner: str | None = None) -> State:
        """Validate a public state and return it as a tuple of arrays.

        Parameters
        ----------
        state : (B, H) array (one state name), tuple with one array per state name, or None
            None means zeros.
        batch_size : int
        owner : str, optional
            Who is asking, for error messages (default: the cell's class name).

        Returns
        -------
        tuple of ``(batch_size, hidden_size)`` arrays in the cell's dtype.
        """
        owner = owner or type(self).__name__
        shape = (batch_size, self.hidden_size)
        count = self.state_size
        if state is None:
            return tuple(np.zeros(shape, self.dtype) for _ in range(count))
        if count == 1:
            parts: tuple[Any, ...] = (state,)
        else:
            if not isinstance(state, (tuple, list)) or len(state) != count:
                raise TypeError(
                    f"{owner}: state must be a tuple ({', '.join(self.state_names)}) or None, "
                    f"got {type(state).__name__}"
                )
            parts = tuple(state)
        checked = []
        for name, part in zip(self.state_names, parts, strict=True):
            array = float_input(part, owner, dtype=self.dtype, name=f"state {name}")
            check_shape(array, owner, shape, f"state {name}")
            checked.append(array)
        return tuple(checked)

    def public_state(self, state: State) -> Any:
        """The user-facing form of a state tuple: the array itself for one state name, else the
        tuple."""
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
        state : (B, hidden_size) array, a tuple (one per state name, e.g. ``(h, c)``), or None
            for zeros.

        Returns
        -------
        The new state in the same form, each (B, hidden_size).
        """
        name = type(self).__name__
        x = float_input(x, name, dtype=self.dtype)
        check_rank(x, name, (2,))
        check_last_dim(x, name, self.input_size)
        state_prev = self.check_state(state, x.shape[0])
        state_next = tuple(np.empty_like(state_prev[0]) for _ in range(self.state_size))
        cache = self.allocate_cache((x.shape[0],))
        self.step(self.project_input(x), state_prev, state_next, cache)
        if self.training:
            self._steps.append((x, state_prev, state_next, cache))
        return self.public_state(tuple(s.copy() for s in state_next))

    def backward(self, grad_state: Any) -> tuple[np.ndarray, Any]:
        """Back through the newest remembered step.

        Parameters
        ----------
        grad_state : like the state ``forward`` returned
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
        grad_state_prev = self.step_backward(grads, state_prev, state_next, cache, grad_preact)
        grad_x = self.accumulate_grads(grad_preact, x, state_prev, cache)
        assert grad_x is not None
        return grad_x, self.public_state(tuple(grad_state_prev))

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
    init : str or callable
        ``"pytorch"`` (default), ``"normal"``, ``"orthogonal"``, ``"identity"`` (with
        ``nonlinearity="relu"``: the IRNN of Le et al. 2015) or a callable; see
        :class:`RecurrentCell`.
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
    state_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        bias: bool = True,
        *,
        init: str | initializers.ParameterInit = "pytorch",
        seed: initializers.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu", "sigmoid"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got {nonlinearity!r}"
            )
        super().__init__(input_size, hidden_size, bias, init=init, seed=seed, dtype=dtype)
        self.nonlinearity = nonlinearity

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
    init : str or callable
        Initialisation scheme, see :class:`RecurrentCell`.
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
    state_names = ("h", "c")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        forget_bias: float = 0.0,
        *,
        gate: str = "sigmoid",
        init: str | initializers.ParameterInit = "pytorch",
        seed: initializers.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        _check_gate("LSTMCell", gate)
        super().__init__(input_size, hidden_size, bias, init=init, seed=seed, dtype=dtype)
        self.gate = gate
        self.forget_bias = float(forget_bias)
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

    def extra_repr(self) -> str:
        text = super().extra_repr()
        text += f", forget_bias={self.forget_bias}" if self.forget_bias else ""
        return text + (f", gate={self.gate!r}" if self.gate != "sigmoid" else "")


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
    gate : {"sigmoid", "hard_sigmoid"}
        Activation of the gates r and z: the logistic sigmoid, or Theano's piecewise-linear
        ``clip(0.2 a + 0.5, 0, 1)`` as in the GRU source document.
    init : str or callable
        Initialisation scheme, see :class:`RecurrentCell`.
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation.
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.

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
        init: str | initializers.ParameterInit = "pytorch",
        seed: initializers.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        _check_gate("GRUCell", gate)
        super().__init__(input_size, hidden_size, bias, init=init, seed=seed, dtype=dtype)
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

    def extra_repr(self) -> str:
        text = super().extra_repr() + f", reset_after={self.reset_after}"
        return text + (f", gate={self.gate!r}" if self.gate != "sigmoid" else "")
