"""Stochastic gradient descent (PyTorch's ``SGD``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .hyper import hyper
from .optimizer import WEIGHTS, Array, Optimizer, State, Values

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.

    With :math:`g_t` the gradient, :math:`\lambda` ``weight_decay``, :math:`\mu` ``momentum``,
    :math:`\tau` ``dampening`` and :math:`\gamma` ``lr`` (PyTorch's algorithm):

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= g_t \ (t = 1), \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \ (t > 1) \\
        g_t &\leftarrow g_t + \mu b_t \ \text{(nesterov)}, \qquad g_t \leftarrow b_t \ \text{(else)} \\
        \theta_t &= \theta_{t-1} - \gamma g_t

    (the momentum lines only when :math:`\mu \ne 0`).

    Parameters
    ----------
    params : iterable of Parameter
        The parameters to update.
    lr : float
        Learning rate, >= 0 (required, as in PyTorch).
    momentum : float
        Momentum factor, >= 0.
    dampening : float
        Dampening of the momentum, in [0, 1].
    nesterov : bool
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    weight_decay : float
        L2 penalty added to the gradient, >= 0.
    """

    momentum: float = hyper(default=0.0, minimum=0.0)
    dampening: float = hyper(default=0.0, minimum=0.0, maximum=1.0)
    nesterov: bool = hyper(default=False)
    weight_decay: float = hyper(default=0.0, minimum=0.0)

    def _check_together(self, values: Mapping[str, Any]) -> None:
        if values["nesterov"] and (values["momentum"] <= 0.0 or values["dampening"] != 0.0):
            raise ValueError(
                "SGD: nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={values['momentum']}, dampening={values['dampening']}"
            )

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if hyper["momentum"] != 0.0 else ()

    def _update(
        self, data: Array, grad: Array, state: State, hyper: Values, step: int, out: State
    ) -> None:
        momentum = hyper["momentum"]
        direction = grad
        if momentum != 0.0:
            buffer = out["momentum_buffer"]
            if step == 1:
                # PyTorch starts the buffer at the first gradient, undamped.
                buffer[...] = grad
            else:
                np.multiply(state["momentum_buffer"], momentum, out=buffer)
                buffer += (1.0 - hyper["dampening"]) * grad
            direction = grad + momentum * buffer if hyper["nesterov"] else buffer
        np.subtract(data, hyper["lr"] * direction, out=out[WEIGHTS])
