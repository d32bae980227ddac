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
import math
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .module import Module
from .optim.optimizers import Optimizer

__all__ = ["FORMAT_VERSION", "load", "read_meta", "read_shapes", "save"]

FORMAT_VERSION = 1
_FORMAT_NAME = "minitorch_rnn"
_RESERVED_META = ("format", "format_version", "model_class")
_MODEL_PREFIX = "model/"
_OPTIMIZER_PREFIX = "optimizer/"
_META_KEY = "meta"
_NOT_A_CHECKPOINT = "corrupt or not a minitorch_rnn checkpoint"

# What reading a damaged archive can raise (bad zip structure, truncated members, bad CRC,
# unknown compression, encrypted members, malformed .npy headers); each means "not a usable
# checkpoint".
_READ_ERRORS = (
    ValueError,
    EOFError,
    KeyError,
    NotImplementedError,
    OSError,
    RuntimeError,
    SyntaxError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
)
# Limits on what a file may declare before anything of it is decompressed: the meta JSON (a 0-d
# unicode array, 4 bytes a character) and its nesting depth, and the hyper-parameter entries of
# an optimiser state (scalars, or a pair such as Adam's betas).
MAX_META_CHARS = 1 << 22
MAX_META_DEPTH = 64
_MAX_HYPER_PARAMETER_SIZE = 16
_NPY_SUFFIX = ".npy"

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

    All or nothing: every check (keys, shapes, dtypes, finiteness, the optimiser's
    hyper-parameters) passes before the model or the optimiser changes; on any error both keep
    their previous values. An optimiser state in the file is ignored (not even read) when
    ``optimizer`` is None.

    A checkpoint is a file someone may hand you, so it is read defensively: the ``.npy`` headers
    of all entries are read first and every name, dtype and shape is checked against what
    ``model`` and ``optimizer`` hold before any array data is decompressed, and no entry is
    decompressed beyond the size its checked header declares (a small file that inflates to
    gigabytes is refused, not inflated). The JSON meta is limited to ``MAX_META_CHARS`` characters
    nested at most ``MAX_META_DEPTH`` deep.

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
        file holds no optimiser state. Every problem with the file's content is a ``ValueError``.
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
    with _open_archive(path) as archive:
        headers = _read_headers(archive)
        meta = _parse_meta(archive, headers, path)
        model_headers, optimizer_headers = _split_headers(headers, path)
        _check_model_headers(model_headers, model, path)
        model_state = {name: archive.read_array(header) for name, header in model_headers.items()}
        optimizer_state: Mapping[str, np.ndarray] = {}
        if optimizer is not None:
            if not optimizer_headers:
                raise ValueError(
                    f"load: {path!r} holds no optimizer state, but an optimizer was given"
                )
            _check_optimizer_headers(optimizer_headers, optimizer, path)
            lazy = _LazyEntries(archive, optimizer_headers)
            try:
                # The optimiser checks the keys its saved configuration needs before their values:
                # an unexpected entry is refused unread.
                optimizer.validate_state_dict(lazy)
            except _CorruptArchive:
                raise
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"load: optimizer state in {path!r} does not fit: {error}"
                ) from error
            optimizer_state = {key: lazy[key] for key in lazy}
    # Module.load_state_dict validates everything before it copies; the optimizer state was
    # validated above, so its load below cannot fail once the model has changed.
    try:
        model.load_state_dict(model_state)
    except (TypeError, ValueError) as error:
        raise ValueError(f"load: model weights in {path!r} do not fit: {error}") from error
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    return meta


