"""Plumbing shared by the applications: common options, model parts, history files and plots."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..recurrent.cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from ..training.callbacks import Callback, ModelCheckpoint

__all__ = [
    "BestCheckpoint",
    "CLIError",
    "Interrupted",
    "add_common_arguments",
    "keeping_the_best_on_interrupt",
    "make_cell",
    "non_negative_int",
    "plot_history",
    "plural",
    "positive_int",
    "write_history",
]

CELL_TYPES = ("rnn", "gru", "lstm")


PLOT_INSTALL_HINT = "pip install 'minitorch_rnn[plot]' (or pip install matplotlib)"


class CLIError(Exception):
    """A user error the command reports in one line with exit code 2 (no traceback)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says what was kept (reported with exit code 130)."""


def plural(count: int, noun: str) -> str:
    """``"1 epoch"``, ``"3 epochs"``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _bounded_int(text: str, minimum: int, wanted: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    return _bounded_int(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an int >= 0 (a count that may be zero, or a seed)."""
    return _bounded_int(text, 0, "an integer >= 0")


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    cell: str,
    hidden: int,
    epochs: int,
    lr: float,
    batch_size: int,
) -> None:
    """The options every training application has, with its own defaults."""
    group = parser.add_argument_group("training")
    group.add_argument(
        "--cell", choices=CELL_TYPES, default=cell, help=f"recurrent cell (default {cell})"
    )
    group.add_argument(
        "--hidden", type=positive_int, default=hidden, help=f"hidden units (default {hidden})"
    )
    group.add_argument(
        "--epochs", type=positive_int, default=epochs, help=f"epochs (default {epochs})"
    )
    group.add_argument(
        "--lr", type=positive_float, default=lr, help=f"Adam learning rate (default {lr})"
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=batch_size,
        help=f"batch size (default {batch_size})",
    )
    group.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    group.add_argument(
        "--save", metavar="CKPT", help="write the trained model to this .npz checkpoint"
    )
    group.add_argument(
        "--history", metavar="FILE", help="write per-epoch history to FILE.json or FILE.csv"
    )
    group.add_argument(
        "--plot", metavar="FILE.png", help="draw the training curves (needs matplotlib)"
    )
    group.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_summary_argument(group)


def add_summary_argument(parser: Any) -> None:
    """``--summary``: print the model's :func:`~minitorch_rnn.summary` table before training."""
    parser.add_argument(
        "--summary", action="store_true", help="print the model summary table before training"
    )


def show_summary(args: argparse.Namespace, model: Any, input_shape: tuple[int, ...]) -> None:
    """Print ``summary(model, input_shape)`` when ``--summary`` was given."""
    if getattr(args, "summary", False):
        from ..summary import summary

        print(summary(model, input_shape))


def make_cell(kind: str, input_size: int, hidden_size: int, seed: Any) -> RecurrentCell:
    """A cell by name: "rnn" (tanh), "gru" or "lstm" (forget-gate bias 1)."""
    if kind == "rnn":
        return RNNCell(input_size, hidden_size, seed=seed)
    if kind == "gru":
        return GRUCell(input_size, hidden_size, seed=seed)
    if kind == "lstm":
        return LSTMCell(input_size, hidden_size, forget_bias=1.0, seed=seed)
    raise CLIError(f"unknown cell {kind!r}; choose one of {', '.join(CELL_TYPES)}")


def _check_output_path(path: str, suffixes: Sequence[str], what: str) -> Path:
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise CLIError(f"{what} file must end in {' or '.join(suffixes)}, got {path!r}")
    if not target.parent.exists():
        raise CLIError(f"folder of {what} file {path!r} does not exist")
    return target


def check_outputs(args: argparse.Namespace) -> None:
    """Fail fast on bad output paths, before any training time is spent."""
    if getattr(args, "history", None):
        _check_output_path(args.history, (".json", ".csv"), "history")
    if getattr(args, "plot", None):
        _check_output_path(args.plot, (".png",), "plot")
        pyplot()  # a missing matplotlib is found now, not after the training
    if getattr(args, "save", None) and not Path(args.save).resolve().parent.exists():
        raise CLIError(f"folder of checkpoint {args.save!r} does not exist")


def write_history(history: Mapping[str, Sequence[float]], path: str) -> None:
    """Per-epoch values as JSON (a dict of lists) or CSV (one row per epoch)."""
    target = _check_output_path(path, (".json", ".csv"), "history")
    columns = {key: [float(v) for v in values] for key, values in history.items()}
    if target.suffix.lower() == ".json":
        target.write_text(json.dumps(columns, indent=2) + "\n", encoding="utf-8")
        return
    epochs = max((len(values) for values in columns.values()), default=0)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *columns])
        for epoch in range(epochs):
            row = [values[epoch] if epoch < len(values) else "" for values in columns.values()]
            writer.writerow([epoch + 1, *row])


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, or a CLIError saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CLIError(f"--plot needs matplotlib: {PLOT_INSTALL_HINT}") from None
    return plt


def plot_history(history: Mapping[str, Sequence[float]], path: str, title: str) -> None:
    """Draw every history curve (losses on one panel, other metrics on another) into a PNG."""
    target = _check_output_path(path, (".png",), "plot")
    plt = pyplot()
    losses = {k: v for k, v in history.items() if k.endswith("loss")}
    others = {k: v for k, v in history.items() if not k.endswith("loss") and k != "lr"}
    panels = [p for p in (losses, others) if p]
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for axis, panel in zip(axes[0], panels, strict=True):
        for key, values in panel.items():
            axis.plot(np.arange(1, len(values) + 1), values, marker=".", label=key)
        axis.set_xlabel("epoch")
        axis.legend()
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def finish(args: argparse.Namespace, history: Mapping[str, Sequence[float]], title: str) -> None:
    """Write the history file and the plot the user asked for."""
    if args.history:
        write_history(history, args.history)
        print(f"history written to {args.history}")
    if args.plot:
        plot_history(history, args.plot, title)
        print(f"plot written to {args.plot}")


class TimeBudget(Callback):
    """Stop training at the end of the first epoch that ends past ``seconds`` of training
    (``--minutes``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.start = 0.0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if time.perf_counter() - self.start >= self.seconds:
            self.trainer.stop_training = True


class BestCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint(path, monitor="val_loss")`` that remembers which epoch it kept."""

    def __init__(self, path: str, meta: Mapping[str, Any]) -> None:
        # ModelCheckpoint fills in {fields} of its path; a user's file name is taken literally
        super().__init__(path.replace("{", "{{").replace("}", "}}"), monitor="val_loss", meta=meta)
        self.file = path
        self.kept_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: Any) -> None:
        best_before = self.best
        super().on_epoch_end(epoch, logs)
        if self.best != best_before:
            self.kept_epoch = epoch + 1

    def describe(self) -> str:
        """Where the best epoch so far is, for the message after an interruption."""
        if self.kept_epoch is None or not os.path.exists(self.file):
            return "no epoch had ended, so nothing was saved"
        return (
            f"the best epoch so far ({self.kept_epoch}, val_loss {self.best:.4f}) is saved "
            f"in {self.file}"
        )


@contextmanager
def keeping_the_best_on_interrupt(checkpoint: BestCheckpoint | None) -> Iterator[None]:
    """Turn Ctrl-C during training into :class:`Interrupted` saying what was kept."""
    try:
        yield
    except KeyboardInterrupt:
        kept = checkpoint.describe() if checkpoint else "nothing was saved (no --save given)"
        raise Interrupted(kept) from None
