r"""Decoding a :class:`~minitorch_rnn.Seq2Seq` model: greedy and beam search.

The encoder runs once; the decoder then runs one token at a time, its state carried from one
call to the next (the prefix is never re-run). Beam search keeps, per sample, the ``k`` partial
outputs with the highest summed log-probability :math:`\sum_t \log p(y_t \mid y_{<t}, x)`; a
hypothesis that produced ``end_id`` is finished and keeps its score. ``k = 1`` is greedy search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..module import StateSnapshot
from ..validation import check_size, is_int

if TYPE_CHECKING:
    from .model import Seq2Seq

__all__ = ["generate", "log_softmax"]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log softmax`` over the last axis, in float64, stable for large logits."""
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_token(value: Any, owner: str, name: str, vocab_size: int) -> int:
    if not is_int(value):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    if not 0 <= value < vocab_size:
        raise ValueError(
            f"{owner}: {name} must lie in [0, {vocab_size - 1}] (the target vocabulary), "
            f"got {value}"
        )
    return int(value)


def _select(state: Any, rows: np.ndarray) -> Any:
    """The decoder state (PyTorch layout, batch on axis 1) of the hypotheses ``rows``."""
    if isinstance(state, tuple):
        return tuple(part[:, rows] for part in state)
    return state[:, rows]


def generate(
    model: Seq2Seq,
    src: Any,
    max_length: int,
    start_id: int,
    end_id: int | None = None,
    beam_size: int = 1,
    src_lengths: Any = None,
) -> np.ndarray:
    """Decode every sample of ``src`` with greedy (``beam_size=1``) or beam search.

    Parameters
    ----------
    model : Seq2Seq
    src : (B, Ts) ints in ``[0, src_vocab)``
    max_length : int
        At most this many ids are generated per sample.
    start_id : int
        The first decoder input (not part of the output).
    end_id : int, optional
        The id that ends a hypothesis; without it every output has ``max_length`` ids.
    beam_size : int
        ``k``: hypotheses kept per sample.
    src_lengths : (B,) ints in ``1..Ts``, optional

    Returns
    -------
    ids : (B, L) int64
        The best hypothesis of each sample by summed log-probability; ``L == max_length`` unless
        every sample produced ``end_id`` earlier, positions after a sample's ``end_id`` hold
        ``end_id``.

    Notes
    -----
    Runs in eval mode and changes nothing in the model: its modes, carried states, caches and
    attention weights are restored afterwards, so the backward of a pending training forward
    still works. Beam search is a heuristic: it usually finds a more probable output than greedy
    search, but it is not an exhaustive search.
    """
    owner = "Seq2Seq.generate"
    src, _, lengths = model.check_inputs(src, None, src_lengths, owner)
    max_length = check_size(max_length, owner, "max_length")
    beam_size = check_size(beam_size, owner, "beam_size")
    start_id = _check_token(start_id, owner, "start_id", model.tgt_vocab)
    if end_id is not None:
        end_id = _check_token(end_id, owner, "end_id", model.tgt_vocab)
    snapshot = StateSnapshot(model)
    model.eval()
    try:
        return _beam_search(model, src, lengths, max_length, start_id, end_id, beam_size)
    finally:
        snapshot.restore()


def _beam_search(
    model: Seq2Seq,
    src: np.ndarray,
    lengths: np.ndarray | None,
    max_length: int,
    start_id: int,
    end_id: int | None,
    k: int,
) -> np.ndarray:
    batch = src.shape[0]
    memory = model.encoder.forward(src, lengths)
    # every sample's k hypotheses are consecutive rows: row b * k + j is hypothesis j of sample b
    rows = np.repeat(np.arange(batch), k)
    memory = memory[rows]
    lengths = None if lengths is None else lengths[rows]
    state = _select(model.encoder.state, rows)
    # at first only hypothesis 0 is alive, so the first step's k best are k distinct tokens
    scores = np.full((batch, k), -np.inf)
    scores[:, 0] = 0.0
    finished = np.zeros((batch, k), dtype=bool)
    tokens = np.full((batch, k, 0), start_id, dtype=np.int64)
    last = np.full((batch * k, 1), start_id, dtype=np.int64)
    vocab = model.tgt_vocab
    for _ in range(max_length):
        logits = model.decoder.forward(last, state, memory, lengths)[:, 0]
        log_probs = log_softmax(logits).reshape(batch, k, vocab)
        if end_id is not None:
            # a finished hypothesis can only repeat end_id, at no cost
            log_probs[finished] = -np.inf
            log_probs[finished, end_id] = 0.0
        candidates = (scores[:, :, None] + log_probs).reshape(batch, k * vocab)
        # stable sort: among equal scores the lowest (hypothesis, token) wins, as argmax does
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :k]
        parent, token = np.divmod(best, vocab)
        scores = np.take_along_axis(candidates, best, axis=1)
        tokens = np.concatenate(
            [np.take_along_axis(tokens, parent[:, :, None], axis=1), token[:, :, None]], axis=2
        )
        finished = np.take_along_axis(finished, parent, axis=1)
        if end_id is not None:
            finished |= token == end_id
        parent_rows = (np.arange(batch)[:, None] * k + parent).reshape(-1)
        state = _select(model.decoder.state, parent_rows)
        last = token.reshape(-1, 1)
        if finished[:, 0].all():
            # the best hypothesis of every sample is finished and no other can overtake it
            break
    return tokens[:, 0].copy()
