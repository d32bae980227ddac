"""The per-epoch record that :meth:`Trainer.fit` returns."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["History"]


class History(dict[str, list[float]]):
    """Per-epoch values: ``history["loss"][e]`` is epoch ``e``'s training loss.

    Keys: ``"loss"``, each metric, ``"val_loss"`` and ``"val_<metric>"`` with validation data,
    ``"lr"`` (the learning rate used during the epoch), and anything a callback added to the
    epoch's logs.
    """

    def append(self, logs: Mapping[str, float]) -> None:
        """Add one epoch's logs."""
        for key, value in logs.items():
            self.setdefault(key, []).append(float(value))

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return max((len(values) for values in self.values()), default=0)
