"""Multi-layer, optionally bidirectional recurrent stacks with PyTorch's parameter names.

``mt.LSTM(4, 8, num_layers=2, bidirectional=True).state_dict()`` has exactly the keys and shapes of
``torch.nn.LSTM(4, 8, num_layers=2, bidirectional=True).state_dict()`` (``weight_ih_l0``,
``weight_hh_l0_reverse``, ``bias_hh_l1``, ...), so weights move between the two unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..layers.dropout import Dropout
from ..module import Module
from ..validation import check_shape, float_input
from .cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .unroll import Bidirectional, Unroll

__all__ = ["GRU", "LSTM", "RNN"]


class RecurrentStack(Module):
    """Layers of :class:`Unroll` (or :class:`Bidirectional`) blocks with dropout between them.

    Parameters
    ----------
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
    bias : bool
    stateful : bool
        Carry each layer's final state into the next call (see :class:`Unroll`).
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation and of the dropout masks.
    dtype : float32 or float64, optional
        Parameter dtype; default :func:`minitorch_rnn.get_default_dtype`.

    Attributes
    ----------
    state
        ``h_n`` of shape ``(num_layers * directions, B, H)`` — ``(h_n, c_n)`` for LSTM — in PyTorch's
        order (layer 0 forward, layer 0 reverse, layer 1 forward, ...).
    grad_initial_state
        Gradient w.r.t. the initial state, same layout, set by ``backward``.

    Shapes
    ------
    x ``(B, T, input_size)``; initial state ``(num_layers * directions, B, H)`` (PyTorch's layout,
    also with batch-first input); lengths ``(B,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        return_sequences: bool = True,
        bias: bool = True,
        stateful: bool = False,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
        cell_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.cell_options = dict(cell_options or {})
        if num_layers < 1:
            raise ValueError(f"{name}: num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        rng = init.as_generator(seed)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.num_directions = 2 if bidirectional else 1
        self.return_sequences = bool(return_sequences)
        self._blocks: list[Unroll | Bidirectional] = []
        self._dropouts: list[Dropout | None] = []
        unrolls_per_layer = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            is_last = layer == self.num_layers - 1
            unrolls = []
            for direction in range(self.num_directions):
                cell = self._make_cell(layer_input, self.hidden_size, bias, rng, dtype)
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                for parameter_name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    parameter = getattr(cell, parameter_name)
                    if parameter is not None:
                        setattr(self, parameter_name + suffix, parameter)
                unrolls.append(
                    Unroll(
                        cell,
                        return_sequences=return_sequences or not is_last,
                        reverse=bool(direction),
                        stateful=stateful,
                    )
                )
            unrolls_per_layer.append(unrolls)
        # blocks register after every aliased parameter so named_parameters() follows torch's order
        for layer, unrolls in enumerate(unrolls_per_layer):
            block = Bidirectional(unrolls[0], unrolls[1]) if bidirectional else unrolls[0]
            setattr(self, f"layer{layer}", block)
            self._blocks.append(block)
            has_dropout = dropout > 0 and layer < self.num_layers - 1
            self._dropouts.append(Dropout(dropout, seed=rng) if has_dropout else None)
            if has_dropout:
                setattr(self, f"dropout{layer}", self._dropouts[-1])
        self.dropout = float(dropout)
        self.state: Any = None
        self.grad_initial_state: Any = None
        self._batch: int | None = None

    cell_class: type[RecurrentCell] = RNNCell

    def _make_cell(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        rng: np.random.Generator,
        dtype: DTypeLike | None,
    ) -> RecurrentCell:
        return self.cell_class(
            input_size, hidden_size, bias=bias, seed=rng, dtype=dtype, **self.cell_options
        )

    @property
    def _state_size(self) -> int:
        return self._unrolls()[0].cell.state_size

    def _unrolls(self) -> list[Unroll]:
        """Every Unroll in PyTorch's state order: layer 0 forward, layer 0 reverse, layer 1..."""
        found: list[Unroll] = []
        for block in self._blocks:
            if isinstance(block, Bidirectional):
                found += [block.forward_unroll, block.backward_unroll]
            else:
                found.append(block)
        return found

    def reset_state(self) -> None:
        """Forget the carried state of every layer (stateful stacks)."""
        for unroll in self._unrolls():
            unroll.reset_state()

    def _split_state(self, state: Any, batch: int, what: str) -> list[Any]:
        """Validate a PyTorch-layout state and split it into one state per Unroll."""
        name = type(self).__name__
        count = self.num_layers * self.num_directions
        if state is None:
            return [None] * count
        parts = (state,) if self._state_size == 1 else state
        if self._state_size == 2 and (not isinstance(state, (tuple, list)) or len(state) != 2):
            raise TypeError(f"{name}: {what} must be a pair (h, c) or None")
        dtype = self._unrolls()[0].cell.dtype
        arrays = []
        for label, part in zip(("h", "c"), parts, strict=False):
            array = float_input(part, name, dtype=dtype, name=f"{what} {label}")
            check_shape(array, name, (count, batch, self.hidden_size), f"{what} {label}")
            arrays.append(array)
        if self._state_size == 1:
            return [arrays[0][index] for index in range(count)]
        return [(arrays[0][index], arrays[1][index]) for index in range(count)]

    def _join_state(self, states: list[Any]) -> Any:
        """Stack one state per Unroll into PyTorch's ``(layers * directions, B, H)`` layout."""
        if self._state_size == 1:
            return np.stack(states)
        return np.stack([s[0] for s in states]), np.stack([s[1] for s in states])

    def _per_block(self, per_unroll: list[Any]) -> list[Any]:
        if self.num_directions == 1:
            return per_unroll
        return [(per_unroll[2 * i], per_unroll[2 * i + 1]) for i in range(self.num_layers)]

    def forward(self, x: Any, state: Any = None, lengths: Any = None) -> np.ndarray:
        """Run every layer in turn.

        Parameters
        ----------
        x : (B, T, input_size)
        state : ``h_0`` (or ``(h_0, c_0)``) of shape ``(num_layers * directions, B, H)``, optional
        lengths : (B,) ints in ``1..T``, optional

        Returns
        -------
        (B, T, H * directions), or (B, H * directions) without ``return_sequences``.
        """
        batch = np.shape(x)[0] if np.ndim(x) == 3 else -1
        block_states = self._per_block(self._split_state(state, batch, "state"))
        output = x
        for block, dropout, block_state in zip(
            self._blocks, self._dropouts, block_states, strict=True
        ):
            output = block.forward(output, block_state, lengths=lengths)
            if dropout is not None:
                output = dropout.forward(output)
        self.state = self._join_state([unroll.state for unroll in self._unrolls()])
        self._batch = int(output.shape[0]) if self.training else None
        return output

    def backward(self, grad_output: Any, grad_state: Any = None) -> np.ndarray:
        """Back-propagate through every layer, top first.

        Parameters
        ----------
        grad_output : like the output of ``forward``
        grad_state : gradient at the final state, PyTorch layout (like :attr:`state`), optional
        """
        if self._batch is None:
            raise RuntimeError(
                f"{type(self).__name__}: backward called before forward (or after an eval-mode one)"
            )
        grad_states = self._per_block(self._split_state(grad_state, self._batch, "grad_state"))
        grad = grad_output
        for block, dropout, block_grad_state in reversed(
            list(zip(self._blocks, self._dropouts, grad_states, strict=True))
        ):
            if dropout is not None:
                grad = dropout.backward(grad)
            grad = block.backward(grad, block_grad_state)
        self._batch = None
        self.grad_initial_state = self._join_state(
            [unroll.grad_initial_state for unroll in self._unrolls()]
        )
        return grad

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.num_directions == 2}, dropout={self.dropout}, "
            f"return_sequences={self.return_sequences}"
        )


class RNN(RecurrentStack):
    """Stacked Elman RNN, the counterpart of ``torch.nn.RNN`` (batch-first).

    Takes the :class:`RecurrentStack` arguments plus ``nonlinearity`` ("tanh" or "relu").
    """

    cell_class = RNNCell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        nonlinearity: str = "tanh",
        **options: Any,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            cell_options={"nonlinearity": nonlinearity},
            **options,
        )


class GRU(RecurrentStack):
    """Stacked GRU, the counterpart of ``torch.nn.GRU`` (batch-first).

    Takes the :class:`RecurrentStack` arguments plus ``reset_after`` (see :class:`GRUCell`).
    """

    cell_class = GRUCell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        reset_after: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            cell_options={"reset_after": reset_after},
            **options,
        )


class LSTM(RecurrentStack):
    """Stacked LSTM, the counterpart of ``torch.nn.LSTM`` (batch-first).

    Takes the :class:`RecurrentStack` arguments plus ``forget_bias`` (see :class:`LSTMCell`).
    """

    cell_class = LSTMCell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        forget_bias: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            cell_options={"forget_bias": forget_bias},
            **options,
        )
