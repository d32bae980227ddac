"""``minitorch-rnn gradflow``: watch the gradient vanish, or not, as it flows back through time.

Four cells - a tanh RNN, an IRNN (ReLU with identity recurrent weights), a GRU and an LSTM - read
the same adding-problem sequences (see ``minitorch-rnn adding``). The loss depends on the last
step only, so the gradient reaching the hidden state ``k`` steps back has travelled through ``k``
recurrent steps. Its norm over the batch and hidden units, ``||d loss / d h_(T-1-k)||``, divided by
its value at ``k = 0``, is shown against ``k`` (log scale): at initialisation and after a short
training (--train-steps Adam steps). A plain tanh RNN multiplies the gradient by a Jacobian of norm
below one at every step, so the curve falls exponentially; gates (GRU, LSTM) and identity weights
(IRNN) keep it near one.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..datasets.adding import adding_problem
from ..losses import MSELoss
from ..module import Sequential
from ..optim import Adam
from ..recurrent.registry import cell_names
from ..recurrent.unroll import Unroll
from ..training import Trainer
from ..training.gradient_flow import GradientFlow
from .adding import FreshBatches, build_model, tuned_lr_and_clip
from .common import (
    CLIError,
    add_summary_argument,
    check_outputs,
    positive_int,
    pyplot,
    show_summary,
)

CELL_LABELS = {"rnn": "RNN (tanh)", "irnn": "IRNN (relu, identity)", "gru": "GRU", "lstm": "LSTM"}
DEFAULT_CELLS = "rnn,irnn,gru,lstm"
CELL_COLOURS = {"rnn": "tab:red", "irnn": "tab:orange", "gru": "tab:green", "lstm": "tab:blue"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gradflow",
        help="gradient norm against steps back for RNN, IRNN, GRU and LSTM",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--steps", type=positive_int, default=100, help="sequence length T (default 100)"
    )
    parser.add_argument(
        "--cells",
        type=_cell_list,
        default=DEFAULT_CELLS,  # argparse passes a str default through type
        metavar="LIST",
        help=f"comma-separated registered cells: {', '.join(cell_names())} "
        f"(default {DEFAULT_CELLS})",
    )
    parser.add_argument("--hidden", type=positive_int, default=32, help="hidden units (default 32)")
    parser.add_argument(
        "--train-steps",
        type=positive_int,
        default=1500,
        help="Adam steps of the short training (default 1500)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="training batch size (default 32)"
    )
    parser.add_argument(
        "--probe-size",
        type=positive_int,
        default=256,
        help="sequences of the fixed batch whose gradient is measured (default 256)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--plot", metavar="FILE.png", help="draw the curves (needs matplotlib)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_summary_argument(parser)
    parser.set_defaults(func=run)


def _cell_list(text: str) -> tuple[str, ...]:
    cells = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [cell for cell in cells if cell not in cell_names()]
    if not cells or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(cell_names())}, got {text!r}"
        )
    return tuple(dict.fromkeys(cells))  # each once, in the given order


def gradient_profile(model: Sequential, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``||d loss / d h_t||`` for every input position ``t`` of ``x``, from one backward pass.

    The model's parameter gradients are left as they were (zeroed after the pass).
    """
    unroll = model[0]
    assert isinstance(unroll, Unroll)
    previous = unroll.record_grad_norms
    unroll.record_grad_norms = True
    try:
        model.train()
        loss = MSELoss()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        norms = np.array(unroll.grad_norms, dtype=np.float64)
    finally:
        unroll.record_grad_norms = previous
        model.zero_grad()
    return norms


def relative_to_last(norms: np.ndarray) -> np.ndarray:
    """Norms against steps back ``k = 0..T-1``, divided by the norm at ``k = 0`` (the last step)."""
    back = norms[::-1]
    return back / back[0] if back[0] > 0 else back


