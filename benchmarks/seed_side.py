"""The seed-style reference as a timed contender (always float64, one sample per call).

Per-sample code costs the same per token whatever the batch size, and it is slow (hundreds of
tokens per second at hidden 256), so it is timed on one sample of a few steps per call and its
throughput compared per token with the batched frameworks.

Its speed depends on the process it runs in. Every step allocates fresh gradient matrices of a
few hundred KiB; in a new process glibc serves them with ``mmap`` and returns them on ``free``, so
each is page-faulted in again (about 400 faults per token for an LSTM at hidden 256). Once the same
process has freed multi-MiB arrays — as the batched frameworks do every step — glibc raises its
``mmap`` threshold and keeps such blocks on the heap, and the seed-style code runs 2-4x faster.
Hence two figures: interleaved in the benchmark process (:func:`seed_workload`, its best case) and
alone in a fresh process (:func:`fresh_process_tokens_per_s`, as textbook code runs on its
own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import cycle
from pathlib import Path

from . import seed_reference
from .configs import VOCAB, Shape, parse_shape
from .ours import LEARNING_RATE
from .timing import median_seconds
from .workload import Batch, Workload, make_batch

__all__ = ["fresh_process_tokens_per_s", "seed_workload"]

_ROOT = Path(__file__).resolve().parents[1]


def seed_workload(cell: str, shape: Shape, batch: Batch, steps: int) -> Workload:
    """Train on / predict one sample of ``min(steps, shape.steps)`` steps per call, cycling rows."""
    steps = min(steps, shape.steps)
    parameters = seed_reference.initialize_parameters(cell, VOCAB, shape.hidden, VOCAB)
    samples = [(row[:steps].tolist(), row[1 : steps + 1].tolist()) for row in batch.ids]
    order = cycle(samples)

    def train() -> float:
        inputs, targets = next(order)
        return seed_reference.train_on_sample(cell, parameters, inputs, targets, LEARNING_RATE)

    def infer() -> object:
        inputs, _ = next(order)
        return seed_reference.predict(cell, parameters, inputs)

    def loss() -> float:
        inputs, targets = samples[0]
        total, _ = seed_reference.sequence_loss_and_gradients(cell, parameters, inputs, targets)
        return total / steps

    return Workload(train=train, infer=infer, tokens=steps, loss=loss)


def fresh_process_tokens_per_s(
    cell: str, shape: Shape, steps: int, mode: str, min_time: float, repeats: int
) -> float:
    """Tokens/s of the seed-style ``mode`` ("train"/"infer") timed alone in a new Python process."""
    command = [sys.executable, "-m", "benchmarks.seed_side", cell, shape.key, str(steps), mode]
    command += [str(min_time), str(repeats)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=_ROOT, env=env
    )
    return float(json.loads(completed.stdout)["tokens_per_s"])


def _measure_here(argv: list[str]) -> None:
    """Entry point of the fresh process: ``cell B/T/H/dtype steps mode min_time repeats``."""
    cell, key, steps, mode, min_time, repeats = argv
    shape = parse_shape(key)
    workload = seed_workload(cell, shape, make_batch(shape), int(steps))
    seconds = median_seconds(getattr(workload, mode), float(min_time), int(repeats))
    print(json.dumps({"tokens_per_s": workload.tokens / seconds}))


if __name__ == "__main__":
    _measure_here(sys.argv[1:])
