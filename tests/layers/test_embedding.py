"""Embedding: integer ids to rows of ``weight``; gradients scatter back into those rows."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest

import minitorch_rnn as mt


def make_embedding() -> mt.Embedding:
    return mt.Embedding(6, 3, seed=0, dtype=np.float64)


def test_embedding_looks_up_rows_of_the_weight() -> None:
    embedding = make_embedding()
    ids = np.array([[0, 5, 2], [2, 2, 1]])
    y = embedding.forward(ids)
    assert y.shape == (2, 3, 3)
    np.testing.assert_array_equal(y, embedding.weight.data[ids])


def test_embedding_output_is_a_copy_not_a_view_of_the_weight() -> None:
    embedding = make_embedding()
    y = embedding.forward(np.array([1]))
    y[...] = 123.0
    assert not (embedding.weight.data == 123.0).any()


def test_embedding_equals_a_one_hot_product() -> None:
    embedding = make_embedding()
    ids = np.array([4, 0, 4])
    one_hot = np.eye(6)[ids]
    np.testing.assert_allclose(embedding.forward(ids), one_hot @ embedding.weight.data)


def test_embedding_passes_gradcheck_with_repeated_ids(rng: np.random.Generator) -> None:
    ids = np.array([[1, 3, 1], [5, 1, 0]])
    assert mt.gradcheck(make_embedding(), ids)


def test_repeated_ids_accumulate_their_gradients(rng: np.random.Generator) -> None:
    embedding = make_embedding()
    ids = np.array([[2, 4, 2], [2, 0, 4]])
    grad_y = rng.standard_normal((2, 3, 3))
    embedding.forward(ids)
    backward: Callable[[np.ndarray], object] = embedding.backward
    assert backward(grad_y) is None  # integer ids have no gradient
    expected = np.zeros((6, 3))
    for index, row in np.ndenumerate(ids):
        expected[row] += grad_y[index]
    np.testing.assert_allclose(embedding.weight.grad, expected, rtol=1e-12)
    assert not embedding.weight.grad[[1, 3, 5]].any()


@pytest.mark.parametrize(
    "ids", [np.array([1.0, 2.0]), np.array([True, False]), np.array(["a"])], ids=str
)
def test_non_integer_ids_are_a_type_error(ids: np.ndarray) -> None:
    with pytest.raises(TypeError, match="Embedding: ids must be an integer array"):
        make_embedding().forward(ids)


@pytest.mark.parametrize("ids", [np.array([0, 6]), np.array([[-1, 2]])], ids=["too big", "neg"])
def test_out_of_range_ids_are_a_value_error(ids: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"Embedding: ids must lie in \[0, 5\]"):
        make_embedding().forward(ids)


def test_backward_before_forward_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="Embedding: backward called before forward"):
        make_embedding().backward(np.zeros((1, 3)))


def test_grad_output_of_the_wrong_shape_is_rejected() -> None:
    embedding = make_embedding()
    embedding.forward(np.array([[1, 2]]))
    with pytest.raises(ValueError, match=r"Embedding: grad_output must have shape \(1, 2, 3\)"):
        embedding.backward(np.zeros((1, 2, 4)))


@pytest.mark.parametrize("sizes", [(0, 3), (6, 0), (-2, 3)])
def test_embedding_rejects_non_positive_sizes(sizes: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=r"Embedding: (num_embeddings|embedding_dim) must be >= 1"):
        mt.Embedding(*sizes)


@pytest.mark.parametrize(
    "sizes, name",
    [((True, 3), "num_embeddings"), ((5, 2.5), "embedding_dim"), ((5.0, 3), "num_embeddings")],
    ids=["bool", "float", "integral-float"],
)
def test_embedding_sizes_must_be_integers_not_floats_or_bools(
    sizes: tuple[object, object], name: str
) -> None:
    with pytest.raises(TypeError, match=f"Embedding: {name} must be an int"):
        mt.Embedding(*sizes)  # type: ignore[arg-type]


def test_rejected_call_changes_nothing(rng: np.random.Generator) -> None:
    embedding = make_embedding()
    ids = np.array([[1, 2], [3, 1]])
    embedding.forward(ids)
    untouched = copy.deepcopy(embedding)
    with pytest.raises(ValueError):
        embedding.forward(np.array([[9]]))
    with pytest.raises(TypeError):
        embedding.forward(np.array([[0.0]]))
    with pytest.raises(ValueError):
        embedding.backward(np.zeros((5, 3)))
    grad_y = rng.standard_normal((2, 2, 3))
    embedding.backward(grad_y)
    untouched.backward(grad_y)
    np.testing.assert_array_equal(embedding.weight.grad, untouched.weight.grad)
