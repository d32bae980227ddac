r"""The recurrent-cell protocol: :class:`RecurrentCell`, the base every cell subclasses.

A cell knows no time. It writes its step math once, in the public hooks of :class:`RecurrentCell`
(``step``, ``step_backward``, ``project_input``, ``accumulate_grads``), which both the one-step
``forward``/``backward`` (hand unrolling) and :class:`~minitorch_rnn.Unroll` (a whole sequence)
drive. A user's cell implements the same hooks and is then the built-in cells' equal
(:mod:`~minitorch_rnn.recurrent.rnn_cell`, :mod:`~minitorch_rnn.recurrent.gru_cell` and
:mod:`~minitorch_rnn.recurrent.lstm_cell` are written the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

from .. import functional as F
from .. import init as initializers
from ..dtype import as_float_dtype
from ..module import Config, Module, Parameter, Shapes, described, dtype_name
from ..validation import (
    check_last_dim,
    check_rank,
    check_shape,
    check_size,
    float_input,
    is_int,
)

__all__ = [
    "ACTIVATIONS",
    "GATES",
    "Cache",
    "RecurrentCell",
    "State",
    "checked_state_grads",
    "gate_blocks",
    "run_step",
]

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


def check_gate(owner: str, gate: str) -> str:
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
    num_gates : int (class attribute, default 1)
        Width of the fused pre-activation block, in units of ``hidden_size``: ``weight_ih`` has
        ``num_gates * H`` rows (1 for an Elman RNN, 3 for a GRU, 4 for an LSTM).
    state_names : tuple of str (class attribute, default ``("h",)``)
        Names of the state arrays, each ``(B, H)``, any number >= 1; the first is the output
        (``("h", "c")`` for an LSTM). A state with one name is passed as a bare array, otherwise
        as a tuple in this order.
    takes_input_grad : bool (class attribute, default True)
        Whether :meth:`accumulate_grads` takes the ``input_grad`` keyword, with which ``Unroll``
        asks it to skip the input gradient of a first layer fed data. A cell whose override has
        no such keyword declares ``takes_input_grad = False``; it is then called without it and
        its input gradient is computed and dropped.
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

    num_gates: ClassVar[int] = 1
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    takes_input_grad: ClassVar[bool] = True

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

    def config(self) -> Config:
        """``{"class": <the cell's class>, "input_size", "hidden_size", "bias", "dtype"}``, and
        ``"init"`` when it is a scheme's name (a callable cannot be stored). A cell with options
        of its own adds them (``{**super().config(), "gate": self.gate}``)."""
        config = described(
            self,
            input_size=self.input_size,
            hidden_size=self.hidden_size,
            bias=self.bias_ih is not None,
            dtype=dtype_name(self.dtype),
        )
        if isinstance(self._init, str):
            config["init"] = self._init
        return config

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        """The four parameters of the base class, ``num_gates * H`` rows each; a cell that
        replaces or adds parameters overrides this too."""
        name = cls.__name__
        input_size = check_size(arguments.get("input_size"), name, "input_size")
        hidden_size = check_size(arguments.get("hidden_size"), name, "hidden_size")
        rows = cls.num_gates * hidden_size
        shapes: Shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size)}
        if arguments.get("bias", True):
            shapes.update(bias_ih=(rows,), bias_hh=(rows,))
        return shapes

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
        run_step(self, self.project_input(x), state_prev, state_next, cache)
        if self.training:
            self._steps.append((x, state_prev, state_next, cache))
        return self.public_state(tuple(s.copy() for s in state_next))

    def check_backward_ready(self) -> None:
        """Raise unless a step is remembered (see :meth:`Module.check_backward_ready`)."""
        if not self._steps:
            raise RuntimeError(
                f"{type(self).__name__}: backward called with no remembered step (forward in "
                "training mode first; each backward consumes one forward, newest first)"
            )

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
        self.check_backward_ready()
        x, state_prev, state_next, cache = self._steps[-1]
        grads = self.check_state(grad_state, x.shape[0], owner=f"{name}.backward")
        grad_preact = np.empty((x.shape[0], self.num_gates * self.hidden_size), self.dtype)
        grad_state_prev = checked_state_grads(
            self,
            self.step_backward(grads, state_prev, state_next, cache, grad_preact),
            state_prev[0].shape,
        )
        self._steps.pop()  # only now: a hook that fails leaves the step remembered
        grad_x = self.accumulate_grads(grad_preact, x, state_prev, cache)
        assert grad_x is not None
        return grad_x, self.public_state(tuple(grad_state_prev))

    def reset(self) -> None:
        """Forget every remembered step."""
        self._steps.clear()

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


def run_step(
    cell: RecurrentCell, x_proj: np.ndarray, state_prev: State, state_next: State, cache: Cache
) -> None:
    """``cell.step(...)``, with a numpy shape error (an array written into a cache buffer that
    :meth:`~RecurrentCell.cache_widths` made too narrow) reported as the hook's fault."""
    try:
        cell.step(x_proj, state_prev, state_next, cache)
    except ValueError as error:
        widths = cell.cache_widths()
        raise ValueError(
            f"{type(cell).__name__}.step failed ({error}); check that cache_widths() {widths} "
            "declares every column step writes"
        ) from error


def checked_state_grads(cell: RecurrentCell, grad_prev: Any, shape: tuple[int, ...]) -> State:
    """What ``cell.step_backward`` returned, checked: one ``shape`` array per state name, in a
    tuple (a bare array is refused with the hook's name, not a confusing error later)."""
    name = f"{type(cell).__name__}.step_backward"
    count = cell.state_size
    if not isinstance(grad_prev, tuple) or len(grad_prev) != count:
        got = f"a tuple of {len(grad_prev)}" if isinstance(grad_prev, tuple) else type(grad_prev)
        raise TypeError(
            f"{name} must return a tuple of {count} array(s), one per state name "
            f"{cell.state_names}, got {getattr(got, '__name__', got)}"
        )
    for state_name, grad in zip(cell.state_names, grad_prev, strict=True):
        if np.shape(grad) != shape:
            raise ValueError(
                f"{name} returned a gradient of state {state_name} with shape {np.shape(grad)}, "
                f"expected {shape}"
            )
    return grad_prev
