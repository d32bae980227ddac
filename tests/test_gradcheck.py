"""mt.gradcheck: passes correct modules, and catches (and names) every kind of wrong backward."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt


class Quadratic(mt.Module):
    """``y = w * x**2 + b`` per feature, with optional deliberate mistakes in ``backward``."""

    def __init__(self, features: int, mistake: str | None = None) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.w = mt.Parameter(rng.uniform(0.5, 1.5, features))
        self.b = mt.Parameter(rng.uniform(0.5, 1.5, features))
        self.mistake = mistake
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return self.w.data * x**2 + self.b.data

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        assert self._x is not None
        x = self._x
        self.w.grad += (grad_y * x**2).reshape(-1, x.shape[-1]).sum(axis=0)
        if self.mistake == "bias overwritten":
            self.b.grad = grad_y.reshape(-1, x.shape[-1]).sum(axis=0)
        elif self.mistake != "bias forgotten":
            self.b.grad += grad_y.reshape(-1, x.shape[-1]).sum(axis=0)
        factor = 1.0 if self.mistake == "factor 2 forgotten" else 2.0
        return grad_y * factor * self.w.data * x


class GatedPair(mt.Module):
    """``forward(x, (h, c))`` returns ``(x * h, c + h)``: nested inputs and outputs."""

    def __init__(self, wrong_h: bool = False) -> None:
        super().__init__()
        self.wrong_h = wrong_h

    def forward(self, x: np.ndarray, state: tuple[np.ndarray, np.ndarray]) -> Any:
        h, c = state
        self._saved = (x, h)
        return x * h, c + h

    def backward(self, grads: tuple[np.ndarray, np.ndarray]) -> Any:
        grad_product, grad_sum = grads
        x, h = self._saved
        grad_h = grad_product * x + (0.0 if self.wrong_h else grad_sum)
        return grad_product * h, (grad_h, grad_sum)


class ScaleByIds(mt.Module):
    """``y = x * ids``: the integer ids are data, not variables."""

    def forward(self, x: np.ndarray, ids: np.ndarray) -> np.ndarray:
        assert ids.dtype.kind == "i"
        self.seen_ids = ids.copy()
        self._ids = ids
        return x * ids

    def backward(self, grad_y: np.ndarray) -> tuple[np.ndarray, None]:
        return grad_y * self._ids, None


def test_correct_module_passes(rng: np.random.Generator) -> None:
    assert mt.gradcheck(Quadratic(3), rng.standard_normal((2, 4, 3))) is True


def test_missing_factor_fails_naming_tensor_index_and_values(rng: np.random.Generator) -> None:
    with pytest.raises(AssertionError) as error:
        mt.gradcheck(Quadratic(3, mistake="factor 2 forgotten"), rng.standard_normal((2, 3)))
    message = str(error.value)
    assert "input[0] at index (" in message
    assert "analytic" in message and "numeric" in message


def test_bias_gradient_that_is_never_added_fails_naming_the_bias(
    rng: np.random.Generator,
) -> None:
    with pytest.raises(AssertionError, match=r"gradcheck: b at index \(\d,\): analytic 0, numeric"):
        mt.gradcheck(Quadratic(3, mistake="bias forgotten"), rng.standard_normal((2, 3)))


def test_gradient_assigned_instead_of_accumulated_fails(rng: np.random.Generator) -> None:
    with pytest.raises(AssertionError, match=r"gradcheck: b at index.*accumulating \(\+=\)"):
        mt.gradcheck(Quadratic(3, mistake="bias overwritten"), rng.standard_normal((2, 3)))


def test_float32_module_is_checked_in_float64_and_left_untouched(
    rng: np.random.Generator,
) -> None:
    module = Quadratic(3).to(np.float32)
    for p in module.parameters():
        p.grad[...] = 7.0
    before = {name: (p.data.copy(), p.grad.copy()) for name, p in module.named_parameters()}
    # A float32 backward could not meet this tolerance: the check must run in float64.
    assert mt.gradcheck(module, rng.standard_normal((2, 3)).astype(np.float32), atol=1e-8)
    for name, p in module.named_parameters():
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.data, before[name][0])
        np.testing.assert_array_equal(p.grad, before[name][1])


def test_nested_tuple_inputs_and_outputs_work(rng: np.random.Generator) -> None:
    x, h, c = (rng.standard_normal((2, 3)) for _ in range(3))
    assert mt.gradcheck(GatedPair(), x, (h, c))


def test_wrong_gradient_of_a_nested_input_is_named_by_its_path(
    rng: np.random.Generator,
) -> None:
    x, h, c = (rng.standard_normal((2, 3)) for _ in range(3))
    with pytest.raises(AssertionError, match=r"gradcheck: input\[1\]\[0\] at index"):
        mt.gradcheck(GatedPair(wrong_h=True), x, (h, c))


def test_integer_inputs_are_passed_through_unperturbed(rng: np.random.Generator) -> None:
    module = ScaleByIds()
    ids = np.array([[1, -2, 3]])
    # Were the ids perturbed, their numeric gradient (x) would not match the None returned for them.
    assert mt.gradcheck(module, rng.standard_normal((1, 3)), ids)
    np.testing.assert_array_equal(ids, [[1, -2, 3]])


def test_missing_gradient_for_a_float_input_is_reported(rng: np.random.Generator) -> None:
    class DropsInputGradient(ScaleByIds):
        def forward(self, x: np.ndarray, scale: np.ndarray) -> np.ndarray:
            self._ids = scale
            return x * scale

    with pytest.raises(AssertionError, match=r"input\[1\]: backward returned no gradient"):
        mt.gradcheck(DropsInputGradient(), rng.standard_normal(3), rng.standard_normal(3))


def test_gradient_of_the_wrong_shape_is_reported(rng: np.random.Generator) -> None:
    class WrongShape(mt.Module):
        def forward(self, x: np.ndarray) -> np.ndarray:
            return 2 * x

        def backward(self, grad_y: np.ndarray) -> np.ndarray:
            return 2 * grad_y.sum(axis=0)

    with pytest.raises(AssertionError, match=r"input\[0\]: analytic gradient has shape \(3,\)"):
        mt.gradcheck(WrongShape(), rng.standard_normal((2, 3)))


def test_forward_keyword_arguments_are_passed_on(rng: np.random.Generator) -> None:
    class Power(mt.Module):
        def forward(self, x: np.ndarray, exponent: int = 1) -> np.ndarray:
            self._x, self._exponent = x, exponent
            return x**exponent

        def backward(self, grad_y: np.ndarray) -> np.ndarray:
            return grad_y * self._exponent * self._x ** (self._exponent - 1)

    assert mt.gradcheck(Power(), rng.uniform(1, 2, 3), forward_kwargs={"exponent": 3})


def test_tolerances_decide_the_verdict(rng: np.random.Generator) -> None:
    class SlightlyOff(mt.Module):
        def forward(self, x: np.ndarray) -> np.ndarray:
            return 3 * x

        def backward(self, grad_y: np.ndarray) -> np.ndarray:
            return 3.001 * grad_y

    x = rng.standard_normal(4)
    assert mt.gradcheck(SlightlyOff(), x, rtol=1e-2)
    with pytest.raises(AssertionError):
        mt.gradcheck(SlightlyOff(), x, rtol=1e-5)


def test_gradcheck_of_a_plain_function_is_a_type_error_asking_for_a_module() -> None:
    with pytest.raises(TypeError, match=r"gradcheck: module must be a Module .* got function"):
        mt.gradcheck(lambda x: x, np.ones(3))  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", [mt.GRUCell, mt.LSTMCell])
def test_gradcheck_of_an_unroll_checks_the_initial_state_through_grad_initial_state(
    cell: type[mt.RecurrentCell],
) -> None:
    rng = np.random.default_rng(0)
    unroll = mt.Unroll(cell(2, 3, seed=0, dtype=np.float64))
    x = rng.standard_normal((2, 4, 2))
    h0 = rng.standard_normal((2, 3))
    state = h0 if cell is mt.GRUCell else (h0, rng.standard_normal((2, 3)))
    assert mt.gradcheck(unroll, x, state)


def test_gradcheck_names_a_float_input_whose_gradient_backward_does_not_give() -> None:
    class AddsTwo(mt.Module):
        def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return a + b

        def backward(self, grad_output: np.ndarray) -> np.ndarray:
            return grad_output  # the gradient of b is missing

    with pytest.raises(AssertionError, match=r"input\[1\]: backward returned no gradient"):
        mt.gradcheck(AddsTwo(), np.ones(3), np.ones(3))
