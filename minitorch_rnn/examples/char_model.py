"""The character language model shared by ``dinos``, ``charlm`` and ``sample``.

``Embedding(V, E) -> RNN/GRU/LSTM stack -> Dense(H, V)``: token ids ``(B, T)`` to next-token logits
``(B, T, V)``. Its architecture is stored in a checkpoint's metadata, so ``sample`` can rebuild it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..init import as_generator
from ..layers.dense import Dense
from ..layers.embedding import Embedding
from ..module import Sequential
from ..recurrent.registry import cell_names, resolve_cell
from ..recurrent.stacked import RecurrentStack

__all__ = ["ARCHITECTURE_KEYS", "CharModelSpec", "build_char_model"]

ARCHITECTURE_KEYS = ("vocabulary", "embedding_dim", "cell", "hidden", "layers", "dropout")
APPS = ("dinos", "charlm")


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
    """Build the character model; ``cell`` is a registered name (``mt.recurrent.cell_names()``)."""
    rng = as_generator(seed)
    cell_class, cell_defaults = resolve_cell(cell)
    stack = RecurrentStack(
        cell_class,
        embedding_dim,
        hidden,
        num_layers=layers,
        dropout=dropout,
        stateful=stateful,
        seed=rng,
        **cell_defaults,
    )
    return Sequential(
        Embedding(vocabulary_size, embedding_dim, seed=rng),
        stack,
        Dense(hidden, vocabulary_size, seed=rng),
    )


@dataclass(frozen=True)
class CharModelSpec:
    """The architecture a ``dinos``/``charlm`` checkpoint declares in its meta, checked."""

    app: str
    vocabulary: str
    embedding_dim: int
    cell: str
    hidden: int
    layers: int
    dropout: float

    @classmethod
    def from_meta(
        cls, meta: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]]
    ) -> CharModelSpec:
        """Check every architecture field of ``meta`` (type, range) and that the sizes agree with
        the weight ``shapes`` the file declares, before anything of that size is built.

        Raises
        ------
        ValueError
            Naming the first field that is missing, of the wrong type, out of range or in
            disagreement with the weights.
        """
        app = meta.get("app")
        if app not in APPS:
            raise ValueError(f"not a dinos/charlm checkpoint (meta 'app' is {_short(app)})")
        missing = [key for key in ARCHITECTURE_KEYS if key not in meta]
        if missing:
            raise ValueError(f"meta lacks the architecture fields {missing}")
        vocabulary = meta["vocabulary"]
        if not isinstance(vocabulary, str) or not vocabulary.startswith("\n"):
            raise ValueError(
                "meta 'vocabulary' must be a string of characters starting with a newline, "
                f"got {_short(vocabulary)}"
            )
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("meta 'vocabulary' repeats a character")
        sizes = {key: _positive_int(meta, key) for key in ("embedding_dim", "hidden", "layers")}
        cell = meta["cell"]
        if cell not in cell_names():
            raise ValueError(
                f"meta 'cell' must be one of {', '.join(cell_names())}, got {_short(cell)}"
            )
        dropout = meta["dropout"]
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise ValueError(f"meta 'dropout' must be a number, got {_short(dropout)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"meta 'dropout' must be in [0, 1), got {dropout!r}")
        spec = cls(app, vocabulary, cell=cell, dropout=float(dropout), **sizes)
        spec._check_against(shapes)
        return spec

    def _check_against(self, shapes: Mapping[str, tuple[int, ...]]) -> None:
        """The sizes must be those of the stored weights (layout of :func:`build_char_model`)."""
        size = len(self.vocabulary)
        declared = {
            "0.weight": (size, self.embedding_dim),  # Embedding(V, E)
            "2.weight": (size, self.hidden),  # Dense(H, V)
        }
        for name, shape in declared.items():
            if shapes.get(name) != shape:
                raise ValueError(
                    f"meta does not match the weights: {name!r} should have shape {shape} (vocabulary {size}, "
                    f"embedding_dim {self.embedding_dim}, hidden {self.hidden}), the file holds "
                    f"{shapes.get(name, 'none')}"
                )
        stored_layers = sum(name.startswith("1.weight_hh_l") for name in shapes)
        if stored_layers != self.layers:
            raise ValueError(
                f"meta does not match the weights: {self.layers} recurrent layer(s) declared, "
                f"the file holds {stored_layers}"
            )

    def build(self) -> Sequential:
        """The model of this architecture (weights to be loaded)."""
        return build_char_model(
            len(self.vocabulary),
            self.embedding_dim,
            self.cell,
            self.hidden,
            self.layers,
            self.dropout,
        )


def _positive_int(meta: Mapping[str, Any], key: str) -> int:
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"meta {key!r} must be a positive integer, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    """``repr`` cut to one short line: meta values may be anything, nested or huge."""
    text = repr(value) if not isinstance(value, (list, dict)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."
