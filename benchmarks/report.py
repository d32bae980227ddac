"""Plain-text tables of a run's results (the JSON holds the same numbers, unrounded)."""

from __future__ import annotations

from typing import Any

__all__ = ["gemm_lines", "memory_table", "sweep_lines", "throughput_table"]


def _number(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}{suffix}"
    return f"{value:.3g}{suffix}"


def _ratio(ratio: dict[str, float] | None) -> str:
    if ratio is None:
        return "-"
    return f"{_number(ratio['median'], 'x')} [{ratio['min']:.3g}-{ratio['max']:.3g}]"


def _percent(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0%}" if value >= 0.1 else f"{value:.1%}"


def _render(header: list[str], rows: list[list[str]], left: int = 2) -> list[str]:
    """Columns padded to their widest entry; the first ``left`` columns left-aligned."""
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def render(line: list[str]) -> str:
        cells = [
            text.ljust(width) if index < left else text.rjust(width)
            for index, (text, width) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return [render(header), render(["-" * width for width in widths]), *map(render, rows)]


def throughput_table(rows: list[dict[str, Any]], mode: str) -> list[str]:
    """Tokens/s of each contender, paired ratios, and arithmetic rates for one mode."""
    header = [
        "config",
        "cell",
        "ours tok/s",
        "torch tok/s",
        "ours/torch [min-max]",
        "seed tok/s",
        "ours/seed [min-max]",
        "ours/seed fresh",
        "ours GFLOP/s",
        "ours %GEMM",
        "torch %GEMM",
    ]
    lines = []
    for row in rows:
        if row["mode"] != mode:
            continue
        speed = row["tokens_per_s"]
        lines.append(
            [
                row["label"],
                row["cell"],
                _number(speed["ours"]),
                _number(speed.get("torch")),
                _ratio(row["ratio_to"].get("torch")),
                _number(speed.get("seed")),
                _ratio(row["ratio_to"].get("seed")),
                _number(row.get("seed_fresh_process", {}).get("ours_ratio"), "x"),
                _number(row["gflops"]["ours"]),
                _percent(row["gemm_share"]["ours"]),
                _percent(row["gemm_share"].get("torch")),
            ]
        )
    return _render(header, lines)


def memory_table(memory: list[dict[str, Any]]) -> list[str]:
    """Peak memory of one training step, each framework by its own meter and by RSS."""
    header = [
        "config",
        "cell",
        "ours traced MiB",
        "ours RSS+ MiB",
        "torch alloc MiB",
        "torch RSS+ MiB",
        "ours/torch",
    ]
    lines = [
        [
            entry["label"],
            entry["cell"],
            _number(entry["ours"]["traced_mib"]),
            _number(entry["ours"].get("rss_delta_mib")),
            _number(entry.get("torch", {}).get("allocator_mib")),
            _number(entry.get("torch", {}).get("rss_delta_mib")),
            _number(entry.get("ratio"), "x"),
        ]
        for entry in memory
    ]
    return _render(header, lines)


def gemm_lines(gemm: list[dict[str, Any]]) -> list[str]:
    """One line per measured matrix product."""
    return [
        f"{entry['backend']:5} {entry['dtype']}  ({entry['m']}x{entry['k']})@({entry['k']}x{entry['n']})"
        f": {entry['gflops']:.1f} GFLOP/s"
        for entry in gemm
    ]


def sweep_lines(result: dict[str, Any]) -> list[str]:
    """A sweep's points and its fitted exponents."""
    fixed = result["fixed"]
    other = (
        f"T{fixed['steps']}" if result["axis"] == "hidden" else f"H{fixed['hidden']}"
    ) + f" {fixed['dtype']}"
    letter = "T" if result["axis"] == "steps" else "H"
    points = ", ".join(
        f"{letter}{value}: {seconds * 1e3:.1f} ms"
        for value, seconds in zip(result["values"], result["seconds"], strict=True)
    )
    fit = f"exponent {result['exponent']:.2f} over all points"
    if "exponent_large" in result:
        fit += f", {result['exponent_large']:.2f} for {letter} >= {result['large_from']}"
    local = ", ".join(
        f"{letter}{low}->{high}: {slope:.2f}"
        for low, high, slope in zip(
            result["values"], result["values"][1:], result["local_exponents"], strict=False
        )
    )
    return [
        f"LSTM training step vs {letter} (B{result['batch']} {other}): {points}",
        f"  {fit}; between neighbours {local}",
    ]
