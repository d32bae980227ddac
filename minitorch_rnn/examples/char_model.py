"""The character language model shared by ``dinos``, ``charlm`` and ``sample``.

``Embedding(V, E) -> RNN/GRU/LSTM stack -> Dense(H, V)``: token ids ``(B, T)`` to next-token logits
``(B, T, V)``. Its architecture is stored in a checkpoint's metadata, so ``sample`` can rebuild it.
"""

from __future__ import annotations

from typing import Any

from ..init import as_generator
from ..layers.dense import Dense
from ..layers.embedding import Embedding
from ..module import Sequential
from ..recurrent.stacked import GRU, LSTM, RNN, RecurrentStack

__all__ = ["ARCHITECTURE_KEYS", "build_char_model"]

ARCHITECTURE_KEYS = ("vocabulary", "embedding_dim", "cell", "hidden", "layers", "dropout")


def build_char_model(
    vocabulary_size: int,
    embedding_dim: int,
    cell: str,
    hidden: int,
    layers: int = 1,
    dropout: float = 0.0,
    stateful: bool = False,
    seed: Any = 0,
) -> Sequential:
    """Build the character model; ``cell`` is "rnn", "gru" or "lstm" (forget-gate bias 1)."""
    rng = as_generator(seed)
    options: dict[str, Any] = {
        "num_layers": layers,
        "dropout": dropout,
        "stateful": stateful,
        "seed": rng,
    }
    stack: RecurrentStack
    if cell == "rnn":
        stack = RNN(embedding_dim, hidden, **options)
    elif cell == "gru":
        stack = GRU(embedding_dim, hidden, **options)
    elif cell == "lstm":
        stack = LSTM(embedding_dim, hidden, forget_bias=1.0, **options)
    else:
        raise ValueError(f"unknown cell {cell!r}; choose rnn, gru or lstm")
    return Sequential(
        Embedding(vocabulary_size, embedding_dim, seed=rng),
        stack,
        Dense(hidden, vocabulary_size, seed=rng),
    )
