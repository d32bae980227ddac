"""Where the Trainer's batches come from, each made and checked once.

:meth:`BatchSource.from_arrays` takes the ``x, y, lengths`` of :meth:`Trainer.fit`,
:meth:`~Trainer.evaluate` (or ``validation_data``) and checks them whole, before the first step:
the slices it hands out need no further check. :meth:`BatchSource.from_loader` takes a loader
that can be iterated again each epoch and checks each of its batches once, as it is read. Either
way the Trainer receives :class:`Batch` objects it can train on directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, NamedTuple

import numpy as np

from ..validation import check_lengths
from .data import as_inputs, batches, num_batches, take

__all__ = ["Batch", "BatchSource", "Loader", "make_batch", "sample_count", "validation_source"]

# An iterable of (x, y) or (x, y, lengths) batches that can be iterated again each epoch.
Loader = Iterable[Any]


class Batch(NamedTuple):
    """A checked batch.

    Attributes
    ----------
    x : np.ndarray or tuple of np.ndarray
        The model's input, or its several inputs (``model.forward(*x)``), all of ``B`` samples.
    y : np.ndarray or None
        The targets, ``B`` samples (None for :meth:`Trainer.predict`).
    lengths : np.ndarray or None
        ``(B,)`` int64 valid steps of a padded single input ``(B, T, ...)``, each in ``1..T``.
    """

    x: Any
    y: Any
    lengths: np.ndarray | None


def sample_count(x: Any, owner: str) -> int:
    """The number of samples of inputs ``x``: its first dimension, which every part of a tuple
    of inputs must share."""
    parts = x if isinstance(x, tuple) else (x,)
    if not parts:
        raise ValueError(f"{owner}: x is an empty tuple; expected one or more input arrays")
    shapes = [np.shape(part) for part in parts]
    if any(len(shape) < 1 for shape in shapes):
        raise ValueError(f"{owner}: x and y need a first (sample) axis, got x of shape(s) {shapes}")
    if len({shape[0] for shape in shapes}) > 1:
        raise ValueError(
            f"{owner}: every array of the tuple x must have the same first dimension (samples), "
            f"got shapes {shapes}"
        )
    return int(shapes[0][0])


def make_batch(x: Any, y: Any, lengths: Any, owner: str) -> Batch:
    """Check ``x`` (one array or a tuple of them), ``y`` (or None) and ``lengths`` (or None)
    against each other and return them as a :class:`Batch` of arrays.

    Raises
    ------
    ValueError
        When the sample counts differ, or ``lengths`` do not fit ``x`` (see
        :func:`~minitorch_rnn.validation.check_lengths`).
    TypeError
        For ``lengths`` with several inputs (pass them as one of the inputs instead) or of a
        non-integer dtype.
    """
    inputs = as_inputs(x)
    samples = sample_count(inputs, owner)
    targets = None if y is None else np.asarray(y)
    if targets is not None:
        if targets.ndim < 1:
            raise ValueError(
                f"{owner}: x and y need a first (sample) axis, got y of shape {targets.shape}"
            )
        if targets.shape[0] != samples:
            raise ValueError(
                f"{owner}: x and y must hold the same number of samples, got {samples} and "
                f"{targets.shape[0]}"
            )
    if lengths is None:
        return Batch(inputs, targets, None)
    if isinstance(inputs, tuple):
        raise TypeError(
            f"{owner}: lengths go with a single padded input; with several inputs pass the "
            "lengths as one of them, e.g. (src, tgt_in, src_lengths), and let the loss's "
            "ignore_index leave padded targets out"
        )
    if inputs.ndim < 2:
        raise ValueError(
            f"{owner}: lengths need sequence input of shape (N, T, ...), got x of shape "
            f"{inputs.shape}"
        )
    return Batch(inputs, targets, check_lengths(lengths, samples, inputs.shape[1], owner))


class BatchSource:
    """Training or evaluation data: one checked :class:`Batch` of whole arrays, sliced into
    mini-batches, or a re-iterable loader whose batches are checked as they are read.

    Build one with :meth:`from_arrays` or :meth:`from_loader`.
    """

    def __init__(self, owner: str, arrays: Batch | None = None, loader: Loader | None = None):
        self.owner = owner
        self.arrays = arrays
        self.loader = loader

    @classmethod
    def from_arrays(cls, x: Any, y: Any, lengths: Any, owner: str) -> BatchSource:
        """Arrays ``x, y`` (and ``lengths``) aligned on their first axis, checked once here."""
        whole = make_batch(x, y, lengths, owner)
        if whole.y is None or whole.y.shape[0] == 0:
            raise ValueError(f"{owner}: x and y are empty")
        return cls(owner, arrays=whole)

    @classmethod
    def from_loader(cls, loader: Any, owner: str) -> BatchSource:
        """Check that ``loader`` can be iterated again each epoch (and, for a list, that its
        items are batches) and wrap it."""
        if isinstance(loader, (np.ndarray, str, bytes)) or not isinstance(loader, Iterable):
            raise TypeError(
                f"{owner}: expected arrays x and y, or a loader (an iterable of (x, y) or "
                f"(x, y, lengths) batches), got {type(loader).__name__}"
            )
        if iter(loader) is loader:
            raise TypeError(
                f"{owner}: a one-shot iterator ({type(loader).__name__}) cannot be iterated again "
                "each epoch; pass a list of batches or a loader object"
            )
        if isinstance(loader, Sequence):
            # A list is checked whole now, not one epoch later; [x, y] is the usual slip.
            for position, item in enumerate(loader):
                try:
                    _batch_parts(item, position)
                except TypeError as error:
                    raise TypeError(
                        f"{owner}: a {type(loader).__name__} is read as a loader of batches; "
                        f"{error}. Pass arrays as a tuple (x, y) or (x, y, lengths)"
                    ) from error
        return cls(owner, loader=loader)

    def num_batches(self, batch_size: int) -> int | None:
        """Batches per pass (None for a loader without ``len``)."""
        if self.arrays is not None:
            return num_batches(self.arrays.y.shape[0], batch_size)
        return len(self.loader) if isinstance(self.loader, Sized) else None

    def first_batch(self) -> Batch | None:
        """The first batch (of one sample for arrays), if it can be had without iterating a
        loader (arrays or a list)."""
        if self.arrays is not None:
            return Batch(*(take(part, slice(0, 1)) for part in self.arrays))
        if isinstance(self.loader, Sequence) and len(self.loader) > 0:
            return self._read(self.loader[0], 0)
        return None

    def iterate(
        self, batch_size: int, shuffle: bool, rng: np.random.Generator | None
    ) -> Iterator[Batch]:
        """One pass over the data as checked batches."""
        if self.arrays is not None:
            for parts in batches(*self.arrays, batch_size=batch_size, shuffle=shuffle, rng=rng):
                yield Batch(*parts)
        elif self.loader is not None:
            for position, item in enumerate(self.loader):
                yield self._read(item, position)

    def _read(self, item: Any, position: int) -> Batch:
        x, y, lengths = _batch_parts(item, position)
        return make_batch(x, y, lengths, f"{self.owner}, batch {position}")


def _batch_parts(item: Any, position: int) -> tuple[Any, Any, Any]:
    """A loader's item as ``(x, y, lengths)``: it must be a tuple ``(x, y)`` or
    ``(x, y, lengths)``."""
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        described = (
            f"a {type(item).__name__} of length {len(item)}"
            if isinstance(item, (tuple, list))
            else type(item).__name__
        )
        raise TypeError(
            f"Trainer: batch {position} must be a tuple (x, y) or (x, y, lengths), got {described}"
        )
    return item[0], item[1], item[2] if len(item) == 3 else None


def validation_source(validation_data: Any) -> BatchSource | None:
    """``fit``'s ``validation_data``: None, a tuple ``(x, y)`` / ``(x, y, lengths)``, or a loader."""
    owner = "Trainer.fit (validation_data)"
    if validation_data is None:
        return None
    if isinstance(validation_data, tuple):
        if len(validation_data) not in (2, 3):
            raise ValueError(
                "Trainer.fit: validation_data must be (x, y), (x, y, lengths) or a loader, "
                f"got a tuple of length {len(validation_data)}"
            )
        x, y, *rest = validation_data
        return BatchSource.from_arrays(x, y, rest[0] if rest else None, owner)
    return BatchSource.from_loader(validation_data, owner)


def array_or_loader_source(x: Any, y: Any, lengths: Any, owner: str) -> BatchSource:
    """Arrays ``x, y`` (and ``lengths``), or a loader ``x`` with ``y`` None."""
    if y is not None:
        return BatchSource.from_arrays(x, y, lengths, owner)
    if lengths is not None:
        raise TypeError(
            f"{owner}: lengths cannot accompany a loader; yield (x, y, lengths) batches"
        )
    return BatchSource.from_loader(x, owner)
