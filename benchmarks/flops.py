"""Arithmetic per token and the machine's measured matrix-product rate.

Only the matrix products are counted; the elementwise work (gate nonlinearities, cell update, the
softmax) is what separates an implementation's rate from the GEMM rate.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from .timing import median_seconds

__all__ = ["FLOP_FORMULA", "GATES", "flops_per_token", "gemm_rate"]

GATES = {"rnn": 1, "gru": 3, "lstm": 4}

FLOP_FORMULA = (
    "FLOPs/token: forward = 2(I+H)*G*H (gates, G = 1 RNN, 3 GRU, 4 LSTM) + 2*H*V (head); "
    "training = 3 x forward (backward ~ 2x forward); inference = forward. I = V = 65."
)


def flops_per_token(cell: str, input_size: int, hidden: int, vocab: int, training: bool) -> float:
    """Matrix-product FLOPs per token of the benchmark model (see :data:`FLOP_FORMULA`)."""
    forward = 2 * (input_size + hidden) * GATES[cell] * hidden + 2 * hidden * vocab
    return float(3 * forward if training else forward)


def gemm_rate(
    m: int,
    k: int,
    n: int,
    dtype: str,
    min_time: float,
    repeats: int = 5,
    torch: ModuleType | None = None,
    settle: float = 0.0,
) -> float:
    """GFLOP/s of ``(m x k) @ (k x n)`` (``2 m k n`` FLOPs), with numpy or, if given, torch.

    The product is written into a preallocated output so that only the multiplication is timed;
    ``settle`` seconds of untimed products come first (see :mod:`benchmarks.timing`).
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype)
    if torch is None:

        def run() -> object:
            return np.matmul(a, b, out=out)

    else:
        a_t, b_t, out_t = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(out)

        def run() -> object:
            return torch.matmul(a_t, b_t, out=out_t)

    seconds = median_seconds(run, min_time, repeats, settle)
    return 2.0 * m * k * n / seconds / 1e9
