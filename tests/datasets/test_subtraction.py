"""The binary-subtraction dataset generator and its display helpers."""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_rnn.datasets.subtraction import (
    MAX_BITS,
    bits_to_int,
    format_example,
    int_to_bits,
    subtraction_dataset,
)


@pytest.mark.parametrize(("bits", "count"), [(1, 3), (4, 136), (8, 32_896)])
def test_dataset_holds_every_pair_a_at_least_b_once(bits: int, count: int) -> None:
    x, y, a, b = subtraction_dataset(bits)
    assert x.shape == (count, bits, 2) and y.shape == (count, bits, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert a.dtype == np.int64 and b.dtype == np.int64
    assert np.all(a >= b) and a.max() == 2**bits - 1
    assert len(set(zip(a.tolist(), b.tolist(), strict=True))) == count


def test_dataset_features_and_targets_are_bits_least_significant_first() -> None:
    x, y, a, b = subtraction_dataset(4)
    np.testing.assert_array_equal(bits_to_int(x[..., 0].astype(int)), a)
    np.testing.assert_array_equal(bits_to_int(x[..., 1].astype(int)), b)
    np.testing.assert_array_equal(bits_to_int(y[..., 0].astype(int)), a - b)
    # The source documents' worked example: 13 - 6 = 7, step by step from the lowest bit.
    (row,) = np.flatnonzero((a == 13) & (b == 6))
    np.testing.assert_array_equal(x[row], [[1, 0], [0, 1], [1, 1], [1, 0]])
    np.testing.assert_array_equal(y[row, :, 0], [1, 1, 1, 0])


def test_dataset_dtype_can_be_float64() -> None:
    x, y, _, _ = subtraction_dataset(2, dtype=np.float64)
    assert x.dtype == y.dtype == np.float64


@pytest.mark.parametrize(
    ("bits", "error"),
    [(0, ValueError), (-3, ValueError), (MAX_BITS + 1, ValueError), (2.0, TypeError)],
)
def test_dataset_rejects_bits_out_of_range(bits: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="bits"):
        subtraction_dataset(bits)  # type: ignore[arg-type]


def test_int_to_bits_and_bits_to_int_are_inverse() -> None:
    values = np.arange(64)
    bits = int_to_bits(values, 6)
    assert bits.shape == (64, 6)
    np.testing.assert_array_equal(bits[13], [1, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(bits_to_int(bits), values)
    assert int(bits_to_int([True, True, True, False])) == 7
    assert int(bits_to_int(np.array([0.0, 1.0]))) == 2


def test_bit_helpers_reject_what_is_not_bits() -> None:
    with pytest.raises(ValueError, match="0 or 1"):
        bits_to_int([0.2, 0.9])
    with pytest.raises(ValueError, match=r"0\.\.15"):
        int_to_bits(16, 4)
    with pytest.raises(TypeError, match="integers"):
        int_to_bits(1.5, 4)


def test_format_example_reproduces_the_source_layout() -> None:
    text = format_example(13, 6, np.array([[0.9], [0.8], [0.7], [0.1]]))
    assert text == (
        "  x1: [1, 1, 0, 1]\n"
        "- x2: [0, 1, 1, 0]\n"
        "------------------\n"
        "true: [0, 1, 1, 1]\n"
        "pred: [0, 1, 1, 1]\n"
        "13 - 6 = 7"
    )


def test_format_example_shows_the_true_result_next_to_a_wrong_prediction() -> None:
    text = format_example(11, 1, [0, 1, 0, 0])
    assert text.splitlines()[-2:] == ["pred: [0, 0, 1, 0]", "11 - 1 = 2 (true: 10)"]


def test_format_example_rejects_inconsistent_arguments() -> None:
    with pytest.raises(ValueError, match="b <= a"):
        format_example(3, 5, [0, 0, 0, 0])
    with pytest.raises(ValueError, match="shape"):
        format_example(3, 1, np.zeros((4, 2)))
