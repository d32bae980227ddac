"""A PNG summary of a run (optional: needs matplotlib)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_chart"]


def write_chart(results: dict[str, Any], path: Path) -> str:
    """Draw throughput bars per mode and the scaling sweeps into ``path``.

    Returns
    -------
    str
        ``""`` when written, else why not (matplotlib missing).
    """
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        return "matplotlib not installed: no chart written"
    matplotlib.use("Agg")
    pyplot = importlib.import_module("matplotlib.pyplot")

    sweeps = [result for result in (results.get("sweeps") or {}).values() if result]
    figure, axes = pyplot.subplots(2, 2, figsize=(13, 9), squeeze=False)
    panels = list(axes.flat)
    for axis, mode in zip(panels[:2], ("train", "infer"), strict=True):
        _throughput_bars(axis, [row for row in results["throughput"] if row["mode"] == mode], mode)
    for axis, result in zip(panels[2:], sweeps, strict=False):
        _sweep_plot(axis, result)
    for axis in panels[2 + len(sweeps) :]:
        axis.set_axis_off()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return ""


def _throughput_bars(axis: Any, rows: list[dict[str, Any]], mode: str) -> None:
    """Ours / PyTorch with its min-max range when PyTorch ran, else our tokens/s."""
    labels = [f"{row['cell']} {row['label']}" for row in rows]
    positions = np.arange(len(rows))
    title = "training" if mode == "train" else "inference"
    if rows and all("torch" in row["ratio_to"] for row in rows):
        ratios = [row["ratio_to"]["torch"] for row in rows]
        medians = np.array([ratio["median"] for ratio in ratios])
        spread = np.array(
            [
                [m - r["min"] for m, r in zip(medians, ratios, strict=True)],
                [r["max"] - m for m, r in zip(medians, ratios, strict=True)],
            ]
        )
        axis.bar(positions, medians, yerr=spread, capsize=3, color="tab:blue")
        axis.axhline(1.0, color="black", linewidth=1)
        axis.set_ylabel("ours / PyTorch (median, min-max)")
        axis.set_title(f"{title}: throughput relative to PyTorch")
    else:
        axis.bar(positions, [row["tokens_per_s"]["ours"] for row in rows], color="tab:blue")
        axis.set_ylabel("tokens / s")
        axis.set_title(f"{title} throughput (ours)")
    axis.set_xticks(positions, labels, rotation=60, ha="right", fontsize=7)


def _sweep_plot(axis: Any, result: dict[str, Any]) -> None:
    letter = "T" if result["axis"] == "steps" else "H"
    axis.loglog(result["values"], result["seconds"], "o-", label="LSTM training step")
    axis.set_xlabel(f"{letter} (log)")
    axis.set_ylabel("seconds per step (log)")
    axis.set_title(f"scaling in {letter}: exponent {result['exponent']:.2f}")
    axis.legend()
