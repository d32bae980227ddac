"""cProfile summary of our training step: where the Python-visible time goes.

cProfile attributes a numpy call's whole duration (including BLAS threads' work) to the Python
function that made it, so ``tottime`` of ``numpy.matmul``/``ufunc`` entries is the time spent
inside numpy, and each of our functions' own ``tottime`` is its interpreter overhead.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path

from .configs import Shape
from .ours import build_model, ours_workload
from .workload import make_batch

__all__ = ["profile_training"]


def profile_training(cell: str, shape: Shape, steps: int, path: Path, top: int = 40) -> list[str]:
    """Profile ``steps`` training steps (after one warm-up) and write the summary to ``path``.

    Returns
    -------
    list of str
        The header and the table lines of the top functions by ``tottime``.
    """
    workload = ours_workload(build_model(cell, shape), make_batch(shape))
    workload.train()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        workload.train()
    profiler.disable()

    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    text = (
        f"cProfile of {steps} {cell.upper()} training steps at {shape.label} "
        f"(sorted by tottime; per-step = total / {steps})\n" + buffer.getvalue()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return _table_lines(buffer.getvalue())


def _table_lines(report: str) -> list[str]:
    """The total line and the table (from its ``ncalls`` header on) of a pstats report."""
    lines = [line.rstrip() for line in report.splitlines() if line.strip()]
    total = [line.strip() for line in lines if "function calls" in line]
    start = next((index for index, line in enumerate(lines) if "ncalls" in line), len(lines))
    return total + lines[start:]
