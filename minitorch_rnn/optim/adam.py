"""Adam and AdamW (PyTorch's ``Adam`` and ``AdamW``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .hyper import hyper
from .optimizer import WEIGHTS, Array, Optimizer, State, Values

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), with L2 weight decay, AMSGrad, or decoupled weight decay (AdamW).

    PyTorch's algorithm, with :math:`\beta_1, \beta_2` ``betas``, :math:`\gamma` ``lr``,
    :math:`\lambda` ``weight_decay`` and step :math:`t` counted from 1:

    .. math::
        \theta_{t-1} &\leftarrow \theta_{t-1} (1 - \gamma\lambda) \ \text{(decoupled)}, \qquad
        g_t \leftarrow g_t + \lambda \theta_{t-1} \ \text{(else)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)}, \qquad \hat v_t = v_t \ \text{(else)}\\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \,
                    \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    Note where :math:`\epsilon` sits: it is added to the bias-corrected root, as in PyTorch.

    Parameters
    ----------
    params : iterable of Parameter
        The parameters to update.
    lr : float
        Learning rate, >= 0 (default 1e-3).
    betas : (float, float)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float
        Added to the denominator, >= 0.
    weight_decay : float
        >= 0; an L2 penalty on the gradient, or decoupled decay if ``decoupled``.
    amsgrad : bool
        Use the running maximum of the second moment (Reddi et al.).
    decoupled : bool
        Decoupled weight decay (Loshchilov & Hutter): shrink the weights by ``lr * weight_decay``
        before the Adam update instead of adding to the gradient. ``True`` is :class:`AdamW`.
    """

    lr: float = hyper(default=1e-3, minimum=0.0)
    betas: tuple[float, float] = hyper(default=(0.9, 0.999), minimum=0.0, below=1.0)
    eps: float = hyper(default=1e-8, minimum=0.0)
    weight_decay: float = hyper(default=0.0, minimum=0.0)
    amsgrad: bool = hyper(default=False)
    decoupled: bool = hyper(default=False)

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        names = ("exp_avg", "exp_avg_sq")
        return (*names, "max_exp_avg_sq") if hyper["amsgrad"] else names

    def _update(
        self, data: Array, grad: Array, state: State, hyper: Values, step: int, out: State
    ) -> None:
        lr, weight_decay = hyper["lr"], hyper["weight_decay"]
        beta1, beta2 = hyper["betas"]
        weights = data
        if hyper["decoupled"] and weight_decay != 0.0:
            # Decoupled decay shrinks the weights; L2 decay was added to grad by Optimizer.step.
            weights = np.multiply(data, 1.0 - lr * weight_decay, out=out[WEIGHTS])
        # PyTorch's lerp form of beta1 * m + (1 - beta1) * g: m + (1 - beta1) * (g - m).
        exp_avg = np.subtract(grad, state["exp_avg"], out=out["exp_avg"])
        exp_avg *= 1.0 - beta1
        exp_avg += state["exp_avg"]
        exp_avg_sq = np.multiply(state["exp_avg_sq"], beta2, out=out["exp_avg_sq"])
        exp_avg_sq += (1.0 - beta2) * grad * grad
        second_moment = exp_avg_sq
        if hyper["amsgrad"]:
            second_moment = np.maximum(
                state["max_exp_avg_sq"], exp_avg_sq, out=out["max_exp_avg_sq"]
            )
        step_size = lr / (1.0 - beta1**step)
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
        denominator = np.sqrt(second_moment) / bias_correction2_sqrt + hyper["eps"]
        np.subtract(weights, step_size * (exp_avg / denominator), out=out[WEIGHTS])


class AdamW(Adam):
    """Adam with decoupled weight decay; PyTorch's ``AdamW`` (default ``weight_decay=1e-2``).

    Parameters are those of :class:`Adam` without ``decoupled``, which is always True.
    """

    weight_decay: float = hyper(default=1e-2, minimum=0.0)
    decoupled: bool = hyper(default=True, init=False)

    def _check_together(self, values: Mapping[str, Any]) -> None:
        if not values["decoupled"]:
            raise ValueError("AdamW: decoupled must be True (use Adam for coupled weight decay)")
