"""Interleaved timing of several contenders, summarised by paired ratios.

The machine is shared and its speed drifts (other processes, frequency, caches), so absolute times
of two contenders measured minutes apart are not comparable. Instead every round times each
contender once, back to back, and the comparison is the median over rounds of the per-round ratio,
reported with its min and max. Rounds alternate direction (A B C, C B A, ...) so that no contender
always runs right after the same other one.

Each block starts with untimed calls lasting at least ``settle`` seconds (and at least one call).
This matters in one process on a small machine: after numpy's last BLAS call, OpenBLAS's worker
thread keeps spinning for about 0.1 s, and PyTorch's OpenMP threads starting meanwhile on the same
two cores can stall for that long (measured: a 0.6 ms torch product took 118 ms right after numpy
GEMMs); the reverse hand-over costs a few milliseconds. The settle calls absorb the hand-over and
re-warm the contender's caches, so each block measures the contender's steady state.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "Contender",
    "Timings",
    "calls_per_block",
    "interleave",
    "median_seconds",
    "ratio_summary",
]


@dataclass(frozen=True)
class Contender:
    """A named callable that processes ``tokens`` tokens per call."""

    name: str
    run: Callable[[], object]
    tokens: int


@dataclass
class Timings:
    """Seconds per call of each contender, one entry per round (same order for all)."""

    seconds: dict[str, list[float]]
    tokens: dict[str, int]
    calls: dict[str, int]

    def tokens_per_second(self, name: str) -> float:
        """Median throughput of one contender over the rounds."""
        return self.tokens[name] / statistics.median(self.seconds[name])

    def ratios(self, name: str, other: str) -> list[float]:
        """Per-round throughput ratio ``name / other`` (> 1: ``name`` is faster)."""
        return [
            (self.tokens[name] / mine) / (self.tokens[other] / theirs)
            for mine, theirs in zip(self.seconds[name], self.seconds[other], strict=True)
        ]


def calls_per_block(run: Callable[[], object], min_time: float, settle: float = 0.0) -> int:
    """How many calls make a timed block last at least ``min_time`` seconds.

    Sizes the block with one timed call after untimed ones (warm-up: allocations, BLAS thread
    pools, oneDNN primitives; see :func:`_time_block` for ``settle``).
    """
    once = _time_block(run, 1, settle)
    return max(1, int(min_time / max(once, 1e-9)) + 1) if once < min_time else 1


def _time_block(run: Callable[[], object], calls: int, settle: float = 0.0) -> float:
    """Seconds per call over ``calls`` calls, after untimed calls lasting ``settle`` seconds."""
    settle_until = time.perf_counter() + settle
    run()
    while time.perf_counter() < settle_until:
        run()
    start = time.perf_counter()
    for _ in range(calls):
        run()
    return (time.perf_counter() - start) / calls


def median_seconds(
    run: Callable[[], object], min_time: float, repeats: int, settle: float = 0.0
) -> float:
    """Median seconds per call of one contender alone over ``repeats`` blocks (after a warm-up)."""
    calls = calls_per_block(run, min_time, settle)
    return statistics.median([_time_block(run, calls) for _ in range(repeats)])


def interleave(
    contenders: Sequence[Contender], repeats: int, min_time: float, settle: float = 0.0
) -> Timings:
    """Time every contender once per round, for ``repeats`` rounds, after warming each up.

    Parameters
    ----------
    contenders
        What to compare; each block of a contender lasts at least ``min_time`` seconds.
    repeats
        Number of rounds (>= 1).
    settle
        Seconds of untimed calls that start every block (at least one call).

    Returns
    -------
    Timings
        Seconds per call of every contender in every round.
    """
    if repeats < 1:
        raise ValueError(f"interleave: repeats must be >= 1, got {repeats}")
    calls = {c.name: calls_per_block(c.run, min_time, settle) for c in contenders}
    seconds: dict[str, list[float]] = {c.name: [] for c in contenders}
    for round_index in range(repeats):
        order = contenders if round_index % 2 == 0 else list(reversed(contenders))
        for contender in order:
            block = _time_block(contender.run, calls[contender.name], settle)
            seconds[contender.name].append(block)
    return Timings(seconds, {c.name: c.tokens for c in contenders}, calls)


def ratio_summary(ratios: Sequence[float]) -> dict[str, float]:
    """Median, min and max of per-round ratios."""
    return {
        "median": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
    }
