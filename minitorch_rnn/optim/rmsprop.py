"""RMSprop (PyTorch's ``RMSprop``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .hyper import hyper
from .optimizer import WEIGHTS, Array, Optimizer, State, Values

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), optionally centered and with momentum; PyTorch's algorithm.

    With :math:`\alpha` ``alpha``, :math:`\mu` ``momentum``, :math:`\gamma` ``lr``:

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t \ \text{(centered)} \\
        d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)}, \qquad
        d_t = \sqrt{v_t} + \epsilon \ \text{(else)} \\
        b_t &= \mu b_{t-1} + g_t / d_t, \quad \theta_t = \theta_{t-1} - \gamma b_t
        \ (\mu > 0), \qquad \theta_t = \theta_{t-1} - \gamma g_t / d_t \ \text{(else)}

    Parameters
    ----------
    params : iterable of Parameter
        The parameters to update.
    lr : float
        Learning rate, >= 0 (default 1e-2).
    alpha : float
        Smoothing constant of the squared-gradient average, in [0, 1].
    eps : float
        Added to the denominator, >= 0.
    weight_decay : float
        L2 penalty added to the gradient, >= 0.
    momentum : float
        Momentum factor, >= 0.
    centered : bool
        Normalise by the estimated variance of the gradient instead of its second moment.
    """

    lr: float = hyper(default=1e-2, minimum=0.0)
    alpha: float = hyper(default=0.99, minimum=0.0, maximum=1.0)
    eps: float = hyper(default=1e-8, minimum=0.0)
    weight_decay: float = hyper(default=0.0, minimum=0.0)
    momentum: float = hyper(default=0.0, minimum=0.0)
    centered: bool = hyper(default=False)

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        names = ["square_avg"]
        if hyper["momentum"] > 0.0:
            names.append("momentum_buffer")
        if hyper["centered"]:
            names.append("grad_avg")
        return tuple(names)

    def _update(
        self, data: Array, grad: Array, state: State, hyper: Values, step: int, out: State
    ) -> None:
        alpha = hyper["alpha"]
        square_avg = np.multiply(state["square_avg"], alpha, out=out["square_avg"])
        square_avg += (1.0 - alpha) * grad * grad
        if hyper["centered"]:
            # grad_avg + (1 - alpha) * (grad - grad_avg), as PyTorch's lerp.
            grad_avg = np.subtract(grad, state["grad_avg"], out=out["grad_avg"])
            grad_avg *= 1.0 - alpha
            grad_avg += state["grad_avg"]
            denominator = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denominator = np.sqrt(square_avg)
        denominator += hyper["eps"]
        if hyper["momentum"] > 0.0:
            direction = np.multiply(
                state["momentum_buffer"], hyper["momentum"], out=out["momentum_buffer"]
            )
            direction += grad / denominator
        else:
            direction = grad / denominator
        np.subtract(data, hyper["lr"] * direction, out=out[WEIGHTS])
