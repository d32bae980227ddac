"""What a benchmark run measures: the problem shapes, the cells, and the effort of each mode.

The task everywhere is a character language model: one-hot input of ``VOCAB`` symbols -> one
recurrent layer of ``hidden`` units -> a dense head back to ``VOCAB`` logits -> cross-entropy over
every step, trained with plain SGD — the setting of the PyTorch figures in ``PERFORMANCE.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = [
    "CELLS",
    "VOCAB",
    "Plan",
    "Shape",
    "full_plan",
    "parse_shape",
    "quick_plan",
]

VOCAB = 65
CELLS = ("rnn", "gru", "lstm")


@dataclass(frozen=True)
class Shape:
    """One problem size: ``batch`` sequences of ``steps`` tokens, ``hidden`` units, a dtype."""

    batch: int
    steps: int
    hidden: int
    dtype: str = "float32"

    @property
    def tokens(self) -> int:
        """Tokens in one batch (what one training step consumes)."""
        return self.batch * self.steps

    @property
    def label(self) -> str:
        """Short display form, e.g. ``B64 T50 H256 f32``."""
        return f"B{self.batch} T{self.steps} H{self.hidden} f{self.dtype[-2:]}"

    @property
    def key(self) -> str:
        """The ``--configs`` spelling, e.g. ``64/50/256/float32``."""
        return f"{self.batch}/{self.steps}/{self.hidden}/{self.dtype}"


def parse_shape(text: str) -> Shape:
    """Parse ``B/T/H`` or ``B/T/H/dtype`` (as printed by :attr:`Shape.key`).

    Raises
    ------
    ValueError
        If the text is not of that form or a size is not a positive integer.
    """
    parts = text.strip().split("/")
    if len(parts) not in (3, 4):
        raise ValueError(f"configs: expected B/T/H or B/T/H/dtype, got {text!r}")
    try:
        batch, steps, hidden = (int(part) for part in parts[:3])
    except ValueError:
        raise ValueError(f"configs: sizes must be integers, got {text!r}") from None
    dtype = parts[3] if len(parts) == 4 else "float32"
    if min(batch, steps, hidden) < 1:
        raise ValueError(f"configs: sizes must be positive, got {text!r}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"configs: dtype must be float32 or float64, got {dtype!r}")
    return Shape(batch, steps, hidden, dtype)


@dataclass(frozen=True)
class Plan:
    """Everything that differs between ``--quick`` and ``--full``.

    Attributes
    ----------
    shapes, cells
        The grid of throughput/memory measurements.
    repeats
        Timed rounds per measurement; each round times every contender once.
    min_time
        Seconds each timed block lasts at least (a block repeats the step as often as needed).
    settle
        Seconds of untimed calls before each timed block (see :mod:`benchmarks.timing`).
    seed_steps
        Steps of the one-sample sequence the seed-style reference is timed on (it is slow, and its
        cost per token does not depend on the batch).
    seed_fresh
        Also time the seed-style reference alone in a fresh process (see
        :mod:`benchmarks.seed_side` for why the two differ).
    gemm_shapes
        ``(m, k, n)`` of the matrix products that measure the machine's GEMM rate; the first (a
        large square one) is the rate each configuration's arithmetic is compared with, the second
        is sized like one batched recurrent step.
    sweep_steps, sweep_hidden
        Scaling sweeps of our LSTM training step; empty tuples skip them.
    profile_shapes
        Shapes at which our LSTM training step is profiled with cProfile.
    breakdown_shapes
        Shapes at which each cell's inference forward is broken down into its parts
        (:mod:`benchmarks.breakdown`); empty skips it.
    sampling_tokens
        Tokens drawn per timed call of the sampling row (:mod:`benchmarks.sampling`); 0 skips it.
    eval_memory_steps, eval_memory_batch
        Sequence lengths and batch of the eval-forward peak-memory row; empty skips it.
    """

    name: str
    shapes: tuple[Shape, ...]
    cells: tuple[str, ...] = CELLS
    repeats: int = 7
    min_time: float = 0.3
    settle: float = 0.15
    seed_steps: int = 25
    seed_fresh: bool = True
    gemm_shapes: tuple[tuple[int, int, int], ...] = ((2048, 2048, 2048), (64, 256, 1024))
    sweep_steps: tuple[int, ...] = ()
    sweep_hidden: tuple[int, ...] = ()
    sweep_batch: int = 64
    profile_shapes: tuple[Shape, ...] = field(default=())
    breakdown_shapes: tuple[Shape, ...] = field(default=())
    sampling_tokens: int = 0
    eval_memory_steps: tuple[int, ...] = ()
    eval_memory_batch: int = 8

    def with_filters(self, cells: tuple[str, ...] | None, shapes: tuple[Shape, ...] | None) -> Plan:
        """The same plan restricted to other cells and/or shapes (``--only``, ``--configs``).

        The sweeps and profiles are of the LSTM: they are dropped when it is filtered out, and
        profiles are kept only at shapes still in the plan.
        """
        cells = cells or self.cells
        shapes = shapes or self.shapes
        breakdown_shapes = tuple(shape for shape in self.breakdown_shapes if shape in shapes)
        if "lstm" not in cells:
            return replace(
                self,
                cells=cells,
                shapes=shapes,
                sweep_steps=(),
                sweep_hidden=(),
                profile_shapes=(),
                breakdown_shapes=breakdown_shapes,
                sampling_tokens=0,
                eval_memory_steps=(),
            )
        profile_shapes = tuple(shape for shape in self.profile_shapes if shape in shapes)
        return replace(
            self,
            cells=cells,
            shapes=shapes,
            profile_shapes=profile_shapes,
            breakdown_shapes=breakdown_shapes,
        )


def full_plan() -> Plan:
    """The run we report: the issue's four shapes, sweeps and profiles; several minutes."""
    return Plan(
        name="full",
        shapes=(
            Shape(32, 50, 128),
            Shape(64, 50, 256),
            Shape(64, 100, 512),
            Shape(64, 50, 256, "float64"),
        ),
        sweep_steps=(25, 50, 100, 200, 400),
        sweep_hidden=(64, 128, 256, 512, 1024),
        profile_shapes=(Shape(64, 50, 256), Shape(64, 100, 512)),
        breakdown_shapes=(Shape(32, 50, 128), Shape(64, 50, 256), Shape(64, 100, 512)),
        sampling_tokens=200,
        eval_memory_steps=(200, 20_000),
    )


def quick_plan() -> Plan:
    """A smoke run: tiny shapes, one short round each, no sweeps and no profiles; seconds."""
    return Plan(
        name="quick",
        shapes=(Shape(4, 6, 8), Shape(4, 6, 8, "float64")),
        repeats=2,
        min_time=0.005,
        settle=0.0,
        seed_steps=4,
        seed_fresh=False,
        gemm_shapes=((256, 256, 256), (16, 64, 256)),
        breakdown_shapes=(Shape(4, 6, 8),),
        sampling_tokens=5,
        eval_memory_steps=(20, 200),
        eval_memory_batch=2,
    )
