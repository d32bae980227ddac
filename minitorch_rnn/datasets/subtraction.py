"""Binary subtraction as a sequence task: a four-time-step RNN with
shared weights learns to borrow, one bit pair per step.

Each sample is a pair ``a >= b`` of ``bits``-bit numbers read one bit per time step, least
significant bit first (the order in which borrows travel); the target at each step is the bit of
``a - b`` at that position. A network must carry the borrow from step to step, which is what the
recurrent state learns. For 4 bits there are 136 pairs, for 8 bits 32,896.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..dtype import as_float_dtype
from ..validation import is_int

__all__ = ["MAX_BITS", "bits_to_int", "format_example", "int_to_bits", "subtraction_dataset"]

# All pairs of b-bit numbers number 2^(2b-1) + 2^(b-1): past 10 bits (524,800 samples) the full
# dataset stops being a small in-memory array.
MAX_BITS = 10


# Bits of an int64 that hold a non-negative number.
_INT64_BITS = 62


def _check_bits(bits: Any, owner: str, limit: int) -> int:
    if not is_int(bits):
        raise TypeError(f"{owner}: bits must be an int, got {type(bits).__name__}")
    if not 1 <= bits <= limit:
        raise ValueError(f"{owner}: bits must be between 1 and {limit}, got {bits}")
    return int(bits)


def int_to_bits(values: Any, bits: int) -> np.ndarray:
    """The ``bits`` lowest bits of each non-negative integer, least significant first.

    Parameters
    ----------
    values : int or array_like of int
        Non-negative integers below ``2**bits``.
    bits : int
        Number of bits, 1 to 62.

    Returns
    -------
    np.ndarray
        int64 of shape ``values.shape + (bits,)``, entries 0 or 1.
    """
    bits = _check_bits(bits, "int_to_bits", _INT64_BITS)
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(f"int_to_bits: values must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= 2**bits):
        raise ValueError(
            f"int_to_bits: values must lie in 0..{2**bits - 1} for {bits} bits, got "
            f"{array.min()}..{array.max()}"
        )
    return (array.astype(np.int64)[..., None] >> np.arange(bits)) & 1


def bits_to_int(bits: Any) -> np.ndarray:
    """The integers whose bits, least significant first, lie along the last axis.

    Parameters
    ----------
    bits : array_like
        Shape ``(..., n)``, entries 0 or 1 (ints, bools, or floats equal to 0.0 or 1.0). For
        predicted probabilities, threshold first: ``bits_to_int(pred[..., 0] > 0.5)``.

    Returns
    -------
    np.ndarray
        int64 of shape ``(...)``.

    Examples
    --------
    >>> int(bits_to_int([1, 1, 1, 0]))
    7
    """
    array = np.asarray(bits)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"bits_to_int: bits must be numeric, got dtype {array.dtype}")
    if array.ndim < 1 or array.shape[-1] == 0:
        raise ValueError(f"bits_to_int: bits need a last axis of bits, got shape {array.shape}")
    if array.shape[-1] > _INT64_BITS:
        raise ValueError(
            f"bits_to_int: at most {_INT64_BITS} bits fit an int64, got {array.shape[-1]}"
        )
    if not np.isin(array, (0, 1)).all():
        raise ValueError("bits_to_int: bits must be 0 or 1 (threshold probabilities first)")
    weights = np.left_shift(np.int64(1), np.arange(array.shape[-1], dtype=np.int64))
    return (array.astype(np.int64) * weights).sum(axis=-1)


def subtraction_dataset(
    bits: int = 4, dtype: DTypeLike | None = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``a >= b`` of ``bits``-bit numbers, as sequences of bit pairs.

    Parameters
    ----------
    bits : int
        Bits per number, 1 to :data:`MAX_BITS`.
    dtype : float32 or float64, optional
        Of ``x`` and ``y`` (float32 by default; None: the framework's default dtype).

    Returns
    -------
    x : np.ndarray
        ``(N, bits, 2)``: at step ``t`` the features (bit ``t`` of ``a``, bit ``t`` of ``b``).
    y : np.ndarray
        ``(N, bits, 1)``: at step ``t`` bit ``t`` of ``a - b``.
    a, b : np.ndarray
        ``(N,)`` int64, the minuends and subtrahends, ordered by ``a`` then ``b``.

    with ``N = 2**bits * (2**bits + 1) / 2`` (136 for 4 bits) and bit ``t`` the ``t``-th least
    significant.

    Raises
    ------
    ValueError
        If ``bits`` is not between 1 and :data:`MAX_BITS`.
    """
    bits = _check_bits(bits, "subtraction_dataset", MAX_BITS)
    resolved = as_float_dtype(dtype)
    # Lower-triangle indices of a (2^bits)^2 grid: row a, column b, b <= a.
    a, b = np.tril_indices(2**bits)
    a, b = a.astype(np.int64), b.astype(np.int64)
    x = np.stack([int_to_bits(a, bits), int_to_bits(b, bits)], axis=-1).astype(resolved)
    y = int_to_bits(a - b, bits)[..., None].astype(resolved)
    return x, y, a, b


def format_example(a: int, b: int, pred_bits: Any) -> str:
    """A worked example in the per-sample, column-vector layout of the classic tutorials.

    The bits are shown most significant first, as a number is written::

          x1: [1, 1, 0, 1]
        - x2: [0, 1, 1, 0]
        ------------------
        true: [0, 1, 1, 1]
        pred: [0, 1, 1, 1]
        13 - 6 = 7

    Parameters
    ----------
    a, b : int
        Minuend and subtrahend, ``0 <= b <= a``.
    pred_bits : array_like
        The predicted bits of ``a - b``, least significant first (the model's step order), of
        shape ``(bits,)`` or ``(bits, 1)``; probabilities are read as 1 when ``> 0.5``.

    Returns
    -------
    str
        Six lines. The last shows the predicted difference, followed by the true one when they
        differ (``13 - 6 = 5 (true: 7)``).
    """
    predicted = np.asarray(pred_bits)
    if predicted.dtype.kind not in "biuf":
        raise TypeError(f"format_example: pred_bits must be numeric, got dtype {predicted.dtype}")
    if predicted.ndim == 2 and predicted.shape[1] == 1:
        predicted = predicted[:, 0]
    if predicted.ndim != 1 or predicted.size == 0:
        raise ValueError(
            f"format_example: pred_bits must have shape (bits,) or (bits, 1), got {predicted.shape}"
        )
    bits = predicted.size
    if not (0 <= int(b) <= int(a) < 2**bits):
        raise ValueError(
            f"format_example: need 0 <= b <= a < {2**bits} for {bits} bits, got a={a}, b={b}"
        )
    predicted_bits = (predicted > 0.5).astype(np.int64)
    value = int(bits_to_int(predicted_bits))

    def written(row: np.ndarray) -> str:
        return "[" + ", ".join(str(int(bit)) for bit in row[::-1]) + "]"

    result = f"{a} - {b} = {value}" + ("" if value == a - b else f" (true: {a - b})")
    return "\n".join(
        [
            f"  x1: {written(int_to_bits(int(a), bits))}",
            f"- x2: {written(int_to_bits(int(b), bits))}",
            "-" * 18,
            f"true: {written(int_to_bits(int(a) - int(b), bits))}",
            f"pred: {written(predicted_bits)}",
            result,
        ]
    )
