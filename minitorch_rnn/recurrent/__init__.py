"""Recurrent cells, the Unroll container (BPTT), and stacked conveniences."""

from .bidirectional import Bidirectional
from .cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .registry import cell_names, make_cell, register_cell, resolve_cell
from .stacked import GRU, LSTM, RNN, RecurrentStack
from .unroll import Unroll

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "RecurrentCell",
    "RecurrentStack",
    "Unroll",
    "cell_names",
    "make_cell",
    "register_cell",
    "resolve_cell",
]
