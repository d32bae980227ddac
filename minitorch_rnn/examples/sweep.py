"""``minitorch-rnn sweep``: a grid of configurations × seeds trained as parallel Ray Tune trials.

``minitorch-rnn sweep subtract`` reruns the binary-subtraction exercises of the tutorial
(hidden nonlinearity × biases × hidden units × seeds; see the tutorial "Binary subtraction"), every
trial a run of ``minitorch-rnn subtract``, and prints the table of exact-match accuracies. Needs
the extra ``distributed`` (Ray); ``--address`` joins a running Ray cluster.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets.subtraction import MAX_BITS
from . import subtract
from .common import CLIError, check_output_file, positive_float, positive_int, pyplot

__all__ = ["format_table", "register", "subtract_trial"]

_RESULT_SUFFIXES = (".csv", ".json")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a grid of configurations x seeds in parallel on Ray",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    applications = parser.add_subparsers(
        dest="application", metavar="APPLICATION", parser_class=type(parser)
    )
    applications.required = True
    app = applications.add_parser(
        "subtract",
        help="the binary-subtraction exercises (nonlinearity x biases x hidden units x seeds)",
        description="Train `minitorch-rnn subtract` for every point of the grid and every seed.",
    )
    grid = app.add_argument_group("grid (every combination runs)")
    grid.add_argument(
        "--nonlinearity",
        nargs="+",
        choices=("tanh", "sigmoid", "relu"),
        default=["tanh", "sigmoid"],
        metavar="ACT",
        help="hidden nonlinearities: tanh, sigmoid, relu (default tanh sigmoid)",
    )
    grid.add_argument(
        "--bias",
        nargs="+",
        choices=("yes", "no"),
        default=["yes", "no"],
        metavar="{yes,no}",
        help="with and/or without biases (default yes no)",
    )
    grid.add_argument(
        "--hidden",
        nargs="+",
        type=positive_int,
        default=[2, 4, 8, 16],
        metavar="N",
        help="hidden units (default 2 4 8 16)",
    )
    grid.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0],
        metavar="SEED",
        help="random seeds of each point (default 0)",
    )
    fixed = app.add_argument_group("training (the same for every trial)")
    fixed.add_argument(
        "--bits", type=int, default=4, help=f"bits per number, 1..{MAX_BITS} (default 4)"
    )
    fixed.add_argument(
        "--epochs", type=positive_int, default=1000, help="maximum epochs (default 1000)"
    )
    fixed.add_argument(
        "--lr", type=positive_float, default=0.01, help="Adam learning rate (default 0.01)"
    )
    fixed.add_argument(
        "--batch-size", type=positive_int, default=16, help="pairs per batch (default 16)"
    )
    ray_group = app.add_argument_group("Ray")
    ray_group.add_argument(
        "--num-workers",
        type=positive_int,
        metavar="N",
        help="trials running at once (default: every CPU of the Ray cluster)",
    )
    ray_group.add_argument(
        "--address",
        metavar="ADDR",
        help="join the Ray cluster at this address (default: start a local Ray)",
    )
    outputs = app.add_argument_group("outputs")
    outputs.add_argument(
        "--output", metavar="FILE", help="write one row per trial to FILE.csv or FILE.json"
    )
    outputs.add_argument(
        "--plot", metavar="FILE.png", help="draw the accuracy table (needs matplotlib)"
    )
    app.set_defaults(func=run)


def subtract_trial(config: Mapping[str, Any], fixed: Mapping[str, Any]) -> dict[str, Any]:
    """One trial: ``minitorch-rnn subtract`` at a grid point; exact-match accuracy, epochs, time.

    ``config`` holds ``nonlinearity``, ``bias`` (bool), ``hidden`` and ``seed``; ``fixed`` holds
    ``bits``, ``epochs``, ``lr`` and ``batch_size``.
    """
    args = argparse.Namespace(
        cell="rnn",
        nonlinearity=config["nonlinearity"],
        no_bias=not config["bias"],
        hidden=int(config["hidden"]),
        seed=int(config["seed"]),
        no_progress=True,
        clip=None,
        clip_norm=None,
        **fixed,
    )
    _, history, seconds = subtract.train(args, subtract.build_model(args))
    return {
        "accuracy": float(history["val_sequence_accuracy"][-1]),
        "epochs": len(history["loss"]),
        "seconds": round(seconds, 3),
    }


def run(args: argparse.Namespace) -> int:
    for option in ("output", "plot"):
        path = getattr(args, option)
        suffixes = _RESULT_SUFFIXES if option == "output" else (".png",)
        if path is not None:
            check_output_file(path, f"--{option}", suffixes)
    if args.plot:
        pyplot()  # a missing matplotlib is reported now, not after the whole sweep
    if not 1 <= args.bits <= MAX_BITS:
        raise CLIError(f"--bits must be between 1 and {MAX_BITS}, got {args.bits}")
    grid = {
        "nonlinearity": _unique(args.nonlinearity, "--nonlinearity"),
        "bias": [value == "yes" for value in _unique(args.bias, "--bias")],
        "hidden": _unique(args.hidden, "--hidden"),
    }
    seeds = _unique(args.seeds, "--seeds")
    fixed = {"bits": args.bits, "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size}
    # Ray Tune's older, quieter console output: one line per event instead of boxed tables.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    try:
        from ..distributed import sweep
    except ImportError as error:
        raise CLIError(str(error)) from None
    trials = len(grid["nonlinearity"]) * len(grid["bias"]) * len(grid["hidden"]) * len(seeds)
    print(f"{trials} trials of {args.bits}-bit subtraction, at most {args.epochs} epochs each")
    start = time.perf_counter()
    try:
        rows = sweep(
            functools.partial(subtract_trial, fixed=fixed),
            grid,
            seeds,
            num_workers=args.num_workers,
            address=args.address,
        )
    except ConnectionError as error:
        raise CLIError(str(error)) from None
    wall = time.perf_counter() - start
    print(format_table(rows, grid["hidden"]))
    total = sum(row["seconds"] for row in rows)
    print(f"{trials} trials in {wall:.1f} s wall time ({total:.1f} s of training summed)")
    if args.output:
        _write_rows(rows, Path(args.output))
        print(f"results written to {args.output}")
    if args.plot:
        _plot(rows, grid["hidden"], args.plot)
        print(f"plot written to {args.plot}")
    return 0


def format_table(rows: Sequence[Mapping[str, Any]], hidden_sizes: Sequence[int]) -> str:
    """A Markdown table: one row per (nonlinearity, biases), one column per hidden size.

    A cell is the exact-match accuracy, with epochs and seconds when it reached 100 %; with
    several seeds, the mean accuracy over the seeds (the cell says "mean") and how many of them
    reached 100 %.
    """
    header = ["nonlinearity", "biases", *(f"{size} units" for size in hidden_sizes)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for (nonlinearity, bias), cells in _grouped(rows).items():
        texts = [_cell(cells.get(size, [])) for size in hidden_sizes]
        lines.append(f"| {nonlinearity} | {'yes' if bias else 'no'} | " + " | ".join(texts) + " |")
    return "\n".join(lines)


def _grouped(
    rows: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, bool], dict[int, list[Mapping[str, Any]]]]:
    grouped: dict[tuple[str, bool], dict[int, list[Mapping[str, Any]]]] = {}
    for row in rows:
        cells = grouped.setdefault((row["nonlinearity"], row["bias"]), {})
        cells.setdefault(int(row["hidden"]), []).append(row)
    return grouped


def _percent(value: float) -> str:
    return "100 %" if value == 1.0 else f"{100 * value:.1f} %"


def _cell(trials: Sequence[Mapping[str, Any]]) -> str:
    if not trials:
        return "—"
    if len(trials) == 1:
        (trial,) = trials
        if trial["accuracy"] == 1.0:
            return f"100 % ({trial['epochs']} ep, {trial['seconds']:.1f} s)"
        return _percent(trial["accuracy"])
    mean = float(np.mean([trial["accuracy"] for trial in trials]))
    solved = sum(trial["accuracy"] == 1.0 for trial in trials)
    return f"mean {_percent(mean)} ({solved}/{len(trials)} seeds at 100 %)"


def _unique(values: Sequence[Any], option: str) -> list[Any]:
    if len(set(values)) != len(values):
        raise CLIError(f"{option} repeats a value: {' '.join(map(str, values))}")
    return list(values)


def _write_rows(rows: Sequence[Mapping[str, Any]], target: Path) -> None:
    if target.suffix.lower() == ".json":
        target.write_text(json.dumps(list(rows), indent=2) + "\n", encoding="utf-8")
        return
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _plot(rows: Sequence[Mapping[str, Any]], hidden_sizes: Sequence[int], path: str) -> None:
    """A heat map of the mean exact-match accuracy into the PNG at ``path``."""
    plt = pyplot()
    grouped = _grouped(rows)
    labels = [f"{nonlinearity}, {'bias' if bias else 'no bias'}" for nonlinearity, bias in grouped]
    accuracy = np.array(
        [
            [
                np.mean([t["accuracy"] for t in cells.get(size, [])] or [np.nan])
                for size in hidden_sizes
            ]
            for cells in grouped.values()
        ]
    )
    figure, axis = plt.subplots(figsize=(1.6 * len(hidden_sizes) + 3, 0.6 * len(labels) + 1.5))
    image = axis.imshow(accuracy, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    axis.set_xticks(range(len(hidden_sizes)), [f"{size} units" for size in hidden_sizes])
    axis.set_yticks(range(len(labels)), labels)
    for (row, column), value in np.ndenumerate(accuracy):
        color = "black" if value > 0.6 else "white"  # readable on viridis's light end
        axis.text(column, row, _percent(value), ha="center", va="center", color=color)
    figure.colorbar(image, ax=axis, label="exact-match accuracy")
    axis.set_title("binary subtraction: exact-match accuracy (mean over seeds)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
