"""``python -m benchmarks.bench_distributed [--quick]``: what Ray buys on this machine, measured.

1. **Data-parallel training** of a character language model (``Embedding -> LSTM -> Dense`` over
   65 symbols, cross-entropy at every step, Adam): tokens per second of an epoch trained in this
   process (with numpy's BLAS threads, and with one BLAS thread as each Ray worker has), with
   ``RayStrategy(1)`` and with ``RayStrategy(2)``; for the Ray runs, the bytes moved
   per step (weights out, gradients back, batch and predictions) and the per-step overhead (wall
   time of a step minus the longest worker's compute time). The contenders alternate round by
   round; each fit's first epoch (worker start-up, warm-up) is not timed.
2. **Sweep wall time**: the binary-subtraction exercise grid of ``docs/tutorials/subtract.md``
   (``minitorch-rnn sweep subtract``) with 1 and then 2 concurrent trials.

Results: a summary on stdout and JSON (``--json``, default
``benchmarks/results/distributed[-quick].json``). The machine is shared and has 2 cores: read
ratios taken in one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn.examples.char_model import build_char_model

from .environment import describe, header_lines

__all__ = ["main"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
VOCAB = 65


class _StepRecorder(mt.callbacks.Callback):
    """Per-epoch wall times and, with a RayStrategy, each step's :class:`StepStats`."""

    def __init__(self, strategy: Any) -> None:
        super().__init__()
        self.strategy = strategy
        self.epoch_seconds: list[float] = []
        self.steps: list[Any] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._start = time.perf_counter()
        self.steps = []

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self.strategy is not None:
            self.steps.append(self.strategy.last_step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._start)


def _batches(batch: int, steps: int, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, (count, batch, steps + 1))
    return [(chunk[:, :-1], chunk[:, 1:]) for chunk in ids]


def _train_epoch_pair(
    workers: int | None, loader: list[tuple[np.ndarray, np.ndarray]], hidden: int
) -> tuple[float, list[Any]]:
    """Fit two epochs; return the second epoch's seconds and its steps' statistics."""
    from minitorch_rnn.distributed import RayStrategy

    if workers == 0:  # in this process, limited to one BLAS thread like a 1-CPU Ray worker
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return _train_epoch_pair(None, loader, hidden)

    strategy = None if workers is None else RayStrategy(workers)
    model = build_char_model(VOCAB, 32, "lstm", hidden, seed=0)
    recorder = _StepRecorder(strategy)
    trainer = mt.Trainer(
        model,
        mt.CrossEntropyLoss(),
        mt.optim.Adam(model.parameters(), lr=0.002),
        metrics=(),
        callbacks=[recorder],
        strategy=strategy,
    )
    trainer.fit(loader, epochs=2, progress=False)
    return recorder.epoch_seconds[1], recorder.steps


