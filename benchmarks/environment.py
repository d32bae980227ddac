"""What the numbers were measured on: versions, BLAS kernel, thread counts, CPU, load."""

from __future__ import annotations

import importlib
import os
import platform
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import minitorch_rnn as mt

from .blas_env import cpu_vector_extensions, forced_kernel, removed_variables

__all__ = ["describe", "header_lines", "kernel_line"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_pools() -> tuple[list[dict[str, Any]], str]:
    """threadpoolctl's view of the loaded BLAS/OpenMP pools, or numpy's build info as a fallback."""
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        config: dict[str, Any]
        try:
            config = dict(np.show_config(mode="dicts") or {})
        except TypeError:  # numpy < 1.25 only prints its configuration
            config = {}
        blas = config.get("Build Dependencies", {}).get("blas", {})
        note = "threadpoolctl not installed: BLAS kernel and threads unknown"
        return [{"user_api": "blas", "internal_api": blas.get("name", "?")}], note
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "filepath")
    pools = [{key: pool.get(key) for key in keys} for pool in threadpoolctl.threadpool_info()]
    for pool in pools:
        pool["filepath"] = Path(str(pool["filepath"])).name
    return pools, ""


def describe(torch: ModuleType | None) -> dict[str, Any]:
    """A JSON-ready description of the software and machine."""
    pools, note = _blas_pools()
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "minitorch_rnn": mt.__version__,
        "torch": getattr(torch, "__version__", None),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        # PyTorch links MKL and oneDNN statically, so threadpoolctl does not list them
        "torch_backends": (
            {
                "mkl": bool(torch.backends.mkl.is_available()),
                "mkldnn": bool(torch.backends.mkldnn.is_available()),
            }
            if torch is not None
            else None
        ),
        "thread_pools": pools,
        "cpu": _cpu_model(),
        "cpu_vector_extensions": cpu_vector_extensions(),
        # the BLAS-forcing variables removed from this process's environment, and any still set
        "blas_variables_removed": removed_variables(),
        "blas_variables_forcing": forced_kernel(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if note:
        info["note"] = note
    return info


def kernel_line(info: dict[str, Any]) -> str:
    """Which BLAS kernel numpy runs and whether it is the CPU's own choice."""
    kernels = [
        str(pool["architecture"])
        for pool in info["thread_pools"]
        if pool.get("user_api") == "blas" and pool.get("architecture")
    ]
    kernel = ", ".join(kernels) if kernels else "unknown (threadpoolctl not installed)"
    cpu = f"CPU vector extensions: {info.get('cpu_vector_extensions', '?')}"
    forcing = info.get("blas_variables_forcing")
    if forcing:
        return (
            f"BLAS kernel: {kernel} -- FORCED by {forcing} (not the CPU's own choice; {cpu}; "
            "run without --keep-blas-env to measure the CPU's own kernel)"
        )
    removed = info.get("blas_variables_removed")
    note = f"; removed from this process's environment: {removed}" if removed else ""
    return f"BLAS kernel: {kernel}, OpenBLAS's own choice for this CPU ({cpu}){note}"


def header_lines(info: dict[str, Any]) -> list[str]:
    """The printed header."""
    lines = [
        f"minitorch_rnn {info['minitorch_rnn']} | numpy {info['numpy']} | "
        f"torch {info['torch'] or 'not available'} | Python {info['python']}",
        f"CPU: {info['cpu']} ({info['cpu_count']} logical CPUs) | {info['platform']}",
    ]
    for pool in info["thread_pools"]:
        details = ", ".join(
            f"{key} {pool[key]}"
            for key in ("version", "architecture", "num_threads")
            if pool.get(key) is not None
        )
        details = f" ({details})" if details else ""
        library = f" {pool['filepath']}" if pool.get("filepath") else ""
        lines.append(
            f"thread pool: {pool.get('user_api')}/{pool.get('internal_api')}{details}{library}"
        )
    lines.append(kernel_line(info))
    if info["torch_threads"] is not None:
        backends = ", ".join(f"{name} {on}" for name, on in info["torch_backends"].items())
        lines.append(f"torch.get_num_threads() = {info['torch_threads']}; available: {backends}")
    if info.get("note"):
        lines.append(f"note: {info['note']}")
    if info["load_average"] is not None:
        load = ", ".join(f"{value:.2f}" for value in info["load_average"])
        lines.append(f"load average at start (1, 5, 15 min): {load}")
    return lines
