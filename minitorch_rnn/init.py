"""Initialisers: functions that return a new array of a given shape.

Every function takes ``seed`` (an int, a ``numpy.random.Generator``, or None for fresh entropy) and
``dtype`` (default: :func:`minitorch_rnn.get_default_dtype`). Assign the result to a parameter::

    cell.weight_hh.data = mt.init.orthogonal(cell.weight_hh.shape, seed=0)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from .dtype import as_float_dtype
from .validation import is_int

__all__ = ["as_generator", "normal", "orthogonal", "uniform", "xavier_uniform", "zeros"]

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """Return ``seed`` itself if it is a Generator, else a new Generator seeded with it."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not is_int(seed):
        raise TypeError(
            f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}"
        )
    return np.random.default_rng(seed)


def zeros(shape: tuple[int, ...], dtype: DTypeLike | None = None) -> np.ndarray:
    """All zeros (the usual bias initialisation)."""
    return np.zeros(shape, dtype=as_float_dtype(dtype))


def normal(
    shape: tuple[int, ...], scale: float = 0.01, seed: Seed = None, dtype: DTypeLike | None = None
) -> np.ndarray:
    """Gaussian with mean 0 and standard deviation ``scale``.

    The default reproduces the source documents' ``np.random.randn(...) * 0.01``.
    """
    sample = as_generator(seed).standard_normal(shape) * scale
    return sample.astype(as_float_dtype(dtype))


def uniform(
    shape: tuple[int, ...],
    low: float,
    high: float,
    seed: Seed = None,
    dtype: DTypeLike | None = None,
) -> np.ndarray:
    """Uniform on ``[low, high)``; PyTorch's default for Dense and recurrent weights is
    ``uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    return as_generator(seed).uniform(low, high, size=shape).astype(as_float_dtype(dtype))


def xavier_uniform(
    shape: tuple[int, ...], gain: float = 1.0, seed: Seed = None, dtype: DTypeLike | None = None
) -> np.ndarray:
    """Glorot/Xavier uniform: bound ``gain * sqrt(6 / (fan_in + fan_out))`` for an
    ``(fan_out, fan_in)`` weight (PyTorch's layout)."""
    if len(shape) < 2:
        raise ValueError(f"xavier_uniform needs at least 2 dimensions, got shape {shape}")
    fan_out, fan_in = shape[0], int(np.prod(shape[1:]))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, seed, dtype)


def orthogonal(
    shape: tuple[int, ...], gain: float = 1.0, seed: Seed = None, dtype: DTypeLike | None = None
) -> np.ndarray:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al.).

    Rows are orthonormal when ``rows <= cols``, columns otherwise; scaled by ``gain``.
    """
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs at least 2 dimensions, got shape {shape}")
    rows, cols = shape[0], int(np.prod(shape[1:]))
    gaussian = as_generator(seed).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(gaussian)
    q *= np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).astype(as_float_dtype(dtype))
