"""Cells by name: the one map from a name such as ``"lstm"`` to a cell class and its defaults.

Everything that takes a cell *by name* — ``RecurrentStack``, ``Seq2Seq``, the command line, the
benchmarks — asks this registry, so a name means the same cell with the same defaults everywhere.
A user's cell joins with one call and is then available by name wherever the built-in ones are::

    mt.recurrent.register_cell("mine", MyCell, init="orthogonal")
    mt.recurrent.make_cell("mine", input_size=8, hidden_size=16, seed=0)

The built-in names:

=========  ========================================================================
``rnn``    :class:`RNNCell` (tanh)
``irnn``   :class:`RNNCell` with ReLU and identity-initialised recurrence (Le et al. 2015)
``gru``    :class:`GRUCell`
``lstm``   :class:`LSTMCell` with forget-gate bias 1 (Jozefowicz et al. 2015)
=========  ========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cell import RecurrentCell
from .gru_cell import GRUCell
from .lstm_cell import LSTMCell
from .rnn_cell import RNNCell

__all__ = ["cell_names", "make_cell", "register_cell", "resolve_cell"]

_CELLS: dict[str, tuple[type[RecurrentCell], dict[str, Any]]] = {}


def register_cell(name: str, cell_class: type[RecurrentCell], **defaults: Any) -> None:
    """Make ``cell_class`` available by ``name``, with ``defaults`` for its keyword options.

    Parameters
    ----------
    name : str
        A lowercase identifier such as ``"indrnn"``; re-registering a name replaces it.
    cell_class : type of RecurrentCell
        The class to build; its constructor takes ``(input_size, hidden_size, **options)``.
    **defaults
        Keyword options applied whenever the cell is made by this name (the caller's options
        override them), e.g. ``forget_bias=1.0``.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string or ``cell_class`` is not a ``RecurrentCell`` subclass.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_cell: name must be a non-empty string, got {name!r}")
    if not (isinstance(cell_class, type) and issubclass(cell_class, RecurrentCell)):
        raise TypeError(
            f"register_cell: cell_class must be a subclass of RecurrentCell, got {cell_class!r}"
        )
    _CELLS[name] = (cell_class, dict(defaults))


def cell_names() -> tuple[str, ...]:
    """The registered names, in registration order (the built-in ones first)."""
    return tuple(_CELLS)


def resolve_cell(cell: str | type[RecurrentCell]) -> tuple[type[RecurrentCell], dict[str, Any]]:
    """The class and default options of ``cell``: a registered name, or a cell class (no defaults).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the registered ones).
    TypeError
        For anything that is neither a string nor a ``RecurrentCell`` subclass.
    """
    if isinstance(cell, str):
        if cell not in _CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(_CELLS)}")
        cell_class, defaults = _CELLS[cell]
        return cell_class, dict(defaults)
    if isinstance(cell, type) and issubclass(cell, RecurrentCell):
        return cell, {}
    raise TypeError(
        f"a cell is a registered name ({', '.join(_CELLS)}) or a RecurrentCell subclass, "
        f"got {cell!r}"
    )


def make_cell(
    cell: str | type[RecurrentCell],
    input_size: int,
    hidden_size: int,
    **options: Any,
) -> RecurrentCell:
    """Build ``cell`` (a registered name or a class): its defaults, then ``options`` on top."""
    cell_class, defaults = resolve_cell(cell)
    merged: Mapping[str, Any] = {**defaults, **options}
    return cell_class(input_size, hidden_size, **merged)


register_cell("rnn", RNNCell)
register_cell("irnn", RNNCell, nonlinearity="relu", init="identity")
register_cell("gru", GRUCell)
register_cell("lstm", LSTMCell, forget_bias=1.0)
