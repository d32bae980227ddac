"""Peak memory of one training step, three ways — comparable across frameworks only roughly.

``traced_peak_bytes`` (numpy, our framework)
    ``tracemalloc``'s peak of memory allocated *during* the step: numpy reports its array buffers
    to tracemalloc, and Python objects are traced too. Weights and gradients that exist before the
    step are not counted; temporaries, activations kept for backward and anything the step
    allocates are.
``torch_allocator_peak_bytes`` (PyTorch)
    The peak of the running total of PyTorch's CPU allocator events recorded by
    ``torch.profiler`` (``profile_memory=True``) during the step: the same notion as above for
    tensors (Python objects are not counted). Blocks allocated before the step and freed in it
    (e.g. gradients dropped by ``zero_grad(set_to_none=True)``) have no known size, so their frees
    are missing and the figure errs a little high.
``rss_peak_delta_bytes`` (either)
    The rise of the process's resident-set high-water mark (``VmHWM``, reset through
    ``/proc/self/clear_refs``) above its resident size before the step. It sees everything,
    including allocator caches and libraries' workspaces, but misses memory the C allocator
    reuses from earlier steps without asking the OS, so it tends to read low for small steps.
    Linux only; ``None`` elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

__all__ = ["rss_peak_delta_bytes", "torch_allocator_peak_bytes", "traced_peak_bytes"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def traced_peak_bytes(run: Callable[[], object]) -> int:
    """Peak bytes traced by ``tracemalloc`` while ``run()`` executes, above the level at its start."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(peak - baseline, 0)


def _status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_peak_delta_bytes(run: Callable[[], object]) -> int | None:
    """Rise of the resident-set high-water mark during ``run()`` (Linux), else ``None``."""
    try:
        _CLEAR_REFS.write_text("5")  # "5" resets VmHWM to the current resident size
        before = _status_kib("VmRSS")
    except (OSError, KeyError):
        return None
    run()
    return max(_status_kib("VmHWM") - before, 0) * 1024


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what C++ code writes to file descriptor 2 (the profiler's start/stop chatter)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def torch_allocator_peak_bytes(torch: ModuleType, run: Callable[[], object]) -> int:
    """Peak of PyTorch's CPU allocations during ``run()``, from profiler memory events."""
    profiler = torch.profiler
    activities = [profiler.ProfilerActivity.CPU]
    with (
        _native_stderr_silenced(),
        profiler.profile(activities=activities, profile_memory=True) as prof,
    ):
        run()
    events = [
        event for event in prof.profiler.kineto_results.events() if event.name() == "[memory]"
    ]
    total = peak = 0
    for event in sorted(events, key=lambda event: event.start_ns()):
        total += event.nbytes()
        peak = max(peak, total)
    return peak
