r"""Gradient clipping, in place on ``param.grad``: by value (elementwise) or by global norm.

Call between ``backward`` and the optimiser's ``step``. Both accept a Parameter or any iterable of
Parameters (``model.parameters()``); a parameter listed twice is clipped (and counted) once, and
a frozen one (``requires_grad=False``) is ignored: not clipped, not counted in the norm.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..module import Parameter
from .hyper import coerce_scalar
from .optimizer import parameter_list

__all__ = ["clip_grad_norm", "clip_grad_value"]

# Added to the norm before dividing, as PyTorch does, so a zero norm never divides by zero.
_NORM_EPS = 1e-6


def clip_grad_value(params: Any, clip_value: float) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]`` in place (the classic char-RNN).

    Parameters
    ----------
    params : Parameter or iterable of Parameter
        Whose ``.grad`` to clip.
    clip_value : float
        Largest magnitude kept, finite and >= 0.

    Raises
    ------
    TypeError
        If ``params`` holds something other than Parameters or ``clip_value`` is not a number.
    ValueError
        If ``clip_value`` is negative or not finite.
    """
    limit = coerce_scalar(clip_value, "float", "clip_grad_value: clip_value")
    if limit < 0.0:
        raise ValueError(f"clip_grad_value: clip_value must be >= 0, got {limit}")
    for param in _trainable(parameter_list(params, "clip_grad_value", allow_empty=True)):
        np.clip(param.grad, -limit, limit, out=param.grad)


def clip_grad_norm(
    params: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    r"""Scale all gradients together so that their global norm is at most ``max_norm``.

    The global norm is the ``norm_type``-norm of all gradient entries taken as one vector:

    .. math:: n = \Big(\sum_p \lVert g_p \rVert_q^q\Big)^{1/q}, \qquad
              g_p \leftarrow g_p \cdot \frac{\text{max\_norm}}{n + 10^{-6}}
              \quad \text{if } \frac{\text{max\_norm}}{n + 10^{-6}} < 1

    exactly PyTorch's ``clip_grad_norm_`` rule (so the clipped norm is ``max_norm`` up to the
    :math:`10^{-6}`). The norm is accumulated in float64, so float32 gradients cannot overflow it.

    Non-finite norm (a NaN or inf gradient): with ``error_if_nonfinite=False`` (PyTorch's default)
    the norm is returned and, unlike PyTorch (which multiplies by a NaN or zero factor), the
    gradients are left untouched, so that the caller can see and report the offending values.

    Parameters
    ----------
    params : Parameter or iterable of Parameter
        Whose ``.grad`` to clip.
    max_norm : float
        Largest global norm, finite and >= 0.
    norm_type : float
        Order ``q`` of the norm, > 0; ``math.inf`` for the largest magnitude.
    error_if_nonfinite : bool
        Raise instead of returning when the norm is NaN or infinite.

    Returns
    -------
    float
        The global norm *before* clipping (0.0 for no parameters).

    Raises
    ------
    ValueError
        If ``max_norm`` or ``norm_type`` is out of range, or the norm is non-finite and
        ``error_if_nonfinite`` is True (nothing is changed then).
    """
    limit = coerce_scalar(max_norm, "float", "clip_grad_norm: max_norm")
    if limit < 0.0:
        raise ValueError(f"clip_grad_norm: max_norm must be >= 0, got {limit}")
    order = coerce_scalar(norm_type, "real", "clip_grad_norm: norm_type")
    if not order > 0.0:
        raise ValueError(f"clip_grad_norm: norm_type must be > 0 (or inf), got {order}")
    params = _trainable(parameter_list(params, "clip_grad_norm", allow_empty=True))
    per_param = [
        np.linalg.norm(np.ravel(param.grad).astype(np.float64, copy=False), ord=order)
        for param in params
    ]
    total = float(np.linalg.norm(np.asarray(per_param, dtype=np.float64), ord=order))
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise ValueError(
                f"clip_grad_norm: the total norm of order {order} of the gradients is non-finite "
                f"({total}); gradients left unchanged"
            )
        return total
    scale = limit / (total + _NORM_EPS)
    if scale < 1.0:
        for param in params:
            param.grad *= scale
    return total


def _trainable(params: list[Parameter]) -> list[Parameter]:
    """The parameters an optimiser would update: frozen ones' gradients are left alone."""
    return [param for param in params if param.requires_grad]
