r"""Activations and their derivatives, for cell authors (``mt.functional``).

Every derivative is computed from the function's **output** ``y`` — what a recurrent cell keeps in
its cache anyway — never from the pre-activation:

| function | :math:`y = f(a)` | :math:`f'(a)` from :math:`y` |
| --- | --- | --- |
| ``sigmoid`` | :math:`1 / (1 + e^{-a})` | :math:`y (1 - y)` |
| ``tanh`` | :math:`\tanh a` | :math:`1 - y^2` |
| ``hard_sigmoid`` | :math:`\mathrm{clip}(0.2 a + 0.5, 0, 1)` | :math:`0.2` if :math:`0 < y < 1`, else 0 |
| ``relu`` | :math:`\max(a, 0)` | :math:`1` if :math:`y > 0`, else 0 |

``softmax`` couples the entries along an axis, so its derivative is a product with the upstream
gradient rather than a factor: :func:`softmax_backward` computes
:math:`s \odot (g - \sum_j g_j s_j)` from the output :math:`s`.

Each takes ``out=``: pass the input itself (``sigmoid(a, out=a)``) or a scratch array to work in
place without allocating, which is what the built-in cells do on their hot path. The result keeps
the input's dtype (float32 stays float32). ``hard_sigmoid`` is Theano's, as in the GRU source
document; its derivative is exact everywhere except at its two kinks :math:`a = \pm 2.5`, where the
value 0 is used. ``relu``'s derivative at 0 is 0, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "hard_sigmoid",
    "hard_sigmoid_derivative",
    "log_softmax",
    "relu",
    "relu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "softmax",
    "softmax_backward",
    "tanh",
    "tanh_derivative",
]

HARD_SIGMOID_SLOPE = 0.2


def _target(a: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """Where a function writes: ``out`` if given, else a new array like ``a``."""
    return np.empty_like(a) if out is None else out


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Logistic function :math:`1 / (1 + e^{-a})`, elementwise.

    Parameters
    ----------
    a : ndarray, any shape
    out : ndarray, optional
        Where to write the result (may be ``a`` itself); a new array if omitted.

    Returns
    -------
    ndarray, like ``a``, in :math:`[0, 1]`.

    Notes
    -----
    One ``exp`` pass. For very negative ``a`` the exponential overflows to ``inf``, and
    :math:`1 / (1 + \infty) = 0` is the exact limit, so the overflow is expected and silenced:
    ``sigmoid(±1e4)`` is exactly 1 and 0, without a warning.
    """
    result = _target(a, out)
    with np.errstate(over="ignore"):
        np.negative(a, out=result)
        np.exp(result, out=result)
    result += 1
    # divide, not np.reciprocal: the same correctly rounded result, ~1.7x faster in float32 here
    np.divide(1, result, out=result)
    return result


def tanh(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Hyperbolic tangent, elementwise; ``out`` as in :func:`sigmoid`."""
    return np.tanh(a, out=_target(a, out))


def hard_sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Piecewise-linear sigmoid :math:`\mathrm{clip}(0.2 a + 0.5, 0, 1)` (Theano's), elementwise.

    Cheaper than :func:`sigmoid` (no exponential); it is 0 below :math:`a = -2.5` and 1 above
    :math:`a = 2.5`. ``out`` as in :func:`sigmoid`.
    """
    result = _target(a, out)
    np.multiply(a, HARD_SIGMOID_SLOPE, out=result, casting="same_kind")
    result += 0.5
    np.clip(result, 0, 1, out=result)
    return result


def relu(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r""":math:`\max(a, 0)`, elementwise; ``out`` as in :func:`sigmoid`."""
    return np.maximum(a, 0, out=_target(a, out))


def softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis``: :math:`s_i = e^{a_i} / \sum_j e^{a_j}`.

    The maximum along ``axis`` is subtracted first, so ``exp`` never overflows for finite input;
    an axis of length 0 gives an empty result.

    Parameters
    ----------
    a : ndarray, any shape
    axis : int
        The axis whose entries sum to one.

    Returns
    -------
    ndarray, like ``a``.
    """
    if a.shape[axis] == 0:
        return np.empty_like(a)
    result = a - a.max(axis=axis, keepdims=True)
    np.exp(result, out=result)
    result /= result.sum(axis=axis, keepdims=True)
    return result


def log_softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Logarithm of :func:`softmax`, :math:`a_i - \log \sum_j e^{a_j}`, computed from the shifted
    input so that no ``exp`` overflows and no ``log`` of an underflowed 0 occurs."""
    if a.shape[axis] == 0:
        return np.empty_like(a)
    shifted = a - a.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def softmax_backward(s: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""The gradient of the input of :func:`softmax` from its output ``s`` and the upstream
    gradient ``grad`` (same shape): :math:`s \odot (g - \sum_j g_j s_j)` along ``axis``."""
    return s * (grad - (grad * s).sum(axis=axis, keepdims=True))


def sigmoid_derivative(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Derivative of the sigmoid from its output: :math:`y (1 - y)`.

    Parameters
    ----------
    y : ndarray
        ``sigmoid(a)``.
    out : ndarray, optional
        Where to write (may be ``y`` itself, which it then overwrites); a new array if omitted.
    """
    result = _target(y, out)
    np.subtract(1, y, out=result)
    result *= y
    return result


def tanh_derivative(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Derivative of tanh from its output: :math:`1 - y^2`; ``out`` as in
    :func:`sigmoid_derivative`."""
    result = _target(y, out)
    np.multiply(y, y, out=result)
    np.subtract(1, result, out=result)
    return result


def hard_sigmoid_derivative(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Derivative of :func:`hard_sigmoid` from its output: 0.2 where :math:`0 < y < 1`, else 0.

    :math:`0 < y < 1` holds exactly when :math:`-2.5 < a < 2.5`; at the two kinks the value 0 is
    used. ``out`` as in :func:`sigmoid_derivative`.
    """
    inside = (y > 0) & (y < 1)
    result = _target(y, out)
    np.multiply(inside, HARD_SIGMOID_SLOPE, out=result, casting="same_kind")
    return result


def relu_derivative(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Derivative of :func:`relu` from its output: 1 where :math:`y > 0`, else 0 (0 at the kink,
    as in PyTorch); ``out`` as in :func:`sigmoid_derivative`."""
    result = _target(y, out)
    np.greater(y, 0, out=result, casting="unsafe")
    return result
