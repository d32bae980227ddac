"""The per-epoch record that :meth:`Trainer.fit` returns."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

__all__ = ["History"]


class History(dict[str, list[float]]):
    """Per-epoch values: ``history["loss"][e]`` is epoch ``e``'s training loss.

    Keys: ``"loss"``, each metric, ``"val_loss"`` and ``"val_<metric>"`` with validation data,
    ``"lr"`` (the learning rate used during the epoch), and anything a callback added to the
    epoch's logs.
    """

    def append(self, logs: Mapping[str, Any]) -> None:
        """Add one epoch's logs, all or nothing.

        Raises
        ------
        TypeError
            If a value is not a real number (say a callback logged a string); then nothing of
            this epoch is added.
        """
        numbers = {key: _number(key, value) for key, value in logs.items()}
        for key, number in numbers.items():
            self.setdefault(key, []).append(number)

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return max((len(values) for values in self.values()), default=0)


def _number(key: str, value: Any) -> float:
    """``value`` as a float, or a TypeError naming the key."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, Real):
        raise TypeError(
            f"History: the epoch's logs must hold real numbers; {key!r} is {value!r} "
            f"({type(value).__name__})"
        )
    return float(value)
