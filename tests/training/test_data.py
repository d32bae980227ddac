"""Padding, mini-batching and streams for truncated BPTT."""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_rnn.dtype import set_default_dtype
from minitorch_rnn.training.data import StreamLoader, batches, pad_sequences

# -- pad_sequences -------------------------------------------------------------------------------


def test_pad_sequences_pads_token_ids_with_value_and_returns_lengths() -> None:
    padded, lengths = pad_sequences([[3, 1, 4], [1, 5], [9]], value=-1)
    np.testing.assert_array_equal(padded, [[3, 1, 4], [1, 5, -1], [9, -1, -1]])
    np.testing.assert_array_equal(lengths, [3, 2, 1])
    assert padded.dtype.kind == "i"
    assert lengths.dtype == np.int64


def test_pad_sequences_pads_feature_rows_and_keeps_float32_arrays_float32() -> None:
    first = np.ones((2, 3), dtype=np.float32)
    second = np.full((4, 3), 2.0, dtype=np.float32)
    padded, lengths = pad_sequences([first, second])
    assert padded.shape == (2, 4, 3)
    assert padded.dtype == np.float32
    np.testing.assert_array_equal(padded[0, 2:], 0.0)
    np.testing.assert_array_equal(padded[1], second)
    np.testing.assert_array_equal(lengths, [2, 4])


def test_pad_sequences_gives_python_float_lists_the_default_dtype() -> None:
    padded, _ = pad_sequences([[0.5, 1.5], [2.5]])
    assert padded.dtype == np.float32
    set_default_dtype(np.float64)
    padded, _ = pad_sequences([[0.5, 1.5], [2.5]])
    assert padded.dtype == np.float64


def test_pad_sequences_max_length_cuts_long_sequences_and_pads_short_ones() -> None:
    padded, lengths = pad_sequences([[1, 2, 3, 4], [5]], max_length=3)
    np.testing.assert_array_equal(padded, [[1, 2, 3], [5, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1])
    padded, lengths = pad_sequences([[1], [2]], max_length=3, dtype=np.float64)
    assert padded.shape == (2, 3) and padded.dtype == np.float64
    np.testing.assert_array_equal(lengths, [1, 1])


@pytest.mark.parametrize(
    ("sequences", "kwargs", "error", "message"),
    [
        ([], {}, ValueError, "at least one sequence"),
        ([[1, 2], []], {}, ValueError, "sequence 1 must have at least one step"),
        ([np.zeros((2, 3)), np.zeros((2, 4))], {}, ValueError, "sequence 1 has (4,)"),
        ([["a", "b"]], {}, TypeError, "must hold numbers"),
        ([[1, 2]], {"max_length": 0}, ValueError, "max_length"),
        ("abc", {}, TypeError, "list of sequences"),
    ],
)
def test_pad_sequences_rejects_bad_input_with_a_clear_error(
    sequences: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        pad_sequences(sequences, **kwargs)  # type: ignore[arg-type]


# -- batches -------------------------------------------------------------------------------------


def test_batches_cover_every_sample_once_in_order_with_a_short_last_batch() -> None:
    x = np.arange(10).reshape(5, 2)
    y = np.arange(5)
    result = list(batches(x, y, None, batch_size=2))
    assert [len(b[0]) for b in result] == [2, 2, 1]
    assert all(b[2] is None for b in result)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in result]), y)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in result]), x)


def test_batches_shuffle_is_a_permutation_reproducible_from_the_seed() -> None:
    y = np.arange(50)
    first = np.concatenate([b[0] for b in batches(y, batch_size=7, shuffle=True, rng=3)])
    again = np.concatenate([b[0] for b in batches(y, batch_size=7, shuffle=True, rng=3)])
    other = np.concatenate([b[0] for b in batches(y, batch_size=7, shuffle=True, rng=4)])
    np.testing.assert_array_equal(np.sort(first), y)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, y)
    assert not np.array_equal(first, other)


def test_batches_with_one_generator_draw_a_new_order_each_call() -> None:
    rng = np.random.default_rng(0)
    y = np.arange(20)
    epoch_one = np.concatenate([b[0] for b in batches(y, batch_size=5, shuffle=True, rng=rng)])
    epoch_two = np.concatenate([b[0] for b in batches(y, batch_size=5, shuffle=True, rng=rng)])
    assert not np.array_equal(epoch_one, epoch_two)


def test_batches_keeps_aligned_arrays_aligned_when_shuffling() -> None:
    x = np.arange(12)
    for x_batch, y_batch, lengths_batch in batches(
        x, x * 10, x + 100, batch_size=5, shuffle=True, rng=1
    ):
        np.testing.assert_array_equal(y_batch, x_batch * 10)
        np.testing.assert_array_equal(lengths_batch, x_batch + 100)


def test_batches_raises_at_the_call_not_at_the_first_next() -> None:
    with pytest.raises(ValueError, match="same length"):
        batches(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        batches(np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="empty"):
        batches(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="at least one array"):
        batches(None)


# -- StreamLoader --------------------------------------------------------------------------------


def test_stream_loader_yields_the_exact_chunks_of_parallel_streams() -> None:
    # 21 ids -> inputs 0..19, targets 1..20; 2 streams of 10 steps: 0..9 and 10..19.
    loader = StreamLoader(np.arange(21), batch_size=2, seq_len=4)
    chunks = [(x.tolist(), y.tolist()) for x, y in loader]
    assert len(loader) == 2
    assert chunks == [
        ([[0, 1, 2, 3], [10, 11, 12, 13]], [[1, 2, 3, 4], [11, 12, 13, 14]]),
        ([[4, 5, 6, 7], [14, 15, 16, 17]], [[5, 6, 7, 8], [15, 16, 17, 18]]),
    ]


def test_stream_loader_target_is_the_next_id_of_the_sequence() -> None:
    ids = np.random.default_rng(0).integers(0, 50, size=103)
    loader = StreamLoader(ids, batch_size=3, seq_len=5)
    stream_length = (ids.size - 1) // 3
    for chunk, (x, y) in enumerate(loader):
        assert x.shape == y.shape == (3, 5)
        for row in range(3):
            start = row * stream_length + chunk * 5
            np.testing.assert_array_equal(x[row], ids[start : start + 5])
            np.testing.assert_array_equal(y[row], ids[start + 1 : start + 6])


def test_stream_loader_iterates_again_identically_and_is_not_corrupted_by_writes() -> None:
    loader = StreamLoader(list(range(40)), batch_size=3, seq_len=3)
    first = [x.copy() for x, _ in loader]
    for x, _ in loader:
        x[...] = -1
    second = [x for x, _ in loader]
    assert len(first) == len(second) == len(loader) == 4
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("ids", "batch_size", "seq_len", "error", "message"),
    [
        (np.arange(8), 2, 4, ValueError, "too few"),
        (np.zeros((3, 4), dtype=int), 1, 1, ValueError, "1-D"),
        (np.arange(20.0), 2, 2, TypeError, "integer"),
        (np.arange(20), 0, 2, ValueError, "batch_size"),
        (np.arange(20), 2, 0, ValueError, "seq_len"),
    ],
)
def test_stream_loader_rejects_bad_arguments(
    ids: np.ndarray, batch_size: int, seq_len: int, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        StreamLoader(ids, batch_size, seq_len)
