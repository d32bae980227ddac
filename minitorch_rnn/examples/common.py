"""Plumbing shared by the applications: common options, model parts, history files and plots."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..recurrent.cell import RecurrentCell
from ..recurrent.registry import cell_names, resolve_cell
from ..training.callbacks import ModelCheckpoint

__all__ = [
    "BestCheckpoint",
    "CLIError",
    "Interrupted",
    "add_common_arguments",
    "keeping_the_best_on_interrupt",
    "make_cell",
    "non_negative_float",
    "non_negative_int",
    "plot_history",
    "plural",
    "positive_int",
    "write_history",
]

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


def non_negative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    cell: str,
    hidden: int,
    epochs: int | None,
    lr: float,
    batch_size: int,
    clip: float | None = None,
    clip_norm: float | None = None,
    epochs_help: str | None = None,
) -> None:
    """The options every training application has, with its own defaults."""
    group = parser.add_argument_group("training")
    add_model_arguments(group, cell=cell, hidden=hidden)
    epochs_help = epochs_help or f"epochs (default {epochs})"
    group.add_argument("--epochs", type=positive_int, default=epochs, help=epochs_help)
    add_optimiser_arguments(group, lr=lr, batch_size=batch_size, clip=clip, clip_norm=clip_norm)
    add_output_arguments(group)


def add_model_arguments(group: Any, *, cell: str, hidden: int) -> None:
    """``--cell`` (any registered cell) and ``--hidden``."""
    group.add_argument(
        "--cell",
        type=cell_option,
        default=cell,
        metavar="CELL",
        help=f"a registered recurrent cell: {', '.join(cell_names())} (default {cell})",
    )
    group.add_argument(
        "--hidden", type=positive_int, default=hidden, help=f"hidden units (default {hidden})"
    )


def add_optimiser_arguments(
    group: Any,
    *,
    lr: float | None,
    batch_size: int,
    clip: float | None = None,
    clip_norm: float | None = None,
    tuned: str = "none",
) -> None:
    """``--lr``, ``--batch-size``, ``--seed`` and the two clips.

    ``--clip`` means the same in every subcommand: the elementwise clip of each gradient entry
    to ``[-clip, clip]`` (the Trainer's ``clip_value``); ``--clip-norm`` is the global gradient
    norm clip (the Trainer's ``clip_norm``). ``tuned`` names the default of an option left at
    ``None`` ("per cell" in ``adding``).
    """
    group.add_argument(
        "--lr", type=positive_float, default=lr, help=f"Adam learning rate (default {lr or tuned})"
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=batch_size,
        help=f"batch size (default {batch_size})",
    )
    group.add_argument(
        "--clip",
        type=positive_float,
        default=clip,
        metavar="VALUE",
        help=f"clip every gradient entry to [-VALUE, VALUE] (default {clip or 'none'})",
    )
    group.add_argument(
        "--clip-norm",
        type=positive_float,
        default=clip_norm,
        metavar="NORM",
        help=f"rescale the gradients to a global norm of at most NORM (default {clip_norm or tuned})",
    )
    group.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")


def add_output_arguments(group: Any) -> None:
    """``--save``, ``--history``, ``--plot``, ``--no-progress`` and ``--summary``."""
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


def cell_option(text: str) -> str:
    """argparse type of ``--cell``: a name of :func:`~minitorch_rnn.recurrent.cell_names`.

    Checked when the command line is read, not when the parser is built, so that a cell a user
    registers (``mt.recurrent.register_cell``) before calling :func:`minitorch_rnn.cli.main` is
    accepted by every training subcommand.
    """
    if text not in cell_names():
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(cell_names())})"
        )
    return text


def make_cell(
    name: str, input_size: int, hidden_size: int, seed: Any, **options: Any
) -> RecurrentCell:
    """The cell registered as ``name`` (``mt.recurrent.make_cell``), a CLIError if unknown."""
    try:
        cell_class, defaults = resolve_cell(name)
    except ValueError as error:
        raise CLIError(str(error)) from None
    return cell_class(input_size, hidden_size, seed=seed, **{**defaults, **options})


def check_output_file(path: str, what: str, suffixes: Sequence[str] = ()) -> Path:
    """Refuse an output path that cannot be written, before any training time is spent.

    The folder is created if missing (as a user of ``--save runs/model.npz`` expects), and a
    probe file is written and removed there, so a directory, a read-only place or ``/proc`` is
    refused now with one line instead of a traceback after the training.
    """
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise CLIError(f"{what} must end in {' or '.join(suffixes)}, got {path!r}")
    if target.is_dir():
        raise CLIError(f"{what} {path!r} is a directory; give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            with target.open("ab"):  # appending changes nothing yet proves the file writable
                pass
        else:
            with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".write-check-"):
                pass
    except OSError as error:
        raise CLIError(f"cannot write {what} {path!r}: {error.strerror or error}") from None
    return target


def check_outputs(args: argparse.Namespace) -> None:
    """Fail fast on bad output paths, before any training time is spent."""
    if getattr(args, "history", None):
        check_output_file(args.history, "history file", (".json", ".csv"))
    if getattr(args, "plot", None):
        check_output_file(args.plot, "plot file", (".png",))
        pyplot()  # a missing matplotlib is found now, not after the training
    if getattr(args, "save", None):
        check_output_file(args.save, "checkpoint file")


def write_history(history: Mapping[str, Sequence[float]], path: str) -> None:
    """Per-epoch values as JSON (a dict of lists) or CSV (one row per epoch)."""
    target = check_output_file(path, "history file", (".json", ".csv"))
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
    target = check_output_file(path, "plot file", (".png",))
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


class BestCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint(path, monitor="val_loss")`` that remembers which epoch it kept.

    The command line's own callback (it words the message after Ctrl-C), not library API: a
    program of yours uses :class:`~minitorch_rnn.training.callbacks.ModelCheckpoint`.
    """

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
