"""One timed block of a workload, run by :mod:`benchmarks.trees` in a child process whose
``PYTHONPATH`` selects the source tree of ``minitorch_rnn`` under test.

Run as a script (``python benchmarks/tree_child.py WORKLOAD B T H CALLS``), it imports nothing of
the benchmark package, only the ``minitorch_rnn`` the path selects, and uses no API newer than the
oldest tree compared, so one script times every tree. It prints one JSON line: the seconds per
call of ``CALLS`` calls after a warm-up, and the path of the package it imported.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import numpy as np

import minitorch_rnn as mt

VOCAB = 65
WORKLOADS = ("train", "infer")


def make_step(workload: str, batch: int, steps: int, hidden: int) -> Callable[[], None]:
    """The callable to time: an Adam training step or an eval forward of one-hot 65 -> LSTM ->
    Dense 65 (-> cross-entropy over every step)."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, size=(batch, steps + 1))
    inputs = np.eye(VOCAB, dtype=np.float32)[ids[:, :-1]]
    targets = np.ascontiguousarray(ids[:, 1:])
    model = mt.Sequential(
        mt.Unroll(mt.LSTMCell(VOCAB, hidden, seed=0, dtype="float32")),
        mt.Dense(hidden, VOCAB, seed=1, dtype="float32"),
    )
    criterion = mt.CrossEntropyLoss()
    optimizer = mt.optim.Adam(model.parameters(), lr=1e-4)

    def train() -> None:
        optimizer.zero_grad()
        model.train()
        criterion.forward(model.forward(inputs), targets)
        model.backward(criterion.backward())
        optimizer.step()

    def infer() -> None:
        model.eval()
        model.forward(inputs)

    return train if workload == "train" else infer


def main(argv: list[str]) -> None:
    workload, batch, steps, hidden, calls = argv[0], *(int(a) for a in argv[1:5])
    if workload not in WORKLOADS:
        raise SystemExit(f"tree_child: workload must be one of {WORKLOADS}, got {workload!r}")
    step = make_step(workload, batch, steps, hidden)
    for _ in range(2):  # warm-up: allocations, BLAS threads
        step()
    start = time.perf_counter()
    for _ in range(calls):
        step()
    seconds = (time.perf_counter() - start) / calls
    print(json.dumps({"seconds": seconds, "package": mt.__file__}))


if __name__ == "__main__":
    main(sys.argv[1:])
