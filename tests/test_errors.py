"""The non-finite error family: one ``except mt.NonFiniteError`` catches every non-finite error."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_rnn as mt


@pytest.mark.parametrize("name", mt.errors.__all__)
def test_every_non_finite_error_is_a_non_finite_error_and_a_floating_point_error(name: str) -> None:
    kind = getattr(mt, name)
    assert issubclass(kind, mt.NonFiniteError)
    assert issubclass(kind, FloatingPointError)


def test_a_non_finite_input_is_also_a_value_error_like_every_other_bad_input() -> None:
    with pytest.raises(ValueError, match="NaN or inf"):
        mt.Dense(2, 1).forward(np.array([[np.nan, 0.0]], dtype=np.float32))
    with pytest.raises(mt.NonFiniteInputError):
        mt.Dense(2, 1).forward(np.array([[np.inf, 0.0]], dtype=np.float32))


def test_an_optimiser_step_that_overflows_raises_the_step_error_of_the_family() -> None:
    p = mt.Parameter(np.array([3e38], dtype=np.float32))
    p.grad[...] = -3e38
    opt = mt.optim.SGD([p], lr=10.0)
    with pytest.raises(mt.NonFiniteError, match=r"non-finite|inf") as caught:
        opt.step()
    assert isinstance(caught.value, mt.NonFiniteStepError)
    assert p.data[0] == np.float32(3e38)


def test_the_trainer_reports_a_nan_gradient_as_a_gradient_error_naming_the_batch() -> None:
    class NanGrad(mt.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = mt.Parameter(np.ones(1))

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x * self.scale.data

        def backward(self, grad: np.ndarray) -> np.ndarray:
            self.scale.grad += np.nan
            return grad

    model = NanGrad()
    trainer = mt.Trainer(model, mt.MSELoss(), mt.optim.SGD(model.parameters(), lr=0.1))
    x = np.ones((4, 1))
    with pytest.raises(mt.NonFiniteGradientError, match=r"gradient of scale at epoch 1, batch 1"):
        trainer.fit(x, x, epochs=1, batch_size=4, progress=False)
    assert model.scale.data[0] == 1.0
