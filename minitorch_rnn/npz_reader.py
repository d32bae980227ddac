"""Reading an ``.npz`` archive that may be hostile: array headers first, data strictly bounded.

``np.load`` decompresses a member before anything can be said about it: an entry that declares
trillions of floats, or a few kilobytes that inflate to gigabytes of zeros, costs memory before it
can be refused. Here each member's ``.npy`` header (at most a few kilobytes) is read on its own, the
caller checks names, dtypes and shapes, and only then is data read — exactly the bytes the header
declares, never more.
"""

from __future__ import annotations

import contextlib
import math
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Literal

import numpy as np

__all__ = ["ArrayHeader", "CorruptArchive", "LazyArrays", "NpzReader"]

# What reading a damaged archive can raise (bad zip structure, truncated members, bad CRC,
# unknown compression, encrypted members, malformed .npy headers).
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
_NPY_SUFFIX = ".npy"


class CorruptArchive(ValueError):
    """The file is damaged or not an ``.npz`` archive; the message says what was found."""


@dataclass(frozen=True)
class ArrayHeader:
    """What one ``.npy`` member declares, known without touching its data."""

    member: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool

    @property
    def size(self) -> int:
        """Number of elements (a Python int: no overflow for absurd shapes)."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def describe(self) -> str:
        return f"{self.dtype} of shape {self.shape}"


class NpzReader:
    """An open ``.npz`` archive; use as a context manager.

    Parameters
    ----------
    path : str
        The file. Raises :class:`CorruptArchive` if it is not a zip archive (saying what it is
        instead: empty, text, a bare ``.npy``), ``PermissionError``/``IsADirectoryError`` as is.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (PermissionError, IsADirectoryError):
            raise
        except _READ_ERRORS as error:
            raise CorruptArchive(_what_instead_of_a_zip(path, error)) from error

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._zip.close()

    def headers(self, only: str | None = None) -> tuple[dict[str, ArrayHeader], list[str]]:
        """The ``.npy`` headers by entry name (``"model/0.weight"``), or just entry ``only``;
        and the names of members that are not ``.npy`` arrays. No array data is read."""
        headers: dict[str, ArrayHeader] = {}
        others: list[str] = []
        for member in self._zip.infolist():
            if not member.filename.endswith(_NPY_SUFFIX):
                others.append(member.filename)
                continue
            name = member.filename[: -len(_NPY_SUFFIX)]
            if only is not None and name != only:
                continue
            if name in headers:
                raise CorruptArchive(f"entry {name!r} appears twice")
            headers[name] = self._header(member)
        return headers, others

    def _header(self, member: zipfile.ZipInfo) -> ArrayHeader:
        try:
            with self._zip.open(member) as handle:
                dtype, shape, fortran_order = _read_npy_header(handle)
                data_offset = handle.tell()
        except _READ_ERRORS as error:
            raise CorruptArchive(f"entry {member.filename!r}: {error}") from error
        if dtype.hasobject:
            raise CorruptArchive(f"entry {member.filename!r} holds pickled objects, refused")
        header = ArrayHeader(member, dtype, shape, fortran_order)
        # the size the zip directory declares must be the header's: checked without inflating
        if member.file_size != data_offset + header.nbytes:
            raise CorruptArchive(
                f"entry {member.filename!r} declares {header.describe()} ({header.nbytes} bytes) "
                f"but holds {member.file_size - data_offset} bytes"
            )
        return header

    def read(self, header: ArrayHeader) -> np.ndarray:
        """The member's array (read-only), inflating exactly the bytes its header declares."""
        try:
            with self._zip.open(header.member) as handle:
                _read_npy_header(handle)
                data = handle.read(header.nbytes)
                # one byte more reaches the end of the member, where zipfile checks the CRC
                trailing = handle.read(1)
        except _READ_ERRORS as error:
            raise CorruptArchive(f"entry {header.member.filename!r}: {error}") from error
        if len(data) != header.nbytes or trailing:
            raise CorruptArchive(f"entry {header.member.filename!r} does not hold what it declares")
        order: Literal["C", "F"] = "F" if header.fortran_order else "C"
        array = np.frombuffer(data, dtype=header.dtype, count=header.size)
        return array.reshape(header.shape, order=order)


class LazyArrays(Mapping[str, np.ndarray]):
    """Checked entries, each read on first access: the keys are known without reading any data,
    so a consumer that checks keys first refuses unexpected entries unread."""

    def __init__(self, reader: NpzReader, headers: Mapping[str, ArrayHeader]) -> None:
        self._reader = reader
        self._headers = headers
        self._values: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._values:
            self._values[key] = self._reader.read(self._headers[key])
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._headers

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


def _read_npy_header(handle: IO[bytes]) -> tuple[np.dtype, tuple[int, ...], bool]:
    """Parse an ``.npy`` header (numpy caps its length); the handle is left at the data."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
    elif version in ((2, 0), (3, 0)):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    return np.dtype(dtype), tuple(int(n) for n in shape), bool(fortran_order)


def _what_instead_of_a_zip(path: str, error: BaseException) -> str:
    """Say what the file is instead of an archive, from its first bytes."""
    with contextlib.suppress(OSError), open(path, "rb") as handle:
        start = handle.read(512)
        if not start:
            return "the file is empty"
        if start.startswith(b"\x93NUMPY"):
            return "a single .npy array, not an .npz archive"
        with contextlib.suppress(UnicodeDecodeError):
            start.decode("utf-8")
            return "a text file, not an .npz (zip) archive"
    return f"not an .npz (zip) archive: {error}"
