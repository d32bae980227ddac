"""Parameter, Module and Sequential: registration, traversal, state and the container contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.module import accepts_lengths


class Inner(mt.Module):
    """A leaf with one parameter, used to build nested trees."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = mt.Parameter(np.ones((2, 2)))


class Block(mt.Module):
    """A module holding a parameter and a submodule."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = mt.Parameter(np.ones(2))
        self.inner = Inner()


class Outer(mt.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.head = mt.Dense(2, 3, seed=0)


class CallLog(mt.Module):
    """Identity that records its calls in a shared log, to observe the order of traversal."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__()
        self.name = name
        self.log = log

    def forward(self, x: Any) -> Any:
        self.log.append(f"forward {self.name}")
        return x

    def backward(self, grad_output: Any) -> Any:
        self.log.append(f"backward {self.name}")
        return grad_output


class TakesLengths(mt.Module):
    """Identity whose forward declares ``lengths``; remembers what it received."""

    accepts_lengths = True

    def __init__(self) -> None:
        super().__init__()
        self.received: Any = "never called"

    def forward(self, x: Any, lengths: Any = None) -> Any:
        self.received = lengths
        return x

    def backward(self, grad_output: Any) -> Any:
        return grad_output


class RejectsKeywords(mt.Module):
    """Identity whose forward takes no keyword: passing ``lengths`` to it would be a TypeError."""

    def forward(self, x: Any) -> Any:
        return x

    def backward(self, grad_output: Any) -> Any:
        return grad_output


# -- Parameter -----------------------------------------------------------------------------------


def test_parameter_keeps_float_dtype_and_starts_with_zero_gradient() -> None:
    p = mt.Parameter(np.arange(6.0).reshape(2, 3))
    assert p.dtype == np.float64
    assert p.shape == (2, 3) and p.size == 6
    assert p.grad.shape == (2, 3) and p.grad.dtype == np.float64
    assert not p.grad.any()


def test_parameter_converts_integer_data_to_the_default_dtype() -> None:
    assert mt.Parameter([1, 2, 3]).dtype == mt.get_default_dtype() == np.float32


def test_parameter_copies_its_initial_data() -> None:
    source = np.zeros(3)
    p = mt.Parameter(source)
    source[0] = 5.0
    assert p.data[0] == 0.0


def test_parameter_rejects_non_float_dtype_argument() -> None:
    with pytest.raises(TypeError, match="float32 or float64"):
        mt.Parameter(np.zeros(3), dtype=np.int32)


def test_parameter_data_assignment_rejects_integer_arrays() -> None:
    p = mt.Parameter(np.zeros(3))
    with pytest.raises(TypeError, match="float array"):
        p.data = np.array([1, 2, 3])


def test_parameter_data_assignment_of_same_shape_and_dtype_keeps_the_gradient() -> None:
    p = mt.Parameter(np.zeros(3))
    p.grad += 1.0
    p.data = np.ones(3)
    np.testing.assert_array_equal(p.grad, np.ones(3))


@pytest.mark.parametrize(
    "new_value", [np.ones(4), np.ones(3, dtype=np.float32)], ids=["new shape", "new dtype"]
)
def test_parameter_data_assignment_of_new_shape_or_dtype_resets_the_gradient(
    new_value: np.ndarray,
) -> None:
    p = mt.Parameter(np.zeros(3))
    p.grad += 1.0
    p.data = new_value
    assert p.grad.shape == new_value.shape and p.grad.dtype == new_value.dtype
    assert not p.grad.any()


# -- registration and traversal ------------------------------------------------------------------


def test_parameters_and_submodules_assigned_as_attributes_register_in_order() -> None:
    model = Outer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["block.scale", "block.inner.weight", "head.weight", "head.bias"]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert model.num_parameters() == 2 + 4 + 6 + 3


def test_sequential_names_parameters_by_position() -> None:
    model = mt.Sequential(mt.Dense(2, 3, seed=0), mt.Tanh(), mt.Dense(3, 1, seed=1))
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]


def test_named_modules_lists_every_module_with_dotted_names() -> None:
    names = [name for name, _ in Outer().named_modules()]
    assert names == ["", "block", "block.inner", "head"]


def test_reassigning_or_deleting_an_attribute_unregisters_it() -> None:
    model = Block()
    model.scale = None  # type: ignore[assignment]
    assert [name for name, _ in model.named_parameters()] == ["inner.weight"]
    del model.inner
    assert model.parameters() == []
    assert list(model.children()) == []


