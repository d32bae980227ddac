"""Batch sources: every batch made and checked once, from arrays or from a re-iterable loader."""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_rnn.training.source import BatchSource, make_batch


def _read_all(source: BatchSource) -> list[tuple[object, object, object]]:
    return [tuple(batch) for batch in source.iterate(2, False, None)]


def test_a_loader_yields_pairs_and_triples_and_a_bad_batch_is_named() -> None:
    loader = [(np.zeros((2, 3)), np.ones(2)), [np.zeros((2, 3)), np.ones(2), [3, 1]]]
    (x, _, lengths), (_, _, second_lengths) = _read_all(BatchSource.from_loader(loader, "Fit"))
    assert lengths is None and np.shape(x) == (2, 3)
    np.testing.assert_array_equal(second_lengths, [3, 1])  # type: ignore[arg-type]

    class Loader:
        def __init__(self, items: list[object]) -> None:
            self.items = items

        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(self.items)

    with pytest.raises(TypeError, match="batch 4 must be a tuple"):
        _read_all(BatchSource.from_loader(Loader([(np.zeros(3), np.zeros(3))] * 4 + [7]), "Fit"))
    with pytest.raises(TypeError, match="of length 1"):
        _read_all(BatchSource.from_loader(Loader([(np.zeros(3),)]), "Fit"))


def test_a_loader_batch_is_checked_once_as_it_is_read_naming_the_batch() -> None:
    good = (np.zeros((2, 3, 1)), np.zeros((2, 3)), [3, 1])
    bad = (np.zeros((2, 3, 1)), np.zeros((2, 3)), [4, 1])
    source = BatchSource.from_loader([good, bad], "Trainer.fit")
    batches = source.iterate(2, False, None)
    next(batches)
    with pytest.raises(ValueError, match=r"Trainer.fit, batch 1: lengths must lie in 1\.\.3"):
        next(batches)


def test_array_slices_are_the_checked_whole_and_lengths_are_int64() -> None:
    x = np.arange(12.0).reshape(4, 3, 1)
    source = BatchSource.from_arrays(x, np.arange(4), np.array([3, 1, 2, 3], dtype=np.int32), "F")
    (x0, y0, l0), (x1, y1, l1) = _read_all(source)
    np.testing.assert_array_equal(np.concatenate([x0, x1]), x)  # type: ignore[list-item]
    assert [*y0, *y1] == [0, 1, 2, 3]  # type: ignore[misc]
    assert l0.dtype == np.int64 and l1.tolist() == [2, 3]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("x", "y", "lengths", "error", "message"),
    [
        (np.zeros((3, 2)), np.zeros(2), None, ValueError, "same number of samples, got 3 and 2"),
        ((np.zeros((3, 2)), np.zeros(2)), np.zeros(3), None, ValueError, "same first dimension"),
        (np.zeros(3), np.zeros(3), [1, 1, 1], ValueError, "lengths need sequence input"),
        ((np.zeros((3, 2)), np.zeros(3)), np.zeros(3), [1, 1, 1], TypeError, "single padded"),
        (np.zeros((3, 2)), np.zeros(()), None, ValueError, "first \\(sample\\) axis"),
    ],
)
def test_make_batch_refuses_what_does_not_fit_naming_the_owner(
    x: object, y: object, lengths: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"Owner: .*{message}"):
        make_batch(x, y, lengths, "Owner")
