"""Checkpoints: a model, optionally its optimiser, and JSON metadata in ONE ``.npz`` file, no pickle.

Layout of the archive (every entry a plain numeric or unicode array, loadable with
``allow_pickle=False``):

- ``model/<parameter name>``: :meth:`Module.state_dict` (dotted names, e.g. ``model/0.weight``);
- ``optimizer/<key>``: :meth:`Optimizer.state_dict` (hyper-parameters, ``step``, ``state.<i>.<name>``),
  present only if an optimiser was saved;
- ``meta``: a 0-d unicode array holding a JSON object: the caller's ``**meta`` plus ``"format"``,
  ``"format_version"`` and ``"model_class"``.

Path rule: the file is written exactly at the path given. Unlike ``np.savez``, no ``.npz`` suffix is
appended to a name without one (``.npz`` is the convention, not a requirement), so ``load`` finds
the file under the same name that ``save`` was given.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from .module import Module
from .optim.optimizers import Optimizer

__all__ = ["FORMAT_VERSION", "load", "read_meta", "save"]

FORMAT_VERSION = 1
_FORMAT_NAME = "minitorch_rnn"
_RESERVED_META = ("format", "format_version", "model_class")
_MODEL_PREFIX = "model/"
_OPTIMIZER_PREFIX = "optimizer/"
_META_KEY = "meta"
_NOT_A_CHECKPOINT = "corrupt or not a minitorch_rnn checkpoint"

# What reading a damaged archive can raise (bad zip structure, truncated members, bad CRC,
# unknown compression, pickled or malformed .npy headers); each means "not a usable checkpoint".
_READ_ERRORS = (
    ValueError,
    EOFError,
    KeyError,
    NotImplementedError,
    OSError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
)

PathLike = str | os.PathLike[str]


def save(path: PathLike, model: Module, optimizer: Optimizer | None = None, **meta: Any) -> None:
    """Write ``model`` (and ``optimizer``) weights and ``meta`` to one ``.npz`` file, atomically.

    The archive is written to a temporary file in the same directory, flushed to disk, then renamed
    over ``path``: the file at ``path`` is either the complete new checkpoint or, after any failure,
    the previous one untouched, and no temporary file is left behind. An existing file keeps its
    permission bits; a new one gets the usual ``0o666`` minus the process umask.

    Parameters
    ----------
    path : str or path-like
        Where to write; used exactly as given (no suffix is added). Its directory must exist.
    model : Module
        Saved as :meth:`Module.state_dict`.
    optimizer : Optimizer, optional
        Saved as :meth:`Optimizer.state_dict` (everything needed to resume training exactly).
    **meta
        JSON-serialisable values (numbers, strings, bools, None, lists, dicts with str keys), e.g.
        ``epoch=3``; returned by :func:`load`. Tuples come back as lists. The names ``format``,
        ``format_version`` and ``model_class`` are reserved.

    Raises
    ------
    TypeError
        If ``model`` or ``optimizer`` has the wrong type or a ``meta`` value is not
        JSON-serialisable (raised before anything is written).
    ValueError
        If a reserved ``meta`` name is used.
    FileNotFoundError
        If the directory of ``path`` does not exist.
    """
    if not isinstance(model, Module):
        raise TypeError(f"save: model must be a Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"save: optimizer must be an Optimizer or None, got {type(optimizer).__name__}"
        )
    path = os.fspath(path)
    arrays = {_META_KEY: np.array(_meta_json(model, meta))}
    arrays.update({_MODEL_PREFIX + name: value for name, value in model.state_dict().items()})
    if optimizer is not None:
        state = optimizer.state_dict()
        arrays.update({_OPTIMIZER_PREFIX + key: value for key, value in state.items()})
    for key, value in arrays.items():
        # An object array would be pickled, which load refuses; fail now rather than then.
        if value.dtype.hasobject:
            raise TypeError(f"save: entry {key!r} is an object array, which would need pickle")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory {directory!r} of {path!r} does not exist")
    _write_atomically(path, directory, arrays)


def load(path: PathLike, model: Module, optimizer: Optimizer | None = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) in place from a :func:`save` checkpoint; return its meta.

    All or nothing: the whole file is read and every check (keys, shapes, dtypes, finiteness, the
    optimiser's hyper-parameters) passes before the model or the optimiser changes; on any error
    both keep their previous values. An optimiser state in the file is ignored when ``optimizer``
    is None.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, exactly as given to :func:`save`.
    model : Module
        Receives the weights (cast to its parameters' dtypes).
    optimizer : Optimizer, optional
        Receives the optimiser state; the file must contain one.

    Returns
    -------
    dict
        The ``meta`` given to :func:`save`, plus ``"format"``, ``"format_version"`` and
        ``"model_class"``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is truncated, corrupt, not an ``.npz``, not a minitorch_rnn checkpoint or
        contains pickled objects (message: "corrupt or not a minitorch_rnn checkpoint"); naming the
        missing, unexpected or mismatched keys otherwise; or if ``optimizer`` is given but the
        file holds no optimiser state.
    TypeError
        If ``model`` or ``optimizer`` has the wrong type.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load: model must be a Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"load: optimizer must be an Optimizer or None, got {type(optimizer).__name__}"
        )
    path = _existing_file(path)
    entries = _read_archive(path)
    meta = _parse_meta(entries, path)
    model_state, optimizer_state, unexpected = _split_entries(entries)
    if unexpected:
        raise ValueError(f"load: {path!r} has unexpected entries {sorted(unexpected)}")
    own_names = [name for name, _ in model.named_parameters()]
    missing_model = sorted(set(own_names) - set(model_state))
    unexpected_model = sorted(set(model_state) - set(own_names))
    if missing_model or unexpected_model:
        raise ValueError(
            f"load: model weights in {path!r} do not match {type(model).__name__}: missing keys "
            f"{missing_model}, unexpected keys {unexpected_model}"
        )
    if optimizer is not None:
        if not optimizer_state:
            raise ValueError(f"load: {path!r} holds no optimizer state, but an optimizer was given")
        try:
            optimizer.validate_state_dict(optimizer_state)
        except (TypeError, ValueError) as error:
            raise type(error)(f"load: optimizer state in {path!r} does not fit: {error}") from error
    # Module.load_state_dict validates everything before it copies; the optimizer state was
    # validated above, so its load below cannot fail once the model has changed.
    try:
        model.load_state_dict(model_state)
    except ValueError as error:
        raise ValueError(f"load: model weights in {path!r} do not fit: {error}") from error
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    return meta


def read_meta(path: PathLike) -> dict[str, Any]:
    """Return a checkpoint's ``meta`` without reading its weights.

    Useful to rebuild the right model (from sizes saved as meta) before calling :func:`load`.
    Only the ``meta`` entry is read, so damage elsewhere in the file is found by :func:`load`.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.

    Returns
    -------
    dict
        As returned by :func:`load`.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If it is not a minitorch_rnn checkpoint, or of a newer format version.
    """
    path = _existing_file(path)
    return _parse_meta(_read_archive(path, only=_META_KEY), path)


# -- writing ------------------------------------------------------------------------------------


def _meta_json(model: Module, meta: Mapping[str, Any]) -> str:
    reserved = sorted(set(meta) & set(_RESERVED_META))
    if reserved:
        raise ValueError(f"save: meta names {reserved} are reserved")
    for key, value in meta.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"save: meta[{key!r}] is not JSON-serialisable ({type(value).__name__}): {error}"
            ) from error
    full = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model_class": type(model).__name__,
        **meta,
    }
    return json.dumps(full)


def _write_atomically(path: str, directory: str, arrays: Mapping[str, Any]) -> None:
    mode = _mode_for(path)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            # A file object (not a name) stops numpy from appending ".npz".
            np.savez(handle, **arrays)
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


# -- reading ------------------------------------------------------------------------------------


def _existing_file(path: PathLike) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint file at {path!r}")
    return path


def _read_archive(path: str, only: str | None = None) -> dict[str, np.ndarray]:
    """The archive's entries (or just entry ``only``, if present), fully read, so CRC and
    truncation errors surface here."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            # A bare .npy file loads as an array.
            raise ValueError("a single .npy array, not an .npz archive")
        with loaded as archive:
            keys = archive.files if only is None else [k for k in archive.files if k == only]
            return {key: archive[key] for key in keys}
    except (PermissionError, FileNotFoundError, IsADirectoryError):
        raise
    except _READ_ERRORS as error:
        # numpy's own message about pickles suggests loading unsafely; we never do.
        detail = "it holds pickled data, which is refused" if "pickle" in str(error) else error
        raise ValueError(f"load: {path!r} is {_NOT_A_CHECKPOINT} ({detail})") from error


