"""Losses: values, gradients (finite differences, closed form, PyTorch), masks, stability, errors."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

REDUCTIONS = ["mean", "sum", "batch_mean"]
FIXTURES = Path(__file__).parent / "fixtures"
B, T, C = 3, 4, 5

LossModule = Callable[..., mt.Module]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def reduce(total: float, counted: int, batch: int, reduction: str) -> float:
    """The reductions as the design defines them, written independently of the package."""
    return {"mean": total / max(counted, 1), "sum": total, "batch_mean": total / batch}[reduction]


@pytest.fixture
def logits(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((B, T, C)) * 2


@pytest.fixture
def classes(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, C, (B, T))


@pytest.fixture
def lengths_mask() -> np.ndarray:
    """A padding mask of sequences of lengths 4, 2 and 1."""
    return np.arange(T)[None, :] < np.array([4, 2, 1])[:, None]


# -- finite differences ------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [None, 2])
@pytest.mark.parametrize("masked", [False, True], ids=["no mask", "mask"])
def test_cross_entropy_from_logits_passes_gradcheck(
    reduction: str,
    ignore_index: int | None,
    masked: bool,
    logits: np.ndarray,
    classes: np.ndarray,
    lengths_mask: np.ndarray,
    loss_as_module: LossModule,
) -> None:
    loss = mt.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)
    mask = lengths_mask if masked else None
    assert mt.gradcheck(loss_as_module(loss, classes, mask), logits)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_on_softmax_probabilities_passes_gradcheck(
    reduction: str, logits: np.ndarray, classes: np.ndarray, loss_as_module: LossModule
) -> None:
    loss = mt.CrossEntropyLoss(from_logits=False, reduction=reduction, ignore_index=0)
    model = mt.Sequential(mt.Softmax(), loss_as_module(loss, classes))
    assert mt.gradcheck(model, logits)
    # Directly on probabilities as well: the loss reads only the target's entry.
    assert mt.gradcheck(loss_as_module(loss, classes), softmax(logits))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("masked", [False, True], ids=["no mask", "mask"])
@pytest.mark.parametrize("name", ["BCELoss", "BCEWithLogitsLoss", "MSELoss"])
def test_elementwise_loss_passes_gradcheck(
    name: str,
    reduction: str,
    masked: bool,
    rng: np.random.Generator,
    lengths_mask: np.ndarray,
    loss_as_module: LossModule,
) -> None:
    loss = getattr(mt, name)(reduction=reduction)
    if name == "BCELoss":
        pred = rng.uniform(0.1, 0.9, (B, T, 2))
    else:
        pred = rng.standard_normal((B, T, 2)) * 2
    if name == "MSELoss":
        target = rng.standard_normal((B, T, 2))
    else:
        target = rng.uniform(0.0, 1.0, (B, T, 2))  # soft labels are allowed
    # A mask of the leading (B, T) axes covers both features of each step.
    mask = lengths_mask if masked else None
    assert mt.gradcheck(loss_as_module(loss, target, mask), pred)


# -- closed forms and direct formulas ---------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_softmax_cross_entropy_gradient_is_probabilities_minus_one_hot(
    reduction: str, logits: np.ndarray, classes: np.ndarray, lengths_mask: np.ndarray
) -> None:
    # The source derivation: dL/dz = y_hat - y per counted element, divided by the reduction's count.
    classes[0, 1] = -100
    loss = mt.CrossEntropyLoss(reduction=reduction, ignore_index=-100)
    loss.forward(logits, classes, mask=lengths_mask)
    counted = lengths_mask & (classes != -100)
    one_hot = np.eye(C)[np.where(counted, classes, 0)]
    denominator = {"mean": counted.sum(), "sum": 1, "batch_mean": B}[reduction]
    expected = (softmax(logits) - one_hot) * counted[..., None] / denominator
    np.testing.assert_allclose(loss.backward(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_value_matches_the_formula(
    from_logits: bool,
    reduction: str,
    logits: np.ndarray,
    classes: np.ndarray,
    lengths_mask: np.ndarray,
) -> None:
    probabilities = softmax(logits)
    pred = logits if from_logits else probabilities
    loss = mt.CrossEntropyLoss(from_logits=from_logits, reduction=reduction)
    value = loss.forward(pred, classes, mask=lengths_mask)
    picked = np.take_along_axis(probabilities, classes[..., None], axis=-1)[..., 0]
    total = float(-np.log(picked)[lengths_mask].sum())
    expected = reduce(total, int(lengths_mask.sum()), B, reduction)
    assert value == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_on_probabilities_and_on_logits_agree(
    logits: np.ndarray, classes: np.ndarray
) -> None:
    on_logits = mt.CrossEntropyLoss().forward(logits, classes)
    on_probabilities = mt.CrossEntropyLoss(from_logits=False).forward(softmax(logits), classes)
    assert on_logits == pytest.approx(on_probabilities, rel=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_loss_values_match_their_formulas(
    reduction: str, rng: np.random.Generator, lengths_mask: np.ndarray
) -> None:
    p = rng.uniform(0.05, 0.95, (B, T))
    z = rng.standard_normal((B, T)) * 3
    y = rng.integers(0, 2, (B, T)).astype(float)
    sigma = logistic(z)
    cases = {
        "BCELoss": (p, -(y * np.log(p) + (1 - y) * np.log(1 - p))),
        "BCEWithLogitsLoss": (z, -(y * np.log(sigma) + (1 - y) * np.log(1 - sigma))),
        "MSELoss": (z, (z - y) ** 2),
    }
    for name, (pred, elementwise) in cases.items():
        value = getattr(mt, name)(reduction=reduction).forward(pred, y, mask=lengths_mask)
        total = float(elementwise[lengths_mask].sum())
        expected = reduce(total, int(lengths_mask.sum()), B, reduction)
        assert value == pytest.approx(expected, rel=1e-12), name


def test_batch_mean_is_the_per_sequence_loss_of_the_classic_char_rnn(
    logits: np.ndarray, classes: np.ndarray
) -> None:
    summed = mt.CrossEntropyLoss(reduction="sum").forward(logits, classes)
    per_sequence = mt.CrossEntropyLoss(reduction="batch_mean").forward(logits, classes)
    assert per_sequence == pytest.approx(summed / B, rel=1e-12)


def test_batch_mean_of_one_unbatched_sample_divides_by_one() -> None:
    z = np.array([1.0, 2.0, 3.0])
    loss = mt.CrossEntropyLoss(reduction="batch_mean")
    assert loss.forward(z, np.array(2)) == pytest.approx(mt.CrossEntropyLoss().forward(z, 2))


def test_ignored_and_masked_elements_get_zero_gradient_and_do_not_count(
    logits: np.ndarray, classes: np.ndarray, lengths_mask: np.ndarray
) -> None:
    classes[:, 0] = 1
    loss = mt.CrossEntropyLoss(ignore_index=1)
    value = loss.forward(logits, classes, mask=lengths_mask)
    grad = loss.backward()
    uncounted = (classes == 1) | ~lengths_mask
    assert not grad[uncounted].any()
    assert grad[~uncounted].any(axis=-1).all()
    # Changing anything at an uncounted position changes neither the value nor the gradient.
    changed = logits.copy()
    changed[uncounted] += 5.0
    assert loss.forward(changed, classes, mask=lengths_mask) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), grad, rtol=1e-12)


def test_mean_over_nothing_counted_is_zero_not_nan(logits: np.ndarray) -> None:
    loss = mt.CrossEntropyLoss(ignore_index=-100)
    assert loss.forward(logits, np.full((B, T), -100)) == 0.0
    assert not loss.backward().any()


# -- PyTorch reference values --------------------------------------------------------------------


def load_reference() -> tuple[Any, dict[str, str]]:
    archive, cases = FIXTURES / "losses.npz", FIXTURES / "losses_cases.json"
    if not archive.exists() or not cases.exists():
        pytest.skip("PyTorch loss fixtures (tests/fixtures/losses.npz) are not generated")
    return np.load(archive), json.loads(cases.read_text())


PYTORCH_CASES: dict[str, tuple[Callable[[], mt.Loss], str, str]] = {
    "ce_mean": (lambda: mt.CrossEntropyLoss(ignore_index=-100), "z", "t"),
    "ce_sum": (lambda: mt.CrossEntropyLoss(reduction="sum", ignore_index=-100), "z", "t"),
    "bce": (mt.BCELoss, "p", "y"),
    "bce_logits": (mt.BCEWithLogitsLoss, "zb", "y"),
    "mse": (mt.MSELoss, "a", "b"),
}


@pytest.mark.parametrize("case", list(PYTORCH_CASES))
def test_loss_and_gradient_equal_pytorch(case: str) -> None:
    reference, described = load_reference()
    assert case in described
    make, pred_key, target_key = PYTORCH_CASES[case]
    loss = make()
    value = loss.forward(reference[pred_key], reference[target_key])
    np.testing.assert_allclose(value, reference[f"{case}.loss"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(loss.backward(), reference[f"{case}.grad"], rtol=0, atol=1e-10)


# -- stability -----------------------------------------------------------------------------------


def finite_and_silent(loss: mt.Loss, pred: np.ndarray, target: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss.forward(pred, target)
        grad = loss.backward()
    assert np.isfinite(value)
    assert np.isfinite(grad).all() and grad.dtype == pred.dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logit_losses_are_finite_and_silent_on_huge_inputs(dtype: type, reduction: str) -> None:
    huge: np.ndarray = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype)
    finite_and_silent(mt.CrossEntropyLoss(reduction=reduction), huge, np.array([1, 2]))
    binary = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    finite_and_silent(mt.BCEWithLogitsLoss(reduction=reduction), huge, binary)
    finite_and_silent(mt.MSELoss(reduction=reduction), huge, binary)


def test_cross_entropy_on_huge_logits_has_the_exact_limits() -> None:
    loss = mt.CrossEntropyLoss(reduction="sum")
    assert loss.forward(np.array([[1e4, -1e4]]), np.array([1])) == pytest.approx(2e4)
    np.testing.assert_allclose(loss.backward(), [[1.0, -1.0]])
    assert mt.BCEWithLogitsLoss().forward(np.array([-1e4]), np.array([1.0])) == pytest.approx(1e4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probability_losses_are_finite_and_silent_at_zero_and_one(dtype: type) -> None:
    saturated: np.ndarray = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    finite_and_silent(mt.BCELoss(), saturated, np.array([[1.0, 0.0], [1.0, 0.0]]))
    finite_and_silent(mt.CrossEntropyLoss(from_logits=False), saturated, np.array([0, 0]))


def test_bce_clamps_the_log_at_minus_100_as_pytorch_does() -> None:
    assert mt.BCELoss().forward(np.array([0.0]), np.array([1.0])) == pytest.approx(100.0)


# -- errors --------------------------------------------------------------------------------------

GOOD_CALLS: dict[str, tuple[Callable[[], mt.Loss], np.ndarray, np.ndarray]] = {
    "CrossEntropyLoss": (mt.CrossEntropyLoss, np.zeros((2, 3)), np.array([0, 2])),
    "CrossEntropyLoss probabilities": (
        lambda: mt.CrossEntropyLoss(from_logits=False),
        np.full((2, 3), 1 / 3),
        np.array([0, 2]),
    ),
    "BCELoss": (mt.BCELoss, np.full((2, 3), 0.5), np.ones((2, 3))),
    "BCEWithLogitsLoss": (mt.BCEWithLogitsLoss, np.zeros((2, 3)), np.ones((2, 3))),
    "MSELoss": (mt.MSELoss, np.zeros((2, 3)), np.ones((2, 3))),
}


def class_name(case: str) -> str:
    return case.split()[0]


@pytest.mark.parametrize(
    "loss_class", [mt.CrossEntropyLoss, mt.BCELoss, mt.BCEWithLogitsLoss, mt.MSELoss]
)
def test_unknown_reduction_is_rejected(loss_class: type[mt.Loss]) -> None:
    with pytest.raises(ValueError, match=f"{loss_class.__name__}: reduction must be one of"):
        loss_class(reduction="average")


@pytest.mark.parametrize(
    "bad_pred, error",
    [
        (np.full((2, 3), "x"), TypeError),
        (np.zeros((2, 3), dtype=np.complex128), TypeError),
        (np.full((2, 3), np.nan), ValueError),
        (np.full((2, 3), -np.inf), ValueError),
        (np.zeros(()), ValueError),
    ],
    ids=["strings", "complex", "nan", "inf", "0-d"],
)
@pytest.mark.parametrize("case", list(GOOD_CALLS))
def test_bad_pred_is_rejected_naming_the_loss(
    case: str, bad_pred: np.ndarray, error: type[Exception]
) -> None:
    make, _, target = GOOD_CALLS[case]
    with pytest.raises(error, match=class_name(case)):
        make().forward(bad_pred, target)


@pytest.mark.parametrize("case", list(GOOD_CALLS))
def test_target_of_the_wrong_shape_is_rejected(case: str) -> None:
    make, pred, target = GOOD_CALLS[case]
    with pytest.raises(ValueError, match=f"{class_name(case)}: target must have"):
        make().forward(pred, target[:1])


@pytest.mark.parametrize("case", list(GOOD_CALLS))
def test_mask_of_the_wrong_shape_or_dtype_is_rejected(case: str) -> None:
    make, pred, target = GOOD_CALLS[case]
    with pytest.raises(ValueError, match=f"{class_name(case)}: mask of shape"):
        make().forward(pred, target, mask=np.ones(3, dtype=bool))
    with pytest.raises(TypeError, match=f"{class_name(case)}: mask must be boolean"):
        make().forward(pred, target, mask=np.ones(2))


@pytest.mark.parametrize("case", list(GOOD_CALLS))
def test_backward_before_forward_is_a_runtime_error(case: str) -> None:
    make = GOOD_CALLS[case][0]
    with pytest.raises(RuntimeError, match=f"{class_name(case)}: backward called before forward"):
        make().backward()


@pytest.mark.parametrize("target", [np.array([0.0, 2.0]), np.array(["a", "b"])], ids=str)
def test_cross_entropy_needs_integer_targets(target: np.ndarray) -> None:
    with pytest.raises(TypeError, match="CrossEntropyLoss: target must hold integer class ids"):
        mt.CrossEntropyLoss().forward(np.zeros((2, 3)), target)


@pytest.mark.parametrize("target", [[0, 3], [-1, 0]], ids=["too big", "negative"])
def test_cross_entropy_rejects_classes_out_of_range(target: list[int]) -> None:
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: targets must lie in \[0, 2\]"):
        mt.CrossEntropyLoss().forward(np.zeros((2, 3)), np.array(target))


def test_cross_entropy_ignore_index_may_lie_outside_the_classes() -> None:
    value = mt.CrossEntropyLoss(ignore_index=-1).forward(np.zeros((2, 3)), np.array([-1, 0]))
    assert value == pytest.approx(np.log(3))


def test_probability_losses_reject_values_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="CrossEntropyLoss: probabilities"):
        mt.CrossEntropyLoss(from_logits=False).forward(np.array([[-0.1, 1.1]]), np.array([1]))
    with pytest.raises(ValueError, match=r"BCELoss: pred \(probabilities\) must lie in \[0, 1\]"):
        mt.BCELoss().forward(np.array([1.5]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"BCELoss: pred \(probabilities\) must lie in \[0, 1\]"):
        mt.BCELoss().forward(np.array([-0.5]), np.array([1.0]))


@pytest.mark.parametrize("case", list(GOOD_CALLS))
def test_rejected_forward_changes_nothing(case: str, rng: np.random.Generator) -> None:
    make, pred, target = GOOD_CALLS[case]
    loss = make()
    loss.forward(pred + rng.uniform(0.0, 0.1, pred.shape), target)
    untouched = copy.deepcopy(loss)
    for bad_call in (
        lambda: loss.forward(np.full(pred.shape, np.nan), target),
        lambda: loss.forward(pred, target[:1]),
        lambda: loss.forward(pred, target, mask=np.ones(5, dtype=bool)),
    ):
        with pytest.raises((TypeError, ValueError)):
            bad_call()
    np.testing.assert_array_equal(loss.backward(), untouched.backward())


def test_losses_are_callable_like_forward(logits: np.ndarray, classes: np.ndarray) -> None:
    loss = mt.CrossEntropyLoss()
    assert loss(logits, classes) == loss.forward(logits, classes)
    assert "reduction='mean'" in repr(loss) and "MSELoss" in repr(mt.MSELoss())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_divisor_is_what_the_reduction_divided_the_summed_loss_by(
    reduction: str, rng: np.random.Generator
) -> None:
    logits = rng.standard_normal((B, T, C))
    target = rng.integers(0, C, (B, T))
    target[0, 1] = -100  # ignored
    mask = np.ones((B, T), dtype=bool)
    mask[2, 2:] = False  # padding: 2 more elements out, 9 of the 12 counted
    loss = mt.CrossEntropyLoss(reduction=reduction, ignore_index=-100)
    value = loss.forward(logits, target, mask=mask)
    summed = mt.CrossEntropyLoss(reduction="sum", ignore_index=-100)
    total = summed.forward(logits, target, mask=mask)
    expected = {"mean": 9.0, "sum": 1.0, "batch_mean": float(B)}[reduction]
    assert loss.divisor() == expected
    np.testing.assert_allclose(value, total / expected, rtol=1e-12)
    np.testing.assert_allclose(loss.backward(), summed.backward() / expected, rtol=1e-12)


def test_divisor_before_any_forward_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"MSELoss.divisor: called before forward"):
        mt.MSELoss().divisor()


def test_loss_gradient_is_handed_out_read_only(logits: np.ndarray, classes: np.ndarray) -> None:
    loss = mt.CrossEntropyLoss()
    loss.forward(logits, classes)
    expected = loss.backward().copy()
    grad = loss.backward()
    with pytest.raises(ValueError, match="read-only"):
        grad *= 0.0
    np.testing.assert_array_equal(loss.backward(), expected)


@pytest.mark.parametrize("ignore_index", ["pad", 1.5, True], ids=["string", "float", "bool"])
def test_cross_entropy_ignore_index_must_be_an_int(ignore_index: object) -> None:
    with pytest.raises(TypeError, match="CrossEntropyLoss: ignore_index must be an int or None"):
        mt.CrossEntropyLoss(ignore_index=ignore_index)  # type: ignore[arg-type]


def test_cross_entropy_accepts_a_numpy_integer_ignore_index() -> None:
    loss = mt.CrossEntropyLoss(ignore_index=np.int64(-1))
    assert loss.forward(np.zeros((2, 3)), np.array([-1, 0])) == pytest.approx(np.log(3))


@pytest.mark.parametrize("from_logits", ["no", 0, None], ids=["string", "int", "None"])
def test_cross_entropy_from_logits_must_be_a_bool(from_logits: object) -> None:
    with pytest.raises(TypeError, match="CrossEntropyLoss: from_logits must be a bool"):
        mt.CrossEntropyLoss(from_logits=from_logits)  # type: ignore[arg-type]


def test_cross_entropy_on_probabilities_rejects_values_above_one() -> None:
    # 5.0 as the target's "probability" would give a negative loss
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: probabilities .* \[0, 1\]"):
        mt.CrossEntropyLoss(from_logits=False).forward(np.array([[0.1, 5.0]]), np.array([1]))


@pytest.mark.parametrize("loss_class", [mt.BCELoss, mt.BCEWithLogitsLoss])
@pytest.mark.parametrize("target", [1.5, -0.5])
def test_binary_losses_reject_targets_outside_zero_to_one(
    loss_class: type[mt.Loss], target: float
) -> None:
    with pytest.raises(ValueError, match=f"{loss_class.__name__}: target must lie in \\[0, 1\\]"):
        loss_class().forward(np.array([0.5, 0.5]), np.array([target, 1.0]))


def test_binary_losses_accept_soft_targets_inside_zero_to_one() -> None:
    value = mt.BCEWithLogitsLoss().forward(np.array([0.0]), np.array([0.25]))
    assert value == pytest.approx(np.log(2))


@pytest.mark.parametrize("loss_class", [mt.MSELoss, mt.BCEWithLogitsLoss])
def test_batch_mean_of_an_empty_batch_is_zero_with_an_empty_gradient(
    loss_class: type[mt.Loss],
) -> None:
    loss = loss_class(reduction="batch_mean")
    assert loss.forward(np.zeros((0, 4, 1)), np.zeros((0, 4, 1))) == 0.0
    assert loss.backward().shape == (0, 4, 1)


def test_cross_entropy_batch_mean_of_an_empty_batch_is_zero() -> None:
    loss = mt.CrossEntropyLoss(reduction="batch_mean")
    assert loss.forward(np.zeros((0, 5, 3)), np.zeros((0, 5), dtype=np.int64)) == 0.0
