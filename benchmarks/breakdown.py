"""Where an inference forward's time goes: the recurrent layer alone, ours beside PyTorch's.

For one cell and shape it times, interleaved round by round (:func:`benchmarks.timing.interleave`):

- ``total``: our eval-mode ``Unroll.forward`` over the batch (the recurrent layer, no head);
- ``projection``: the input projection of every step, chunk by chunk as the eval path runs it;
- ``steps``: the ``T`` calls of the cell's ``step`` on a fixed projection (GEMM + elementwise);
- ``gemm``: the ``T`` recurrent matrix products alone, ``h_prev @ weight_hh.T``, of the same shape;
- ``torch``: PyTorch's ``nn.RNN/GRU/LSTM`` forward under ``inference_mode`` (when available).

and derives ``elementwise = steps - gemm`` and ``copies and other = total - projection - steps``
(the time loop's Python work, state copies, the output's layout). Medians over rounds; each part
is timed on its own, so the parts add up to the total only roughly.
"""

from __future__ import annotations

import statistics
from types import ModuleType
from typing import Any

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn.recurrent.cell import run_step
from minitorch_rnn.recurrent.time_order import time_major_slice
from minitorch_rnn.recurrent.unroll import eval_chunk_steps

from .configs import VOCAB, Shape
from .timing import Contender, interleave

__all__ = ["breakdown_lines", "measure_breakdown"]


def _ours(cell_name: str, shape: Shape, x: np.ndarray) -> dict[str, Any]:
    """Our contenders, each a callable over the whole batch."""
    cell = mt.recurrent.make_cell(cell_name, VOCAB, shape.hidden, seed=0, dtype=shape.dtype)
    unroll = mt.Unroll(cell)
    unroll.eval()
    batch, steps = shape.batch, shape.steps
    chunk = eval_chunk_steps(batch)
    hidden = shape.hidden
    gates = cell.num_gates * hidden
    projected = cell.project_input(x[:, 0])
    states = [tuple(np.zeros((batch, hidden), cell.dtype) for _ in cell.state_names) for _ in "ab"]
    cache = cell.allocate_cache((batch,))
    assert cell.weight_hh is not None
    weight_hh = cell.weight_hh.data
    product = np.empty((batch, gates), cell.dtype)

    def projection() -> None:
        for start in range(0, steps, chunk):
            stop = min(start + chunk, steps)
            rows = time_major_slice(x, None, False, start, stop)
            cell.project_input(rows.reshape((stop - start) * batch, -1))

    def step_loop() -> None:
        for t in range(steps):
            run_step(cell, projected, states[t % 2], states[(t + 1) % 2], cache)

    def gemm_loop() -> None:
        h = states[0][0]
        for _ in range(steps):
            np.matmul(h, weight_hh.T, out=product)

    return {
        "total": lambda: unroll.forward(x),
        "projection": projection,
        "steps": step_loop,
        "gemm": gemm_loop,
    }


def _theirs(torch: ModuleType, cell_name: str, shape: Shape, x: np.ndarray) -> Any:
    layer = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell_name]
    dtype = torch.float64 if shape.dtype == "float64" else torch.float32
    recurrent = layer(VOCAB, shape.hidden, batch_first=True).to(dtype)
    inputs = torch.from_numpy(x)

    def forward() -> None:
        with torch.inference_mode():
            recurrent(inputs)

    return forward


def measure_breakdown(
    cell_name: str,
    shape: Shape,
    torch: ModuleType | None,
    repeats: int,
    min_time: float,
    settle: float,
) -> dict[str, Any]:
    """Milliseconds of each part (medians over interleaved rounds) and the per-step figures."""
    ids = np.random.default_rng(0).integers(0, VOCAB, size=(shape.batch, shape.steps))
    x = np.eye(VOCAB, dtype=shape.dtype)[ids]
    parts = _ours(cell_name, shape, x)
    contenders = [Contender(name, run, 1) for name, run in parts.items()]
    if torch is not None:
        contenders.append(Contender("torch", _theirs(torch, cell_name, shape, x), 1))
    timings = interleave(contenders, repeats, min_time, settle)
    ms = {name: statistics.median(values) * 1e3 for name, values in timings.seconds.items()}
    ms["elementwise"] = ms["steps"] - ms["gemm"]
    ms["copies_other"] = ms["total"] - ms["projection"] - ms["steps"]
    result: dict[str, Any] = {
        "cell": cell_name,
        "label": shape.label,
        "key": shape.key,
        "ms": ms,
        "per_step_us": {
            name: ms[name] * 1e3 / shape.steps for name in ("gemm", "elementwise", "steps")
        },
    }
    if "torch" in ms:
        result["ours_over_torch_speed"] = statistics.median(timings.ratios("total", "torch"))
    return result


def breakdown_lines(entries: list[dict[str, Any]]) -> list[str]:
    """One line per cell and shape: our parts, PyTorch's total, the speed ratio."""
    lines = []
    for entry in entries:
        ms, step = entry["ms"], entry["per_step_us"]
        line = (
            f"{entry['label']} {entry['cell'].upper():4}: ours {ms['total']:.2f} ms = projection "
            f"{ms['projection']:.2f} + recurrent GEMM {ms['gemm']:.2f} + elementwise "
            f"{ms['elementwise']:.2f} + copies/other {ms['copies_other']:.2f} "
            f"(per step: GEMM {step['gemm']:.0f} us, elementwise {step['elementwise']:.0f} us)"
        )
        if "torch" in ms:
            line += (
                f"; PyTorch {ms['torch']:.2f} ms; ours/torch {entry['ours_over_torch_speed']:.2f}x"
            )
        lines.append(line)
    return lines
