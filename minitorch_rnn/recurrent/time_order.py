"""The time-major layout of a sequence batch and its reading order, shared by Unroll's passes.

``Unroll`` keeps every per-step array time-major ``(T, B, ...)`` and in *processing order*: the
order in which the cell meets the steps. Reading forwards that is the sequence order; reading
backwards it is each sample's own reverse (from its last valid step down to 0, padded positions
kept in place), so ``reverse=True`` output ``t`` stays aligned with input position ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cell import Cache, State

__all__ = [
    "Trace",
    "norms_by_position",
    "processing_order",
    "squared_norms",
    "time_major_slice",
    "to_batch_major",
    "to_time_major",
]


@dataclass
class Trace:
    """What one training-mode forward keeps for its backward (time-major)."""

    x: np.ndarray  # (T, B, I), in processing order
    states: State  # each (T + 1, B, H); states[k][0] is the initial state
    cache: Cache  # each (T, B, width)
    valid: np.ndarray | None  # (T, B) bool, None when every step of every sample is valid
    order: np.ndarray | None  # (B, T) processing position -> sequence position, None if identity
    flip: bool  # reverse without lengths: a plain flip of the time axis


def squared_norms(grad_h: np.ndarray) -> np.ndarray:
    """Per sample, in float64: the sum over hidden units of ``grad_h ** 2`` ``(B,)``."""
    return np.einsum("bh,bh->b", grad_h, grad_h, dtype=np.float64)


def norms_by_position(norms_squared: np.ndarray, trace: Trace) -> np.ndarray:
    """Per-sample squared norms ``(T, B)`` in processing order -> L2 norms ``(T,)`` by input
    position (each sample's reverse reading has its own order)."""
    if trace.order is not None:
        # the processing order is its own inverse: position t of sample b ran at step order[b, t]
        norms_squared = np.take_along_axis(norms_squared, trace.order.T, axis=0)
    elif trace.flip:
        norms_squared = norms_squared[::-1]
    return np.sqrt(norms_squared.sum(axis=1))


def processing_order(
    lengths: np.ndarray | None, steps: int, start: int = 0, stop: int | None = None
) -> np.ndarray | None:
    """For reverse reading: ``order[b, p]`` is the sequence position processed at step ``p``.

    Each sample is read from its own last valid step down to 0; padded positions keep their
    place. The map is its own inverse. ``None`` means a plain flip (no lengths). ``start`` and
    ``stop`` select the processing steps ``start .. stop - 1`` (columns of the whole map).
    """
    if lengths is None or lengths.min() == steps:
        return None
    positions = np.arange(start, steps if stop is None else stop)[None, :]
    return np.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)


def to_time_major(
    array: np.ndarray, order: np.ndarray | None, flip: bool, contiguous: bool = True
) -> np.ndarray:
    """(B, T, F) batch-major in sequence order -> (T, B, F) time-major in processing order.

    ``contiguous=False`` may return a strided view instead of a copy (for read-only use).
    """
    if order is not None:
        array = np.take_along_axis(array, order[..., None], axis=1)
    elif flip:
        array = array[:, ::-1]
    array = array.transpose(1, 0, 2)
    return np.ascontiguousarray(array) if contiguous else array


def time_major_slice(
    array: np.ndarray, lengths: np.ndarray | None, reverse: bool, start: int, stop: int
) -> np.ndarray:
    """Processing steps ``start .. stop - 1`` of a (B, T, F) batch-major array in sequence order,
    as a contiguous (stop - start, B, F) time-major array: a chunk of :func:`to_time_major` that
    copies, and computes the reading order of, only its own steps."""
    steps = array.shape[1]
    order = processing_order(lengths, steps, start, stop) if reverse else None
    if order is not None:
        part = np.take_along_axis(array, order[..., None], axis=1)
    elif reverse:
        part = array[:, steps - stop : steps - start][:, ::-1]
    else:
        part = array[:, start:stop]
    return np.ascontiguousarray(part.transpose(1, 0, 2))


def to_batch_major(
    array: np.ndarray, order: np.ndarray | None, flip: bool, contiguous: bool = True
) -> np.ndarray:
    """(T, B, F) time-major in processing order -> (B, T, F) batch-major in sequence order.

    ``contiguous=False`` may return a strided view instead of a copy.
    """
    array = array.transpose(1, 0, 2)
    if order is not None:
        return np.take_along_axis(array, order[..., None], axis=1)
    if flip:
        array = array[:, ::-1]
    return np.ascontiguousarray(array) if contiguous else array
