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


# -- schemes of the recurrent cells (init=) ----------------------------------------------------

RECURRENT_CELLS = {
    "rnn": lambda **kw: mt.RNNCell(3, 4, **kw),
    "gru": lambda **kw: mt.GRUCell(3, 4, **kw),
    "lstm": lambda **kw: mt.LSTMCell(3, 4, **kw),
}


@pytest.mark.parametrize("kind", sorted(RECURRENT_CELLS))
def test_pytorch_scheme_is_the_default_and_draws_the_four_parameters_in_order(kind: str) -> None:
    cell = RECURRENT_CELLS[kind](seed=7, dtype=np.float64)
    rng = np.random.default_rng(7)
    bound = 1 / math.sqrt(4)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        parameter = getattr(cell, name)
        expected = rng.uniform(-bound, bound, size=parameter.shape)
        np.testing.assert_array_equal(parameter.data, expected, err_msg=name)
    explicit = RECURRENT_CELLS[kind](seed=7, dtype=np.float64, init="pytorch")
    np.testing.assert_array_equal(explicit.weight_hh.data, cell.weight_hh.data)


@pytest.mark.parametrize("kind", sorted(RECURRENT_CELLS))
def test_normal_scheme_has_small_gaussian_weights_and_zero_biases(kind: str) -> None:
    cell = RECURRENT_CELLS[kind](seed=0, init="normal", dtype=np.float64, bias=True)
    assert not cell.bias_ih.data.any() and not cell.bias_hh.data.any()
    weights = np.concatenate([cell.weight_ih.data.ravel(), cell.weight_hh.data.ravel()])
    assert 0.005 < weights.std() < 0.015


@pytest.mark.parametrize("kind", sorted(RECURRENT_CELLS))
def test_orthogonal_scheme_makes_each_recurrent_gate_block_orthogonal(kind: str) -> None:
    cell = RECURRENT_CELLS[kind](seed=0, init="orthogonal", dtype=np.float64)
    hidden = cell.hidden_size
    for k in range(cell.num_gates):
        block = cell.weight_hh.data[k * hidden : (k + 1) * hidden]
        np.testing.assert_allclose(block @ block.T, np.eye(hidden), atol=1e-12)
    bound = math.sqrt(6 / (cell.weight_ih.shape[0] + cell.weight_ih.shape[1]))
    assert np.abs(cell.weight_ih.data).max() <= bound
    assert not cell.bias_ih.data.any() and not cell.bias_hh.data.any()


@pytest.mark.parametrize("kind", sorted(RECURRENT_CELLS))
def test_identity_scheme_is_the_irnn_initialisation(kind: str) -> None:
    cell = RECURRENT_CELLS[kind](seed=0, init="identity", dtype=np.float64)
    expected = np.concatenate([np.eye(4)] * cell.num_gates)
    np.testing.assert_array_equal(cell.weight_hh.data, expected)
    assert 0.0003 < cell.weight_ih.data.std() < 0.003
    assert not cell.bias_ih.data.any() and not cell.bias_hh.data.any()


def test_identity_relu_rnn_carries_its_state_unchanged_with_zero_input() -> None:
    cell = mt.RNNCell(3, 4, nonlinearity="relu", init="identity", seed=0, dtype=np.float64)
    h = np.abs(np.random.default_rng(0).standard_normal((2, 4)))
    np.testing.assert_allclose(cell.forward(np.zeros((2, 3)), h), h)


def test_callable_init_is_called_for_every_parameter_with_its_name_and_shape() -> None:
    calls = []

    def constant(name, shape, rng, dtype):  # type: ignore[no-untyped-def]
        calls.append((name, shape, dtype))
        assert isinstance(rng, np.random.Generator)
        return np.full(shape, 0.5 if name.startswith("weight") else -0.25, dtype)

    cell = mt.LSTMCell(3, 4, init=constant, dtype=np.float32)
    assert [c[0] for c in calls] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert [c[1] for c in calls] == [(16, 3), (16, 4), (16,), (16,)]
    assert all(c[2] == np.float32 for c in calls)
    assert np.all(cell.weight_hh.data == 0.5) and np.all(cell.bias_ih.data == -0.25)
    assert cell.weight_hh.dtype == np.float32


def test_forget_bias_applies_after_the_scheme() -> None:
    cell = mt.LSTMCell(3, 4, forget_bias=1.0, init="orthogonal", seed=0)
    np.testing.assert_array_equal(cell.bias_ih.data[4:8], 1.0)
    np.testing.assert_array_equal(cell.bias_hh.data[4:8], 0.0)
    assert not cell.bias_ih.data[:4].any()


def test_stacks_pass_init_to_every_cell() -> None:
    stack = mt.LSTM(3, 4, num_layers=2, bidirectional=True, init="identity", seed=0)
    for name, value in stack.state_dict().items():
        if name.startswith("weight_hh"):
            np.testing.assert_array_equal(value, np.concatenate([np.eye(4)] * 4), err_msg=name)


def test_unknown_scheme_or_wrong_shape_is_refused_naming_the_cell() -> None:
    with pytest.raises(ValueError, match="GRUCell: init must be one of 'pytorch', 'normal'"):
        mt.GRUCell(3, 4, init="xavier")
    with pytest.raises(ValueError, match=r"RNNCell: init returned shape \(2,\) for weight_ih"):
        mt.RNNCell(3, 4, init=lambda name, shape, rng, dtype: np.zeros(2))
