"""The shared benchmark batch and the shape of what each framework's builder returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .configs import VOCAB, Shape

__all__ = ["Batch", "Workload", "make_batch"]


@dataclass(frozen=True)
class Batch:
    """One language-model batch: ``inputs`` one-hot ``(B, T, VOCAB)``, ``targets`` ids ``(B, T)``.

    ``ids`` ``(B, T + 1)`` is the underlying symbol sequence: the input at step ``t`` is symbol
    ``t`` and the target is symbol ``t + 1``. Every framework is fed these same arrays.
    """

    ids: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray


def make_batch(shape: Shape, seed: int = 0) -> Batch:
    """A reproducible random batch for ``shape`` (inputs in ``shape.dtype``, targets int64)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, size=(shape.batch, shape.steps + 1))
    one_hot = np.eye(VOCAB, dtype=shape.dtype)[ids[:, :-1]]
    return Batch(ids=ids, inputs=one_hot, targets=np.ascontiguousarray(ids[:, 1:]))


@dataclass(frozen=True)
class Workload:
    """A ready-to-time model of one framework.

    Attributes
    ----------
    train
        One training step on the batch: zero gradients, forward, loss, backward, optimiser step.
    infer
        One inference forward of the batch (logits of every step; no state kept for backward).
    tokens
        Tokens processed by one call of either.
    loss
        Returns the mean cross-entropy of the batch at the current weights (a parity check
        between frameworks given the same weights).
    """

    train: Callable[[], object]
    infer: Callable[[], object]
    tokens: int
    loss: Callable[[], float]
