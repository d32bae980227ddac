"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt


@pytest.fixture(autouse=True)
def restore_default_dtype() -> Iterator[None]:
    """Undo any ``mt.set_default_dtype`` a test makes, so that tests cannot leak into each other."""
    saved = mt.get_default_dtype()
    yield
    mt.set_default_dtype(saved)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for test data."""
    return np.random.default_rng(1234)


class LossAsModule(mt.Module):
    """Test-only adapter that lets ``mt.gradcheck`` check a loss with respect to ``pred``.

    ``forward(pred)`` returns the loss as a 0-d array; ``backward(g)`` returns ``g * loss.backward()``.
    Targets and mask are fixed at construction, as they are constants of the check.
    """

    def __init__(self, loss: mt.Loss, target: Any, mask: Any = None) -> None:
        super().__init__()
        self.loss = loss
        self.target = target
        self.mask = mask

    def forward(self, pred: np.ndarray) -> np.ndarray:
        return np.array(self.loss.forward(pred, self.target, mask=self.mask))

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        gradient: np.ndarray = grad_output * self.loss.backward()
        return gradient


@pytest.fixture
def loss_as_module() -> Callable[..., LossAsModule]:
    """Factory: ``loss_as_module(loss, target, mask=None)`` wraps a loss for ``mt.gradcheck``."""
    return LossAsModule
