"""The adding problem: a long-range memory task (Hochreiter & Schmidhuber 1997; Le et al. 2015).

Each sequence has ``steps`` time steps of two features: a value drawn uniformly from ``[0, 1)`` and
a marker that is 1 at exactly two steps, one in each half of the sequence, and 0 elsewhere. The
target is the sum of the two marked values. To solve it a network must hold the first marked value
in its state for up to ``steps`` steps while ignoring everything unmarked, so the gradient that
teaches it to do so must travel that far back in time.

The target is a sum of two independent uniforms (mean 1, variance 1/6): always predicting 1 scores
a mean squared error of 1/6 ≈ 0.167, the baseline a model has to beat. An MSE below 0.01 is the
usual "solved" mark.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..dtype import as_float_dtype
from ..validation import check_size

__all__ = ["BASELINE_MSE", "adding_problem"]

#: Mean squared error of always predicting 1 (the variance of a sum of two U[0, 1) draws).
BASELINE_MSE = 1.0 / 6.0


def adding_problem(
    n: int, steps: int, seed: init.Seed = None, *, dtype: DTypeLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sequences of the adding problem.

    Parameters
    ----------
    n : int
        Number of sequences, at least 1.
    steps : int
        Sequence length ``T``, at least 2 (each half holds one marker).
    seed : int or numpy.random.Generator, optional
        Random state; the same seed gives the same data.
    dtype : float32 or float64, optional
        Of ``x`` and ``y``; default :func:`minitorch_rnn.get_default_dtype`.

    Returns
    -------
    x : np.ndarray
        ``(n, steps, 2)``: channel 0 uniform in ``[0, 1)``; channel 1 zero except exactly two ones,
        at a step in ``[0, steps // 2)`` and at a step in ``[steps // 2, steps)``.
    y : np.ndarray
        ``(n, 1)``: ``y[i] = sum_t x[i, t, 0] * x[i, t, 1]``, the sum of the two marked values.

    Raises
    ------
    TypeError
        If ``n`` or ``steps`` is not an int.
    ValueError
        If ``n < 1`` or ``steps < 2``.

    Examples
    --------
    >>> x, y = adding_problem(4, 10, seed=0)
    >>> x.shape, y.shape
    ((4, 10, 2), (4, 1))
    >>> bool((x[:, :, 1].sum(axis=1) == 2).all())
    True
    """
    count = check_size(n, "adding_problem", "n")
    length = check_size(steps, "adding_problem", "steps", minimum=2)
    resolved = as_float_dtype(dtype)
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.Generator)):
        raise TypeError(
            f"adding_problem: seed must be an int, a numpy Generator or None, got {seed!r}"
        )
    rng = init.as_generator(seed)
    values = rng.random((count, length))
    half = length // 2
    first = rng.integers(0, half, size=count)
    second = rng.integers(half, length, size=count)
    markers = np.zeros((count, length))
    rows = np.arange(count)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(resolved)
    # Sum the values as stored, so y is exactly the sum of what the model sees.
    y = (x[rows, first, 0] + x[rows, second, 0])[:, None]
    return x, y.astype(resolved)
