"""The default floating-point dtype: the framework's only global state.

New parameters and parameter-free layers fed integer input use it. ``float32`` is the default
because it halves memory traffic and doubles BLAS throughput; gradient checks use ``float64``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_default_dtype: np.dtype = np.dtype(np.float32)


def as_float_dtype(dtype: DTypeLike | None) -> np.dtype:
    """Return ``dtype`` as a supported numpy float dtype (``None`` means the default).

    Raises
    ------
    TypeError
        If ``dtype`` is not float32 or float64.
    """
    if dtype is None:
        return _default_dtype
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from error
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def get_default_dtype() -> np.dtype:
    """The dtype new parameters get when no ``dtype=`` is given (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the dtype of parameters created from now on: ``np.float32`` or ``np.float64``."""
    global _default_dtype
    _default_dtype = as_float_dtype(dtype)
