"""How our LSTM training step scales with sequence length and hidden size.

A training step does ``T`` sequential steps of work proportional to ``B * H * (I + H)``, so the
time should grow like ``T^1`` and, once the ``H^2`` recurrent products dominate, like ``H^2``. The
exponent is the slope of a least-squares line through ``(log size, log seconds)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .configs import Shape
from .ours import build_model, ours_workload
from .timing import median_seconds
from .workload import make_batch

__all__ = ["loglog_exponent", "sweep"]


def loglog_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Slope of ``log(seconds)`` against ``log(sizes)`` (needs two or more distinct sizes)."""
    slope, _ = np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float)), 1)
    return float(slope)


def sweep(
    axis: str,
    values: Sequence[int],
    base: Shape,
    min_time: float,
    repeats: int,
    large_from: int | None = None,
) -> dict:
    """Median seconds per LSTM training step at each ``values`` of ``axis`` ("steps"/"hidden").

    Returns
    -------
    dict
        ``axis``, ``values``, ``seconds``, ``tokens_per_s``, the fitted ``exponent`` over all
        values, ``local_exponents`` between neighbouring values and, when ``large_from`` is
        given, ``exponent_large`` over values >= it.
    """
    if axis not in ("steps", "hidden"):
        raise ValueError(f"sweep: axis must be 'steps' or 'hidden', got {axis!r}")
    seconds = []
    for value in values:
        shape = Shape(
            base.batch,
            value if axis == "steps" else base.steps,
            value if axis == "hidden" else base.hidden,
            base.dtype,
        )
        workload = ours_workload(build_model("lstm", shape), make_batch(shape))
        seconds.append(median_seconds(workload.train, min_time, repeats))
    tokens = [base.batch * (value if axis == "steps" else base.steps) for value in values]
    result = {
        "axis": axis,
        "batch": base.batch,
        "fixed": {"steps": base.steps, "hidden": base.hidden, "dtype": base.dtype},
        "values": list(values),
        "seconds": seconds,
        "tokens_per_s": [count / time for count, time in zip(tokens, seconds, strict=True)],
        "exponent": loglog_exponent(values, seconds),
        # slope between neighbouring points: shows where the asymptotic regime starts
        "local_exponents": [
            loglog_exponent(values[index : index + 2], seconds[index : index + 2])
            for index in range(len(values) - 1)
        ],
    }
    if large_from is not None:
        large = [(v, s) for v, s in zip(values, seconds, strict=True) if v >= large_from]
        if len(large) >= 2:
            result["exponent_large"] = loglog_exponent(*zip(*large, strict=True))
            result["large_from"] = large_from
    return result