def read_meta(path: PathLike) -> dict[str, Any]:
    """Return a checkpoint's ``meta`` without reading its weights.

    Useful to rebuild the right model (from sizes saved as meta) before calling :func:`load`.
    Only the ``meta`` entry is read (after its header is checked, as in :func:`load`), so damage
    elsewhere in the file is found by :func:`load`. The caller should still check the values it
    uses: they are whatever the file says.

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
    with _open_archive(path) as archive:
        headers = _read_headers(archive, only=_META_KEY)
        return _parse_meta(archive, headers, path)


def read_shapes(path: PathLike) -> dict[str, tuple[int, ...]]:
    """The shape of every model weight in a checkpoint, read from the array headers only.

    No array data is decompressed, so this is cheap and safe on any file: use it to check sizes
    stored as meta against the weights before building a model of those sizes.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.

    Returns
    -------
    dict of str to tuple of int
        Parameter name (as in :meth:`Module.state_dict`, e.g. ``"0.weight"``) to shape.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If it is not a minitorch_rnn checkpoint (as :func:`read_meta`).
    """
    path = _existing_file(path)
    with _open_archive(path) as archive:
        headers = _read_headers(archive)
        _parse_meta(archive, headers, path)
        model_headers, _ = _split_headers(headers, path)
    return {name: header.shape for name, header in model_headers.items()}


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


class _CorruptArchive(ValueError):
    """The file is damaged or is not a checkpoint (a ``ValueError``)."""


def _corrupt(path: str, detail: object) -> _CorruptArchive:
    return _CorruptArchive(f"load: {path!r} is {_NOT_A_CHECKPOINT} ({detail})")


def _existing_file(path: PathLike) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint file at {path!r}")
    return path


@dataclass(frozen=True)
class _Header:
    """What an ``.npy`` member declares, read without touching its data."""

    member: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    data_offset: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


def _describe(dtype: np.dtype, shape: tuple[int, ...]) -> str:
    return f"{dtype} of shape {shape}"


class _Archive:
    """An open ``.npz`` whose members are read header first and never beyond their header."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (PermissionError, IsADirectoryError):
            raise
        except _READ_ERRORS as error:
            raise _corrupt(path, _not_a_zip(path, error)) from error

    def close(self) -> None:
        self._zip.close()

    def members(self) -> list[zipfile.ZipInfo]:
        return self._zip.infolist()

    def header(self, member: zipfile.ZipInfo) -> _Header:
        """Read and check one member's ``.npy`` header (a few hundred bytes at most)."""
        try:
            with self._zip.open(member) as handle:
                dtype, shape, fortran_order = _read_npy_header(handle)
                offset = handle.tell()
        except _CorruptArchive:
            raise
        except _READ_ERRORS as error:
            raise _corrupt(self.path, f"entry {member.filename!r}: {error}") from error
        if dtype.hasobject:
            raise _corrupt(
                self.path, f"entry {member.filename!r} holds pickled objects, which are refused"
            )
        header = _Header(member, dtype, shape, fortran_order, offset)
        if member.file_size != offset + header.nbytes:
            raise _corrupt(
                self.path,
                f"entry {member.filename!r} declares {_describe(dtype, shape)} "
                f"({header.nbytes} bytes) but holds {member.file_size - offset} bytes",
            )
        return header

    def read_array(self, header: _Header) -> np.ndarray:
        """The member's array, decompressing exactly the bytes its header declares."""
        try:
            with self._zip.open(header.member) as handle:
                _read_npy_header(handle)
                data = handle.read(header.nbytes)
                # one more byte reaches the end of the member, where the CRC is checked
                trailing = handle.read(1)
        except _READ_ERRORS as error:
            raise _corrupt(self.path, f"entry {header.member.filename!r}: {error}") from error
        if len(data) != header.nbytes or trailing:
            raise _corrupt(
                self.path, f"entry {header.member.filename!r} does not hold what it declares"
            )
        array = np.frombuffer(data, dtype=header.dtype, count=header.size)
        order = "F" if header.fortran_order else "C"
        return array.reshape(header.shape, order=order)


@contextlib.contextmanager
def _open_archive(path: str) -> Iterator[_Archive]:
    archive = _Archive(path)
    try:
        yield archive
    finally:
        archive.close()


def _not_a_zip(path: str, error: BaseException) -> str:
    """Say what the file is instead of an archive, from its first bytes."""
    with contextlib.suppress(OSError), open(path, "rb") as handle:
        start = handle.read(512)
        if start.startswith(b"\x93NUMPY"):
            return "a single .npy array, not an .npz archive"
        if not start:
            return "the file is empty"
        with contextlib.suppress(UnicodeDecodeError):
            start.decode("utf-8")
            return "a text file, not an .npz (zip) archive"
    return f"not an .npz (zip) archive: {error}"


def _read_npy_header(handle: IO[bytes]) -> tuple[np.dtype, tuple[int, ...], bool]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
    elif version in ((2, 0), (3, 0)):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    return np.dtype(dtype), tuple(int(n) for n in shape), bool(fortran_order)


