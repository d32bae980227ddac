"""``python -m benchmarks.markdown RESULTS.json``: a run's tables in the Markdown of
``docs/benchmarks.md``, so the page is copied from a run rather than retyped."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["breakdown_table", "main", "throughput_markdown"]


def _ratio(ratio: dict[str, float] | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio['median']:.2f}x [{ratio['min']:.2f}-{ratio['max']:.2f}]"


def throughput_markdown(rows: list[dict[str, Any]], mode: str) -> list[str]:
    """Tokens/s of ours and PyTorch, the paired ratio, and each one's share of the GEMM rate."""
    lines = [
        "| config | cell | ours tok/s | PyTorch tok/s | ours / PyTorch [min-max] | share of GEMM rate (ours / PyTorch) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row["mode"] != mode:
            continue
        speed, share = row["tokens_per_s"], row["gemm_share"]
        torch_share = f"{share['torch']:.0%}" if "torch" in share else "-"
        torch_speed = f"{speed['torch']:,.0f}" if "torch" in speed else "-"
        lines.append(
            f"| {row['label']} | {row['cell'].upper()} | {speed['ours']:,.0f} | {torch_speed} | "
            f"{_ratio(row['ratio_to'].get('torch'))} | {share['ours']:.0%} / {torch_share} |"
        )
    return lines


def breakdown_table(entries: list[dict[str, Any]]) -> list[str]:
    """The inference breakdown by part, one row per cell and shape."""
    lines = [
        "| config | cell | ours total | projection | recurrent GEMM | elementwise | copies, other | per step: GEMM / elementwise | PyTorch total | ours / PyTorch |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in entries:
        ms, step = entry["ms"], entry["per_step_us"]
        torch = f"{ms['torch']:.2f} ms" if "torch" in ms else "-"
        ratio = f"{entry['ours_over_torch_speed']:.2f}x" if "torch" in ms else "-"
        lines.append(
            f"| {entry['label']} | {entry['cell'].upper()} | {ms['total']:.2f} ms | "
            f"{ms['projection']:.2f} | {ms['gemm']:.2f} | {ms['elementwise']:.2f} | "
            f"{ms['copies_other']:.2f} | {step['gemm']:.0f} / {step['elementwise']:.0f} µs | "
            f"{torch} | {ratio} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.markdown RESULTS.json", file=sys.stderr)
        return 2
    results = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    for title, lines in (
        ("Training", throughput_markdown(results["throughput"], "train")),
        ("Inference", throughput_markdown(results["throughput"], "infer")),
        ("Inference by part", breakdown_table(results.get("breakdown", []))),
    ):
        print(f"### {title}\n")
        print("\n".join(lines) + "\n")
    print("### Targets\n")
    for target in results["targets"]:
        print(f"- {target['status']} {target['name']}: {target['detail']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
