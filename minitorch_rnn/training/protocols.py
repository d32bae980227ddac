"""What the Trainer accepts, as types: a loss, an optimiser, metrics and validation data.

Protocols rather than base classes: any object with the right methods works (a user's own loss or
optimiser), and an editor or ``mypy`` can still check a call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from .metrics import Metric

__all__ = [
    "Loader",
    "LossLike",
    "MetricSpec",
    "OptimizerLike",
    "ValidationData",
    "require_methods",
]

# An iterable of (x, y) or (x, y, lengths) batches that can be iterated again each epoch.
Loader = Iterable[Any]
# A metric: a name, a function ``fn(pred, target, mask) -> float`` or a Metric object.
MetricSpec = str | Callable[[np.ndarray, np.ndarray, Any], Any] | Metric
# validation_data: ``(x, y)``, ``(x, y, lengths)`` or a loader of such batches.
ValidationData = (
    tuple[ArrayLike, ArrayLike] | tuple[ArrayLike, ArrayLike, ArrayLike | None] | Loader
)


class LossLike(Protocol):
    """What the Trainer asks of a loss (every :class:`~minitorch_rnn.Loss` is one)."""

    def forward(self, pred: Any, target: Any, mask: Any = None) -> float: ...

    def backward(self) -> Any: ...


class OptimizerLike(Protocol):
    """What the Trainer asks of an optimiser: ``step()``. An ``lr`` attribute is logged each
    epoch; ``state_dict``/``load_state_dict``, if present, go into checkpoints."""

    def step(self) -> None: ...


def require_methods(owner: str, role: str, thing: object, methods: tuple[str, ...]) -> None:
    """Raise a ``TypeError`` unless ``thing`` has every one of ``methods``."""
    missing = [name for name in methods if not callable(getattr(thing, name, None))]
    if missing:
        raise TypeError(
            f"{owner}: {role} must have {' and '.join(methods)} methods, got "
            f"{type(thing).__name__} without {', '.join(missing)}"
        )
