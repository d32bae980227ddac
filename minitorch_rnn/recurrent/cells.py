"""The built-in recurrent cells and their protocol, importable from one place.

:class:`RecurrentCell` (the public cell protocol) lives in :mod:`.cell`; each built-in cell in a file
of its own (:mod:`.rnn_cell`, :mod:`.gru_cell`, :mod:`.lstm_cell`). Parameter names, shapes and gate
order are PyTorch's (GRU: r, z, n; LSTM: i, f, g, o), so a converted ``torch.nn.*Cell`` state dict
loads unchanged. The derivations are in ``docs/math/``.
"""

from .cell import ACTIVATIONS, GATES, Cache, RecurrentCell, State, gate_blocks
from .gru_cell import GRUCell
from .lstm_cell import LSTMCell
from .rnn_cell import RNNCell

__all__ = [
    "ACTIVATIONS",
    "GATES",
    "Cache",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "RecurrentCell",
    "State",
    "gate_blocks",
]
