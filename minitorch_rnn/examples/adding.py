"""``minitorch-rnn adding``: the adding problem, a test of long-range memory.

Each input is a sequence of ``--steps`` pairs (value in [0, 1), marker 0 or 1) with exactly two
markers, one in each half; the target is the sum of the two marked values (Hochreiter &
Schmidhuber 1997; Le, Jaitly & Hinton 2015). A recurrent cell reads the sequence and a Dense layer
maps its final state to the prediction, trained with the mean squared error on fresh random
batches until the test MSE drops below --target (0.01: solved) or the time budget (--minutes) runs
out. Always predicting 1 scores 1/6 = 0.167, the baseline to beat.

Cells: rnn (tanh), irnn (ReLU with identity recurrent weights, Le et al.'s IRNN), gru, lstm
(forget-gate bias 1), or any cell registered by name. Each built-in cell has a tuned Adam learning
rate and gradient-norm clip (--lr, --clip-norm).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..datasets.adding import BASELINE_MSE, adding_problem
from ..layers.dense import Dense
from ..losses import MSELoss
from ..module import Sequential
from ..optim import Adam
from ..recurrent.unroll import Unroll
from ..serialization import save
from ..training import Trainer
from ..training.callbacks import EarlyStopping, TimeBudget
from ..training.progress import UNTIL_STOPPED
from .common import (
    add_model_arguments,
    add_optimiser_arguments,
    add_output_arguments,
    check_outputs,
    finish,
    make_cell,
    positive_float,
    positive_int,
    show_summary,
)

# Tuned on this task (see docs/tutorials/adding.md): Adam learning rate and gradient-norm clip.
CELL_DEFAULTS: dict[str, tuple[float, float]] = {
    "rnn": (1e-3, 1.0),
    "irnn": (3e-4, 1.0),
    "gru": (1e-2, 1.0),
    "lstm": (1e-2, 1.0),
}
# A cell registered by a user has no tuned values here: the plain RNN's, the most careful.
UNTUNED = CELL_DEFAULTS["rnn"]


def tuned_lr_and_clip(cell: str) -> tuple[float, float]:
    """The Adam learning rate and gradient-norm clip tuned for ``cell`` on this task."""
    return CELL_DEFAULTS.get(cell, UNTUNED)


def build_model(kind: str, hidden_size: int, seed: Any) -> Sequential:
    """``Unroll(cell, return_sequences=False) -> Dense(H, 1)``: one prediction per sequence."""
    rng = np.random.default_rng(seed)
    cell = make_cell(kind, 2, hidden_size, rng)
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
        "--minutes", type=positive_float, default=4.0, help="training time budget (default 4)"
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
    group = parser.add_argument_group("training")
    add_model_arguments(group, cell="lstm", hidden=32)
    add_optimiser_arguments(group, lr=None, batch_size=32, tuned="per cell")
    add_output_arguments(group)
    parser.set_defaults(func=run)


def _steps(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 steps, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    default_lr, default_clip = tuned_lr_and_clip(args.cell)
    lr = default_lr if args.lr is None else args.lr
    clip = default_clip if args.clip_norm is None else args.clip_norm
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
        clip_value=args.clip,
        clip_norm=clip,
        callbacks=[
            EarlyStopping(monitor="val_loss", patience=10**9, target=args.target),
            TimeBudget(60.0 * args.minutes),
        ],
        seed=args.seed,
    )
    start = time.perf_counter()
    history = trainer.fit(
        train, epochs=UNTIL_STOPPED, validation_data=test, progress=not args.no_progress
    )
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
