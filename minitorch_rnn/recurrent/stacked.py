"""Multi-layer, optionally bidirectional recurrent stacks of any cell, with PyTorch's parameter names.

``mt.LSTM(4, 8, num_layers=2, bidirectional=True).state_dict()`` has exactly the keys and shapes of
``torch.nn.LSTM(4, 8, num_layers=2, bidirectional=True).state_dict()`` (``weight_ih_l0``,
``weight_hh_l0_reverse``, ``bias_hh_l1``, ...), so weights move between the two unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..layers.dropout import Dropout
from ..module import Config, Module, Shapes, described, input_grad_needed
from ..validation import check_probability, check_shape, check_size, float_input
from .bidirectional import Bidirectional
from .cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .registry import resolve_cell
from .unroll import Unroll, UnrollInputs, eval_chunk_steps

__all__ = ["GRU", "LSTM", "RNN", "RecurrentStack"]


class RecurrentStack(Module):
    """Layers of any recurrent cell: :class:`Unroll` (or :class:`Bidirectional`) blocks with dropout
    between them, and PyTorch's parameter names.

    Parameters
    ----------
    cell_class : str or type of RecurrentCell
        The cell of every layer and direction: a name registered with
        :func:`~minitorch_rnn.recurrent.register_cell` (``"rnn"``, ``"irnn"``, ``"gru"``,
        ``"lstm"``, or a user's), whose registered defaults then apply (``"lstm"``: forget-gate
        bias 1), or a class, built in or a user's subclass. It is called as
        ``cell_class(layer_input_size, hidden_size, seed=rng, dtype=dtype, **cell_kwargs)``.
    input_size, hidden_size : int
    num_layers : int
        Number of stacked recurrent layers; layer ``l > 0`` reads layer ``l - 1``'s output.
    bidirectional : bool
        Each layer reads both ways and concatenates: outputs have ``2 * hidden_size`` features.
    dropout : float
        Dropout on the output of every layer but the last (training mode only), as in PyTorch.
    return_sequences : bool
        Output every step ``(B, T, H * directions)``, or only the last layer's final states
        ``(B, H * directions)``.
    stateful : bool
        Carry each layer's final state into the next call (see :class:`Unroll`).
    record_grad_norms : bool
        Every Unroll records its :attr:`Unroll.grad_norms`; see :attr:`grad_norms`.
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation and of the dropout masks.
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.
    **cell_kwargs
        Passed to every cell: ``bias``, ``init``, and the cell's own options (``nonlinearity``,
        ``reset_after``, ``forget_bias``, ``gate``, ...).

    Attributes
    ----------
    state
        The final state in PyTorch's layout: ``h_n`` of shape ``(num_layers * directions, B, H)``
        for one state name, a tuple of such arrays otherwise (``(h_n, c_n)`` for LSTM), in
        PyTorch's order (layer 0 forward, layer 0 reverse, layer 1 forward, ...); None before
        the first forward. It is read from, and assigning it sets, the Unrolls' carried states
        (``None`` clears them, as :meth:`reset_state` does).
    grad_initial_state
        Gradient w.r.t. the initial state, same layout, set by ``backward``.
    grad_norms
        With ``record_grad_norms``: a dict of each Unroll's ``grad_norms`` ``(T,)``, keyed like the
        parameter suffixes (``"l0"``, ``"l0_reverse"``, ``"l1"``, ...).

    Notes
    -----
    Every parameter ``p`` of the cell of layer ``k`` appears in ``state_dict()`` as ``p_l{k}``, and
    ``p_l{k}_reverse`` for the backward direction (PyTorch's rule): ``mt.LSTM(4, 8, num_layers=2,
    bidirectional=True)`` has exactly the keys and shapes of the ``torch.nn.LSTM`` equivalent.

    Shapes
    ------
    x ``(B, T, input_size)``; initial state ``(num_layers * directions, B, H)`` per state name
    (PyTorch's layout, also with batch-first input); lengths ``(B,)``.
    """

    accepts_lengths: ClassVar[bool] = True

    def __init__(
        self,
        cell_class: type[RecurrentCell],
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        return_sequences: bool = True,
        *,
        stateful: bool = False,
        record_grad_norms: bool = False,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
        **cell_kwargs: Any,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(cell_class, str) and not (
            isinstance(cell_class, type) and issubclass(cell_class, RecurrentCell)
        ):
            raise TypeError(
                f"{name}: cell_class must be a subclass of RecurrentCell or a registered cell "
                f"name, got {cell_class!r}"
            )
        try:
            cell_class, defaults = resolve_cell(cell_class)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
        cell_kwargs = {**defaults, **cell_kwargs}
        self.input_size = check_size(input_size, name, "input_size")
        self.hidden_size = check_size(hidden_size, name, "hidden_size")
        self.num_layers = check_size(num_layers, name, "num_layers")
        self.dropout = check_probability(dropout, name, "dropout")
        rng = init.as_generator(seed)
        self.cell_class = cell_class
        self.num_directions = 2 if bidirectional else 1
        self.return_sequences = bool(return_sequences)
        layers = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            unrolls = []
            for direction in range(self.num_directions):
                cell = cell_class(
                    layer_input, self.hidden_size, seed=rng, dtype=dtype, **cell_kwargs
                )
                # PyTorch's names: every parameter p of the cell is p_l{k}[_reverse] here
                for parameter_name, parameter in cell.named_parameters():
                    setattr(self, parameter_name + _suffix(layer, direction), parameter)
                unrolls.append(
                    Unroll(
                        cell,
                        return_sequences=return_sequences or layer < self.num_layers - 1,
                        reverse=bool(direction),
                        stateful=stateful,
                        record_grad_norms=record_grad_norms,
                    )
                )
            layers.append(Bidirectional(unrolls[0], unrolls[1]) if bidirectional else unrolls[0])
        # blocks register after every aliased parameter so named_parameters() follows torch's order
        for layer, block in enumerate(layers):
            setattr(self, f"layer{layer}", block)
            if self.dropout > 0 and layer < self.num_layers - 1:
                setattr(self, f"dropout{layer}", Dropout(self.dropout, seed=rng))
        self.grad_initial_state: Any = None
        self._batch: int | None = None

    # -- structure, derived from the registered modules -----------------------------------------

    def _layers(self) -> list[tuple[Unroll | Bidirectional, Dropout | None]]:
        """Each layer's block and the dropout on its output (None after the last layer)."""
        return [
            (self._modules[f"layer{k}"], self._modules.get(f"dropout{k}"))  # type: ignore[misc]
            for k in range(self.num_layers)
        ]

    def _unrolls(self) -> list[Unroll]:
        """Every Unroll in PyTorch's state order: layer 0 forward, layer 0 reverse, layer 1..."""
        return [module for module in self.modules() if isinstance(module, Unroll)]

    @property
    def _cell(self) -> RecurrentCell:
        return self._unrolls()[0].cell

    @property
    def state(self) -> Any:
        """The Unrolls' final (carried) states in PyTorch's layout, or None (see the class)."""
        states = [unroll.state for unroll in self._unrolls()]
        return None if any(state is None for state in states) else self._join_state(states)

    @state.setter
    def state(self, value: Any) -> None:
        if value is None:
            self.reset_state()
            return
        first = value[0] if isinstance(value, (tuple, list)) else value
        shape = np.shape(first)
        batch = int(shape[1]) if len(shape) == 3 else -1  # a wrong rank fails the check below
        states = self._split_state(value, batch, "state")
        for unroll, state in zip(self._unrolls(), states, strict=True):
            unroll.state = state

    @property
    def grad_norms(self) -> dict[str, np.ndarray | None]:
        """Each Unroll's :attr:`Unroll.grad_norms`, keyed ``"l0"``, ``"l0_reverse"``, ``"l1"``..."""
        return {
            _suffix(index // self.num_directions, index % self.num_directions)[
                1:
            ]: unroll.grad_norms
            for index, unroll in enumerate(self._unrolls())
        }

    @property
    def record_grad_norms(self) -> bool:
        """Whether every Unroll records its ``grad_norms`` (setting it sets them all)."""
        return all(unroll.record_grad_norms for unroll in self._unrolls())

    @record_grad_norms.setter
    def record_grad_norms(self, value: bool) -> None:
        for unroll in self._unrolls():
            unroll.record_grad_norms = bool(value)

    def reset_state(self) -> None:
        """Forget the carried state of every layer (stateful stacks)."""
        for unroll in self._unrolls():
            unroll.reset_state()

    # -- states in PyTorch's layout -------------------------------------------------------------

    def _split_state(self, state: Any, batch: int, what: str) -> list[Any]:
        """Validate a PyTorch-layout state and split it into one state per Unroll."""
        name = type(self).__name__
        count = self.num_layers * self.num_directions
        if state is None:
            return [None] * count
        cell = self._cell
        state_names = cell.state_names
        if len(state_names) == 1:
            parts: tuple[Any, ...] = (state,)
        elif isinstance(state, (tuple, list)) and len(state) == len(state_names):
            parts = tuple(state)
        else:
            kind = "a pair" if len(state_names) == 2 else f"a tuple of {len(state_names)}"
            raise TypeError(f"{name}: {what} must be {kind} ({', '.join(state_names)}) or None")
        arrays = []
        for label, part in zip(state_names, parts, strict=True):
            array = float_input(part, name, dtype=cell.dtype, name=f"{what} {label}")
            check_shape(array, name, (count, batch, self.hidden_size), f"{what} {label}")
            arrays.append(array)
        return [cell.public_state(tuple(a[index] for a in arrays)) for index in range(count)]

    def _join_state(self, states: list[Any]) -> Any:
        """Stack one state per Unroll into PyTorch's ``(layers * directions, B, H)`` layout."""
        cell = self._cell
        if cell.state_size == 1:
            return np.stack(states)
        return tuple(np.stack([s[k] for s in states]) for k in range(cell.state_size))

    def _per_block(self, per_unroll: list[Any]) -> list[Any]:
        if self.num_directions == 1:
            return per_unroll
        return [(per_unroll[2 * i], per_unroll[2 * i + 1]) for i in range(self.num_layers)]

    # -- forward and backward -------------------------------------------------------------------

    def forward(self, x: Any, state: Any = None, lengths: Any = None) -> np.ndarray:
        """Run every layer in turn.

        Parameters
        ----------
        x : (B, T, input_size)
        state : ``h_0`` (or a tuple such as ``(h_0, c_0)``), each
            ``(num_layers * directions, B, H)``, optional
        lengths : (B,) ints in ``1..T``, optional

        Returns
        -------
        (B, T, H * directions), or (B, H * directions) without ``return_sequences``.
        """
        batch = np.shape(x)[0] if np.ndim(x) == 3 else -1
        block_states = self._per_block(self._split_state(state, batch, "state"))
        if not self.training and not self.return_sequences and self.num_directions == 1:
            self._batch = None
            return self._forward_streaming(x, block_states, lengths)
        output = x
        for (block, dropout), block_state in zip(self._layers(), block_states, strict=True):
            output = block.forward(output, block_state, lengths=lengths)
            if dropout is not None:
                output = dropout.forward(output)
        self._batch = int(output.shape[0]) if self.training else None
        return output

    def _forward_streaming(self, x: Any, states: list[Any], lengths: Any) -> np.ndarray:
        """Eval mode, one direction, last states only: every layer runs a chunk of steps before
        the next chunk starts, each carrying its state across chunks, so no layer's output over
        the whole sequence ever exists and the memory needed does not grow with ``T``.

        (A bidirectional layer above the first needs the whole output of the layer below, so
        bidirectional stacks run layer by layer.) Dropout is the identity in eval mode.
        """
        unrolls = self._unrolls()
        first = unrolls[0].check_inputs(x, states[0], lengths)
        batch, steps, _ = first.x.shape
        carried = [first.initial_state] + [
            unroll.check_inputs(np.zeros((batch, 1, unroll.cell.input_size)), state).initial_state
            for unroll, state in zip(unrolls[1:], states[1:], strict=True)
        ]
        chunk = eval_chunk_steps(batch)
        output = first.x
        for start in range(0, steps, chunk):
            stop = min(start + chunk, steps)
            part = first.x[:, start:stop]
            # steps of this chunk that are valid for each sample: 0 once a sample has ended
            part_lengths = (
                None if first.lengths is None else np.clip(first.lengths - start, 0, stop - start)
            )
            for index, unroll in enumerate(unrolls):  # all but the last return sequences
                part = unroll.run(UnrollInputs(part, part_lengths, carried[index]))
                carried[index] = unroll.cell.check_state(unroll.state, batch, unroll.name)
            output = part
        return output

    def check_backward_ready(self) -> None:
        """Raise unless a training-mode forward is pending in every layer."""
        if self._batch is None:
            raise RuntimeError(
                f"{type(self).__name__}: backward called before forward (or after an eval-mode one)"
            )
        for block, _ in self._layers():
            block.check_backward_ready()

    def backward(self, grad_output: Any, grad_state: Any = None) -> np.ndarray | None:
        """Back-propagate through every layer, top first.

        Parameters
        ----------
        grad_output : like the output of ``forward``
        grad_state : gradient at the final state, PyTorch layout (like :attr:`state`), optional

        Returns
        -------
        grad_x : (B, T, input_size), or None when :attr:`needs_input_grad` is False.
        """
        self.check_backward_ready()
        assert self._batch is not None
        grad_states = self._per_block(self._split_state(grad_state, self._batch, "grad_state"))
        grad = grad_output
        layers = list(zip(self._layers(), grad_states, strict=True))
        for index, ((block, dropout), block_grad_state) in reversed(list(enumerate(layers))):
            if dropout is not None:
                grad = dropout.backward(grad)
            needed = self.needs_input_grad if index == 0 else True
            with input_grad_needed(block, needed):
                grad = block.backward(grad, block_grad_state)
        self._batch = None
        self.grad_initial_state = self._join_state(
            [unroll.grad_initial_state for unroll in self._unrolls()]
        )
        return grad

    # -- rebuilding ------------------------------------------------------------------------------

    def config(self) -> Config:
        """The stack's arguments and its cells' options, flat: ``{"class": "LSTM",
        "input_size", "hidden_size", "num_layers", "bidirectional", "dropout",
        "return_sequences", "stateful", "record_grad_norms", "bias", "forget_bias", "gate",
        "dtype", ...}``; a :class:`RecurrentStack` adds ``"cell_class"``, the cell's class name."""
        unroll = self._unrolls()[0]
        cell_options = {
            key: value
            for key, value in self._cell.config().items()
            if key not in ("class", "input_size", "hidden_size")
        }
        return described(
            self,
            **self._cell_class_config(),
            input_size=self.input_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.num_directions == 2,
            dropout=self.dropout,
            return_sequences=self.return_sequences,
            stateful=unroll.stateful,
            record_grad_norms=unroll.record_grad_norms,
            **cell_options,
        )

    def _cell_class_config(self) -> Config:
        return {"cell_class": type(self._cell).__name__}

    @classmethod
    def _configured_cell_class(cls, arguments: Mapping[str, Any]) -> Any:
        """The cell's class name in a config (a fixed-cell stack knows its own)."""
        return arguments.get("cell_class")

    @classmethod
    def from_config(
        cls, arguments: dict[str, Any], classes: Callable[[str], type[Module]]
    ) -> Module:
        """Looks the cell's class name up in ``classes`` (built-in or registered only)."""
        options = dict(arguments)
        cell_class = options.pop("cell_class", None)
        if not isinstance(cell_class, str):
            raise TypeError(f"{cls.__name__}: cell_class must be a class name, got {cell_class!r}")
        return cls(classes(cell_class), **options)  # type: ignore[arg-type]

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        """Each layer's cell shapes (asked of the cell class) under PyTorch's suffixed names."""
        name = cls.__name__
        input_size = check_size(arguments.get("input_size"), name, "input_size")
        hidden_size = check_size(arguments.get("hidden_size"), name, "hidden_size")
        num_layers = check_size(arguments.get("num_layers", 1), name, "num_layers")
        directions = 2 if arguments.get("bidirectional", False) else 1
        cell_options = {
            key: value for key, value in arguments.items() if key not in _STACK_ARGUMENTS
        }
        shapes: Shapes = {}
        for layer in range(num_layers):
            cell_shapes = shapes_of(
                {
                    **cell_options,
                    "class": cls._configured_cell_class(arguments),
                    "input_size": input_size if layer == 0 else hidden_size * directions,
                    "hidden_size": hidden_size,
                }
            )
            for direction in range(directions):
                suffix = _suffix(layer, direction)
                shapes.update({key + suffix: shape for key, shape in cell_shapes.items()})
        return shapes

    def extra_repr(self) -> str:
        cell = "" if isinstance(self, _FixedCellStack) else f"{self.cell_class.__name__}, "
        return (
            f"{cell}{self.input_size}, {self.hidden_size}, "
            f"num_layers={self.num_layers}, bidirectional={self.num_directions == 2}, "
            f"dropout={self.dropout}, return_sequences={self.return_sequences}"
        )


# RecurrentStack's own arguments: every other entry of its config is an option of its cells.
_STACK_ARGUMENTS = frozenset(
    (
        "class",
        "cell_class",
        "input_size",
        "hidden_size",
        "num_layers",
        "bidirectional",
        "dropout",
        "return_sequences",
        "stateful",
        "record_grad_norms",
        "seed",
    )
)


def _suffix(layer: int, direction: int) -> str:
    """PyTorch's parameter-name suffix: ``_l0``, ``_l0_reverse``, ..."""
    return f"_l{layer}" + ("_reverse" if direction else "")


class _FixedCellStack(RecurrentStack):
    """A :class:`RecurrentStack` whose cell class is fixed by the subclass (``cell_class``)."""

    cell_class: type[RecurrentCell]

    def __init__(self, input_size: int, hidden_size: int, *args: Any, **options: Any) -> None:
        # the RecurrentStack arguments after the sizes, in its order, without cell_class
        super().__init__(type(self).cell_class, input_size, hidden_size, *args, **options)

    def _cell_class_config(self) -> Config:
        return {}  # the class fixes the cell

    @classmethod
    def _configured_cell_class(cls, arguments: Mapping[str, Any]) -> Any:
        return cls.cell_class.__name__

    @classmethod
    def from_config(
        cls, arguments: dict[str, Any], classes: Callable[[str], type[Module]]
    ) -> Module:
        return cls(**arguments)


class RNN(_FixedCellStack):
    """Stacked Elman RNN, the counterpart of ``torch.nn.RNN`` (batch-first):
    ``RecurrentStack(RNNCell, ...)``.

    Takes the :class:`RecurrentStack` arguments (without ``cell_class``) plus the
    :class:`RNNCell` options: ``nonlinearity`` ("tanh" or "relu"), ``bias``, ``init``.
    """

    cell_class = RNNCell


class GRU(_FixedCellStack):
    """Stacked GRU, the counterpart of ``torch.nn.GRU`` (batch-first): ``RecurrentStack(GRUCell,
    ...)``.

    Takes the :class:`RecurrentStack` arguments (without ``cell_class``) plus the
    :class:`GRUCell` options: ``reset_after``, ``gate``, ``bias``, ``init``.
    """

    cell_class = GRUCell


class LSTM(_FixedCellStack):
    """Stacked LSTM, the counterpart of ``torch.nn.LSTM`` (batch-first): ``RecurrentStack(LSTMCell,
    ...)``.

    Takes the :class:`RecurrentStack` arguments (without ``cell_class``) plus the
    :class:`LSTMCell` options: ``forget_bias``, ``gate``, ``bias``, ``init``.
    """

    cell_class = LSTMCell
