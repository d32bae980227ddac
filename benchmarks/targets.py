"""The issue's performance targets, evaluated on a run's results (reported, never enforced).

- training >= 1.0x PyTorch for each cell at (B64, T50, H256) and >= 0.7x at (B32, T50, H128);
- issue 20: inference GRU >= 1.0x PyTorch at every float32 configuration, LSTM >= 0.75x at
  (B64, T100, H512) and >= 0.6x at (B64, T50, H256); LSTM training >= 1.0x at (B32, T50, H128);
- LSTM training >= 50% of the measured float32 GEMM rate at (B64, T100, H512);
- training >= 100x the seed-style reference for each cell at (B64, T50, H256), against both of its
  figures (interleaved in this process, and alone in a fresh process: see
  :mod:`benchmarks.seed_side`);
- peak training memory <= 1.5x PyTorch's (ours traced / PyTorch allocator) at each of the four
  configurations of ``--full``.

A target whose measurement is not in the run (a filtered or ``--quick`` run, no torch) is SKIP.
Ratios are medians of per-round ratios; min and max are shown so a borderline PASS is visible.
"""

from __future__ import annotations

from typing import Any

from .configs import CELLS, Shape, full_plan

__all__ = ["evaluate_targets", "target_lines"]

_TORCH_SHAPES = ((Shape(64, 50, 256), 1.0), (Shape(32, 50, 128), 0.7))
# issue 20: (cell, mode, shape, threshold) against PyTorch on the CPU's own BLAS kernel
_SPEED_TARGETS = (
    *(
        ("gru", "infer", shape, 1.0)
        for shape in (Shape(32, 50, 128), Shape(64, 50, 256), Shape(64, 100, 512))
    ),
    ("lstm", "infer", Shape(64, 100, 512), 0.75),
    ("lstm", "infer", Shape(64, 50, 256), 0.6),
    ("lstm", "train", Shape(32, 50, 128), 1.0),
)
_GEMM_SHAPE, _GEMM_SHARE = Shape(64, 100, 512), 0.5
_SEED_SHAPE, _SEED_RATIO = Shape(64, 50, 256), 100.0
_MEMORY_RATIO = 1.5
# tiny shapes measure Python objects and allocator slack, not a training step's working set
_MEMORY_SHAPES = {shape.label for shape in full_plan().shapes}


def _find(rows: list[dict[str, Any]], shape: Shape, cell: str, mode: str) -> dict[str, Any] | None:
    for row in rows:
        if row["key"] == shape.key and row["cell"] == cell and row["mode"] == mode:
            return row
    return None


def _target(name: str, value: float | None, threshold: float, passes: bool, detail: str) -> dict:
    if value is None:
        return {
            "name": name,
            "status": "SKIP",
            "value": None,
            "threshold": threshold,
            "detail": detail,
        }
    status = "PASS" if passes else "MISS"
    return {
        "name": name,
        "status": status,
        "value": value,
        "threshold": threshold,
        "detail": detail,
    }


def _ratio_target(
    row: dict | None, other: str, threshold: float, name: str, context: str = ""
) -> dict:
    ratio = (row or {}).get("ratio_to", {}).get(other)
    if ratio is None:
        reason = "not measured in this run" if row is None else f"no {other} measurement"
        return _target(name, None, threshold, False, reason)
    detail = f"{ratio['median']:.3g}x (min {ratio['min']:.3g}, max {ratio['max']:.3g}){context}"
    return _target(name, ratio["median"], threshold, ratio["median"] >= threshold, detail)


def evaluate_targets(rows: list[dict[str, Any]], memory: list[dict[str, Any]]) -> list[dict]:
    """Every target as ``{"name", "status" (PASS/MISS/SKIP), "value", "threshold", "detail"}``."""
    targets = []
    for shape, threshold in _TORCH_SHAPES:
        for cell in CELLS:
            name = f"training >= {threshold}x PyTorch, {cell.upper()} at {shape.label}"
            row = _find(rows, shape, cell, "train")
            targets.append(_ratio_target(row, "torch", threshold, name))

    for cell, mode, shape, threshold in _SPEED_TARGETS:
        what = "inference" if mode == "infer" else "training"
        name = f"{what} >= {threshold}x PyTorch, {cell.upper()} at {shape.label}"
        targets.append(_ratio_target(_find(rows, shape, cell, mode), "torch", threshold, name))

    name = f"LSTM training >= {_GEMM_SHARE:.0%} of the float32 GEMM rate at {_GEMM_SHAPE.label}"
    row = _find(rows, _GEMM_SHAPE, "lstm", "train")
    if row is None:
        targets.append(_target(name, None, _GEMM_SHARE, False, "not measured in this run"))
    else:
        share = row["gemm_share"]["ours"]
        detail = f"{share:.0%} ({row['gflops']['ours']:.1f} GFLOP/s)"
        targets.append(_target(name, share, _GEMM_SHARE, share >= _GEMM_SHARE, detail))

    for cell in CELLS:
        where = f"{cell.upper()} at {_SEED_SHAPE.label}"
        name = f"training >= {_SEED_RATIO:.0f}x the seed-style reference (interleaved), {where}"
        row = _find(rows, _SEED_SHAPE, cell, "train")
        torch_over_seed = (row or {}).get("torch_over_seed")
        context = f"; PyTorch: {torch_over_seed['median']:.3g}x" if torch_over_seed else ""
        targets.append(_ratio_target(row, "seed", _SEED_RATIO, name, context))
        name = f"training >= {_SEED_RATIO:.0f}x the seed-style reference (fresh process), {where}"
        fresh = (row or {}).get("seed_fresh_process")
        if fresh is None:
            targets.append(_target(name, None, _SEED_RATIO, False, "not measured in this run"))
        else:
            ratio = fresh["ours_ratio"]
            detail = f"{ratio:.3g}x (seed-style {fresh['tokens_per_s']:,.0f} tok/s)"
            if fresh.get("torch_ratio") is not None:
                detail += f"; PyTorch: {fresh['torch_ratio']:.3g}x"
            targets.append(_target(name, ratio, _SEED_RATIO, ratio >= _SEED_RATIO, detail))

    measured = [
        entry
        for entry in memory
        if entry.get("ratio") is not None and entry["label"] in _MEMORY_SHAPES
    ]
    labels = list(dict.fromkeys(entry["label"] for entry in measured))  # run order, no repeats
    for label in labels:
        entries = [entry for entry in measured if entry["label"] == label]
        worst = max(entries, key=lambda entry: entry["ratio"])
        name = f"peak training memory <= {_MEMORY_RATIO}x PyTorch's at {label}"
        detail = ", ".join(f"{entry['cell']} {entry['ratio']:.2f}x" for entry in entries)
        targets.append(
            _target(name, worst["ratio"], _MEMORY_RATIO, worst["ratio"] <= _MEMORY_RATIO, detail)
        )
    if not labels:
        name = f"peak training memory <= {_MEMORY_RATIO}x PyTorch's"
        reason = "no PyTorch memory measurement at the configurations above in this run"
        targets.append(_target(name, None, _MEMORY_RATIO, False, reason))
    return targets


def target_lines(targets: list[dict]) -> list[str]:
    """One ``PASS/MISS/SKIP  name: detail`` line per target."""
    return [f"{t['status']:4}  {t['name']}: {t['detail']}" for t in targets]
