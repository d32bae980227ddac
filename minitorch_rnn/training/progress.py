"""What :meth:`Trainer.fit` shows while it runs: a tqdm bar on a terminal, a line per epoch
otherwise, or nothing."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from tqdm import tqdm

__all__ = ["UNTIL_STOPPED", "Progress"]

# ``fit(epochs=UNTIL_STOPPED)``: run until a callback stops training (a time budget, a target);
# the progress then shows the epoch without a meaningless total.
UNTIL_STOPPED = 10**9


class Progress:
    """Per-epoch progress: a tqdm bar on a terminal, one summary line per epoch otherwise.

    Parameters
    ----------
    enabled : bool
        False: print nothing. True: a bar when stderr is a TTY, else one line per epoch on stderr.
    """

    def __init__(self, enabled: bool) -> None:
        isatty = getattr(sys.stderr, "isatty", None)
        terminal = bool(isatty()) if callable(isatty) else False
        self.mode = "off" if not enabled else ("bar" if terminal else "line")
        self._bar: tqdm | None = None

    @property
    def shows_batches(self) -> bool:
        """Whether :meth:`batch` displays anything (the running values cost a little to compute)."""
        return self.mode == "bar"

    def start_epoch(self, epoch: int, epochs: int, total: int | None) -> None:
        """Open the bar of 0-based ``epoch`` of ``epochs`` with ``total`` batches (None: unknown)."""
        if self.mode == "bar":
            self._bar = tqdm(
                total=total,
                desc=_epoch_label(epoch, epochs),
                unit="batch",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )

    def batch(self, running: Mapping[str, float]) -> None:
        """One more batch done; ``running`` are the epoch's values so far."""
        if self._bar is not None:
            self._bar.set_postfix(_formatted(running), refresh=False)
            self._bar.update(1)

    def end_epoch(self, epoch: int, epochs: int, logs: Mapping[str, float]) -> None:
        """Show the epoch's final ``logs`` and close its bar."""
        if self._bar is not None:
            self._bar.set_postfix(_formatted(logs), refresh=False)
            self.close()
        elif self.mode == "line":
            values = " - ".join(f"{key}: {value}" for key, value in _formatted(logs).items())
            print(f"{_epoch_label(epoch, epochs)} - {values}", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Close an open bar (also when ``fit`` ends early)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _formatted(values: Mapping[str, float]) -> dict[str, str]:
    return {key: f"{value:.4g}" for key, value in values.items()}


def _epoch_label(epoch: int, epochs: int) -> str:
    """``"Epoch 3/20"``, or ``"Epoch 3"`` when the run ends by a callback, not a count."""
    return f"Epoch {epoch + 1}" if epochs >= UNTIL_STOPPED else f"Epoch {epoch + 1}/{epochs}"
