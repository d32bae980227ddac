"""Feeding data to a model: padding, mini-batches, and streams for truncated BPTT.

A *batch* is a tuple ``(x, y)`` or ``(x, y, lengths)``; ``lengths`` (``(B,)`` ints, or None) are the
valid steps of each sample of a padded batch. Anything iterable that yields batches, and that can
be iterated again for every epoch (a list of batches, :func:`batches` output wrapped in a list, a
:class:`StreamLoader`, a user class), can be given to :meth:`Trainer.fit`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..dtype import FLOAT_DTYPES, get_default_dtype
from ..validation import int_input, is_int

__all__ = [
    "StreamLoader",
    "batches",
    "check_lengths",
    "num_batches",
    "pad_sequences",
    "time_mask",
    "unpack_batch",
]

Batch = tuple[Any, Any, "np.ndarray | None"]


def pad_sequences(
    sequences: Sequence[Any],
    value: float = 0,
    dtype: DTypeLike | None = None,
    max_length: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack variable-length sequences into one padded batch and return their lengths.

    Parameters
    ----------
    sequences : sequence of array_like
        Each of shape ``(T_i, ...)``: a list of token ids, or of feature rows. All must share the
        trailing shape ``...`` and have at least one step.
    value : scalar
        Fill value of the padded positions (past each sequence's length).
    dtype : dtype, optional
        Of the result. Default: integer input keeps its integer dtype; float input keeps its dtype
        when every sequence is a float32/float64 array, else (Python lists of floats) the default
        float dtype.
    max_length : int, optional
        Pad (or cut) every sequence to this many steps; longer sequences keep their first
        ``max_length`` steps. Default: the longest sequence's length.

    Returns
    -------
    padded : np.ndarray
        ``(N, T, ...)`` with ``T = max_length`` or the longest length.
    lengths : np.ndarray
        ``(N,)`` int64, each sequence's valid steps (``min(T_i, T)``).

    Examples
    --------
    >>> padded, lengths = pad_sequences([[3, 1, 4], [1, 5]])
    >>> padded.tolist(), lengths.tolist()
    ([[3, 1, 4], [1, 5, 0]], [3, 2])
    """
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        sequences = list(sequences)
    if not isinstance(sequences, Sequence) or isinstance(sequences, (str, bytes)):
        raise TypeError(
            f"pad_sequences: expected a list of sequences, got {type(sequences).__name__}"
        )
    if len(sequences) == 0:
        raise ValueError("pad_sequences: expected at least one sequence, got none")
    if max_length is not None and (not is_int(max_length) or max_length < 1):
        raise ValueError(f"pad_sequences: max_length must be a positive int, got {max_length!r}")
    arrays = [np.asarray(sequence) for sequence in sequences]
    trailing = arrays[0].shape[1:]
    for index, array in enumerate(arrays):
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"pad_sequences: sequence {index} must hold numbers, got dtype {array.dtype}"
            )
        if array.ndim < 1 or array.shape[0] == 0:
            raise ValueError(
                f"pad_sequences: sequence {index} must have at least one step, got shape "
                f"{array.shape}"
            )
        if array.shape[1:] != trailing:
            raise ValueError(
                f"pad_sequences: every sequence must have steps of shape {trailing} (as sequence "
                f"0), sequence {index} has {array.shape[1:]}"
            )
    resolved = np.dtype(dtype) if dtype is not None else _common_dtype(sequences, arrays)
    steps = max(a.shape[0] for a in arrays) if max_length is None else int(max_length)
    lengths = np.array([min(a.shape[0], steps) for a in arrays], dtype=np.int64)
    padded = np.full((len(arrays), steps, *trailing), value, dtype=resolved)
    for row, (array, length) in enumerate(zip(arrays, lengths, strict=True)):
        padded[row, :length] = array[:length]
    return padded, lengths


def _common_dtype(sequences: Sequence[Any], arrays: list[np.ndarray]) -> np.dtype:
    common = np.result_type(*arrays)
    if common.kind != "f":
        return common
    all_float_arrays = all(isinstance(s, np.ndarray) and s.dtype in FLOAT_DTYPES for s in sequences)
    # Python floats become float64 arrays; they must not silently make a float32 model's data
    # float64, so they get the framework's default dtype.
    return common if all_float_arrays else get_default_dtype()


