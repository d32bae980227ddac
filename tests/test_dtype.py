"""Dtypes: float32 by default, float64 on request, and no silent change of dtype on the way."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import minitorch_rnn as mt

# Factories of every feed-forward layer, each with a float input of the right shape.
FLOAT_LAYERS: dict[str, tuple[Callable[..., mt.Module], tuple[int, ...]]] = {
    "Dense": (lambda dtype: mt.Dense(3, 2, seed=0, dtype=dtype), (4, 5, 3)),
    "Dense no bias": (lambda dtype: mt.Dense(3, 2, bias=False, seed=0, dtype=dtype), (4, 3)),
    "Tanh": (lambda dtype: mt.Tanh(), (4, 3)),
    "Logistic": (lambda dtype: mt.Logistic(), (4, 3)),
    "ReLU": (lambda dtype: mt.ReLU(), (4, 3)),
    "Softmax": (lambda dtype: mt.Softmax(axis=0), (4, 3)),
    "Dropout": (lambda dtype: mt.Dropout(0.3, seed=0), (4, 3)),
    "Sequential": (
        lambda dtype: mt.Sequential(
            mt.Dense(3, 4, seed=0, dtype=dtype), mt.Tanh(), mt.Dense(4, 2, seed=1, dtype=dtype)
        ),
        (2, 3),
    ),
}


def test_default_dtype_is_float32() -> None:
    assert mt.get_default_dtype() == np.float32
    dense = mt.Dense(2, 2)
    assert dense.weight.dtype == np.float32 and dense.bias is not None
    assert dense.bias.dtype == np.float32
    assert mt.Embedding(4, 2).weight.dtype == np.float32
    assert mt.Parameter([1.0, 2.0]).dtype == np.float64  # a float array keeps its own dtype


def test_set_default_dtype_changes_new_parameters_only() -> None:
    before = mt.Dense(2, 2)
    mt.set_default_dtype(np.float64)
    assert mt.get_default_dtype() == np.float64
    assert mt.Dense(2, 2).weight.dtype == np.float64
    assert mt.Embedding(4, 2).weight.dtype == np.float64
    assert mt.init.zeros((2,)).dtype == np.float64
    assert mt.Parameter([1, 2]).dtype == np.float64
    assert before.weight.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex64, "not a dtype"])
def test_set_default_dtype_rejects_unsupported_dtypes(dtype: object) -> None:
    with pytest.raises(TypeError, match="float32 or float64"):
        mt.set_default_dtype(dtype)  # type: ignore[arg-type]
    assert mt.get_default_dtype() == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(FLOAT_LAYERS))
def test_layer_keeps_its_dtype_end_to_end(name: str, dtype: type, rng: np.random.Generator) -> None:
    factory, shape = FLOAT_LAYERS[name]
    layer = factory(dtype)
    x: np.ndarray = rng.standard_normal(shape).astype(dtype)
    y = layer.forward(x)
    assert y.dtype == dtype
    grad_x = layer.backward(rng.standard_normal(y.shape).astype(dtype))
    assert grad_x.dtype == dtype
    for parameter in layer.parameters():
        assert parameter.dtype == dtype and parameter.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_keeps_its_dtype(dtype: type) -> None:
    embedding = mt.Embedding(5, 3, seed=0, dtype=dtype)
    ids = np.array([[0, 4], [4, 2]])
    assert embedding.forward(ids).dtype == dtype
    embedding.backward(np.ones((2, 2, 3), dtype=dtype))
    assert embedding.weight.grad.dtype == dtype


def test_parameter_free_layers_give_integer_input_the_default_dtype() -> None:
    assert mt.Tanh().forward(np.array([1, 2])).dtype == np.float32
    mt.set_default_dtype(np.float64)
    assert mt.Tanh().forward(np.array([1, 2])).dtype == np.float64


def test_unsupported_float_input_goes_to_the_default_dtype() -> None:
    assert mt.Tanh().forward(np.ones(3, dtype=np.float16)).dtype == np.float32


def test_float32_layer_does_not_upcast_a_float64_gradient() -> None:
    dense = mt.Dense(3, 2, seed=0)
    dense.forward(np.ones((1, 3), dtype=np.float32))
    assert dense.backward(np.ones((1, 2), dtype=np.float64)).dtype == np.float32
    assert dense.weight.grad.dtype == np.float32


@pytest.mark.parametrize(
    "make_loss, pred, target",
    [
        (mt.CrossEntropyLoss, np.zeros((2, 3)), np.array([0, 2])),
        (
            lambda reduction: mt.CrossEntropyLoss(from_logits=False, reduction=reduction),
            np.full((2, 3), 1 / 3),
            np.array([0, 2]),
        ),
        (mt.BCELoss, np.full((2, 3), 0.5), np.ones((2, 3))),
        (mt.BCEWithLogitsLoss, np.zeros((2, 3)), np.ones((2, 3))),
        (mt.MSELoss, np.zeros((2, 3)), np.ones((2, 3))),
    ],
    ids=["ce", "ce probabilities", "bce", "bce logits", "mse"],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "batch_mean"])
def test_loss_gradient_has_the_dtype_of_pred(
    make_loss: Callable[..., mt.Loss], pred: np.ndarray, target: np.ndarray, reduction: str
) -> None:
    loss = make_loss(reduction=reduction)
    value = loss.forward(pred.astype(np.float32), target)
    assert isinstance(value, float)
    assert loss.backward().dtype == np.float32


def test_dtype_argument_overrides_the_default() -> None:
    assert mt.Dense(2, 2, dtype=np.float64).weight.dtype == np.float64
    assert mt.Embedding(3, 2, dtype=np.float64).weight.dtype == np.float64
    mt.set_default_dtype(np.float64)
    assert mt.Dense(2, 2, dtype=np.float32).weight.dtype == np.float32
    assert mt.Embedding(3, 2, dtype="float32").weight.dtype == np.float32


def test_module_to_float64_makes_the_whole_model_float64() -> None:
    model = mt.Sequential(mt.Dense(3, 4, seed=0), mt.Tanh(), mt.Dense(4, 2, seed=1))
    model.to(np.float64)
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    y = model.forward(np.ones((2, 3), dtype=np.float64))
    assert y.dtype == np.float64
    assert model.backward(np.ones_like(y)).dtype == np.float64


def test_assigning_weights_of_another_dtype_takes_effect_at_the_next_forward() -> None:
    dense = mt.Dense(3, 2, seed=0)
    x = np.ones((1, 3))
    assert dense.forward(x).dtype == np.float32
    for parameter in dense.parameters():
        parameter.data = parameter.data.astype(np.float64)
    assert dense.forward(x).dtype == np.float64


def test_assigning_new_values_takes_effect_at_the_next_forward() -> None:
    dense = mt.Dense(2, 2, seed=0)
    dense.weight.data = np.eye(2, dtype=np.float32)
    assert dense.bias is not None
    dense.bias.data[...] = 0.5
    np.testing.assert_array_equal(dense.forward(np.array([[1.0, 2.0]])), [[1.5, 2.5]])


def test_assigning_dense_weights_of_another_shape_takes_effect_at_the_next_forward() -> None:
    dense = mt.Dense(3, 2, seed=0)
    dense.weight.data = np.ones((5, 4), dtype=np.float32)
    assert dense.bias is not None
    dense.bias.data = np.zeros(5, dtype=np.float32)
    assert (dense.in_features, dense.out_features) == (4, 5)
    y = dense.forward(np.ones((2, 4)))
    np.testing.assert_array_equal(y, np.full((2, 5), 4.0))
    grad_x = dense.backward(np.ones((2, 5)))
    assert grad_x.shape == (2, 4) and dense.weight.grad.shape == (5, 4)


def test_dense_with_a_half_resized_bias_raises_a_clear_error() -> None:
    dense = mt.Dense(3, 2, seed=0)
    dense.weight.data = np.ones((5, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"Dense: bias must have shape \(5,\)"):
        dense.forward(np.ones((1, 3)))


def test_assigning_a_larger_embedding_table_takes_effect_at_the_next_forward() -> None:
    embedding = mt.Embedding(3, 2, seed=0)
    with pytest.raises(ValueError):
        embedding.forward(np.array([4]))
    embedding.weight.data = np.arange(10, dtype=np.float32).reshape(5, 2)
    np.testing.assert_array_equal(embedding.forward(np.array([4])), [[8.0, 9.0]])
    assert embedding.num_embeddings == 5
