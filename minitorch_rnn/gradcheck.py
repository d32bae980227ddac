"""Finite-difference gradient checking for any :class:`~minitorch_rnn.Module`.

The check projects the module's output(s) onto fixed random weights ``w`` to get a scalar
``L = sum(w * output)``, runs ``backward(w)`` once for the analytic gradients, and compares them
with central differences ``(L(v + eps) - L(v - eps)) / (2 eps)`` for every entry of every float
input and every parameter, in float64.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np

from .module import Module

__all__ = ["gradcheck"]

Nested = Any  # an ndarray, None, or a (possibly nested) tuple/list of them


def _leaves(tree: Nested, path: str = "") -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``(path, array)`` for every array in a nested tuple, depth first."""
    if isinstance(tree, (tuple, list)):
        for index, item in enumerate(tree):
            yield from _leaves(item, f"{path}[{index}]")
    elif isinstance(tree, np.ndarray):
        yield path, tree


def _map(tree: Nested, fn: Callable[[np.ndarray], Any]) -> Nested:
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map(item, fn) for item in tree)
    if isinstance(tree, np.ndarray):
        return fn(tree)
    return tree


def _to_float64(tree: Nested) -> Nested:
    """Copy float arrays to float64; integer arrays (token ids) stay integers."""

    def convert(array: np.ndarray) -> np.ndarray:
        return array.astype(np.float64) if array.dtype.kind == "f" else array.copy()

    return _map(_as_arrays(tree), convert)


def _as_arrays(tree: Nested) -> Nested:
    if isinstance(tree, (tuple, list)):
        return type(tree)(_as_arrays(item) for item in tree)
    if tree is None or isinstance(tree, (str, bytes)):
        return tree
    return np.asarray(tree)


def _scalar(output: Nested, weights: Nested) -> float:
    total = 0.0
    for (_, out), (_, w) in zip(_leaves(output), _leaves(weights), strict=True):
        total += float(np.sum(out * w))
    return total


def _input_grads(module: Module, returned: Nested, count: int) -> tuple[Any, ...]:
    """The analytic gradient of each of ``count`` inputs, in their order.

    ``backward`` returns one gradient per input (a bare one for a single input). A recurrent
    module called as ``forward(x, state)`` returns the input's only and publishes the state's as
    ``grad_initial_state`` (``Unroll``, ``Bidirectional``, the stacks): it is taken from there. An
    input left without a gradient is reported by name when its numeric gradient is not zero.
    """
    if count == 1:
        return (returned,)
    if isinstance(returned, tuple) and len(returned) <= count:
        # one per input; trailing inputs without a gradient (integer lengths) may be left out
        return returned + (None,) * (count - len(returned))
    grad_initial_state = getattr(module, "grad_initial_state", None)
    if grad_initial_state is not None:
        return (returned, grad_initial_state) + (None,) * (count - 2)
    return (returned,) + (None,) * (count - 1)