def num_batches(num_samples: int, batch_size: int) -> int:
    """How many batches of at most ``batch_size`` cover ``num_samples`` (the last may be short)."""
    return math.ceil(num_samples / batch_size)


def batches(
    *arrays: Any,
    batch_size: int = 32,
    shuffle: bool = False,
    rng: init.Seed = None,
) -> Iterator[tuple[Any, ...]]:
    """Slice aligned arrays into mini-batches along their first axis.

    Parameters
    ----------
    *arrays : array_like, tuple of array_like, or None
        All with the same first-axis length ``N``, e.g. ``x, y, lengths``. ``None`` entries are
        passed through as ``None`` in every batch (so ``batches(x, y, None)`` yields
        ``(x_b, y_b, None)``); a tuple of arrays (a model's several inputs) is sliced part by
        part and stays a tuple (``batches((src, tgt_in), y)`` yields ``((src_b, tgt_in_b), y_b)``).
    batch_size : int
        Samples per batch; the last batch holds the remainder.
    shuffle : bool
        Visit the samples in a random order, drawn once when iteration starts.
    rng : int or numpy.random.Generator, optional
        Source of the order when ``shuffle``; a Generator is advanced, so successive calls with the
        same Generator give different orders (one per epoch) and the same seed gives the same
        sequence of orders.

    Returns
    -------
    iterator of tuple
        One tuple per batch, an entry per array.

    Raises
    ------
    ValueError
        If no array is given, the lengths of the arrays differ, they are empty, or ``batch_size``
        is not a positive int; raised by this call, not at the first ``next``.
    """
    converted = [as_inputs(a) for a in arrays]
    present = [part for a in converted if a is not None for part in _parts(a)]
    if not present:
        raise ValueError("batches: expected at least one array")
    if not is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    sizes = {a.shape[0] if a.ndim else 0 for a in present}
    if len(sizes) != 1:
        raise ValueError(f"batches: all arrays must have the same length, got lengths {sizes}")
    count = sizes.pop()
    if count == 0:
        raise ValueError("batches: the arrays are empty")
    order = init.as_generator(rng).permutation(count) if shuffle else None
    return _slices(converted, count, int(batch_size), order)


def _slices(
    arrays: list[Any], count: int, batch_size: int, order: np.ndarray | None
) -> Iterator[tuple[Any, ...]]:
    for start in range(0, count, batch_size):
        index: Any = slice(start, start + batch_size)
        if order is not None:
            index = order[index]
        yield tuple(take(a, index) for a in arrays)


Inputs = np.ndarray | tuple[np.ndarray, ...]


def as_inputs(x: Any) -> Any:
    """``x`` as arrays: a tuple of array_like (a model's several inputs) becomes a tuple of
    arrays, None stays None, anything else becomes one array."""
    if x is None:
        return None
    if isinstance(x, tuple):
        return tuple(np.asarray(part) for part in x)
    return np.asarray(x)


def _parts(x: Inputs) -> tuple[np.ndarray, ...]:
    return x if isinstance(x, tuple) else (x,)


def take(x: Any, index: Any) -> Any:
    """``x[index]`` of an array, of every part of a tuple of inputs; None stays None."""
    if x is None:
        return None
    if isinstance(x, tuple):
        return tuple(part[index] for part in x)
    return x[index]


def unpack_batch(item: Any, position: int) -> Batch:
    """Return a loader's batch as ``(x, y, lengths)``; ``lengths`` may be None.

    Parameters
    ----------
    item : tuple or list
        ``(x, y)`` or ``(x, y, lengths)``; ``x`` may be a tuple of arrays (several inputs).
    position : int
        The batch's index in its epoch, for the error message.
    """
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        described = (
            f"a {type(item).__name__} of length {len(item)}"
            if isinstance(item, (tuple, list))
            else type(item).__name__
        )
        raise TypeError(
            f"Trainer: batch {position} must be a tuple (x, y) or (x, y, lengths), got {described}"
        )
    x, y = as_inputs(item[0]), np.asarray(item[1])
    lengths = None if len(item) == 2 or item[2] is None else np.asarray(item[2])
    return x, y, lengths