def test_subclass_that_forgets_super_init_gets_a_clear_error() -> None:
    class Forgetful(mt.Module):
        def __init__(self) -> None:
            self.weight = mt.Parameter(np.zeros(2))

    with pytest.raises(RuntimeError, match=r"Forgetful.*super\(\).__init__\(\)"):
        Forgetful()


def test_base_module_forward_and_backward_are_not_implemented() -> None:
    module = mt.Module()
    with pytest.raises(NotImplementedError, match="forward"):
        module(np.zeros(2))
    with pytest.raises(NotImplementedError, match="backward"):
        module.backward(np.zeros(2))


def test_repr_shows_the_tree() -> None:
    text = repr(mt.Sequential(mt.Dense(2, 3, seed=0), mt.Softmax(axis=1)))
    assert "(0): Dense(2, 3, bias=True)" in text
    assert "(1): Softmax(axis=1)" in text


# -- tied weights ----------------------------------------------------------------------------------


def test_tied_weight_is_listed_once_and_receives_both_gradients(rng: np.random.Generator) -> None:
    first = mt.Dense(3, 3, seed=0, dtype=np.float64)
    second = mt.Dense(3, 3, seed=1, dtype=np.float64)
    second.weight = first.weight
    model = mt.Sequential(first, mt.Tanh(), second)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.bias"]

    x = rng.standard_normal((4, 3))
    grad_y = rng.standard_normal((4, 3))
    model.forward(x)
    model.backward(grad_y)
    # The same product computed with two untied copies: the tied gradient is their sum.
    untied_first = mt.Dense(3, 3, seed=0, dtype=np.float64)
    untied_second = mt.Dense(3, 3, seed=1, dtype=np.float64)
    untied_second.weight.data = untied_first.weight.data.copy()
    untied = mt.Sequential(untied_first, mt.Tanh(), untied_second)
    untied.forward(x)
    untied.backward(grad_y)
    np.testing.assert_allclose(
        first.weight.grad, untied_first.weight.grad + untied_second.weight.grad, rtol=1e-12
    )
    assert mt.gradcheck(model, x)


# -- gradients and modes ---------------------------------------------------------------------------


def test_zero_grad_clears_every_gradient() -> None:
    model = Outer()
    for p in model.parameters():
        p.grad += 3.0
    model.zero_grad()
    assert all(not p.grad.any() for p in model.parameters())


def test_train_and_eval_propagate_to_every_submodule() -> None:
    model = Outer()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model.block.inner.training


def test_to_converts_every_parameter_and_rejects_non_float_dtypes() -> None:
    model = Outer()
    assert model.to(np.float64) is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    with pytest.raises(TypeError, match="float32 or float64"):
        model.to(np.int64)


# -- state dict ------------------------------------------------------------------------------------


def test_state_dict_returns_copies() -> None:
    model = Outer()
    state = model.state_dict()
    state["head.weight"][...] = 99.0
    assert not (model.head.weight.data == 99.0).any()
    assert model.head.bias is not None
    model.head.bias.data[...] = 7.0
    assert not (state["head.bias"] == 7.0).any()


def test_load_state_dict_round_trips_values() -> None:
    source, target = Outer(), Outer()
    source.head.weight.data[...] = 0.5
    target.load_state_dict(source.state_dict())
    for (name, expected), (_, actual) in zip(
        source.named_parameters(), target.named_parameters(), strict=True
    ):
        np.testing.assert_array_equal(actual.data, expected.data, err_msg=name)


def test_load_state_dict_casts_values_to_the_parameter_dtype() -> None:
    model = mt.Sequential(mt.Dense(2, 3, seed=0), mt.Dense(3, 1, seed=1))
    state = {name: value.astype(np.float64) for name, value in model.state_dict().items()}
    model.load_state_dict(state)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_strict_load_lists_missing_and_unexpected_keys() -> None:
    model = Outer()
    state = model.state_dict()
    del state["head.bias"]
    state["head.extra"] = np.zeros(3)
    with pytest.raises(KeyError) as error:
        model.load_state_dict(state)
    assert "head.bias" in str(error.value) and "head.extra" in str(error.value)


def test_non_strict_load_applies_matching_keys_and_ignores_the_rest() -> None:
    model = Outer()
    before = model.state_dict()
    model.load_state_dict({"head.bias": np.full(3, 2.0), "unknown": np.zeros(1)}, strict=False)
    assert model.head.bias is not None
    np.testing.assert_array_equal(model.head.bias.data, np.full(3, 2.0))
    np.testing.assert_array_equal(model.head.weight.data, before["head.weight"])


