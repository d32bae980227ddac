"""``python -m benchmarks.trees``: the same workload timed on two or more source trees, paired.

Each tree is a checkout of the project (``--tree NAME=PATH``); a child process runs
:mod:`benchmarks.tree_child` with ``PYTHONPATH=PATH``, so it imports that tree's
``minitorch_rnn``. Rounds alternate the order of the trees (A B, B A, ...), and the comparison is
the median of the per-round ratios with their min and max (see ``PERFORMANCE.md``, "How to
measure well here"). The children run without the BLAS-forcing variables, like
``python -m benchmarks`` (see :mod:`benchmarks.blas_env`).

Example, the training step before and after a change::

    python -m benchmarks.trees --tree before=../old-checkout --tree after=. --workload train
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .blas_env import without_forcing
from .configs import parse_shape

__all__ = ["compare_trees", "main", "parse_tree"]

CHILD = Path(__file__).resolve().parent / "tree_child.py"


def parse_tree(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` -> ``(NAME, PATH)``; the path must hold a ``minitorch_rnn`` package."""
    name, separator, path = text.partition("=")
    if not separator or not name or not path:
        raise ValueError(f"--tree: expected NAME=PATH, got {text!r}")
    root = Path(path).resolve()
    if not (root / "minitorch_rnn" / "__init__.py").is_file():
        raise ValueError(f"--tree: {root} holds no minitorch_rnn package")
    return name, root


def _time_once(root: Path, workload: str, shape: Sequence[int], calls: int) -> float:
    environment = without_forcing(os.environ)
    environment["PYTHONPATH"] = str(root)
    result = subprocess.run(
        [sys.executable, str(CHILD), workload, *(str(size) for size in shape), str(calls)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if not str(report["package"]).startswith(str(root)):
        raise RuntimeError(f"trees: the child imported {report['package']}, not the tree {root}")
    return float(report["seconds"])


def compare_trees(
    trees: Sequence[tuple[str, Path]],
    workload: str,
    shape: Sequence[int],
    rounds: int,
    calls: int,
    timer: Callable[[Path, str, Sequence[int], int], float] = _time_once,
) -> dict[str, Any]:
    """Seconds per call of each tree in each round, and every tree's per-round time ratio to the
    first tree (``> 1``: slower than the first)."""
    seconds: dict[str, list[float]] = {name: [] for name, _ in trees}
    for round_index in range(rounds):
        order = trees if round_index % 2 == 0 else list(reversed(trees))
        for name, root in order:
            seconds[name].append(timer(root, workload, shape, calls))
    first = trees[0][0]
    ratios = {
        name: [mine / theirs for mine, theirs in zip(seconds[name], seconds[first], strict=True)]
        for name, _ in trees[1:]
    }
    return {
        "workload": workload,
        "shape": list(shape),
        "trees": {name: str(root) for name, root in trees},
        "seconds": seconds,
        "median_ms": {name: statistics.median(values) * 1e3 for name, values in seconds.items()},
        "time_ratio_to_first": {
            name: {"median": statistics.median(r), "min": min(r), "max": max(r)}
            for name, r in ratios.items()
        },
    }


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The result as printed: one line per tree."""
    first = next(iter(result["trees"]))
    lines = [
        f"{result['workload']} at B{result['shape'][0]} T{result['shape'][1]} "
        f"H{result['shape'][2]} (LSTM, float32), {len(result['seconds'][first])} paired rounds:"
    ]
    for name, root in result["trees"].items():
        line = f"  {name:10} {result['median_ms'][name]:8.1f} ms per call  ({root})"
        ratio = result["time_ratio_to_first"].get(name)
        if ratio is not None:
            line += (
                f"  time / {first}: {ratio['median']:.3f} [{ratio['min']:.3f}-{ratio['max']:.3f}]"
            )
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.trees", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tree", action="append", required=True, help="NAME=PATH, two or more")
    parser.add_argument("--workload", choices=("train", "infer"), default="train")
    parser.add_argument("--shape", default="64/50/256", help="B/T/H of the LSTM (float32)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=5, help="timed calls per child process")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    try:
        trees = [parse_tree(text) for text in args.tree]
        shape = parse_shape(args.shape)
    except ValueError as error:
        parser.error(str(error))
    if len(trees) < 2:
        parser.error("--tree: give at least two trees to compare")
    if args.rounds < 1 or args.calls < 1:
        parser.error("--rounds and --calls must be >= 1")
    size = (shape.batch, shape.steps, shape.hidden)
    result = compare_trees(trees, args.workload, size, args.rounds, args.calls)
    result["load_average_end"] = list(os.getloadavg())
    for line in summary_lines(result):
        print(line)
    print("load average at end: " + ", ".join(f"{v:.2f}" for v in result["load_average_end"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
