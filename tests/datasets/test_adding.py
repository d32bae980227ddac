"""The adding problem's invariants: shapes, markers one per half, target the marked sum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_rnn as mt
from minitorch_rnn.datasets.adding import BASELINE_MSE


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    steps=st.integers(2, 120),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_sequence_has_one_marker_per_half_and_target_is_their_sum(n, steps, seed):
    x, y = mt.datasets.adding_problem(n, steps, seed=seed, dtype=np.float64)
    assert x.shape == (n, steps, 2) and y.shape == (n, 1)
    values, markers = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert np.isin(markers, (0.0, 1.0)).all()
    half = steps // 2
    assert (markers[:, :half].sum(axis=1) == 1).all()
    assert (markers[:, half:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), rtol=0, atol=1e-12)


def test_same_seed_gives_same_data_and_other_seed_differs():
    first = mt.datasets.adding_problem(5, 30, seed=7)
    again = mt.datasets.adding_problem(5, 30, seed=7)
    other = mt.datasets.adding_problem(5, 30, seed=8)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_follows_the_argument_and_the_default(dtype):
    x, y = mt.datasets.adding_problem(3, 4, seed=0, dtype=dtype)
    assert x.dtype == dtype and y.dtype == dtype
    previous = mt.get_default_dtype()
    mt.set_default_dtype(dtype)
    try:
        x, y = mt.datasets.adding_problem(3, 4, seed=0)
    finally:
        mt.set_default_dtype(previous)
    assert x.dtype == dtype and y.dtype == dtype


def test_always_predicting_one_scores_the_one_sixth_baseline():
    _, y = mt.datasets.adding_problem(200_000, 2, seed=0, dtype=np.float64)
    assert BASELINE_MSE == pytest.approx(1 / 6)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(BASELINE_MSE, abs=3e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"n": 0, "steps": 10}, ValueError, "n must be >= 1"),
        ({"n": 2.5, "steps": 10}, TypeError, "n must be an int"),
        ({"n": 2, "steps": 1}, ValueError, "steps must be >= 2"),
        ({"n": 2, "steps": True}, TypeError, "steps must be an int"),
        ({"n": 2, "steps": 10, "seed": "x"}, TypeError, "seed"),
        ({"n": 2, "steps": 10, "dtype": np.int32}, TypeError, "float32 or float64"),
    ],
)
def test_bad_arguments_raise_naming_adding_problem(kwargs, error, words):
    with pytest.raises(error, match=words):
        mt.datasets.adding_problem(**kwargs)
