"""Where the Trainer's batches come from: aligned arrays, or a loader that can be iterated again.

:func:`array_or_loader_source` turns the ``x, y, lengths`` of :meth:`Trainer.fit`,
:meth:`~Trainer.evaluate` (or ``validation_data``) into a :class:`BatchSource`, checking everything
that can be checked before the first batch: matching sample counts, lengths, that a loader is not
a one-shot iterator and that a list of batches holds batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from .data import Batch, as_inputs, batches, check_lengths, num_batches, take, unpack_batch

__all__ = [
    "BatchSource",
    "Loader",
    "array_or_loader_source",
    "checked_lengths",
    "validation_source",
]

# An iterable of (x, y) or (x, y, lengths) batches that can be iterated again each epoch.
Loader = Iterable[Any]


class BatchSource:
    """Training or evaluation data: aligned arrays ``(x, y, lengths)`` or a re-iterable loader.

    Build one with :func:`array_or_loader_source` (or :meth:`from_loader`), which check the data.
    """

    def __init__(
        self,
        arrays: tuple[Any, np.ndarray, np.ndarray | None] | None = None,
        loader: Loader | None = None,
        owner: str = "Trainer",
    ) -> None:
        self.arrays = arrays
        self.loader = loader
        self.owner = owner

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
                    unpack_batch(item, position)
                except TypeError as error:
                    raise TypeError(
                        f"{owner}: a {type(loader).__name__} is read as a loader of batches; "
                        f"{error}. Pass arrays as a tuple (x, y) or (x, y, lengths)"
                    ) from error
        return cls(loader=loader, owner=owner)

    def num_batches(self, batch_size: int) -> int | None:
        """Batches per pass (None for a loader without ``len``)."""
        if self.arrays is not None:
            return num_batches(np.shape(self.arrays[1])[0], batch_size)
        return len(self.loader) if isinstance(self.loader, Sized) else None

    def first_batch(self) -> Batch | None:
        """The first batch, if it can be had without iterating a loader (arrays or a list)."""
        if self.arrays is not None:
            x, y, lengths = self.arrays
            return take(x, slice(0, 1)), y[:1], take(lengths, slice(0, 1))
        if isinstance(self.loader, Sequence) and len(self.loader) > 0:
            return unpack_batch(self.loader[0], 0)
        return None

    def iterate(
        self, batch_size: int, shuffle: bool, rng: np.random.Generator | None
    ) -> Iterator[Batch]:
        """One pass over the data as ``(x, y, lengths)`` batches."""
        if self.arrays is not None:
            x, y, lengths = self.arrays
            yield from batches(x, y, lengths, batch_size=batch_size, shuffle=shuffle, rng=rng)
        elif self.loader is not None:
            for position, item in enumerate(self.loader):
                yield unpack_batch(item, position)


def checked_lengths(x: Any, lengths: Any, owner: str) -> np.ndarray:
    """``lengths`` of padded sequence input ``x`` ``(N, T, ...)``, checked: ``(N,)`` ints in
    ``1..T``. With several inputs (a tuple), the first is the padded sequence."""
    x = x[0] if isinstance(x, tuple) else np.asarray(x)
    if x.ndim < 2:
        raise ValueError(
            f"{owner}: lengths need sequence input of shape (N, T, ...), got x of shape {x.shape}"
        )
    return check_lengths(lengths, x.shape[0], x.shape[1], owner)


def array_or_loader_source(x: Any, y: Any, lengths: Any, owner: str) -> BatchSource:
    """Arrays ``x, y`` (and ``lengths``) aligned on their first axis, or a loader ``x`` with
    ``y`` None."""
    if y is None:
        if lengths is not None:
            raise TypeError(
                f"{owner}: lengths cannot accompany a loader; yield (x, y, lengths) batches"
            )
        return BatchSource.from_loader(x, owner)
    inputs, targets = as_inputs(x), np.asarray(y)
    samples = sample_count(inputs, owner)
    if targets.ndim < 1:
        raise ValueError(
            f"{owner}: x and y need a first (sample) axis, got y of shape {targets.shape}"
        )
    if samples != targets.shape[0]:
        raise ValueError(
            f"{owner}: x and y must hold the same number of samples, got {samples} "
            f"and {targets.shape[0]}"
        )
    if samples == 0:
        raise ValueError(f"{owner}: x and y are empty")
    checked = None if lengths is None else checked_lengths(inputs, lengths, owner)
    return BatchSource(arrays=(inputs, targets, checked), owner=owner)


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


def validation_source(validation_data: Any) -> BatchSource | None:
    """``fit``'s ``validation_data``: None, a tuple ``(x, y)`` / ``(x, y, lengths)``, or a loader."""
    if validation_data is None:
        return None
    if isinstance(validation_data, tuple):
        if len(validation_data) not in (2, 3):
            raise ValueError(
                "Trainer.fit: validation_data must be (x, y), (x, y, lengths) or a loader, "
                f"got a tuple of length {len(validation_data)}"
            )
        x, y, *rest = validation_data
        return array_or_loader_source(
            x, y, rest[0] if rest else None, "Trainer.fit (validation_data)"
        )
    return BatchSource.from_loader(validation_data, "Trainer.fit (validation_data)")
