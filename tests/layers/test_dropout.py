"""Dropout: inverted scaling in training mode, the identity in eval mode, reproducible masks."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_rnn as mt


def test_dropout_passes_gradcheck_in_training_mode(rng: np.random.Generator) -> None:
    # gradcheck replays the layer's random draws, so every evaluation sees the same mask.
    assert mt.gradcheck(mt.Dropout(0.4, seed=3), rng.standard_normal((4, 5)))


def test_dropout_inside_a_model_passes_gradcheck(rng: np.random.Generator) -> None:
    model = mt.Sequential(
        mt.Dense(3, 6, seed=0, dtype=np.float64), mt.Dropout(0.5, seed=1), mt.Tanh()
    )
    assert mt.gradcheck(model, rng.standard_normal((2, 3)))


def test_kept_units_are_scaled_and_dropped_units_are_zero(rng: np.random.Generator) -> None:
    dropout = mt.Dropout(0.25, seed=0)
    x = rng.uniform(1.0, 2.0, (50, 40))
    y = dropout.forward(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.75, rtol=1e-12)
    assert abs(1 - kept.mean() - 0.25) < 0.03


def test_backward_applies_the_forward_mask(rng: np.random.Generator) -> None:
    dropout = mt.Dropout(0.5, seed=0)
    x = rng.uniform(1.0, 2.0, (6, 7))
    y = dropout.forward(x)
    np.testing.assert_allclose(dropout.backward(np.ones_like(x)), y / x, rtol=1e-12)


def test_same_seed_gives_the_same_masks_and_masks_change_between_calls() -> None:
    x = np.ones((8, 8))
    first, second = mt.Dropout(0.5, seed=42), mt.Dropout(0.5, seed=42)
    y1 = first.forward(x)
    np.testing.assert_array_equal(y1, second.forward(x))
    assert not np.array_equal(y1, first.forward(x))


@pytest.mark.parametrize("p", [0.0, 0.9])
def test_eval_mode_is_the_identity(p: float, rng: np.random.Generator) -> None:
    dropout = mt.Dropout(p, seed=0).eval()
    x = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(dropout.forward(x), x)
    grad_y = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(dropout.backward(grad_y), grad_y)


def test_zero_probability_is_the_identity_in_training_mode(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(mt.Dropout(0.0, seed=0).forward(x), x)


def test_model_eval_switches_dropout_off(rng: np.random.Generator) -> None:
    model = mt.Sequential(mt.Dropout(0.5, seed=0))
    x = rng.uniform(1.0, 2.0, (4, 4))
    assert (model.forward(x) == 0).any()
    model.eval()
    np.testing.assert_array_equal(model.forward(x), x)


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1])
def test_probability_outside_zero_to_one_is_rejected(p: float) -> None:
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\)"):
        mt.Dropout(p)


@pytest.mark.parametrize("p", ["0.5", True, None], ids=["string", "bool", "None"])
def test_probability_that_is_not_a_number_is_a_type_error(p: object) -> None:
    with pytest.raises(TypeError, match="Dropout: p must be a real number"):
        mt.Dropout(p)  # type: ignore[arg-type]
