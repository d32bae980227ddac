"""Run the benchmarks on the BLAS kernel OpenBLAS picks for this CPU, not one forced on it.

Some machines set ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) in the environment, because
older OpenBLAS builds misbehave on their CPU. A current numpy then runs a kernel older than the
CPU (its AVX2 "Haswell" kernel on an AVX-512 CPU), while PyTorch detects the CPU itself: a
comparison taken that way is unfair to numpy, and a user's machine does not run it. OpenBLAS reads
the variables once, when numpy loads it, so :func:`own_kernel_environment` removes them before
numpy is imported, or re-executes the process without them when it already is.

Only ``python -m benchmarks`` (and :mod:`benchmarks.trees`) do this, for their own process and
children: tests and CI keep the environment as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "FORCING_VARIABLES",
    "REMOVED_MARKER",
    "cpu_vector_extensions",
    "forced_kernel",
    "own_kernel_environment",
    "removed_variables",
    "without_forcing",
]

FORCING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: set in a re-executed process's environment: what was removed (``NAME=value;...``), and proof
#: that the re-execution happened (a second one is never attempted)
REMOVED_MARKER = "MINITORCH_BENCH_REMOVED_BLAS_VARIABLES"


def without_forcing(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``environ`` without :data:`FORCING_VARIABLES`."""
    return {key: value for key, value in environ.items() if key not in FORCING_VARIABLES}


def _describe(environ: Mapping[str, str]) -> str:
    return ";".join(f"{key}={environ[key]}" for key in FORCING_VARIABLES if key in environ)


def own_kernel_environment(
    argv: Sequence[str],
    environ: MutableMapping[str, str] | None = None,
    numpy_loaded: bool | None = None,
    execve: Callable[[str, list[str], dict[str, str]], Any] = os.execve,
) -> str:
    """Make this process run numpy on OpenBLAS's own choice of kernel; say what was done.

    Parameters
    ----------
    argv
        The arguments of ``python -m benchmarks`` (without the program name), for a re-execution.
    environ
        The process environment (default ``os.environ``), changed in place when numpy is not
        loaded yet (the variables removed, :data:`REMOVED_MARKER` set).
    numpy_loaded
        Whether numpy is already imported (default: asks ``sys.modules``).
    execve
        What replaces the process (``os.execve``; a test passes a recorder).

    Returns
    -------
    str
        ``""`` when no forcing variable was set, else the variables removed (``NAME=value;...``).
        When numpy is already loaded and a variable is set, ``execve`` runs
        ``python -m benchmarks argv`` without them (and does not return).
    """
    environ = os.environ if environ is None else environ
    if numpy_loaded is None:
        numpy_loaded = "numpy" in sys.modules
    removed = _describe(environ)
    if not removed:
        return environ.get(REMOVED_MARKER, "")
    if not numpy_loaded:  # OpenBLAS has not read them yet
        for key in FORCING_VARIABLES:
            environ.pop(key, None)
        environ[REMOVED_MARKER] = removed
        return removed
    if REMOVED_MARKER in environ:  # set again after a re-execution: leave them, report them
        return ""
    child = without_forcing(environ)
    child[REMOVED_MARKER] = removed
    execve(sys.executable, [sys.executable, "-m", "benchmarks", *argv], child)
    return removed  # only reached when execve is a recorder


def removed_variables(environ: Mapping[str, str] | None = None) -> str:
    """What a re-execution removed (``NAME=value;...``), or ``""``."""
    return (os.environ if environ is None else environ).get(REMOVED_MARKER, "")


def forced_kernel(environ: Mapping[str, str] | None = None) -> str:
    """The forcing variables still in effect for this process (``NAME=value;...``), or ``""``."""
    return _describe(os.environ if environ is None else environ)


def cpu_vector_extensions(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's widest vector extensions by its flags: ``"AVX-512"``, ``"AVX2"``, ... or ``"?"``."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return "?"
    lines = (line for line in text.splitlines() if line.startswith("flags"))
    flags = next((line.split(":", 1)[1].split() for line in lines), [])
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")):
        if flag in flags:
            return name
    return "?"