def run(args: argparse.Namespace) -> int:
    check_outputs(args)  # a bad --plot path or a missing matplotlib, before any training
    if args.steps < 2:
        raise CLIError(f"--steps must be at least 2, got {args.steps}")
    probe_x, probe_y = adding_problem(
        args.probe_size, args.steps, seed=np.random.default_rng([args.seed, 3])
    )
    print(
        f"gradient flow over T={args.steps} steps of the adding problem, {args.hidden} units; "
        f"short training: {args.train_steps} Adam steps of batch {args.batch_size}"
    )
    curves: dict[str, dict[str, np.ndarray]] = {}
    for kind in args.cells:
        model = build_model(kind, args.hidden, args.seed)
        show_summary(args, model, (args.batch_size, args.steps, 2))
        before = relative_to_last(gradient_profile(model, probe_x, probe_y))
        start = time.perf_counter()
        mse, flow = _short_training(model, kind, args)
        after = relative_to_last(gradient_profile(model, probe_x, probe_y))
        curves[kind] = {"init": before, "trained": after}
        print(
            f"{_label(kind)}: trained in {time.perf_counter() - start:.1f} s, last batch MSE "
            f"{mse:.4f}; {len(flow.records)} gradient-flow records kept"
        )
    print(format_table(curves, args.steps))
    if args.plot:
        plot_curves(curves, args.plot, args.steps)
        print(f"plot written to {args.plot}")
    return 0


def _short_training(model: Sequential, kind: str, args: argparse.Namespace) -> tuple[float, Any]:
    lr, clip = tuned_lr_and_clip(kind)
    flow = GradientFlow(every=max(1, args.train_steps // 10))
    trainer = Trainer(
        model,
        MSELoss(),
        Adam(model.parameters(), lr=lr),
        metrics=(),
        clip_norm=clip,
        callbacks=[flow],
        seed=args.seed,
    )
    # the training stream of `minitorch-rnn adding` with the same seed
    batches = FreshBatches(args.train_steps, args.batch_size, args.steps, [args.seed, 2])
    history = trainer.fit(batches, epochs=1, progress=not args.no_progress)
    return float(history["loss"][-1]), flow


def _shown_steps(steps: int) -> list[int]:
    marks = [0, 1, 5, 10, 25, 50, 100, 200, 500, 1000]
    return sorted({k for k in marks if k < steps} | {steps - 1})


def format_table(curves: dict[str, dict[str, np.ndarray]], steps: int) -> str:
    """Relative gradient norms at a few distances, one row per cell and moment."""
    shown = _shown_steps(steps)
    header = f"{'cell':24}{'':9}" + "".join(f"{f'k={k}':>10}" for k in shown)
    lines = ["relative gradient norm ||dL/dh_(T-1-k)|| / ||dL/dh_(T-1)||, k steps back:", header]
    for kind, curve in curves.items():
        for moment, values in curve.items():
            cells = "".join(f"{values[k]:>10.1e}" for k in shown)
            lines.append(f"{_label(kind):24}{moment:9}{cells}")
    return "\n".join(lines)


def plot_curves(curves: dict[str, dict[str, np.ndarray]], path: str, steps: int) -> None:
    """Two log-scale panels, at initialisation and after training, one curve per cell."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    titles = {"init": "at initialisation", "trained": "after a short training"}
    for axis, moment in zip(axes, ("init", "trained"), strict=True):
        for kind, curve in curves.items():
            values = np.maximum(curve[moment], 1e-300)  # an exact zero cannot go on a log axis
            axis.semilogy(
                np.arange(steps), values, color=CELL_COLOURS.get(kind), label=_label(kind)
            )
        axis.set_title(titles[moment])
        axis.set_xlabel("steps back k")
        axis.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("||dL/dh_(T-1-k)|| / ||dL/dh_(T-1)||")
    axes[0].legend(loc="lower left", fontsize=8)
    figure.suptitle(f"Gradient flow through time, adding problem T={steps}")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _label(cell: str) -> str:
    """How a cell is named in the report: the built-in ones with their nonlinearity."""
    return CELL_LABELS.get(cell, cell.upper())