def data_parallel(batch: int, steps: int, hidden: int, batches: int, rounds: int) -> dict[str, Any]:
    """Tokens/s in-process and over 1 and 2 Ray workers, alternating, ``rounds`` times."""
    loader = _batches(batch, steps, batches)
    tokens = batch * steps * batches
    # workers: None = in this process with numpy's BLAS threads, 0 = in this process with one
    # BLAS thread (what each 1-CPU Ray worker gets: Ray sets OMP_NUM_THREADS to its CPUs)
    contenders: dict[str, int | None] = {"in-process": None, "ray-1": 1, "ray-2": 2}
    if importlib.util.find_spec("threadpoolctl") is not None:
        contenders["in-process-1-blas-thread"] = 0
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    stats: dict[str, list[Any]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, workers in contenders.items():
            seconds, step_stats = _train_epoch_pair(workers, loader, hidden)
            rates[name].append(tokens / seconds)
            stats[name].extend(step_stats)
    result: dict[str, Any] = {
        "shape": {"batch": batch, "steps": steps, "hidden": hidden, "batches": batches},
        "tokens_per_s": {name: _spread(values) for name, values in rates.items()},
        "speedup_vs_in_process": {
            name: _spread([r / base for r, base in zip(values, rates["in-process"], strict=True)])
            for name, values in rates.items()
            if name != "in-process"
        },
        "ray-2_vs_ray-1": _spread(
            [two / one for two, one in zip(rates["ray-2"], rates["ray-1"], strict=True)]
        ),
    }
    for name in ("ray-1", "ray-2"):
        steps_of = stats[name]
        result[name] = {
            "weight_bytes_per_step": steps_of[0].weight_bytes,
            "gradient_bytes_per_step": steps_of[0].gradient_bytes,
            "data_bytes_per_step": steps_of[0].data_bytes,
            "step_ms": _spread([1e3 * s.seconds for s in steps_of]),
            "worker_compute_ms": _spread([1e3 * s.worker_seconds for s in steps_of]),
            "overhead_ms": _spread([1e3 * (s.seconds - s.worker_seconds) for s in steps_of]),
        }
    return result


def sweep_wall_time(quick: bool) -> dict[str, Any]:
    """Wall time of the subtraction exercise grid with 1, then 2 concurrent trials."""
    from minitorch_rnn.distributed import sweep
    from minitorch_rnn.examples.sweep import subtract_trial

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    grid: dict[str, list[Any]] = {
        "activation": ["tanh", "sigmoid"],
        "bias": [True, False],
        "hidden": [4, 8] if quick else [2, 4, 8, 16],
    }
    fixed = {"bits": 4, "epochs": 20 if quick else 1000, "lr": 0.01, "batch_size": 16}
    trial = functools.partial(subtract_trial, fixed=fixed)
    result: dict[str, Any] = {"grid": grid, "fixed": fixed}
    for workers in (1, 2):
        start = time.perf_counter()
        rows = sweep(trial, grid, seeds=[0], workers=workers)
        result[f"workers-{workers}"] = {
            "wall_s": round(time.perf_counter() - start, 2),
            "training_s": round(sum(row["seconds"] for row in rows), 2),
            "trials": len(rows),
        }
    return result


def worker_blas_threads() -> Any:
    """The BLAS thread pools a 1-CPU Ray worker runs with (Ray sets OMP_NUM_THREADS to its CPUs)."""
    import ray

    def pools() -> Any:
        import numpy  # noqa: F401  (loads the BLAS library that threadpoolctl inspects)

        try:
            from threadpoolctl import threadpool_info
        except ImportError:
            return {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
        return [
            {"api": pool["internal_api"], "threads": pool["num_threads"]}
            for pool in threadpool_info()
        ]

    return ray.get(ray.remote(num_cpus=1)(pools).remote())


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_distributed",
        description="Data-parallel throughput and sweep wall time on Ray (1 and 2 workers).",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep timing")
    parser.add_argument(
        "--no-data-parallel", action="store_true", help="skip the data-parallel throughput"
    )
    parser.add_argument("--rounds", type=int, help="alternating rounds of the three contenders")
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import ray

    ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False)
    environment = describe(torch=None)
    for line in header_lines(environment):
        print(line)
    shape = (8, 20, 32, 4) if args.quick else (64, 50, 256, 12)
    rounds = args.rounds or (1 if args.quick else 3)
    results: dict[str, Any] = {
        "environment": environment,
        "cpus": os.cpu_count(),
        "worker_blas": worker_blas_threads(),
    }
    if not args.no_data_parallel:
        results["data_parallel"] = data_parallel(*shape, rounds=rounds)
        print(json.dumps(results["data_parallel"], indent=2))
    if not args.no_sweep:
        results["sweep"] = sweep_wall_time(args.quick)
        print(json.dumps(results["sweep"], indent=2))
    ray.shutdown()
    target = args.json or RESULTS_DIR / f"distributed{'-quick' if args.quick else ''}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
