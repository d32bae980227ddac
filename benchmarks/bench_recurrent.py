"""Forward and forward+backward throughput of each recurrent cell driven by ``Unroll``.

Usage::

    python benchmarks/bench_recurrent.py [--batch 64] [--steps 50] [--input 65] [--hidden 256]
                                         [--dtype float32] [--repeats 7] [--json FILE]
                                         [--data-input]

Prints tokens/second (batch * steps / seconds, median of repeats after a warm-up) and the peak
traced memory (``tracemalloc``) of one forward+backward per cell. ``--data-input`` runs the
backward as the Trainer does for a first layer fed data, which needs no input gradient (with a
package version that has no such notion, the plain backward runs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn import module as mt_module


def median_seconds(fn: Callable[[], object], repeats: int, min_time: float = 0.3) -> float:
    """Median wall time of one call of ``fn`` over ``repeats`` timed blocks of >= ``min_time`` s."""
    fn()  # warm-up: allocations, BLAS thread start
    calls = 1
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    calls = max(1, int(min_time / max(once, 1e-9)))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def peak_memory_mib(fn: Callable[[], object]) -> float:
    """Peak memory traced by tracemalloc (numpy reports its buffers to it) during one call."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def backward_context(unroll: mt.Unroll, data_input: bool) -> contextlib.AbstractContextManager:
    """What the Trainer wraps ``backward`` in when the input is data (if the package has it)."""
    skip = getattr(mt_module, "input_grad_needed", None)
    return skip(unroll, False) if data_input and skip is not None else contextlib.nullcontext()


def bench_cell(
    name: str,
    batch: int,
    steps: int,
    inputs: int,
    hidden: int,
    dtype: str,
    repeats: int,
    data_input: bool = False,
) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, inputs)).astype(dtype)
    grad = rng.standard_normal((batch, steps, hidden)).astype(dtype)
    unroll = mt.Unroll(mt.recurrent.make_cell(name, inputs, hidden, seed=0, dtype=dtype))

    def inference() -> None:
        unroll.eval()
        unroll.forward(x)

    def training() -> None:
        unroll.train()
        unroll.forward(x)
        with backward_context(unroll, data_input):
            unroll.backward(grad)

    tokens = batch * steps
    forward_s = median_seconds(inference, repeats)
    train_s = median_seconds(training, repeats)
    return {
        "cell": name,
        "forward_tokens_per_s": tokens / forward_s,
        "train_tokens_per_s": tokens / train_s,
        "forward_ms": forward_s * 1e3,
        "train_ms": train_s * 1e3,
        "train_peak_mib": peak_memory_mib(training),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--input", type=int, default=65)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cells", default="rnn,gru,lstm")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--data-input",
        action="store_true",
        help="backward as for a first layer fed data: no input gradient (as the Trainer runs it)",
    )
    args = parser.parse_args(argv)
    print(
        f"minitorch_rnn {mt.__version__}, numpy {np.__version__}, {platform.processor() or platform.machine()}; "
        f"batch {args.batch}, steps {args.steps}, input {args.input}, hidden {args.hidden}, {args.dtype}"
    )
    print(
        f"{'cell':6} {'forward tok/s':>14} {'fwd+bwd tok/s':>14} {'fwd ms':>8} {'fwd+bwd ms':>11} {'peak MiB':>9}"
    )
    results = []
    for name in args.cells.split(","):
        row = bench_cell(
            name,
            args.batch,
            args.steps,
            args.input,
            args.hidden,
            args.dtype,
            args.repeats,
            args.data_input,
        )
        results.append(row)
        print(
            f"{name:6} {row['forward_tokens_per_s']:14,.0f} {row['train_tokens_per_s']:14,.0f} "
            f"{row['forward_ms']:8.2f} {row['train_ms']:11.2f} {row['train_peak_mib']:9.1f}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"config": vars(args), "results": results}, handle, indent=2)
    return results


if __name__ == "__main__":
    main()
