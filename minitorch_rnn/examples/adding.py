"""``minitorch-rnn adding``: the adding problem, a test of long-range memory.

Each input is a sequence of ``--steps`` pairs (value in [0, 1), marker 0 or 1) with exactly two
markers, one in each half; the target is the sum of the two marked values (Hochreiter &
Schmidhuber 1997; Le, Jaitly & Hinton 2015). A recurrent cell reads the sequence and a Dense layer
maps its final state to the prediction, trained with the mean squared error on fresh random
batches until the test MSE drops below --target (0.01: solved) or the time budget (--minutes) runs
out. Always predicting 1 scores 1/6 = 0.167, the baseline to beat.

Cells: rnn (tanh), irnn (ReLU with identity recurrent weights, Le et al.'s IRNN), gru, lstm
(forget-gate bias 1). Each has a tuned Adam learning rate and gradient-norm clip (--lr, --clip).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..datasets.adding import BASELINE_MSE, adding_problem
from ..layers.dense import Dense
from ..losses import MSELoss
from ..module import Sequential
from ..optim import Adam
from ..recurrent.cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from ..recurrent.unroll import Unroll
from ..serialization import save
from ..training import Trainer
from ..training.callbacks import EarlyStopping
from .common import (
    CLIError,
    TimeBudget,
    add_summary_argument,
    check_outputs,
    finish,
    positive_float,
    positive_int,
    show_summary,
)

ADDING_CELLS = ("rnn", "irnn", "gru", "lstm")

# Tuned on this task (see docs/tutorials/adding.md): Adam learning rate and gradient-norm clip.
CELL_DEFAULTS: dict[str, tuple[float, float]] = {
    "rnn": (1e-3, 1.0),
    "irnn": (3e-4, 1.0),
    "gru": (1e-2, 1.0),
    "lstm": (1e-2, 1.0),
}


def make_adding_cell(
    kind: str, input_size: int, hidden_size: int, seed: Any, dtype: DTypeLike | None = None
) -> RecurrentCell:
    """A cell by name: "rnn" (tanh), "irnn" (ReLU, identity init), "gru", "lstm" (forget bias 1)."""
    if kind == "rnn":
        return RNNCell(input_size, hidden_size, seed=seed, dtype=dtype)
    if kind == "irnn":
        return RNNCell(
            input_size, hidden_size, nonlinearity="relu", init="identity", seed=seed, dtype=dtype
        )
    if kind == "gru":
        return GRUCell(input_size, hidden_size, seed=seed, dtype=dtype)
    if kind == "lstm":
        return LSTMCell(input_size, hidden_size, forget_bias=1.0, seed=seed, dtype=dtype)
    raise CLIError(f"unknown cell {kind!r}; choose one of {', '.join(ADDING_CELLS)}")


def build_model(kind: str, hidden_size: int, seed: Any) -> Sequential:
    """``Unroll(cell, return_sequences=False) -> Dense(H, 1)``: one prediction per sequence."""
    rng = np.random.default_rng(seed)
    cell = make_adding_cell(kind, 2, hidden_size, rng)
    return Sequential(Unroll(cell, return_sequences=False), Dense(hidden_size, 1, seed=rng))


class FreshBatches:
    """A loader of ``batches`` new random adding-problem batches per pass (infinite data)."""

    def __init__(self, batches: int, batch_size: int, steps: int, seed: Any) -> None:
        self.batches = batches
        self.batch_size = batch_size
        self.steps = steps
        self.rng = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for _ in range(self.batches):
            yield adding_problem(self.batch_size, self.steps, seed=self.rng)

    def __len__(self) -> int:
        return self.batches


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "adding",
        help="the adding problem: which cells remember across T steps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--steps", type=_steps, default=50, help="sequence length T, at least 2 (default 50)"
    )
    parser.add_argument(
        "--cell", choices=ADDING_CELLS, default="lstm", help="recurrent cell (default lstm)"
    )
    parser.add_argument(
        "--minutes", type=positive_float, default=4.0, help="training time budget (default 4)"
    )
    parser.add_argument("--hidden", type=positive_int, default=32, help="hidden units (default 32)")
    parser.add_argument(
        "--lr", type=positive_float, default=None, help="Adam learning rate (default: per cell)"
    )
    parser.add_argument(
        "--clip", type=positive_float, default=None, help="gradient-norm clip (default: per cell)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="batch size (default 32)"
    )
    parser.add_argument(
        "--epoch-batches",
        type=positive_int,
        default=100,
        help="fresh batches per epoch; the test set is scored after each (default 100)",
    )
    parser.add_argument(
        "--test-size", type=positive_int, default=1000, help="test sequences (default 1000)"
    )
    parser.add_argument(
        "--target", type=positive_float, default=0.01, help="test MSE that counts as solved"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--save", metavar="CKPT", help="write the trained model to this .npz")
    parser.add_argument(
        "--history", metavar="FILE", help="write per-epoch history to FILE.json or FILE.csv"
    )
    parser.add_argument(
        "--plot", metavar="FILE.png", help="draw the training curves (needs matplotlib)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_summary_argument(parser)
    parser.set_defaults(func=run)


def _steps(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 steps, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    default_lr, default_clip = CELL_DEFAULTS[args.cell]
    lr = default_lr if args.lr is None else args.lr
    clip = default_clip if args.clip is None else args.clip
    model = build_model(args.cell, args.hidden, args.seed)
    test = adding_problem(args.test_size, args.steps, seed=np.random.default_rng([args.seed, 1]))
    train = FreshBatches(args.epoch_batches, args.batch_size, args.steps, [args.seed, 2])
    print(
        f"adding problem, T={args.steps}: {args.cell.upper()} with {args.hidden} units, Adam lr "
        f"{lr:g}, clip {clip:g}, batch {args.batch_size}; budget {args.minutes:g} min; "
        f"baseline (always 1) MSE {BASELINE_MSE:.3f}"
    )
    show_summary(args, model, (args.batch_size, args.steps, 2))
    trainer = Trainer(
        model,
        MSELoss(),
        Adam(model.parameters(), lr=lr),
        metrics=(),
        clip_norm=clip,
        callbacks=[
            EarlyStopping(monitor="val_loss", patience=10**9, target=args.target),
            TimeBudget(60.0 * args.minutes),
        ],
        seed=args.seed,
    )
    start = time.perf_counter()
    history = trainer.fit(train, epochs=10**9, validation_data=test, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    epochs = len(history["loss"])
    mse = float(history["val_loss"][-1])
    verdict = "solved" if mse < args.target else "not solved"
    print(
        f"test MSE {mse:.4f} (baseline {BASELINE_MSE:.3f}): {verdict} after {epochs} epochs, "
        f"{epochs * args.epoch_batches} steps, {seconds:.0f} s"
    )
    if args.save:
        save(args.save, model, app="adding", steps=args.steps, cell=args.cell, hidden=args.hidden)
        print(f"model saved to {args.save}")
    finish(
        args, history, f"adding problem T={args.steps} ({args.cell.upper()}, {args.hidden} units)"
    )
    return 0