def check_lengths(lengths: Any, batch: int, steps: int, owner: str) -> np.ndarray:
    """Validate the valid lengths of a padded batch: ``(batch,)`` ints in ``1..steps``.

    Returns
    -------
    np.ndarray
        ``lengths`` as int64.
    """
    array = int_input(lengths, owner, name="lengths")
    if array.shape != (batch,):
        raise ValueError(
            f"{owner}: lengths must have shape ({batch},) for {batch} samples, got {array.shape}"
        )
    if batch and (array.min() < 1 or array.max() > steps):
        raise ValueError(
            f"{owner}: lengths must lie in 1..{steps} (the number of steps), got values in "
            f"{array.min()}..{array.max()}"
        )
    return array


def time_mask(lengths: np.ndarray, steps: int) -> np.ndarray:
    """``mask[b, t] = t < lengths[b]``: True at the valid steps of each sample, ``(B, steps)``."""
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


class StreamLoader:
    """Consecutive chunks of one long id sequence, for truncated BPTT with a stateful model.

    The sequence is cut into ``batch_size`` parallel streams: with ``inputs = ids[:-1]``,
    ``targets = ids[1:]`` and ``L = (len(ids) - 1) // batch_size``, stream ``b`` is the contiguous
    slice ``[b L, (b + 1) L)`` of both. Chunk ``k`` holds the steps ``[k S, (k + 1) S)`` of every
    stream (``S = seq_len``), so row ``b`` of chunk ``k + 1`` continues row ``b`` of chunk ``k``
    and a stateful :class:`~minitorch_rnn.recurrent.Unroll` can carry its state across chunks.
    The target of each input id is the next id of the sequence. Steps that do not fill a whole
    chunk at the end of the streams are dropped.

    Parameters
    ----------
    ids : array_like of int
        The whole sequence, 1-D (e.g. a text encoded as character ids).
    batch_size : int
        Number of parallel streams ``B``.
    seq_len : int
        Steps per chunk ``S`` (the truncation length of BPTT).

    Shapes
    ------
    Each iteration yields ``len(self)`` pairs ``(x, y)``, both ``(B, S)`` int64. Iteration is
    deterministic and can be repeated (once per epoch); the order of the chunks is what carries
    the state, so a :class:`Trainer` never shuffles a loader.

    Examples
    --------
    >>> loader = StreamLoader(range(10), batch_size=2, seq_len=2)
    >>> [(x.tolist(), y.tolist()) for x, y in loader]
    [([[0, 1], [4, 5]], [[1, 2], [5, 6]]), ([[2, 3], [6, 7]], [[3, 4], [7, 8]])]
    """

    def __init__(self, ids: Any, batch_size: int, seq_len: int) -> None:
        array = int_input(ids, "StreamLoader", name="ids")
        if array.ndim != 1:
            raise ValueError(f"StreamLoader: ids must be 1-D, got shape {array.shape}")
        for name, size in (("batch_size", batch_size), ("seq_len", seq_len)):
            if not is_int(size) or size < 1:
                raise ValueError(f"StreamLoader: {name} must be a positive int, got {size!r}")
        stream_length = (array.size - 1) // batch_size
        if stream_length < seq_len:
            raise ValueError(
                f"StreamLoader: {array.size} ids are too few for {batch_size} streams of at least "
                f"one chunk of {seq_len} steps (need at least {batch_size * seq_len + 1})"
            )
        self.batch_size = int(batch_size)
        self.seq_len = int(seq_len)
        used = self.batch_size * stream_length
        self._inputs = array[:used].reshape(self.batch_size, stream_length)
        self._targets = array[1 : used + 1].reshape(self.batch_size, stream_length)

    def __len__(self) -> int:
        return self._inputs.shape[1] // self.seq_len

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for chunk in range(len(self)):
            steps = slice(chunk * self.seq_len, (chunk + 1) * self.seq_len)
            # Copies, so that a consumer writing into a batch cannot change later epochs.
            yield self._inputs[:, steps].copy(), self._targets[:, steps].copy()

    def __repr__(self) -> str:
        return (
            f"StreamLoader(batch_size={self.batch_size}, seq_len={self.seq_len}, "
            f"chunks={len(self)})"
        )
