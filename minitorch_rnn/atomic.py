"""Atomic file writing: a checkpoint is either written whole or the previous one stays."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import numpy as np

__all__ = ["replace_atomically", "write_atomically"]


def write_atomically(path: str, directory: str, arrays: Mapping[str, Any]) -> None:
    """Write ``arrays`` as an ``.npz`` at ``path``: completely, or not at all.

    The archive goes to a temporary file in ``directory`` (the path's own folder, so the final
    rename stays on one file system), is flushed and fsynced, takes the permission bits the old
    file had, and replaces it with one ``os.replace``. On any failure the temporary file is removed
    and the previous file at ``path`` is untouched.
    """
    # A file object (not a name) stops numpy from appending ".npz".
    replace_atomically(path, directory, lambda handle: np.savez(handle, **arrays))


def replace_atomically(path: str, directory: str, write: Callable[[BinaryIO], Any]) -> None:
    """Let ``write`` fill a temporary file in ``directory``, then put it at ``path`` in one
    ``os.replace`` (as :func:`write_atomically` does for an ``.npz``; any other format too)."""
    mode = _mode_for(path)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _mode_for(path: str) -> int:
    """Permission bits for the new file: the old file's, else 0o666 minus the umask."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(os.stat(path).st_mode)
    # The umask can only be read by setting it; restore it at once.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _sync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
