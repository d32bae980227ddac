"""``minitorch-rnn subtract``: an RNN learns binary subtraction, one bit per time step.

The classic four-time-step RNN exercise: every pair ``a >= b`` of N-bit numbers, fed least
significant bit first (so the borrow flows forward in time), two features per step (a bit of ``a``,
a bit of ``b``), a per-step Logistic output with binary cross-entropy. The state must carry the borrow. Training stops as soon as every
pair is right (exact-match accuracy 1.0).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..datasets.subtraction import MAX_BITS, format_example, subtraction_dataset
from ..layers.activations import Logistic
from ..layers.dense import Dense
from ..losses import BCELoss
from ..module import Sequential
from ..optim import Adam
from ..recurrent.unroll import Unroll
from ..serialization import save
from ..training import Trainer
from ..training.callbacks import EarlyStopping, History
from .common import (
    CLIError,
    add_common_arguments,
    check_outputs,
    finish,
    make_cell,
    non_negative_int,
    plural,
    show_summary,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "subtract",
        help="learn N-bit binary subtraction with a small RNN",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bits", type=int, default=4, help=f"bits per number, 1..{MAX_BITS} (default 4)"
    )
    parser.add_argument(
        "--nonlinearity",
        choices=("tanh", "sigmoid", "relu"),
        default="tanh",
        help="hidden nonlinearity of the rnn cell (default tanh)",
    )
    parser.add_argument(
        "--no-bias", action="store_true", help="no biases anywhere (the bias-free textbook network)"
    )
    parser.add_argument(
        "--examples", type=non_negative_int, default=4, help="worked examples to print (default 4)"
    )
    add_common_arguments(parser, cell="rnn", hidden=16, epochs=300, lr=0.01, batch_size=16)
    parser.set_defaults(func=run)


def build_model(args: argparse.Namespace) -> Sequential:
    """``Unroll(cell) -> Dense(H, 1) -> Logistic`` applied at every step."""
    rng = np.random.default_rng(args.seed)
    bias = not args.no_bias
    if args.cell == "rnn":
        cell = make_cell("rnn", 2, args.hidden, rng, nonlinearity=args.nonlinearity, bias=bias)
    else:
        if args.nonlinearity != "tanh" or args.no_bias:
            raise CLIError("--nonlinearity and --no-bias apply to --cell rnn only")
        cell = make_cell(args.cell, 2, args.hidden, rng)
    return Sequential(Unroll(cell), Dense(args.hidden, 1, bias=bias, seed=rng), Logistic())


def train(args: argparse.Namespace, model: Sequential) -> tuple[Trainer, History, float]:
    """Fit ``model`` (from :func:`build_model`) on every pair as ``args`` say; returns the trainer,
    the history and the seconds taken. ``history["val_sequence_accuracy"]`` is the exact-match
    accuracy."""
    x, y, _, _ = subtraction_dataset(args.bits)
    trainer = Trainer(
        model,
        BCELoss(),
        Adam(model.parameters(), lr=args.lr),
        metrics=("accuracy", "sequence_accuracy"),
        clip_value=args.clip,
        clip_norm=args.clip_norm,
        callbacks=[
            EarlyStopping(
                monitor="val_sequence_accuracy", mode="max", patience=args.epochs, target=1.0
            )
        ],
        seed=args.seed,
    )
    start = time.perf_counter()
    # the whole set is also the evaluation set: it is every pair there is
    history = trainer.fit(
        x,
        y,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_data=(x, y),
        progress=not args.no_progress,
    )
    return trainer, history, time.perf_counter() - start


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    if not 1 <= args.bits <= MAX_BITS:
        raise CLIError(f"--bits must be between 1 and {MAX_BITS}, got {args.bits}")
    x, y, a, b = subtraction_dataset(args.bits)
    model = build_model(args)
    show_summary(args, model, (1, args.bits, 2))
    print(
        f"{len(x)} pairs of {args.bits}-bit numbers; {args.cell.upper()} ({args.nonlinearity}) with "
        f"{args.hidden} units, {'no biases' if args.no_bias else 'biases'}"
    )
    trainer, history, seconds = train(args, model)
    epochs_run = len(history["loss"])
    predictions = trainer.predict(x)
    exact = float(np.mean(np.all((predictions > 0.5) == (y > 0.5), axis=(1, 2))))
    print(f"exact-match accuracy {exact:.2%} after {plural(epochs_run, 'epoch')}, {seconds:.1f} s")
    rng = np.random.default_rng(args.seed)
    if args.examples:
        print(
            "worked examples (bits printed most significant first, as numbers are written; the "
            "network reads them least significant first):\n"
        )
    for index in rng.choice(len(x), size=min(args.examples, len(x)), replace=False):
        print(format_example(int(a[index]), int(b[index]), predictions[index]))
        print()
    if args.save:
        save(args.save, model, app="subtract", bits=args.bits, cell=args.cell, hidden=args.hidden)
        print(f"model saved to {args.save}")
    finish(args, history, f"{args.bits}-bit subtraction ({args.cell.upper()}, {args.hidden} units)")
    return 0
