"""Adagrad (PyTorch's ``Adagrad``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .hyper import hyper
from .optimizer import WEIGHTS, Array, Optimizer, State, Values

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.) with learning-rate decay; PyTorch's algorithm.

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1}, \qquad
        \tilde\gamma_t = \frac{\gamma}{1 + (t - 1)\,\eta} \\
        s_t &= s_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \tilde\gamma_t \, \frac{g_t}{\sqrt{s_t} + \epsilon}

    with :math:`\eta` ``lr_decay`` and :math:`s_0` = ``initial_accumulator_value``.

    Parameters
    ----------
    params : iterable of Parameter
        The parameters to update.
    lr : float
        Learning rate, >= 0 (default 1e-2), divided by ``1 + (t - 1) lr_decay`` at step t.
    lr_decay : float
        Learning-rate decay per step, >= 0.
    weight_decay : float
        L2 penalty added to the gradient, >= 0.
    initial_accumulator_value : float
        Starting value of the squared-gradient sum, >= 0.
    eps : float
        Added to the denominator, >= 0.
    """

    lr: float = hyper(default=1e-2, minimum=0.0)
    lr_decay: float = hyper(default=0.0, minimum=0.0)
    weight_decay: float = hyper(default=0.0, minimum=0.0)
    initial_accumulator_value: float = hyper(default=0.0, minimum=0.0)
    eps: float = hyper(default=1e-10, minimum=0.0)

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        return ("sum",)

    def _initial_state(self, name: str, data: np.ndarray, hyper: Mapping[str, Any]) -> np.ndarray:
        return np.full_like(data, hyper["initial_accumulator_value"])

    def _update(
        self, data: Array, grad: Array, state: State, hyper: Values, step: int, out: State
    ) -> None:
        decayed_lr = hyper["lr"] / (1.0 + (step - 1) * hyper["lr_decay"])
        squared_sum = np.add(state["sum"], grad * grad, out=out["sum"])
        np.subtract(
            data, decayed_lr * (grad / (np.sqrt(squared_sum) + hyper["eps"])), out=out[WEIGHTS]
        )
