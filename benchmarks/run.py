"""``python -m benchmarks --quick|--full``: throughput, memory and scaling of minitorch_rnn.

For each configuration (batch, steps, hidden, dtype) and cell (RNN, GRU, LSTM) of a character
language model (one-hot 65 -> one recurrent layer -> Dense 65 -> cross-entropy over every step ->
SGD), it times a training step and an inference forward of

- ours: ``Sequential(Unroll(cell), Dense)`` + ``CrossEntropyLoss`` + ``optim.SGD``;
- PyTorch CPU (when ``import torch`` works), on two threads, with the same weights;
- the seed-style reference (:mod:`benchmarks.seed_reference`: textbook per-sample
  code, float64), on one sample of a few steps,

interleaved round by round, and reports tokens/second, the median (min, max) of per-round ratios,
the arithmetic rate against the machine's measured GEMM rate, and the peak memory of a training
step. ``--full`` adds scaling sweeps of our LSTM in T and H and cProfile summaries; ``--quick``
runs tiny shapes in seconds and needs none of torch, threadpoolctl or matplotlib.

Results: a table on stdout, JSON (``--json``, default ``benchmarks/results/<mode>.json``) and a PNG
chart when matplotlib is installed (``--png``). PASS/MISS lines report the issue's targets; they
are information, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from . import memory
from .breakdown import breakdown_lines, measure_breakdown
from .chart import write_chart
from .configs import CELLS, VOCAB, Plan, Shape, full_plan, parse_shape, quick_plan
from .environment import describe, header_lines, kernel_line
from .flops import FLOP_FORMULA, flops_per_token, gemm_rate
from .ours import build_model, ours_workload
from .profiling import profile_training
from .report import gemm_lines, memory_table, sweep_lines, throughput_table
from .sampling import eval_memory, measure_sampling, sampling_lines
from .scaling import sweep
from .seed_side import fresh_process_tokens_per_s, seed_workload
from .targets import evaluate_targets, target_lines
from .timing import Contender, Timings, interleave, ratio_summary
from .torch_side import import_torch, torch_workload
from .workload import Workload, make_batch

__all__ = ["build_parser", "main", "run"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 2**20
SWEEP_REPEATS = 3
PROFILE_STEPS = 8
SEED_FRESH_REPEATS = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark minitorch_rnn against PyTorch CPU and seed-style numpy code.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="tiny shapes, seconds (a smoke test)")
    mode.add_argument("--full", action="store_true", help="the reported run (default; minutes)")
    parser.add_argument("--only", help=f"comma-separated cells to run, from {','.join(CELLS)}")
    parser.add_argument(
        "--configs", help="comma-separated shapes B/T/H[/dtype], e.g. 64/50/256,64/50/256/float64"
    )
    parser.add_argument("--repeats", type=int, help="timed rounds per measurement")
    parser.add_argument("--min-time", type=float, help="seconds per timed block (at least)")
    parser.add_argument(
        "--settle", type=float, help="seconds of untimed calls before each timed block"
    )
    parser.add_argument(
        "--keep-blas-env",
        action="store_true",
        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE if set (measure the forced BLAS kernel; "
        "by default they are removed from this process's environment)",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--no-seed", action="store_true", help="skip the seed-style reference")
    parser.add_argument("--no-memory", action="store_true", help="skip peak-memory measurements")
    parser.add_argument("--no-sweeps", action="store_true", help="skip the T and H sweeps")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile summaries")
    parser.add_argument(
        "--no-breakdown", action="store_true", help="skip the inference breakdown by part"
    )
    parser.add_argument(
        "--no-sampling", action="store_true", help="skip the sampling and eval-memory rows"
    )
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    parser.add_argument("--png", type=Path, help="where to write the chart (needs matplotlib)")
    parser.add_argument("--no-png", action="store_true", help="write no chart")
    parser.add_argument(
        "--profile-dir", type=Path, default=RESULTS_DIR, help="where profile_*.txt files go"
    )
    return parser


def _plan_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Plan:
    plan = quick_plan() if args.quick else full_plan()
    cells = None
    if args.only:
        cells = tuple(name.strip().lower() for name in args.only.split(",") if name.strip())
        unknown = sorted(set(cells) - set(CELLS))
        if unknown or not cells:
            parser.error(f"--only: unknown cell(s) {unknown}; choose from {', '.join(CELLS)}")
    shapes = None
    if args.configs:
        try:
            shapes = tuple(parse_shape(text) for text in args.configs.split(",") if text.strip())
        except ValueError as error:
            parser.error(str(error))
    plan = plan.with_filters(cells, shapes)
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error("--repeats must be >= 1")
        plan = replace(plan, repeats=args.repeats)
    if args.min_time is not None:
        if args.min_time < 0:
            parser.error("--min-time must be >= 0")
        plan = replace(plan, min_time=args.min_time)
    if args.settle is not None:
        if args.settle < 0:
            parser.error("--settle must be >= 0")
        plan = replace(plan, settle=args.settle)
    if args.no_sweeps:
        plan = replace(plan, sweep_steps=(), sweep_hidden=())
    if args.no_profile:
        plan = replace(plan, profile_shapes=())
    if args.no_breakdown:
        plan = replace(plan, breakdown_shapes=())
    if args.no_sampling:
        plan = replace(plan, sampling_tokens=0, eval_memory_steps=())
    return plan


def _measure_gemm(plan: Plan, torch: ModuleType | None) -> list[dict[str, Any]]:
    entries = []
    backends: list[tuple[str, ModuleType | None]] = [("numpy", None)]
    if torch is not None:
        backends.append(("torch", torch))
    for name, module in backends:
        for dtype in ("float32", "float64"):
            for m, k, n in plan.gemm_shapes:
                rate = gemm_rate(
                    m, k, n, dtype, max(plan.min_time, 0.05), torch=module, settle=plan.settle
                )
                entries.append(
                    {"backend": name, "dtype": dtype, "m": m, "k": k, "n": n, "gflops": rate}
                )
    return entries


def _throughput_row(
    cell: str, shape: Shape, mode: str, timings: Timings, gemm: dict[str, float]
) -> dict[str, Any]:
    names = list(timings.seconds)
    tokens_per_s = {name: timings.tokens_per_second(name) for name in names}
    flops = flops_per_token(cell, VOCAB, shape.hidden, VOCAB, training=mode == "train")
    gflops = {name: flops * tokens_per_s[name] / 1e9 for name in ("ours", "torch") if name in names}
    return {
        "cell": cell,
        "mode": mode,
        "label": shape.label,
        "key": shape.key,
        "shape": {
            "batch": shape.batch,
            "steps": shape.steps,
            "hidden": shape.hidden,
            "dtype": shape.dtype,
        },
        "tokens_per_s": tokens_per_s,
        "ratio_to": {
            other: ratio_summary(timings.ratios("ours", other))
            for other in names
            if other != "ours"
        },
        "torch_over_seed": (
            ratio_summary(timings.ratios("torch", "seed"))
            if "torch" in names and "seed" in names
            else None
        ),
        "seconds_per_call": timings.seconds,
        "tokens_per_call": timings.tokens,
        "calls_per_block": timings.calls,
        "flops_per_token": flops,
        "gflops": gflops,
        "gemm_share": {name: rate / gemm[shape.dtype] for name, rate in gflops.items()},
    }


def _progress(row: dict[str, Any]) -> str:
    parts = [f"ours {row['tokens_per_s']['ours']:,.0f} tok/s"]
    for other, ratio in row["ratio_to"].items():
        parts.append(
            f"{other} {row['tokens_per_s'][other]:,.0f} (ours/{other} {ratio['median']:.3g}x)"
        )
    if "seed_fresh_process" in row:
        fresh = row["seed_fresh_process"]
        parts.append(
            f"seed in a fresh process {fresh['tokens_per_s']:,.0f} (ours/seed {fresh['ours_ratio']:.3g}x)"
        )
    return f"  {row['cell']:4} {row['label']} {row['mode']:5}: " + ", ".join(parts)


def _memory_entry(
    cell: str, shape: Shape, ours: Workload, theirs: Workload | None, torch: ModuleType | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"cell": cell, "label": shape.label, "key": shape.key}
    rss = memory.rss_peak_delta_bytes(ours.train)
    entry["ours"] = {
        "traced_mib": memory.traced_peak_bytes(ours.train) / MIB,
        "rss_delta_mib": None if rss is None else rss / MIB,
    }
    entry["ratio"] = None
    if theirs is not None and torch is not None:
        rss = memory.rss_peak_delta_bytes(theirs.train)
        allocated = memory.torch_allocator_peak_bytes(torch, theirs.train) / MIB
        entry["torch"] = {
            "allocator_mib": allocated,
            "rss_delta_mib": None if rss is None else rss / MIB,
        }
        entry["ratio"] = entry["ours"]["traced_mib"] / allocated if allocated > 0 else None
    return entry


def _measure_cell(
    cell: str,
    shape: Shape,
    plan: Plan,
    torch: ModuleType | None,
    use_seed: bool,
    measure_memory: bool,
    gemm: dict[str, float],
    emit: Callable[[str], None],
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any]]:
    batch = make_batch(shape)
    model = build_model(cell, shape)
    ours = ours_workload(model, batch)
    theirs = torch_workload(torch, cell, shape, batch, model) if torch is not None else None
    seed = seed_workload(cell, shape, batch, plan.seed_steps) if use_seed else None

    parity: dict[str, Any] = {"cell": cell, "label": shape.label, "ours_loss": ours.loss()}
    if theirs is not None:
        parity["torch_loss"] = theirs.loss()
        parity["abs_difference"] = abs(parity["torch_loss"] - parity["ours_loss"])

    rows = []
    for mode in ("train", "infer"):
        contenders = [Contender("ours", getattr(ours, mode), ours.tokens)]
        for name, workload in (("torch", theirs), ("seed", seed)):
            if workload is not None:
                contenders.append(Contender(name, getattr(workload, mode), workload.tokens))
        timings = interleave(contenders, plan.repeats, plan.min_time, plan.settle)
        row = _throughput_row(cell, shape, mode, timings, gemm)
        if seed is not None and plan.seed_fresh:
            fresh = fresh_process_tokens_per_s(
                cell, shape, plan.seed_steps, mode, plan.min_time, SEED_FRESH_REPEATS
            )
            row["seed_fresh_process"] = {
                "tokens_per_s": fresh,
                "ours_ratio": row["tokens_per_s"]["ours"] / fresh,
                "torch_ratio": row["tokens_per_s"]["torch"] / fresh if theirs else None,
            }
        rows.append(row)
        emit(_progress(row))
    entry = _memory_entry(cell, shape, ours, theirs, torch) if measure_memory else None
    return rows, entry, parity


def run(args: argparse.Namespace, plan: Plan, emit: Callable[[str], None]) -> dict[str, Any]:
    """Measure everything the plan asks for; return the JSON-ready results."""
    started = time.perf_counter()
    skipped: list[str] = []
    torch: ModuleType | None = None
    if args.no_torch:
        skipped.append("torch: skipped (--no-torch)")
    else:
        torch, reason = import_torch()
        if torch is None:
            skipped.append(reason)
    if args.no_seed:
        skipped.append("seed-style reference: skipped (--no-seed)")

    environment = describe(torch)
    emit(f"minitorch_rnn benchmark, {plan.name} run")
    for line in header_lines(environment):
        emit(line)
    for note in skipped:
        emit(f"note: {note}")

    emit("")
    emit("Matrix-product (GEMM) rate of this machine:")
    gemm = _measure_gemm(plan, torch)
    for line in gemm_lines(gemm):
        emit("  " + line)
    square = plan.gemm_shapes[0]
    reference_rate = {
        entry["dtype"]: entry["gflops"]
        for entry in gemm
        if entry["backend"] == "numpy" and (entry["m"], entry["k"], entry["n"]) == square
    }
    emit(f"  %GEMM below = arithmetic rate / numpy's {square[0]}^3 rate of the same dtype")
    emit("  " + FLOP_FORMULA)

    emit("")
    emit(
        f"Measuring ({plan.repeats} interleaved rounds; each block: untimed calls for "
        f">= {plan.settle} s, then timed calls for >= {plan.min_time} s; seed-style on one sample "
        f"of {plan.seed_steps} steps, float64):"
    )
    throughput: list[dict[str, Any]] = []
    memory_entries: list[dict[str, Any]] = []
    parity: list[dict[str, Any]] = []
    for shape in plan.shapes:
        for cell in plan.cells:
            rows, entry, check = _measure_cell(
                cell,
                shape,
                plan,
                torch,
                not args.no_seed,
                not args.no_memory,
                reference_rate,
                emit,
            )
            throughput.extend(rows)
            parity.append(check)
            if entry is not None:
                memory_entries.append(entry)

    sweeps: dict[str, Any] = {}
    if plan.sweep_steps or plan.sweep_hidden:
        emit("")
        emit("Scaling sweeps (our LSTM, training step, float32):")
        base = Shape(plan.sweep_batch, 50, 256)
        if plan.sweep_steps:
            sweeps["steps"] = sweep("steps", plan.sweep_steps, base, plan.min_time, SWEEP_REPEATS)
            emit("\n".join(sweep_lines(sweeps["steps"])))
        if plan.sweep_hidden:
            sweeps["hidden"] = sweep(
                "hidden", plan.sweep_hidden, base, plan.min_time, SWEEP_REPEATS, large_from=256
            )
            emit("\n".join(sweep_lines(sweeps["hidden"])))

    breakdown = []
    if plan.breakdown_shapes:
        emit("")
        emit(
            "Inference forward of the recurrent layer alone, by part (ms, medians of interleaved "
            "rounds; elementwise = steps - GEMM; see benchmarks/breakdown.py):"
        )
        for shape in plan.breakdown_shapes:
            for cell in plan.cells:
                entry = measure_breakdown(
                    cell, shape, torch, plan.repeats, plan.min_time, plan.settle
                )
                breakdown.append(entry)
                emit("  " + breakdown_lines([entry])[0])

    sampling = None
    if plan.sampling_tokens:
        sampling = measure_sampling(
            torch, plan.sampling_tokens, plan.repeats, plan.min_time, plan.settle
        )
    eval_memory_result = None
    if plan.eval_memory_steps:
        eval_memory_result = eval_memory(plan.eval_memory_steps, plan.eval_memory_batch)
    if sampling is not None or eval_memory_result is not None:
        emit("")
        emit("Sampling speed and eval-forward memory:")
        for line in sampling_lines(sampling, eval_memory_result):
            emit("  " + line)

    profiles = []
    for shape in plan.profile_shapes:
        path = args.profile_dir / f"profile_lstm_{shape.key.replace('/', '_')}.txt"
        lines = profile_training("lstm", shape, PROFILE_STEPS, path)
        profiles.append({"label": shape.label, "path": str(path), "top": lines[:14]})

    targets = evaluate_targets(throughput, memory_entries)
    return {
        "schema": 1,
        "mode": plan.name,
        "plan": {
            "shapes": [shape.key for shape in plan.shapes],
            "cells": list(plan.cells),
            "repeats": plan.repeats,
            "min_time": plan.min_time,
            "settle": plan.settle,
            "seed_steps": plan.seed_steps,
            "seed_fresh": plan.seed_fresh,
        },
        "environment": environment,
        "load_average_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "skipped": skipped,
        "gemm": gemm,
        "flop_formula": FLOP_FORMULA,
        "memory_notes": (memory.__doc__ or "").strip(),
        "throughput": throughput,
        "memory": memory_entries,
        "parity": parity,
        "sweeps": sweeps,
        "profiles": profiles,
        "breakdown": breakdown,
        "sampling": sampling,
        "eval_memory": eval_memory_result,
        "targets": targets,
        "duration_s": time.perf_counter() - started,
    }


def print_summary(results: dict[str, Any], emit: Callable[[str], None]) -> None:
    """The final tables, profile summaries and PASS/MISS lines."""
    for mode, title in (("train", "Training"), ("infer", "Inference")):
        emit("")
        emit(f"{title} (tokens/s; ratios = median of per-round ratios [min-max]):")
        for line in throughput_table(results["throughput"], mode):
            emit("  " + line)
    if results["memory"]:
        emit("")
        emit(
            "Peak memory of one training step (MiB; ours: tracemalloc; torch: allocator events "
            "via torch.profiler; comparable only roughly). RSS+ = rise of the resident-set "
            "high-water mark during a warmed-up step: ~0 when the step fits in memory the C "
            "allocator already holds (see benchmarks/memory.py):"
        )
        for line in memory_table(results["memory"]):
            emit("  " + line)
    differences = [p["abs_difference"] for p in results["parity"] if "abs_difference" in p]
    if differences:
        emit("")
        emit(
            "Same weights, same function: largest |loss ours - loss torch| before training = "
            f"{max(differences):.2g}"
        )
    if results["breakdown"]:
        emit("")
        emit("Inference by part (ms; ours beside PyTorch's whole recurrent forward):")
        for line in breakdown_lines(results["breakdown"]):
            emit("  " + line)
    lines = sampling_lines(results["sampling"], results["eval_memory"])
    if lines:
        emit("")
        emit("Sampling speed and eval-forward memory:")
        for line in lines:
            emit("  " + line)
    for profile in results["profiles"]:
        emit("")
        emit(f"cProfile, LSTM training at {profile['label']} (top by tottime; {profile['path']}):")
        for line in profile["top"]:
            emit("  " + line)
    emit("")
    emit("Targets (reported, not enforced):")
    for line in target_lines(results["targets"]):
        emit("  " + line)
    load = results["load_average_end"]
    emit("")
    emit(kernel_line(results["environment"]))
    if load is not None:
        emit(
            f"load average at end: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; "
            f"run took {results['duration_s']:.0f} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    plan = _plan_from(args, parser)

    def emit(line: str) -> None:
        print(line, flush=True)

    results = run(args, plan, emit)
    print_summary(results, emit)

    json_path = args.json or RESULTS_DIR / f"{plan.name}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    emit(f"JSON written to {json_path}")
    if not args.no_png:
        png_path = args.png or json_path.with_suffix(".png")
        reason = write_chart(results, png_path)
        emit(f"note: {reason}" if reason else f"chart written to {png_path}")
    return 0