@pytest.mark.parametrize("strict", [True, False])
def test_shape_mismatch_raises_even_when_not_strict(strict: bool) -> None:
    model = Outer()
    state = model.state_dict()
    state["head.weight"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"head.weight.*\(3, 2\).*\(2, 3\)"):
        model.load_state_dict(state, strict=strict)


@pytest.mark.parametrize(
    "bad_value",
    [np.zeros((9, 9)), np.full((3, 2), np.nan), np.array([["a", "b"]] * 3)],
    ids=["wrong shape", "nan", "strings"],
)
def test_failed_load_leaves_every_parameter_unchanged(bad_value: np.ndarray) -> None:
    model = Outer()
    before = model.state_dict()
    # Every other key is valid and would change the model if the load were applied piecewise.
    state = {name: value + 1.0 for name, value in before.items()}
    state["head.weight"] = bad_value
    with pytest.raises(ValueError):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


# -- Sequential ------------------------------------------------------------------------------------


def test_sequential_rejects_non_module_arguments() -> None:
    with pytest.raises(TypeError, match="Sequential: argument 1 must be a Module, got ufunc"):
        mt.Sequential(mt.Tanh(), np.tanh)  # type: ignore[arg-type]


def test_sequential_runs_forward_in_order_and_backward_in_reverse() -> None:
    log: list[str] = []
    model = mt.Sequential(CallLog("a", log), CallLog("b", log), CallLog("c", log))
    model.forward(np.zeros(1))
    model.backward(np.zeros(1))
    assert log == [
        "forward a",
        "forward b",
        "forward c",
        "backward c",
        "backward b",
        "backward a",
    ]


def test_sequential_composes_the_children(rng: np.random.Generator) -> None:
    dense, tanh = mt.Dense(3, 2, seed=0), mt.Tanh()
    x = rng.standard_normal((4, 3)).astype(np.float32)
    assert dense.bias is not None
    expected = np.tanh(x @ dense.weight.data.T + dense.bias.data)
    np.testing.assert_allclose(mt.Sequential(dense, tanh)(x), expected, rtol=1e-6)


def test_sequential_supports_len_indexing_and_iteration() -> None:
    first, second = mt.Tanh(), mt.ReLU()
    model = mt.Sequential(first, second)
    assert len(model) == 2
    assert model[0] is first and model[-1] is second
    assert list(model) == [first, second]


def test_sequential_passes_lengths_only_to_children_that_declare_it() -> None:
    takes, nested_takes = TakesLengths(), TakesLengths()
    model = mt.Sequential(RejectsKeywords(), takes, mt.Sequential(nested_takes, RejectsKeywords()))
    lengths = np.array([3, 1])
    model.forward(np.zeros((2, 3, 1)), lengths=lengths)
    assert takes.received is lengths
    assert nested_takes.received is lengths


def test_sequential_without_lengths_does_not_pass_the_keyword() -> None:
    takes = TakesLengths()
    mt.Sequential(takes).forward(np.zeros(2))
    assert takes.received is None


def test_sequential_rejected_forward_restores_earlier_children() -> None:
    model = mt.Sequential(mt.Tanh(), mt.Dropout(0.5, seed=0), mt.Dense(3, 2, seed=0))
    x = np.random.default_rng(0).standard_normal((4, 3))
    model.forward(x)
    with pytest.raises(ValueError, match="Dense"):
        model.forward(np.ones((6, 4)))
    grad = model.backward(np.ones((4, 2)))
    assert grad.shape == (4, 3)
    reference = mt.Sequential(mt.Tanh(), mt.Dropout(0.5, seed=0), mt.Dense(3, 2, seed=0))
    reference.forward(x)
    np.testing.assert_array_equal(grad, reference.backward(np.ones((4, 2))))
    # the dropout generator was rewound too: the next masks equal those of an undisturbed model
    np.testing.assert_array_equal(model.forward(x), reference.forward(x))


@pytest.mark.parametrize("reject", ["trace used", "eval-mode forward"])
def test_sequential_backward_rejected_by_an_earlier_child_adds_no_gradient_anywhere(
    reject: str,
) -> None:
    """Backward runs the Dense first; when the Unroll before it refuses (its trace was already
    used, or its forward ran in eval mode and kept none), the Dense's gradients stay as they were."""
    model = mt.Sequential(
        mt.Unroll(mt.RNNCell(2, 3, seed=0), return_sequences=True), mt.Dense(3, 2, seed=1)
    )
    x = np.random.default_rng(0).standard_normal((4, 5, 2))
    if reject == "trace used":
        model.forward(x)
        model.backward(np.ones((4, 5, 2)))
    else:
        model.eval()
        model.forward(x)
    grads = {name: p.grad.copy() for name, p in model.named_parameters()}
    with pytest.raises(RuntimeError, match="Unroll"):
        model.backward(np.ones((4, 5, 2)))
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(parameter.grad, grads[name], err_msg=name)


