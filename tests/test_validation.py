"""Input validation: the shared checks, and the failure contract of every feed-forward layer.

A rejected call raises ``TypeError``/``ValueError`` naming the layer, and changes nothing: the next
``backward`` still matches the last good ``forward``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import validation

# -- the shared checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[True, False], [1, 2], np.array([1, 2], dtype=np.uint8)])
def test_float_input_converts_booleans_and_integers_to_the_default_dtype(values: object) -> None:
    assert validation.float_input(values, "Layer").dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_input_keeps_supported_float_dtypes(dtype: type) -> None:
    assert validation.float_input(np.zeros(2, dtype=dtype), "Layer").dtype == dtype


def test_float_input_casts_to_a_requested_dtype() -> None:
    array = validation.float_input(np.zeros(2), "Layer", dtype=np.dtype(np.float32))
    assert array.dtype == np.float32


@pytest.mark.parametrize(
    "values", [np.array(["a", "b"]), np.array([1 + 2j]), np.array([None, 1.0], dtype=object)]
)
def test_float_input_rejects_non_real_data_with_a_type_error(values: np.ndarray) -> None:
    with pytest.raises(TypeError, match=r"Layer: weights must be a real numeric array, got dtype"):
        validation.float_input(values, "Layer", name="weights")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_input_rejects_non_finite_values_unless_told_not_to(bad: float) -> None:
    with pytest.raises(ValueError, match="Layer: input contains NaN or inf"):
        validation.float_input([1.0, bad], "Layer")
    assert not np.isfinite(validation.float_input([bad], "Layer", check_finite=False)).all()


def test_int_input_accepts_integers_and_rejects_floats() -> None:
    assert validation.int_input(np.array([1, 2], dtype=np.int8), "Layer").dtype == np.int64
    with pytest.raises(TypeError, match="Layer: ids must be an integer array, got dtype float64"):
        validation.int_input(np.array([1.0, 2.0]), "Layer", name="ids")


def test_rank_and_shape_checks_name_what_was_expected_and_what_came() -> None:
    x = np.zeros((2, 3))
    validation.check_rank(x, "Layer", (2, 3))
    with pytest.raises(ValueError, match=r"Layer: input must have 1 or 3 dimensions, got shape"):
        validation.check_rank(x, "Layer", (1, 3))
    with pytest.raises(ValueError, match=r"at least 3 dimension\(s\), got shape \(2, 3\)"):
        validation.check_min_rank(x, "Layer", 3)
    with pytest.raises(ValueError, match=r"must have 4 features on its last axis, got shape"):
        validation.check_last_dim(x, "Layer", 4)


def test_check_shape_does_not_accept_broadcastable_shapes() -> None:
    with pytest.raises(ValueError, match=r"Layer: state must have shape \(8, 3\), got \(1, 3\)"):
        validation.check_shape(np.zeros((1, 3)), "Layer", (8, 3), "state")


def test_grad_input_checks_shape_and_casts_without_checking_finiteness() -> None:
    grad = validation.grad_input([[np.inf, 1.0]], "Layer", (1, 2), np.dtype(np.float32))
    assert grad.dtype == np.float32
    with pytest.raises(ValueError, match="grad_output must have shape"):
        validation.grad_input(np.zeros((2, 1)), "Layer", (1, 2), np.dtype(np.float32))


def test_no_forward_error_names_the_layer() -> None:
    error = validation.no_forward_error("Layer")
    assert isinstance(error, RuntimeError)
    assert "Layer: backward called before forward" in str(error)


# -- every float-input layer follows the failure contract ---------------------------------------

LAYERS: dict[str, Callable[[], mt.Module]] = {
    "Dense": lambda: mt.Dense(3, 2, seed=0),
    "Tanh": mt.Tanh,
    "Logistic": mt.Logistic,
    "ReLU": mt.ReLU,
    "Softmax": mt.Softmax,
    "Dropout": lambda: mt.Dropout(0.5, seed=0),
}
GOOD_SHAPE = (4, 3)

BAD_INPUTS: dict[str, tuple[np.ndarray, type[Exception]]] = {
    "strings": (np.full(GOOD_SHAPE, "x"), TypeError),
    "complex": (np.ones(GOOD_SHAPE, dtype=np.complex128), TypeError),
    "nan": (np.full(GOOD_SHAPE, np.nan), ValueError),
    "inf": (np.full(GOOD_SHAPE, np.inf), ValueError),
}

# Shapes that only some layers reject (elementwise layers take any shape).
WRONG_SHAPES: dict[str, list[np.ndarray]] = {
    "Dense": [np.ones((4, 7)), np.ones(())],
    "Softmax": [np.ones(())],
}


def _class_name(layer: mt.Module) -> str:
    return type(layer).__name__


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_rejects_bad_input_naming_itself(name: str, bad: str) -> None:
    layer = LAYERS[name]()
    values, error = BAD_INPUTS[bad]
    with pytest.raises(error, match=_class_name(layer)):
        layer.forward(values)


@pytest.mark.parametrize("name", list(LAYERS))
def test_backward_before_forward_is_a_runtime_error(name: str) -> None:
    layer = LAYERS[name]()
    with pytest.raises(RuntimeError, match=f"{_class_name(layer)}: backward called before forward"):
        layer.backward(np.ones(GOOD_SHAPE))


@pytest.mark.parametrize("grad_shape", [(4, 1), (1, 2), (2, 4, 3), (4,)])
@pytest.mark.parametrize("name", list(LAYERS))
def test_grad_output_of_the_wrong_shape_is_rejected(
    name: str, grad_shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    layer = LAYERS[name]()
    layer.forward(rng.standard_normal(GOOD_SHAPE))
    with pytest.raises(ValueError, match=f"{_class_name(layer)}: grad_output must have shape"):
        layer.backward(np.ones(grad_shape))


@pytest.mark.parametrize("name", list(LAYERS))
def test_rejected_forward_changes_nothing(name: str, rng: np.random.Generator) -> None:
    layer = LAYERS[name]()
    x = rng.standard_normal(GOOD_SHAPE)
    layer.forward(x)
    untouched = copy.deepcopy(layer)
    for values, error in BAD_INPUTS.values():
        with pytest.raises(error):
            layer.forward(values)
    for values in WRONG_SHAPES.get(name, []):
        with pytest.raises(ValueError):
            layer.forward(values)
    grad_y = rng.standard_normal((4, 2) if name == "Dense" else GOOD_SHAPE)
    np.testing.assert_array_equal(layer.backward(grad_y), untouched.backward(grad_y))
    for (param_name, p), (_, q) in zip(
        layer.named_parameters(), untouched.named_parameters(), strict=True
    ):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=param_name)
    # Random draws are state too: a rejected call must not consume them.
    np.testing.assert_array_equal(layer.forward(x), untouched.forward(x))


@pytest.mark.parametrize("name", list(LAYERS))
def test_rejected_backward_changes_nothing(name: str, rng: np.random.Generator) -> None:
    layer = LAYERS[name]()
    y = layer.forward(rng.standard_normal(GOOD_SHAPE))
    untouched = copy.deepcopy(layer)
    with pytest.raises(ValueError):
        layer.backward(np.ones((y.shape[0] + 1, y.shape[1])))
    grad_y = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(grad_y), untouched.backward(grad_y))
    for p, q in zip(layer.parameters(), untouched.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad)


# -- state-dict checks shared by Module, optimisers and schedulers --------------------------------


def test_key_mismatch_names_missing_and_unexpected_keys_sorted() -> None:
    assert validation.key_mismatch(["a", "b"], ["b", "a"]) is None
    assert validation.key_mismatch(["a", "b", "c"], ["c", "z", 3]) == (
        "missing keys ['a', 'b'], unexpected keys ['z', 3]"
    )


def test_check_keys_raises_the_requested_error_starting_with_the_owner() -> None:
    validation.check_keys("Thing.load_state_dict", ["a"], ["a"])
    with pytest.raises(KeyError, match=r"Thing.load_state_dict: missing keys \['a'\]"):
        validation.check_keys("Thing.load_state_dict", ["a"], [], error=KeyError)
    with pytest.raises(ValueError, match=r"unexpected keys \['b'\]"):
        validation.check_keys("Thing", ["a"], ["a", "b"])


def test_staged_arrays_checks_everything_then_returns_cast_copies() -> None:
    source = {"w": np.ones((2, 2)), "b": np.zeros(2)}
    targets = {"w": ((2, 2), np.dtype(np.float32)), "b": ((2,), np.dtype(np.float32))}
    staged = validation.staged_arrays("Owner", source, targets)
    assert staged["w"].dtype == np.float32 and staged["w"] is not source["w"]
    bad = {"w": np.ones((3, 2)), "b": np.array([np.nan, 0.0])}
    with pytest.raises(ValueError, match=r"Owner: w: expected shape \(2, 2\).*; b: contains NaN"):
        validation.staged_arrays("Owner", bad, targets)
    with pytest.raises(ValueError, match="expected a float array"):
        validation.staged_arrays(
            "Owner", {"w": np.ones((2, 2), dtype=int), "b": np.zeros(2)}, targets
        )
    ints = validation.staged_arrays(
        "Owner", {"w": np.ones((2, 2), dtype=int), "b": np.zeros(2)}, targets, kinds="iuf"
    )
    assert ints["w"].dtype == np.float32


def test_time_mask_is_true_exactly_before_each_length() -> None:
    np.testing.assert_array_equal(
        validation.time_mask(np.array([3, 1]), 4),
        [[True, True, True, False], [True, False, False, False]],
    )


def test_check_lengths_rejects_wrong_shape_range_and_dtype() -> None:
    np.testing.assert_array_equal(validation.check_lengths([1, 4], 2, 4, "T"), [1, 4])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        validation.check_lengths([1, 2, 3], 2, 4, "T")
    with pytest.raises(ValueError, match=r"1\.\.4"):
        validation.check_lengths([0, 2], 2, 4, "T")
    with pytest.raises(ValueError, match=r"1\.\.4"):
        validation.check_lengths([5, 2], 2, 4, "T")
    with pytest.raises(TypeError, match="integer"):
        validation.check_lengths([1.0, 2.0], 2, 4, "T")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.0, ValueError),
        (-0.1, ValueError),
        (float("nan"), ValueError),
        ("0.5", TypeError),
        (True, TypeError),
    ],
)
def test_check_probability_takes_reals_in_zero_to_one(value: object, error: type) -> None:
    with pytest.raises(error, match="Owner: p must"):
        validation.check_probability(value, "Owner", "p")


def test_check_probability_returns_a_float() -> None:
    assert validation.check_probability(0, "Owner", "p") == 0.0
    assert validation.check_probability(0.5, "Owner", "p") == 0.5


@pytest.mark.parametrize("size", [7, 3 * 2**16 + 1])  # below and above the temporary-free path
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_input_finds_a_single_non_finite_entry_in_small_and_large_arrays(
    size: int, bad: float
) -> None:
    values = np.zeros(size, np.float32)
    assert validation.float_input(values, "Layer") is values  # finite: accepted, not copied
    values[size // 2] = bad
    with pytest.raises(mt.NonFiniteInputError, match="Layer: input contains NaN or inf"):
        validation.float_input(values, "Layer")
