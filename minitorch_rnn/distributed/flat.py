"""Parameters as one flat vector: what travels between the driver and the workers each step.

One contiguous array per step (instead of one object per parameter) means one object-store entry
for the weights and one reply per worker for the gradients, whatever the number of layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..module import Module, Parameter

__all__ = ["add_flat_gradients", "check_parameters", "flat_gradients", "flat_weights", "load_flat"]


def check_parameters(model: Module, owner: str) -> list[Parameter]:
    """The model's parameters, which must exist and share one dtype (the flat vector's)."""
    parameters = model.parameters()
    if not parameters:
        raise ValueError(f"{owner}: the model has no parameters to train")
    dtypes = sorted({str(p.dtype) for p in parameters})
    if len(dtypes) > 1:
        raise TypeError(
            f"{owner}: every parameter must have the same dtype to travel as one flat array, "
            f"got {', '.join(dtypes)}; convert the model with model.to(dtype)"
        )
    return parameters


def flat_weights(parameters: Sequence[Parameter]) -> np.ndarray:
    """``(P,)``: every parameter's values, raveled and concatenated in order (a copy)."""
    return np.concatenate([p.data.ravel() for p in parameters])


def flat_gradients(parameters: Sequence[Parameter]) -> np.ndarray:
    """``(P,)``: every parameter's gradient, raveled and concatenated in order (a copy)."""
    return np.concatenate([p.grad.ravel() for p in parameters])


def _segments(parameters: Sequence[Parameter], flat: np.ndarray) -> list[np.ndarray]:
    expected = sum(p.size for p in parameters)
    if flat.shape != (expected,):
        raise ValueError(f"flat parameter vector: expected shape ({expected},), got {flat.shape}")
    pieces, offset = [], 0
    for parameter in parameters:
        pieces.append(flat[offset : offset + parameter.size].reshape(parameter.shape))
        offset += parameter.size
    return pieces


def load_flat(parameters: Sequence[Parameter], flat: np.ndarray) -> None:
    """Copy a :func:`flat_weights` vector into the parameters' values (in place)."""
    for parameter, piece in zip(parameters, _segments(parameters, flat), strict=True):
        parameter.data[...] = piece


def add_flat_gradients(parameters: Sequence[Parameter], flat: np.ndarray) -> None:
    """Add a :func:`flat_gradients` vector to the parameters' gradients (in place)."""
    for parameter, piece in zip(parameters, _segments(parameters, flat), strict=True):
        parameter.grad += piece