def test_sequential_backward_accumulates_once_into_a_parameter_shared_by_two_children() -> None:
    first, second = mt.Dense(2, 2, seed=0), mt.Dense(2, 2, seed=1)
    second.weight = first.weight
    model = mt.Sequential(first, second)
    x = np.random.default_rng(1).standard_normal((3, 2))
    model.forward(x)
    model.backward(np.ones((3, 2)))
    staged = first.weight.grad.copy()
    expected_first, expected_second = mt.Dense(2, 2, seed=0), mt.Dense(2, 2, seed=1)
    expected_second.weight = expected_first.weight
    hidden = expected_first.forward(x)
    expected_second.forward(hidden)
    expected_first.backward(expected_second.backward(np.ones((3, 2))))
    np.testing.assert_allclose(staged, expected_first.weight.grad)


def test_named_generators_lists_every_random_generator_of_the_tree_once_by_dotted_name() -> None:
    import minitorch_rnn as mt

    shared = mt.Dropout(0.5, seed=0)
    model = mt.Sequential(mt.Dense(2, 2, seed=0), shared, mt.Sequential(shared, mt.Dropout(0.1)))
    names = [name for name, _ in model.named_generators()]
    generators = [generator for _, generator in model.named_generators()]
    assert names == ["1.rng", "2.1.rng"]
    assert generators[0] is shared.rng and len({id(g) for g in generators}) == 2


@pytest.mark.parametrize("state", [[("weight", np.zeros((2, 2)))], None])
def test_load_state_dict_of_a_non_mapping_is_a_type_error_naming_the_method(state: Any) -> None:
    model = mt.Sequential(mt.Dense(2, 2, seed=0))
    with pytest.raises(TypeError, match=r"Sequential.load_state_dict: state must be a mapping"):
        model.load_state_dict(state)


def test_accepts_lengths_is_declared_by_the_class_and_derived_for_sequential() -> None:
    assert not accepts_lengths(mt.Dense(2, 2)) and accepts_lengths(mt.MeanPool())
    assert accepts_lengths(mt.LSTM(2, 3)) and accepts_lengths(mt.Unroll(mt.GRUCell(2, 3)))
    assert not accepts_lengths(mt.Sequential(mt.Dense(2, 2), mt.Tanh()))
    assert accepts_lengths(mt.Sequential(mt.Dense(2, 2), TakesLengths()))


# -- frozen parameters --------------------------------------------------------------------------


def test_a_parameter_requires_grad_by_default_and_can_be_created_frozen() -> None:
    assert mt.Parameter(np.zeros(3)).requires_grad is True
    frozen = mt.Parameter(np.zeros(3), requires_grad=False)
    assert frozen.requires_grad is False
    assert "requires_grad=False" in repr(frozen)


def test_requires_grad_underscore_sets_every_parameter_of_the_module_and_returns_it() -> None:
    model = mt.Sequential(mt.Embedding(5, 2), mt.LSTM(2, 3), mt.Dense(3, 1))
    assert model[1].requires_grad_(False) is model[1]
    assert [p.requires_grad for p in model.parameters()] == [True] + [False] * 4 + [True, True]
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("bad", [0, 1, "no", None, np.array([True])])
def test_requires_grad_must_be_a_bool_and_a_refusal_changes_nothing(bad: Any) -> None:
    model = mt.Sequential(mt.Dense(2, 2), mt.Dense(2, 1))
    with pytest.raises(
        TypeError, match=r"Sequential\.requires_grad_: requires_grad must be a bool"
    ):
        model.requires_grad_(bad)
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(TypeError, match="Parameter: requires_grad must be a bool"):
        model[0].weight.requires_grad = bad


def test_a_frozen_layer_still_passes_the_gradient_to_its_input_and_fills_its_grad() -> None:
    dense = mt.Dense(3, 2, seed=0, dtype=np.float64).requires_grad_(False)
    x = np.random.default_rng(0).normal(size=(4, 3))
    dense(x)
    grad_x = dense.backward(np.ones((4, 2)))
    assert np.allclose(grad_x, np.ones((4, 2)) @ dense.weight.data)
    assert np.any(dense.weight.grad != 0)
