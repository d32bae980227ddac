"""Initialisers: shapes, dtypes, reproducible seeds and the distributions they promise."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import minitorch_rnn as mt

# Each initialiser with its non-shape arguments fixed, so that all share one call signature.
INITIALISERS: dict[str, Callable[..., np.ndarray]] = {
    "normal": lambda shape, **kw: mt.init.normal(shape, **kw),
    "uniform": lambda shape, **kw: mt.init.uniform(shape, -0.5, 0.5, **kw),
    "xavier_uniform": lambda shape, **kw: mt.init.xavier_uniform(shape, **kw),
    "orthogonal": lambda shape, **kw: mt.init.orthogonal(shape, **kw),
}


@pytest.mark.parametrize("name", list(INITIALISERS))
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_initialiser_returns_the_requested_shape_in_the_default_dtype(
    name: str, shape: tuple[int, int]
) -> None:
    array = INITIALISERS[name](shape, seed=0)
    assert array.shape == shape and array.dtype == np.float32


@pytest.mark.parametrize("name", list(INITIALISERS))
def test_initialiser_honours_dtype_and_the_default_dtype(name: str) -> None:
    assert INITIALISERS[name]((3, 2), seed=0, dtype=np.float64).dtype == np.float64
    mt.set_default_dtype(np.float64)
    assert INITIALISERS[name]((3, 2), seed=0).dtype == np.float64


@pytest.mark.parametrize("name", list(INITIALISERS))
def test_same_int_seed_gives_the_same_values(name: str) -> None:
    first = INITIALISERS[name]((4, 3), seed=7)
    np.testing.assert_array_equal(first, INITIALISERS[name]((4, 3), seed=7))
    assert not np.array_equal(first, INITIALISERS[name]((4, 3), seed=8))


@pytest.mark.parametrize("name", list(INITIALISERS))
def test_generator_seed_is_reproducible_and_advanced(name: str) -> None:
    first_rng, second_rng = np.random.default_rng(3), np.random.default_rng(3)
    a1 = INITIALISERS[name]((4, 3), seed=first_rng)
    a2 = INITIALISERS[name]((4, 3), seed=first_rng)
    np.testing.assert_array_equal(a1, INITIALISERS[name]((4, 3), seed=second_rng))
    assert not np.array_equal(a1, a2)  # the generator moved on


def test_zeros() -> None:
    array = mt.init.zeros((2, 3))
    assert array.shape == (2, 3) and array.dtype == np.float32 and not array.any()


@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (5, 5)], ids=["wide", "tall", "square"])
def test_orthogonal_is_orthogonal(shape: tuple[int, int]) -> None:
    weight = mt.init.orthogonal(shape, seed=0, dtype=np.float64)
    rows, cols = shape
    if rows <= cols:
        np.testing.assert_allclose(weight @ weight.T, np.eye(rows), atol=1e-12)
    if rows >= cols:
        np.testing.assert_allclose(weight.T @ weight, np.eye(cols), atol=1e-12)


def test_orthogonal_gain_scales_the_matrix() -> None:
    weight = mt.init.orthogonal((4, 4), gain=2.0, seed=0, dtype=np.float64)
    np.testing.assert_allclose(weight.T @ weight, 4.0 * np.eye(4), atol=1e-12)


def test_xavier_uniform_stays_within_its_bound_and_reaches_it() -> None:
    fan_out, fan_in = 200, 300
    weight = mt.init.xavier_uniform((fan_out, fan_in), gain=1.5, seed=0, dtype=np.float64)
    bound = 1.5 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound


def test_uniform_stays_within_its_bounds() -> None:
    array = mt.init.uniform((1000,), -0.2, 0.3, seed=0)
    assert array.min() >= -0.2 and array.max() < 0.3
    assert array.min() < -0.19 and array.max() > 0.29


def test_normal_default_scale_is_a_hundredth() -> None:
    sample = mt.init.normal((200, 200), seed=0, dtype=np.float64)
    assert abs(sample.std() - 0.01) < 0.0005
    assert abs(sample.mean()) < 0.0005


def test_dense_and_embedding_use_the_documented_initialisation() -> None:
    dense = mt.Dense(400, 300, seed=0, dtype=np.float64)
    bound = 1.0 / math.sqrt(400)
    assert np.abs(dense.weight.data).max() <= bound
    assert np.abs(dense.weight.data).max() > 0.99 * bound
    embedding = mt.Embedding(200, 200, seed=0, dtype=np.float64)
    assert abs(embedding.weight.data.std() - 1.0) < 0.05


def test_layers_built_with_the_same_seed_are_identical() -> None:
    first, second = mt.Dense(4, 3, seed=5), mt.Dense(4, 3, seed=5)
    for (name, a), (_, b) in zip(first.named_parameters(), second.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


@pytest.mark.parametrize("name", ["xavier_uniform", "orthogonal"])
def test_matrix_initialisers_reject_one_dimensional_shapes(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} needs at least 2 dimensions"):
        INITIALISERS[name]((5,), seed=0)


@pytest.mark.parametrize("seed", [1.5, "0", [1, 2]])
def test_bad_seed_type_is_a_type_error(seed: object) -> None:
    with pytest.raises(TypeError, match="seed must be an int, a numpy Generator or None"):
        mt.init.normal((2,), seed=seed)  # type: ignore[arg-type]
