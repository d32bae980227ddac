"""The character language model shared by ``dinos``, ``charlm`` and ``sample``.

``Embedding(V, E) -> RNN/GRU/LSTM stack [-> Dropout] -> Dense(H, V)``: token ids ``(B, T)`` to
next-token logits ``(B, T, V)``. ``mt.save`` stores its config, so ``sample`` rebuilds it with
``mt.load_model``.
"""

from __future__ import annotations

from typing import Any

from ..init import as_generator
from ..layers.dense import Dense
from ..layers.dropout import Dropout
from ..layers.embedding import Embedding
from ..module import Module, Sequential
from ..recurrent.registry import resolve_cell
from ..recurrent.stacked import RecurrentStack
from ..serialization import load_model, read_meta

__all__ = ["build_char_model", "char_meta", "load_char_model"]

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
    """Build the character model; ``cell`` is a registered name (``mt.recurrent.cell_names()``).

    ``dropout`` applies between the recurrent layers and to the last layer's output, before the
    head (so a one-layer model is regularised too).
    """
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
    modules: list[Module] = [Embedding(vocabulary_size, embedding_dim, seed=rng), stack]
    if dropout > 0:
        modules.append(Dropout(dropout, seed=rng))  # before the head too: one layer gets some
    modules.append(Dense(hidden, vocabulary_size, seed=rng))
    return Sequential(*modules)


def char_meta(app: str, vocabulary: str) -> dict[str, Any]:
    """What a ``dinos``/``charlm`` checkpoint stores beside its model (whose config ``mt.save``
    stores itself): the application and the characters of the vocabulary, in id order."""
    return {"app": app, "vocabulary": vocabulary}


def load_char_model(path: str) -> tuple[str, str, Module]:
    """The application, vocabulary and model of a ``dinos``/``charlm`` checkpoint.

    The meta fields are checked first, then ``load_model`` rebuilds the model from its stored
    config (every size checked against the weights before anything is built), then its vocabulary
    size is checked against the vocabulary.

    Raises
    ------
    ValueError
        Naming what is wrong: not such a checkpoint, a bad vocabulary, a checkpoint saved without
        a model config (by an older version: re-save it), a model that does not fit.
    """
    meta = read_meta(path)
    app = meta.get("app")
    if app not in APPS:
        raise ValueError(f"not a dinos/charlm checkpoint (meta 'app' is {_short(app)})")
    vocabulary = meta.get("vocabulary")
    if not isinstance(vocabulary, str) or not vocabulary.startswith("\n"):
        raise ValueError(
            "meta 'vocabulary' must be a string of characters starting with a newline, "
            f"got {_short(vocabulary)}"
        )
    if len(set(vocabulary)) != len(vocabulary):
        raise ValueError("meta 'vocabulary' repeats a character")
    if "config" not in meta:
        raise ValueError(
            "it was saved without a model config, by an older minitorch_rnn: re-save it (train "
            "again with --save, or rebuild the model in code, mt.load and mt.save it)"
        )
    model = load_model(path)
    size = len(vocabulary)
    first, last = (
        (model[0], model[-1]) if isinstance(model, Sequential) and len(model) else (None, None)
    )
    if not (
        isinstance(first, Embedding)
        and first.num_embeddings == size
        and isinstance(last, Dense)
        and last.out_features == size
    ):
        raise ValueError(
            f"its model is not an Embedding ... Dense character model over its {size} characters"
        )
    return app, vocabulary, model


def _short(value: Any) -> str:
    """``repr`` cut to one short line: meta values may be anything, nested or huge."""
    text = repr(value) if not isinstance(value, (list, dict)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."
