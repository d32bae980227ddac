"""Sampling from recurrent language models, one token at a time.

The model maps token ids ``(B, T)`` to logits ``(B, T, V)`` — e.g.
``Sequential(Embedding(V, D), Unroll(LSTMCell(D, H)), Dense(H, V))``. Sampling runs it in eval mode
with every :class:`~minitorch_rnn.Unroll` temporarily stateful, so each new token costs one step,
not a rerun of the whole prefix; the model's modes and carried states are restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from . import functional as F
from . import init
from .module import Module
from .recurrent.unroll import Unroll
from .validation import check_real, check_size, is_int

__all__ = ["sample"]


@contextmanager
def _stepping(model: Module) -> Iterator[None]:
    """Eval mode with fresh, carried state in every Unroll; everything restored on exit."""
    unrolls = [m for m in model.modules() if isinstance(m, Unroll)]
    if not unrolls:
        raise ValueError("sample: the model has no Unroll (recurrent) layer to step through")
    if any(u.reverse for u in unrolls):
        raise ValueError(
            "sample: a model that reads sequences backwards cannot generate left to right"
        )
    # a stack's or Bidirectional's published state is read from its Unrolls, so restoring the
    # Unrolls restores theirs too
    saved = [(u.stateful, u.state) for u in unrolls]
    was_training = model.training
    model.eval()
    for unroll in unrolls:
        unroll.stateful, unroll.state = True, None
    try:
        yield
    finally:
        for unroll, (stateful, state) in zip(unrolls, saved, strict=True):
            unroll.stateful, unroll.state = stateful, state
        model.train(was_training)


def _last_logits(logits: object) -> np.ndarray:
    """The logits of the last step of the one sample, checking the model returned ``(1, T, V)``."""
    array = np.asarray(logits)
    if array.ndim != 3 or array.shape[0] != 1 or array.shape[-1] < 1:
        raise ValueError(
            "sample: the model must return logits of shape (B, T, V) for ids of shape (B, T), "
            f"got shape {array.shape} (use return_sequences=True in its recurrent layers)"
        )
    return array[0, -1]


def next_token_distribution(
    logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None
) -> np.ndarray:
    """Probabilities of the next token from a ``(V,)`` logit vector.

    ``temperature`` < 1 sharpens, > 1 flattens; ``top_k`` keeps only the k most likely tokens.
    """
    # shift before dividing: the largest logit becomes 0, so a tiny temperature sends the others
    # to -inf (greedy choice) instead of making inf - inf = NaN
    logits = logits.astype(np.float64)
    with np.errstate(over="ignore"):  # an overflow to -inf is the intended limit
        scaled = (logits - logits.max()) / temperature
    if top_k is not None and top_k < scaled.size:
        threshold = np.partition(scaled, -top_k)[-top_k]
        scaled = np.where(scaled >= threshold, scaled, -np.inf)
    return F.softmax(scaled)


def sample(
    model: Module,
    start_ids: Sequence[int] | np.ndarray,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: init.Seed = None,
    stop_id: int | None = None,
) -> np.ndarray:
    """Generate up to ``length`` token ids that continue ``start_ids``.

    Parameters
    ----------
    model : Module
        Maps ids ``(B, T)`` to logits ``(B, T, V)`` through at least one :class:`Unroll`.
    start_ids : sequence of int
        The prompt (at least one id), e.g. the newline id that starts every dinosaur name.
    length : int
        Maximum number of generated ids.
    temperature : float
        Divides the logits before the softmax; must be > 0.
    top_k : int, optional
        Sample only among the ``top_k`` most likely ids.
    rng : int or numpy.random.Generator, optional
        Random state; the same seed gives the same sample.
    stop_id : int, optional
        Stop when this id is drawn (it is not included in the result).

    Returns
    -------
    np.ndarray of int64, shape ``(n,)`` with ``n <= length``: the generated ids only.
    """
    prompt = np.asarray(start_ids)
    if prompt.ndim != 1 or prompt.size == 0 or prompt.dtype.kind not in "iu":
        raise ValueError(
            f"sample: start_ids must be a non-empty 1-D sequence of ints, got {prompt!r}"
        )
    length = check_size(length, "sample", "length", minimum=0)
    temperature = check_real(temperature, "sample", "temperature")
    if temperature <= 0:
        raise ValueError(f"sample: temperature must be > 0, got {temperature}")
    if top_k is not None:
        top_k = check_size(top_k, "sample", "top_k")
    if stop_id is not None and not is_int(stop_id):
        raise TypeError(f"sample: stop_id must be an int or None, got {stop_id!r}")
    generator = init.as_generator(rng)
    generated: list[int] = []
    with _stepping(model):
        logits = model.forward(prompt[None, :].astype(np.int64))
        for _ in range(length):
            probabilities = next_token_distribution(_last_logits(logits), temperature, top_k)
            token = int(generator.choice(probabilities.size, p=probabilities))
            if token == stop_id:
                break
            generated.append(token)
            logits = model.forward(np.array([[token]], dtype=np.int64))
    return np.array(generated, dtype=np.int64)
