"""The encoder of a sequence-to-sequence model: embedded source ids through a recurrent stack."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..layers.dropout import Dropout
from ..layers.embedding import Embedding
from ..module import Module
from ..recurrent.cell import RecurrentCell
from ..recurrent.registry import resolve_cell
from ..recurrent.stacked import RecurrentStack

__all__ = ["Encoder", "make_stack"]


def make_stack(
    cell: str | type[RecurrentCell],
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    rng: np.random.Generator,
    dtype: DTypeLike | None,
) -> RecurrentStack:
    """A :class:`RecurrentStack` of ``cell`` (a registered name or a class) with its defaults."""
    cell_class, defaults = resolve_cell(cell)
    return RecurrentStack(
        cell_class,
        input_size,
        hidden_size,
        num_layers,
        dropout=dropout,
        seed=rng,
        dtype=dtype,
        **defaults,
    )


class Encoder(Module):
    r"""``Embedding(src_vocab, E)`` → dropout → a stack of ``num_layers`` recurrent layers.

    Its outputs ``(B, Ts, H)`` are the keys the decoder attends to, and its final state (every
    layer, every state part, taken at each sample's own last valid step) is the decoder's initial
    state.

    Parameters
    ----------
    vocab_size, embedding_dim, hidden_size, num_layers : int
    cell : str or type of RecurrentCell
        A name of :func:`minitorch_rnn.recurrent.cell_names` or a cell class.
    dropout : float
        On the embedded ids and between layers (training mode only).
    seed : int or numpy.random.Generator, optional
    dtype : float32 or float64, optional

    Attributes
    ----------
    embedding : Embedding
    rnn : RecurrentStack
    state
        The final state of the last ``forward``, PyTorch's layout (``(num_layers, B, H)`` per
        state part).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        cell: str | type[RecurrentCell] = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        rng = init.as_generator(seed)
        self.embedding = Embedding(vocab_size, embedding_dim, seed=rng, dtype=dtype)
        self.dropout = Dropout(dropout, seed=rng)
        self.rnn = make_stack(cell, embedding_dim, hidden_size, num_layers, dropout, rng, dtype)

    @property
    def state(self) -> Any:
        return self.rnn.state

    def forward(self, src: Any, lengths: Any = None) -> np.ndarray:
        """Encode ``src`` ids ``(B, Ts)`` into outputs ``(B, Ts, H)`` (zeros past each length)."""
        return self.rnn.forward(self.dropout.forward(self.embedding.forward(src)), lengths=lengths)

    def backward(self, grad_output: Any, grad_state: Any = None) -> None:
        """Back through the stack (``grad_state``: at the final state) into the embedding."""
        grad_embedded = self.rnn.backward(grad_output, grad_state)
        self.embedding.backward(self.dropout.backward(grad_embedded))
