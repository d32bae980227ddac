"""MeanPool: the average of each sequence's valid steps, and its gradient."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_rnn as mt


def test_mean_pool_without_lengths_is_the_mean_over_time(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 5, 4))
    np.testing.assert_allclose(mt.MeanPool().forward(x), x.mean(axis=1), rtol=1e-12)


def test_mean_pool_with_lengths_averages_only_valid_steps(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 5, 4))
    lengths = np.array([5, 1, 3])
    expected = np.stack([x[b, : lengths[b]].mean(axis=0) for b in range(3)])
    np.testing.assert_allclose(mt.MeanPool().forward(x, lengths=lengths), expected, rtol=1e-12)


def test_padding_values_do_not_change_the_output(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 4, 3))
    lengths = np.array([2, 4])
    noisy = x.copy()
    noisy[0, 2:] = 1e6
    pool = mt.MeanPool()
    np.testing.assert_allclose(
        pool.forward(noisy, lengths=lengths), pool.forward(x, lengths=lengths), rtol=1e-12
    )


def test_backward_spreads_the_gradient_over_valid_steps(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 4, 3))
    grad_output = rng.standard_normal((2, 3))
    pool = mt.MeanPool()
    pool.forward(x, lengths=np.array([4, 2]))
    grad = pool.backward(grad_output)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad[0], np.tile(grad_output[0] / 4, (4, 1)), rtol=1e-12)
    np.testing.assert_allclose(grad[1, :2], np.tile(grad_output[1] / 2, (2, 1)), rtol=1e-12)
    assert not grad[1, 2:].any()


def test_mean_pool_passes_gradcheck_without_lengths(rng: np.random.Generator) -> None:
    assert mt.gradcheck(mt.MeanPool(), rng.standard_normal((2, 3, 4)))


def test_mean_pool_passes_gradcheck_with_lengths(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4, 2))
    assert mt.gradcheck(mt.MeanPool(), x, forward_kwargs={"lengths": np.array([4, 1, 2])})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_pool_keeps_the_input_dtype(rng: np.random.Generator, dtype: type) -> None:
    x = rng.standard_normal((2, 3, 4)).astype(dtype)
    pool = mt.MeanPool()
    y = pool.forward(x, lengths=np.array([1, 3]))
    assert y.dtype == dtype
    assert pool.backward(np.ones((2, 4), dtype=dtype)).dtype == dtype


def test_mean_pool_has_no_parameters() -> None:
    assert list(mt.MeanPool().parameters()) == []


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4, 5), (4,)])
def test_input_of_another_rank_is_a_value_error(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="MeanPool: input must have 3 dimensions"):
        mt.MeanPool().forward(np.zeros(shape))


@pytest.mark.parametrize(
    "lengths",
    [
        np.array([0, 2]),
        np.array([2, 4]),
        np.array([-1, 1]),
        np.array([1, 2, 3]),
        np.array([[1, 2]]),
    ],
    ids=["zero", "too long", "negative", "wrong batch", "wrong rank"],
)
def test_lengths_outside_one_to_steps_are_a_value_error(lengths: np.ndarray) -> None:
    with pytest.raises(
        ValueError, match=r"MeanPool: lengths must (have shape \(2,\)|lie in 1\.\.3)"
    ):
        mt.MeanPool().forward(np.zeros((2, 3, 4)), lengths=lengths)


def test_float_lengths_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="MeanPool: lengths must be an integer array"):
        mt.MeanPool().forward(np.zeros((2, 3, 4)), lengths=np.array([1.0, 2.0]))


def test_rejected_forward_keeps_the_previous_forward_for_backward(
    rng: np.random.Generator,
) -> None:
    pool = mt.MeanPool()
    x = rng.standard_normal((2, 3, 4))
    pool.forward(x, lengths=np.array([3, 1]))
    expected = pool.backward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="lengths"):
        pool.forward(np.zeros((5, 6, 4)), lengths=np.zeros(5, dtype=int))
    np.testing.assert_array_equal(pool.backward(np.ones((2, 4))), expected)


def test_backward_before_forward_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="MeanPool: backward called before forward"):
        mt.MeanPool().backward(np.zeros((2, 4)))


def test_grad_output_of_the_wrong_shape_is_a_value_error(rng: np.random.Generator) -> None:
    pool = mt.MeanPool()
    pool.forward(rng.standard_normal((2, 3, 4)))
    with pytest.raises(ValueError, match="MeanPool"):
        pool.backward(np.zeros((2, 3, 4)))


def test_empty_lengths_or_an_empty_batch_is_a_clear_value_error() -> None:
    pool = mt.MeanPool()
    with pytest.raises(ValueError, match=r"MeanPool: lengths must have shape \(2,\)"):
        pool.forward(np.ones((2, 3, 4)), lengths=np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match=r"MeanPool: input needs at least one sample and step"):
        pool.forward(np.ones((0, 3, 4)), lengths=np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match=r"MeanPool: input needs at least one sample and step"):
        pool.forward(np.ones((2, 0, 4)))