def _read_headers(archive: _Archive, only: str | None = None) -> dict[str, _Header]:
    """Every member's header by entry name (or just entry ``only``); nothing else is read.

    A member that is not an ``.npy`` array is reported by name as an unexpected entry.
    """
    headers: dict[str, _Header] = {}
    for member in archive.members():
        name = member.filename
        if not name.endswith(_NPY_SUFFIX):
            if only is None:
                raise ValueError(f"load: {archive.path!r} has unexpected entries [{name!r}]")
            continue
        key = name[: -len(_NPY_SUFFIX)]
        if only is not None and key != only:
            continue
        if key in headers:
            raise _corrupt(archive.path, f"entry {key!r} appears twice")
        headers[key] = archive.header(member)
    return headers


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` in JSON ``text`` (string contents do not count)."""
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', "", text).encode("utf-8")
    # brackets are single ASCII bytes, never part of a multi-byte UTF-8 character
    code = np.frombuffer(outside_strings, dtype=np.uint8)
    step = np.isin(code, (ord("["), ord("{"))).astype(np.int64) - np.isin(
        code, (ord("]"), ord("}"))
    )
    return int(np.cumsum(step).max(initial=0))


def _parse_meta(archive: _Archive, headers: Mapping[str, _Header], path: str) -> dict[str, Any]:
    header = headers.get(_META_KEY)
    problem = None
    meta: Any = None
    if header is None:
        problem = "no 'meta' entry"
    elif header.shape != () or header.dtype.kind != "U":
        problem = f"'meta' entry of dtype {header.dtype} and shape {header.shape}"
    elif header.dtype.itemsize // 4 > MAX_META_CHARS:
        problem = (
            f"'meta' entry of {header.dtype.itemsize // 4} characters (at most {MAX_META_CHARS})"
        )
    else:
        text = str(archive.read_array(header)[()])
        depth = _json_depth(text)
        if depth > MAX_META_DEPTH:
            problem = f"'meta' JSON nested {depth} levels deep (at most {MAX_META_DEPTH})"
        else:
            try:
                meta = json.loads(text)
            except (ValueError, RecursionError):
                problem = "'meta' entry is not JSON"
    if problem is None and (not isinstance(meta, dict) or meta.get("format") != _FORMAT_NAME):
        problem = "'meta' does not name the minitorch_rnn format"
    if problem is not None:
        raise _corrupt(path, problem)
    version = meta.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"load: {path!r} has checkpoint format version {version!r}; this minitorch_rnn reads "
            f"versions 1 to {FORMAT_VERSION}"
        )
    return meta


def _split_headers(
    headers: Mapping[str, _Header], path: str
) -> tuple[dict[str, _Header], dict[str, _Header]]:
    model_headers: dict[str, _Header] = {}
    optimizer_headers: dict[str, _Header] = {}
    unexpected: list[str] = []
    for key, header in headers.items():
        if key.startswith(_MODEL_PREFIX):
            model_headers[key[len(_MODEL_PREFIX) :]] = header
        elif key.startswith(_OPTIMIZER_PREFIX):
            optimizer_headers[key[len(_OPTIMIZER_PREFIX) :]] = header
        elif key != _META_KEY:
            unexpected.append(key)
    if unexpected:
        raise ValueError(f"load: {path!r} has unexpected entries {sorted(unexpected)}")
    return model_headers, optimizer_headers


def _shape_problems(
    headers: Mapping[str, _Header], expected: Mapping[str, tuple[int, ...]]
) -> list[str]:
    """Each entry whose header is not a real numeric array of its expected shape."""
    return [
        f"{key}: expected shape {expected[key]}, file declares "
        f"{_describe(header.dtype, header.shape)}"
        for key, header in headers.items()
        if header.shape != expected[key] or header.dtype.kind not in "biuf"
    ]


def _check_model_headers(headers: Mapping[str, _Header], model: Module, path: str) -> None:
    shapes = {name: param.shape for name, param in model.named_parameters()}
    missing = sorted(set(shapes) - set(headers))
    unexpected = sorted(set(headers) - set(shapes))
    if missing or unexpected:
        raise ValueError(
            f"load: model weights in {path!r} do not match {type(model).__name__}: missing keys "
            f"{missing}, unexpected keys {unexpected}"
        )
    problems = _shape_problems(headers, shapes)
    if problems:
        raise ValueError(
            f"load: model weights in {path!r} do not fit {type(model).__name__}: "
            + "; ".join(problems)
        )


def _check_optimizer_headers(
    headers: Mapping[str, _Header], optimizer: Optimizer, path: str
) -> None:
    """Bound every optimiser entry before it is read: hyper-parameters are small, and state
    ``state.<i>.<name>`` has the shape of parameter ``i``."""
    expected: dict[str, tuple[int, ...]] = {}
    unexpected: list[str] = []
    for key, header in headers.items():
        index, _, name = key.removeprefix("state.").partition(".")
        if "." not in key:
            if header.size <= _MAX_HYPER_PARAMETER_SIZE:
                expected[key] = header.shape
            else:
                unexpected.append(key)
        elif key.startswith("state.") and index.isdigit() and name:
            if int(index) < len(optimizer.params):
                expected[key] = optimizer.params[int(index)].shape
            else:
                unexpected.append(key)
        else:
            unexpected.append(key)
    problems = [f"unexpected entries {sorted(unexpected)}"] if unexpected else []
    problems += _shape_problems({key: headers[key] for key in expected}, expected)
    if problems:
        raise ValueError(
            f"load: optimizer state in {path!r} does not fit {type(optimizer).__name__}: "
            + "; ".join(problems)
        )


class _LazyEntries(Mapping[str, np.ndarray]):
    """Checked entries read on first access: keys are known without reading any data."""

    def __init__(self, archive: _Archive, headers: Mapping[str, _Header]) -> None:
        self._archive = archive
        self._headers = headers
        self._values: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._values:
            self._values[key] = self._archive.read_array(self._headers[key])
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._headers

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)
