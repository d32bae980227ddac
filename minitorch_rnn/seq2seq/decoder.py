r"""The decoder of a sequence-to-sequence model: target ids, a recurrent stack, attention over the
encoder's outputs, and a dense layer to the target vocabulary."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..layers.dense import Dense
from ..layers.dropout import Dropout
from ..layers.embedding import Embedding
from ..module import Module
from ..recurrent.cell import RecurrentCell
from .attention import Attention
from .encoder import make_stack

__all__ = ["Decoder"]


class Decoder(Module):
    r"""``Embedding(tgt_vocab, E)`` → dropout → a recurrent stack → attention → ``Dense``.

    .. math::
        h_t = \mathrm{stack}(E[y_{t-1}], h_{t-1}), \qquad
        c_t = \mathrm{Attention}(h_t, \text{memory}), \qquad
        \mathrm{logits}_t = W_o [c_t; h_t] + b_o

    (context first); without attention :math:`\mathrm{logits}_t = W_o h_t + b_o`.

    Parameters
    ----------
    vocab_size, embedding_dim, hidden_size, num_layers : int
    cell : str or type of RecurrentCell
    attention : {"dot", "general", "additive"} or None
        The score of the :class:`Attention` over the encoder's outputs, or no attention.
    dropout : float
        On the embedded ids and between layers (training mode only).
    seed : int or numpy.random.Generator, optional
    dtype : float32 or float64, optional

    Attributes
    ----------
    embedding : Embedding
    rnn : RecurrentStack
    attention : Attention or None
    output : Dense ``(2H or H) -> vocab_size``
    state
        The stack's final state after the last ``forward`` (PyTorch's layout): carried from one
        call to the next, it lets :meth:`forward` run one token at a time.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        cell: str | type[RecurrentCell] = "lstm",
        num_layers: int = 1,
        attention: str | None = "dot",
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
        self.attention = (
            None
            if attention is None
            else Attention(hidden_size, hidden_size, attention, seed=rng, dtype=dtype)
        )
        features = hidden_size * (1 if attention is None else 2)
        self.output = Dense(features, vocab_size, seed=rng, dtype=dtype)
        self._hidden_size = hidden_size

    @property
    def state(self) -> Any:
        return self.rnn.state

    def forward(
        self, tgt_in: Any, state: Any, memory: Any = None, memory_lengths: Any = None
    ) -> np.ndarray:
        """Logits ``(B, Tt, V)`` for the target ids ``tgt_in`` ``(B, Tt)``.

        Parameters
        ----------
        tgt_in : (B, Tt) ints
        state : the initial state of the stack (PyTorch's layout), e.g. the encoder's final state
        memory : (B, Ts, H), the encoder's outputs (with attention)
        memory_lengths : (B,) valid steps of ``memory``, optional
        """
        embedded = self.dropout.forward(self.embedding.forward(tgt_in))
        hidden = self.rnn.forward(embedded, state)
        if self.attention is None:
            return self.output.forward(hidden)
        context = self.attention.forward(hidden, memory, memory_lengths)
        return self.output.forward(np.concatenate([context, hidden], axis=-1))

    def backward(self, grad_output: Any) -> tuple[np.ndarray | None, Any]:
        """Return ``(grad_memory, grad_state)``: the gradients of the encoder's outputs (None
        without attention) and of the initial state; accumulate every parameter gradient."""
        grad_features = self.output.backward(grad_output)
        grad_memory = None
        if self.attention is None:
            grad_hidden = grad_features
        else:
            size = self._hidden_size
            grad_hidden_att, grad_memory = self.attention.backward(grad_features[..., :size])
            grad_hidden = grad_features[..., size:] + grad_hidden_att
        grad_embedded = self.rnn.backward(grad_hidden)
        self.embedding.backward(self.dropout.backward(grad_embedded))
        return grad_memory, self.rnn.grad_initial_state
