"""Recurrent cells, the Unroll container (BPTT), and stacked conveniences."""

from .cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .stacked import GRU, LSTM, RNN, RecurrentStack
from .unroll import Bidirectional, Unroll

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
]
