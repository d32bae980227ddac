"""Initialisers: functions that return a new array of a given shape.

Every function takes ``seed`` (an int, a ``numpy.random.Generator``, or None for fresh entropy) and
``dtype`` (default: :func:`minitorch_rnn.get_default_dtype`). Assign the result to a parameter::

    cell.weight_hh.data = mt.init.orthogonal(cell.weight_hh.shape, seed=0)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike

from .dtype import as_float_dtype
from .validation import is_int

__all__ = [
    "ParameterInit",
    "as_generator",
    "normal",
    "orthogonal",
    "recurrent_scheme",
    "uniform",
    "xavier_uniform",
    "zeros",
]

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

    The default reproduces the classic course exercises' ``np.random.randn(...) * 0.01``.
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


# -- schemes of the recurrent cells ------------------------------------------------------------

ParameterInit = Callable[[str, tuple[int, ...], np.random.Generator, np.dtype], np.ndarray]
"""``(name, shape, rng, dtype) -> array``: how a cell initialises each of its parameters."""

RECURRENT_SCHEMES = ("pytorch", "normal", "orthogonal", "identity")


def _is_bias(name: str) -> bool:
    return name.startswith("bias")


def _gate_blocks(
    name: str, shape: tuple[int, ...], block: Callable[[int], np.ndarray]
) -> np.ndarray:
    """``weight_hh`` ``(G*H, H)`` as ``G`` square blocks, one per gate, each made by ``block(H)``."""
    rows, hidden = shape
    if rows % hidden:
        raise ValueError(
            f"init: {name} of shape {shape} is not a stack of square (H, H) gate blocks"
        )
    return np.concatenate([block(hidden) for _ in range(rows // hidden)], axis=0)


def recurrent_scheme(
    init: str | ParameterInit, hidden_size: int, owner: str = "init"
) -> ParameterInit:
    """The per-parameter initialiser of a recurrent cell for ``init`` (a scheme name or a callable).

    Parameters
    ----------
    init : {"pytorch", "normal", "orthogonal", "identity"} or callable
        ``"pytorch"``: every parameter uniform in :math:`\\pm 1/\\sqrt{H}` (PyTorch's default).
        ``"normal"``: biases zero, every other parameter :math:`N(0, 0.01^2)` (the dinosaur
        tutorial's ``randn * 0.01``).
        ``"orthogonal"``: biases zero, each ``(H, H)`` gate block of ``weight_hh`` orthogonal,
        other matrices Xavier-uniform, other vectors zero.
        ``"identity"`` (IRNN, Le, Jaitly & Hinton 2015): biases zero, each gate block of
        ``weight_hh`` the identity, every other parameter :math:`N(0, 0.001^2)`.
        A callable ``(name, shape, rng, dtype) -> array`` is returned unchanged.
        Biases are the parameters whose name starts with ``bias``.
    hidden_size : int
        ``H``, which sets PyTorch's bound.
    owner : str
        Who asks (a cell's name), for the error message.

    Returns
    -------
    callable ``(name, shape, rng, dtype) -> array``.
    """
    if callable(init):
        return init
    if init not in RECURRENT_SCHEMES:
        raise ValueError(
            f"{owner}: init must be one of {', '.join(map(repr, RECURRENT_SCHEMES))} or a callable "
            f"(name, shape, rng, dtype) -> array, got {init!r}"
        )
    bound = 1.0 / math.sqrt(hidden_size)

    def scheme(
        name: str, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype
    ) -> np.ndarray:
        if init == "pytorch":
            return uniform(shape, -bound, bound, rng, dtype)
        if _is_bias(name):
            return zeros(shape, dtype)
        if init == "normal":
            return normal(shape, 0.01, rng, dtype)
        if init == "orthogonal":
            if name == "weight_hh":
                return _gate_blocks(
                    name, shape, lambda h: orthogonal((h, h), seed=rng, dtype=dtype)
                )
            return (
                xavier_uniform(shape, seed=rng, dtype=dtype)
                if len(shape) > 1
                else zeros(shape, dtype)
            )
        if name == "weight_hh":  # identity
            return _gate_blocks(name, shape, lambda h: np.eye(h, dtype=dtype))
        return normal(shape, 0.001, rng, dtype)

    return scheme