def _parse_meta(entries: Mapping[str, np.ndarray], path: str) -> dict[str, Any]:
    raw = entries.get(_META_KEY)
    problem = None
    meta: Any = None
    if raw is None:
        problem = "no 'meta' entry"
    elif raw.shape != () or raw.dtype.kind != "U":
        problem = f"'meta' entry of dtype {raw.dtype} and shape {raw.shape}"
    else:
        try:
            meta = json.loads(str(raw))
        except ValueError:
            problem = "'meta' entry is not JSON"
    if problem is None and (not isinstance(meta, dict) or meta.get("format") != _FORMAT_NAME):
        problem = "'meta' does not name the minitorch_rnn format"
    if problem is not None:
        raise ValueError(f"load: {path!r} is {_NOT_A_CHECKPOINT} ({problem})")
    version = meta.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"load: {path!r} has checkpoint format version {version!r}; this minitorch_rnn reads "
            f"versions 1 to {FORMAT_VERSION}"
        )
    return meta


def _split_entries(
    entries: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str]]:
    model_state: dict[str, np.ndarray] = {}
    optimizer_state: dict[str, np.ndarray] = {}
    unexpected: list[str] = []
    for key, value in entries.items():
        if key.startswith(_MODEL_PREFIX):
            model_state[key[len(_MODEL_PREFIX) :]] = value
        elif key.startswith(_OPTIMIZER_PREFIX):
            optimizer_state[key[len(_OPTIMIZER_PREFIX) :]] = value
        elif key != _META_KEY:
            unexpected.append(key)
    return model_state, optimizer_state, unexpected
