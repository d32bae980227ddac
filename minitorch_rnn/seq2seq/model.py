r"""Seq2Seq: an encoder–decoder of any recurrent cell, with optional attention.

A composite model with two inputs, written as a user writes one: a :class:`~minitorch_rnn.Module`
subclass whose ``forward`` calls its children's ``forward`` and whose ``backward`` calls their
``backward`` in reverse, handing the decoder's gradient of its initial state to the encoder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..module import Config, Module, Shapes, described, dtype_name
from ..recurrent.cell import RecurrentCell
from ..recurrent.registry import cell_names, resolve_cell
from ..validation import check_lengths, check_size, grad_input, int_input
from .attention import SCORES
from .decoder import Decoder
from .encoder import Encoder
from .search import generate

__all__ = ["Seq2Seq", "check_ids"]


def check_ids(ids: Any, owner: str, name: str, vocab_size: int) -> np.ndarray:
    """``ids`` as a 2-D int64 array ``(B, T)`` with ``B, T >= 1`` and every id in the vocabulary."""
    array = int_input(ids, owner, name=name)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(
            f"{owner}: {name} must be a 2-D array (batch, steps) of ids with at least one sample "
            f"and step, got shape {array.shape}"
        )
    if array.min() < 0 or array.max() >= vocab_size:
        raise ValueError(
            f"{owner}: {name} ids must lie in [0, {vocab_size - 1}] (the vocabulary), got values "
            f"in [{array.min()}, {array.max()}]"
        )
    return array


class Seq2Seq(Module):
    r"""Encoder–decoder for sequences whose output has another length than the input.

    The encoder reads the source ids; its final state starts the decoder, which reads the target
    shifted right behind ``start_id`` (teacher forcing) and, with attention, looks back at every
    encoder output at each step:

    .. math::
        \mathrm{logits}_t = W_o\,[\,\mathrm{Attention}(h_t, \text{encoder outputs});\ h_t\,] + b_o

    Parameters
    ----------
    src_vocab, tgt_vocab : int
        Sizes of the source and target vocabularies.
    embedding_dim, hidden_size : int
        ``E`` and ``H`` of both the encoder and the decoder.
    cell : str or type of RecurrentCell
        ``"rnn"``, ``"gru"``, ``"lstm"`` (any name of :func:`minitorch_rnn.recurrent.cell_names`,
        with its defaults) or a :class:`~minitorch_rnn.RecurrentCell` subclass.
    num_layers : int
        Recurrent layers of the encoder and of the decoder.
    attention : {"dot", "general", "additive"} or None
        The :class:`Attention` score, or None for the plain encoder–decoder.
    dropout : float
        On the embedded ids and between recurrent layers (training mode only).
    seed : int or numpy.random.Generator, optional
    dtype : float32 or float64, optional

    Attributes
    ----------
    encoder : Encoder
        ``embedding`` and ``rnn``.
    decoder : Decoder
        ``embedding``, ``rnn``, ``attention`` (or None) and ``output``.
    attention_weights : numpy.ndarray ``(B, Tt, Ts)`` or None
        The decoder's attention weights of the last ``forward`` (None without attention).

    Notes
    -----
    ``state_dict()`` keys: ``encoder.embedding.weight``, ``encoder.rnn.weight_ih_l0`` (and the
    other keys of PyTorch's ``nn.RNN``/``nn.GRU``/``nn.LSTM``), ``decoder.embedding.weight``,
    ``decoder.rnn.*``, ``decoder.attention.*`` (``weight`` for "general"; ``query_weight``,
    ``key_weight``, ``v`` for "additive"; none for "dot"), ``decoder.output.weight``,
    ``decoder.output.bias``.

    Shapes
    ------
    src ``(B, Ts)`` ints, tgt_in ``(B, Tt)`` ints, src_lengths ``(B,)`` in ``1..Ts`` ->
    logits ``(B, Tt, tgt_vocab)``.
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
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
        name = type(self).__name__
        self.src_vocab = check_size(src_vocab, name, "src_vocab")
        self.tgt_vocab = check_size(tgt_vocab, name, "tgt_vocab")
        if attention is not None and attention not in SCORES:
            raise ValueError(
                f"{name}: attention must be one of {', '.join(SCORES)} or None, got {attention!r}"
            )
        rng = init.as_generator(seed)
        sizes = (embedding_dim, hidden_size)
        self.encoder = Encoder(src_vocab, *sizes, cell, num_layers, dropout, seed=rng, dtype=dtype)
        self.decoder = Decoder(
            tgt_vocab, *sizes, cell, num_layers, attention, dropout, seed=rng, dtype=dtype
        )
        self.attention_weights: np.ndarray | None = None
        self._pending: tuple[int, ...] | None = None
        self._memory_shape: tuple[int, ...] = ()
        # as given: a registered name brings its defaults (``"irnn"``: ReLU), which config() keeps
        self._cell = cell

    # -- rebuilding ------------------------------------------------------------------------------

    def config(self) -> Config:
        """The constructor's arguments: ``{"class": "Seq2Seq", "src_vocab", "tgt_vocab",
        "embedding_dim", "hidden_size", "cell", "num_layers", "attention", "dropout", "dtype"}``;
        ``"cell"`` is the registered name it was given (``"lstm"``) or the cell's class name."""
        attention = self.decoder.attention
        return described(
            self,
            src_vocab=self.src_vocab,
            tgt_vocab=self.tgt_vocab,
            embedding_dim=self.encoder.embedding.embedding_dim,
            hidden_size=self.encoder.rnn.hidden_size,
            cell=self._cell if isinstance(self._cell, str) else self._cell.__name__,
            num_layers=self.encoder.rnn.num_layers,
            attention=None if attention is None else attention.score,
            dropout=self.encoder.dropout.p,
            dtype=dtype_name(self.encoder.embedding.weight.dtype),
        )

    @classmethod
    def from_config(
        cls, arguments: dict[str, Any], classes: Callable[[str], type[Module]]
    ) -> Module:
        """A registered cell name is passed as it is; any other ``cell`` is looked up in
        ``classes`` (built-in or registered module classes only)."""
        cell = arguments.get("cell", "lstm")
        if not isinstance(cell, str):
            raise TypeError(f"{cls.__name__}: cell must be a name, got {cell!r}")
        resolved = cell if cell in cell_names() else classes(cell)
        return cls(**{**arguments, "cell": resolved})

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        """The encoder's and decoder's parameters, each part's shapes asked of its class."""
        name = cls.__name__
        embedding_dim = check_size(arguments.get("embedding_dim"), name, "embedding_dim")
        hidden_size = check_size(arguments.get("hidden_size"), name, "hidden_size")
        cell = arguments.get("cell", "lstm")
        if not isinstance(cell, str):
            raise TypeError(f"{name}: cell must be a name, got {cell!r}")
        cell_class, defaults = resolve_cell(cell) if cell in cell_names() else (None, {})
        stack = {
            **defaults,
            "class": "RecurrentStack",
            "cell_class": cell if cell_class is None else cell_class.__name__,
            "input_size": embedding_dim,
            "hidden_size": hidden_size,
            "num_layers": arguments.get("num_layers", 1),
        }
        attention = arguments.get("attention", "dot")
        parts: dict[str, Any] = {}
        for side, vocab in (("encoder", "src_vocab"), ("decoder", "tgt_vocab")):
            size = check_size(arguments.get(vocab), name, vocab)
            parts[f"{side}.embedding"] = {
                "class": "Embedding",
                "num_embeddings": size,
                "embedding_dim": embedding_dim,
            }
            parts[f"{side}.rnn"] = stack
        if attention is not None:
            parts["decoder.attention"] = {
                "class": "Attention",
                "query_size": hidden_size,
                "key_size": hidden_size,
                "score": attention,
            }
        parts["decoder.output"] = {
            "class": "Dense",
            "in_features": hidden_size * (1 if attention is None else 2),
            "out_features": check_size(arguments.get("tgt_vocab"), name, "tgt_vocab"),
        }
        return {
            f"{prefix}.{key}": shape
            for prefix, part in parts.items()
            for key, shape in shapes_of(part).items()
        }

    def check_inputs(
        self, src: Any, tgt_in: Any, src_lengths: Any, owner: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Validate ``src``, ``tgt_in`` (None: not given) and ``src_lengths`` before any state
        changes; errors name ``owner`` and the argument."""
        src = check_ids(src, owner, "src", self.src_vocab)
        if tgt_in is not None:
            tgt_in = check_ids(tgt_in, owner, "tgt_in", self.tgt_vocab)
            if tgt_in.shape[0] != src.shape[0]:
                raise ValueError(
                    f"{owner}: src and tgt_in must have the same batch size (first dimension), "
                    f"got {src.shape[0]} and {tgt_in.shape[0]}"
                )
        lengths = None
        if src_lengths is not None:
            batch, steps = src.shape
            lengths = check_lengths(src_lengths, batch, steps, f"{owner}: src_lengths")
        return src, tgt_in, lengths

    def forward(self, src: Any, tgt_in: Any, src_lengths: Any = None) -> np.ndarray:
        """Logits of every target position under teacher forcing.

        Parameters
        ----------
        src : (B, Ts) ints in ``[0, src_vocab)``
        tgt_in : (B, Tt) ints in ``[0, tgt_vocab)``: the target shifted right behind ``start_id``
        src_lengths : (B,) ints in ``1..Ts``, optional
            Valid source steps of a padded batch: each sample's encoder state is taken at its own
            last valid step, and padded steps get no attention.

        Returns
        -------
        logits : (B, Tt, tgt_vocab)
        """
        src, tgt_in, lengths = self.check_inputs(src, tgt_in, src_lengths, type(self).__name__)
        memory = self.encoder.forward(src, lengths)
        logits = self.decoder.forward(tgt_in, self.encoder.state, memory, lengths)
        attention = self.decoder.attention
        self.attention_weights = None if attention is None else attention.weights
        self._pending = logits.shape if self.training else None
        self._memory_shape = memory.shape
        return logits

    def backward(self, grad_output: Any) -> None:
        """Back-propagate ``d loss / d logits`` ``(B, Tt, tgt_vocab)`` through the decoder, then
        the encoder (its outputs' gradient from the attention, its final state's from the
        decoder's initial state). Returns None: the inputs are integer ids."""
        name = type(self).__name__
        if self._pending is None:
            raise RuntimeError(
                f"{name}: backward called before forward (or after an eval-mode forward, or twice "
                "for one forward)"
            )
        dtype = self.decoder.output.weight.dtype
        grad = grad_input(grad_output, name, self._pending, dtype)
        self._pending = None
        grad_memory, grad_state = self.decoder.backward(grad)
        if grad_memory is None:  # no attention: the outputs reach the loss only through the state
            grad_memory = np.zeros(self._memory_shape, dtype)
        self.encoder.backward(grad_memory, grad_state)

    def generate(
        self,
        src: Any,
        max_length: int,
        start_id: int,
        end_id: int | None = None,
        beam_size: int = 1,
        src_lengths: Any = None,
    ) -> np.ndarray:
        """Decode ``src`` from ``start_id``, feeding back the model's own predictions.

        See :func:`minitorch_rnn.seq2seq.generate`; ``beam_size=1`` is greedy.
        """
        return generate(self, src, max_length, start_id, end_id, beam_size, src_lengths)

    def extra_repr(self) -> str:
        return f"src_vocab={self.src_vocab}, tgt_vocab={self.tgt_vocab}"