def gradcheck(
    module: Module,
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    forward_kwargs: dict[str, Any] | None = None,
) -> bool:
    """Compare a module's ``backward`` with central finite differences, in float64.

    Parameters
    ----------
    module : Module
        The module under test. A float32 module is checked through a float64 copy; the original's
        parameters and gradients are left as they were.
    *inputs : array or nested tuple of arrays
        Positional inputs of ``forward``, e.g. ``(x, (h, c))`` for an LSTM cell. Integer arrays
        (token ids, lengths) are passed through unperturbed. Every float input is checked:
        ``gradcheck(unroll, x, h0)`` checks the initial state's gradient, which a recurrent
        module publishes as ``grad_initial_state``; an input whose gradient ``backward`` does
        not provide fails the check, by name, unless its numeric gradient is zero.
    eps : float
        Step of the central difference.
    atol, rtol : float
        An entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    seed : int
        Seed of the random projection weights of the output(s).
    forward_kwargs : dict, optional
        Keyword arguments for ``forward``, such as ``{"lengths": lengths}``.

    Returns
    -------
    bool
        True when every entry passes.

    Raises
    ------
    TypeError
        If ``module`` is not a :class:`~minitorch_rnn.Module` (a bare function has no backward).
    AssertionError
        Naming the first tensor that fails, its worst index, and the analytic and numeric values.

    Notes
    -----
    ``backward`` must return the gradients of the float inputs in the same nesting as ``inputs``
    (a single array for a single input). Modules that draw random numbers (Dropout) are replayed
    with the same draws for every evaluation. Every ``.grad`` starts from random values rather
    than zeros, so a ``backward`` that assigns instead of accumulating (``+=``) fails the check.
    """
    if not isinstance(module, Module):
        raise TypeError(
            f"gradcheck: module must be a Module with forward and backward, got "
            f"{type(module).__name__} (wrap a function in a Module subclass)"
        )
    kwargs = dict(forward_kwargs or {})
    probe = copy.deepcopy(module).to(np.float64)
    inputs64 = _to_float64(inputs)
    generators = [generator for _, generator in probe.named_generators()]
    generator_states = [generator.bit_generator.state for generator in generators]

    def evaluate(args: Nested) -> Nested:
        for generator, state in zip(generators, generator_states, strict=True):
            generator.bit_generator.state = copy.deepcopy(state)
        # A Python float output (e.g. a loss value) becomes a 0-d array so that it is projected.
        return _as_arrays(probe.forward(*args, **kwargs))

    output = evaluate(inputs64)
    rng = np.random.default_rng(seed)
    weights = _map(output, lambda a: rng.standard_normal(a.shape))
    prefilled = {name: rng.standard_normal(p.shape) for name, p in probe.named_parameters()}
    for name, parameter in probe.named_parameters():
        parameter.grad[...] = prefilled[name]
    analytic_inputs = _input_grads(probe, probe.backward(weights), len(inputs64))
    after_backward = {name: p.grad.copy() for name, p in probe.named_parameters()}
    analytic_params = {name: grad - prefilled[name] for name, grad in after_backward.items()}

    def numeric(array: np.ndarray, args: Nested) -> np.ndarray:
        estimate = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + eps
            plus = _scalar(evaluate(args), weights)
            array[index] = original - eps
            minus = _scalar(evaluate(args), weights)
            array[index] = original
            estimate[index] = (plus - minus) / (2 * eps)
        return estimate

    checks: list[tuple[str, np.ndarray | None, Callable[[], np.ndarray]]] = []
    float_inputs = [(p, a) for p, a in _leaves(inputs64) if a.dtype.kind == "f"]
    analytic_by_path = dict(_leaves(analytic_inputs))
    for path, array in float_inputs:
        checks.append(
            (f"input{path}", analytic_by_path.get(path), partial(numeric, array, inputs64))
        )
    for name, parameter in probe.named_parameters():
        checks.append((name, analytic_params[name], partial(numeric, parameter.data, inputs64)))

    for name, analytic, compute_numeric in checks:
        expected = compute_numeric()
        if analytic is None:
            if np.allclose(expected, 0.0, atol=atol):
                continue
            raise AssertionError(
                f"gradcheck: {name}: backward returned no gradient, but the numeric gradient has "
                f"max |value| {np.abs(expected).max():.6g}"
            )
        if analytic.shape != expected.shape:
            raise AssertionError(
                f"gradcheck: {name}: analytic gradient has shape {analytic.shape}, expected "
                f"{expected.shape}"
            )
        error = np.abs(analytic - expected) - (atol + rtol * np.abs(expected))
        if error.size and error.max() > 0:
            worst = np.unravel_index(int(np.argmax(error)), error.shape)
            overwritten = name in after_backward and np.allclose(
                after_backward[name], expected, atol=atol, rtol=rtol
            )
            hint = "; backward overwrote .grad instead of accumulating (+=)" if overwritten else ""
            raise AssertionError(
                f"gradcheck: {name} at index {tuple(int(i) for i in worst)}: analytic "
                f"{analytic[worst]:.10g}, numeric {expected[worst]:.10g} "
                f"(atol={atol}, rtol={rtol}){hint}"
            )
    return True
