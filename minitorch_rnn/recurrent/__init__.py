"""Recurrent cells, the Unroll container (BPTT), and stacked conveniences."""

from .cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .unroll import Bidirectional, Unroll

__all__ = ["Bidirectional", "GRUCell", "LSTMCell", "RNNCell", "RecurrentCell", "Unroll"]
