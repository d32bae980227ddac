"""In-place gate nonlinearities for the recurrent hot path.

numpy's transcendental functions are single-threaded and dominate a recurrent step's elementwise
time, so the cells compute every gate activation from one ``exp`` pass over their contiguous gate
block: ``sigmoid(a) = 1 / (1 + exp(-a))`` and ``tanh(a) = 2 * sigmoid(2a) - 1``.
"""

from __future__ import annotations

import numpy as np


def sigmoid_(block: np.ndarray) -> np.ndarray:
    """Replace ``block`` by ``1 / (1 + exp(-block))``, in place; returns it.

    ``exp`` overflows to ``inf`` for very negative input, where ``1 / (1 + inf) = 0`` is the exact
    limit, so the overflow is expected and silenced.
    """
    with np.errstate(over="ignore"):
        np.negative(block, out=block)
        np.exp(block, out=block)
    block += 1
    np.reciprocal(block, out=block)
    return block


def gate_activations_(gates: np.ndarray, tanh_columns: slice) -> np.ndarray:
    """Apply sigmoid to every column of ``gates`` except ``tanh_columns``, which get tanh.

    One ``exp`` pass covers all gates: the tanh block is pre-scaled by 2 and post-mapped by
    ``2 s - 1``.
    """
    candidate = gates[..., tanh_columns]
    candidate *= 2
    sigmoid_(gates)
    candidate *= 2
    candidate -= 1
    return gates


def sigmoid_derivative_(grad: np.ndarray, activated: np.ndarray) -> np.ndarray:
    """``grad *= s * (1 - s)`` where ``s`` is the sigmoid output, in place."""
    grad *= activated
    grad *= 1 - activated
    return grad


def tanh_derivative_(grad: np.ndarray, activated: np.ndarray) -> np.ndarray:
    """``grad *= 1 - y**2`` where ``y`` is the tanh output, in place."""
    grad *= 1 - activated * activated
    return grad
