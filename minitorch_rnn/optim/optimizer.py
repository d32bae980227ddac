r"""The base of every optimiser: parameters, hyper-parameters, step counter, per-parameter state.

Every optimiser holds one flat list of :class:`~minitorch_rnn.module.Parameter` objects (one
"parameter group" in PyTorch's terms), updates each ``param.data`` in place (layers holding the
Parameter see the new values) and keeps its per-parameter state in the parameter's dtype: a float32
model stays float32, because every scalar that enters the arithmetic is a Python ``float`` (numpy
keeps float32 for those, but would promote to float64 for ``np.float64`` scalars).

A step is all or nothing without copying the weights and state first: each optimiser writes the
new values into per-parameter buffers kept from step to step (the ``out`` argument of
:meth:`Optimizer._update`), the base class checks them, and only then commits them (the weights are
copied into the parameter's own array, the state buffers are swapped with the spent ones).

``state_dict()`` is a flat ``dict[str, np.ndarray]`` (hyper-parameters and the step counter as 0-d
arrays, per-parameter state under ``"state.<index>.<name>"``) that fits in an ``.npz`` without
pickle; ``load_state_dict`` restores it all or nothing, so that training continues exactly as if it
had never stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import NonFiniteStepError
from ..module import Module, Parameter
from ..validation import check_keys, staged_arrays
from .hyper import Declared, coerce_scalar, hyper, leading

__all__ = ["NonFiniteStepError", "Optimizer", "parameter_list"]

# The arguments of Optimizer._update: an array, a parameter's state, the hyper-parameters.
Array = np.ndarray
State = dict[str, np.ndarray]
Values = Mapping[str, Any]
# The key of the new weights among the buffers Optimizer._update writes into (no state is so named).
WEIGHTS = "weights"


def parameter_list(params: Any, owner: str, *, allow_empty: bool = False) -> list[Parameter]:
    """Return ``params`` as a list of distinct Parameters, in first-seen order.

    Parameters
    ----------
    params : Parameter or iterable of Parameter
        For example ``model.parameters()``. A parameter listed twice (tied weights) is kept once.
    owner : str
        Name used in error messages (the optimiser class or function).
    allow_empty : bool
        Whether an empty collection is acceptable.

    Raises
    ------
    TypeError
        If ``params`` is a Module (pass ``module.parameters()``), not iterable, or holds anything
        other than Parameters.
    ValueError
        If it is empty and ``allow_empty`` is False.
    """
    if isinstance(params, Parameter):
        params = [params]
    if isinstance(params, Module):
        raise TypeError(f"{owner}: expected parameters, got a Module; pass module.parameters()")
    if not isinstance(params, Iterable) or isinstance(params, (str, bytes, np.ndarray)):
        raise TypeError(
            f"{owner}: params must be an iterable of Parameters, got {type(params).__name__}"
        )
    unique: list[Parameter] = []
    seen: set[int] = set()
    for index, param in enumerate(params):
        if not isinstance(param, Parameter):
            raise TypeError(
                f"{owner}: params[{index}] must be a Parameter, got {type(param).__name__}"
            )
        if id(param) not in seen:
            seen.add(id(param))
            unique.append(param)
    if not unique and not allow_empty:
        raise ValueError(f"{owner}: got an empty parameter list")
    return unique


class Optimizer(Declared):
    """Base class: the parameter list, hyper-parameters, step counter and per-parameter state.

    Subclasses declare their hyper-parameters with :func:`~minitorch_rnn.optim.hyper.hyper`
    (``momentum: float = hyper(default=0.0, minimum=0.0)``), name their per-parameter state in
    :meth:`_state_names` and implement the update of one parameter in :meth:`_update`, which
    reads the current values and writes the new ones into buffers it is given. L2 weight
    decay (a ``weight_decay`` hyper-parameter) is added to the gradient here, once for all, before
    :meth:`_update` (a class with ``decoupled=True`` applies its own decay instead).
    Hyper-parameters are attributes checked at every assignment (``opt.lr = 0.01`` takes effect
    at the next step; this is how schedulers work; ``opt.lr = -5`` raises). Assigning one that
    decides which state exists (``momentum``, ``amsgrad``, ``centered``) creates that state from
    its initial value, or drops it, at the next :meth:`step` or :meth:`state_dict`.

    Parameters
    ----------
    params : iterable of Parameter
        For example ``model.parameters()``; duplicates are dropped; must not be empty.
    lr : float
        Learning rate, >= 0; then the other hyper-parameters the subclass declares.

    Attributes
    ----------
    params : list of Parameter
        The parameters updated by :meth:`step`, except frozen ones (``requires_grad=False``):
        :meth:`step` skips those, leaving their weights and state as they are, and reads the
        flag at every step, so freezing or unfreezing takes effect at the next one.
    step_count : int
        Number of :meth:`step` calls so far (PyTorch's per-parameter ``"step"``).
    state : list of dict of str to ndarray
        Per-parameter state (e.g. ``exp_avg``), same shape and dtype as the parameter. A step
        swaps in new arrays and reuses the old ones as buffers of the next step: keep a copy (or
        :meth:`state_dict`, which copies), not the arrays themselves.
    """

    params: Sequence[Parameter] = leading()
    lr: float = hyper(minimum=0.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        params, values = self._bind(args, kwargs)
        owner = type(self).__name__
        self.params = parameter_list(params, owner)
        self._assign(self._checked(values))
        self.step_count = 0
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        # Per parameter, the buffers the next step writes into (see _out_buffers).
        self._out: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        self._prepare_state(self.hyper_parameters())

    # -- to implement in subclasses ----------------------------------------------------------

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        """The per-parameter state this configuration keeps (none by default)."""
        return ()

    def _initial_state(self, name: str, data: np.ndarray, hyper: Mapping[str, Any]) -> np.ndarray:
        """The value state ``name`` starts from (zeros of the parameter's shape and dtype)."""
        return np.zeros_like(data)

    def _update(
        self, data: Array, grad: Array, state: State, hyper: Values, step: int, out: State
    ) -> None:
        """Write one parameter's new weights and state into ``out``; ``step`` counts from 1.

        Parameters
        ----------
        data, grad : ndarray
            The parameter's current weights and its gradient (L2 decay already added); read only.
        state : dict of str to ndarray
            The current state of the names :meth:`_state_names` returned; read only.
        hyper : mapping
            The hyper-parameters, as plain Python values.
        step : int
            The number of this step, from 1.
        out : dict of str to ndarray
            Buffers of the parameter's shape and dtype to write into (``out=`` of numpy's
            functions, or ``buffer[...] = value``): ``out["weights"]`` for the new weights and
            ``out[name]`` for every state entry, each of which must be written. Their content on
            entry is meaningless. Nothing else may be written: the step is checked before
            anything is committed.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # -- public API ---------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zeros in place."""
        for param in self.params:
            param.zero_grad()

    def step(self) -> None:
        """Apply one update to every trainable parameter from its current ``.grad``.

        Each parameter's new weights and state are written into buffers kept for the purpose and
        committed only once every parameter's are finite, so a step happens whole or not at all.

        Raises
        ------
        ValueError
            If a gradient's or parameter's shape no longer matches, or the hyper-parameters do
            not fit together (nothing is updated then).
        NonFiniteStepError
            If the step would make a weight or the state NaN or infinite (nothing is updated).
        """
        hyper = self.hyper_parameters()
        trainable = [index for index, param in enumerate(self.params) if param.requires_grad]
        grads = [self._checked_grad(index, self.params[index]) for index in trainable]
        self._prepare_state(hyper)
        step = self.step_count + 1
        for index, grad in zip(trainable, grads, strict=True):
            param, state = self.params[index], self.state[index]
            out = self._out_buffers(index, param, state)
            # An overflow is found below and reported as NonFiniteStepError, not as a warning.
            with np.errstate(over="ignore", invalid="ignore"):
                grad = self._l2_decayed(grad, param.data, hyper)
                self._update(param.data, grad, state, hyper, step, out)
            bad = [name for name in (WEIGHTS, *state) if not np.isfinite(out[name]).all()]
            if bad:
                named = ["the weights" if name == WEIGHTS else name for name in bad]
                raise NonFiniteStepError(
                    f"{type(self).__name__}.step: the update of parameter {index} would make "
                    f"{', '.join(named)} NaN or infinite (nothing was updated)"
                )
        for index in trainable:
            param, state, out = self.params[index], self.state[index], self._out[index]
            # Layers hold the parameter's array, so the weights are copied into it; the spent
            # state arrays become the buffers of the next step.
            param.data[...] = out[WEIGHTS]
            for name in state:
                state[name], out[name] = out[name], state[name]
        self.step_count = step

    def state_dict(self) -> dict[str, np.ndarray]:
        """A flat copy of everything needed to resume: hyper-parameters, step count, state.

        Returns
        -------
        dict of str to ndarray
            ``"<hyper-parameter>"`` (0-d, or shape (2,) for ``betas``), ``"step"`` (0-d int64) and
            ``"state.<parameter index>.<name>"`` (the parameter's shape and dtype). Storable with
            ``np.savez`` and loadable with ``allow_pickle=False``.
        """
        hyper = self.hyper_parameters()
        self._prepare_state(hyper)
        result = {name: np.asarray(value) for name, value in hyper.items()}
        result["step"] = np.asarray(self.step_count, dtype=np.int64)
        for index, state in enumerate(self.state):
            for name, value in state.items():
                result[f"state.{index}.{name}"] = value.copy()
        return result

    def validate_state_dict(self, state: Mapping[str, Any]) -> None:
        """Raise exactly what :meth:`load_state_dict` would raise, changing nothing."""
        self._staged(state)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore hyper-parameters, step count and state from :meth:`state_dict` output.

        All or nothing: everything is checked before anything changes. Values are copied and cast
        to each parameter's dtype.

        Raises
        ------
        TypeError
            If ``state`` is not a mapping, or a hyper-parameter has the wrong type.
        ValueError
            Naming the missing or unexpected keys, or every state entry whose shape differs from
            its parameter's or that is not a finite float array, or an out-of-range value.
        """
        hyper, step_count, per_param = self._staged(state)
        self._assign(hyper)
        self.step_count = step_count
        self.state = per_param

    # -- shared machinery ---------------------------------------------------------------------

    def _l2_decayed(
        self, grad: np.ndarray, data: np.ndarray, hyper: Mapping[str, Any]
    ) -> np.ndarray:
        """The one place L2 weight decay is applied: ``grad + weight_decay * data``."""
        decay = hyper.get("weight_decay", 0.0)
        if decay == 0.0 or hyper.get("decoupled", False):
            return grad
        return grad + decay * data

    def _checked_grad(self, index: int, param: Parameter) -> np.ndarray:
        grad = np.asarray(param.grad)
        if grad.shape != param.shape:
            raise ValueError(
                f"{type(self).__name__}: parameter {index} has shape {param.shape} but its grad "
                f"has shape {grad.shape}"
            )
        # A user-assigned grad of another dtype must not change the parameter's dtype.
        return grad.astype(param.dtype, copy=False)

    def _out_buffers(self, index: int, param: Parameter, state: State) -> State:
        """The buffers parameter ``index``'s next update writes into: its weights and each state
        entry, allocated once and again only when the parameter or the state names change."""
        out = self._out[index]
        for stale in set(out) - {WEIGHTS, *state}:
            del out[stale]
        for name in (WEIGHTS, *state):
            if name not in out or out[name].shape != param.shape or out[name].dtype != param.dtype:
                out[name] = np.empty_like(param.data)
        return out

    def _prepare_state(self, hyper: Mapping[str, Any]) -> None:
        """Match the state to the hyper-parameters and parameters: create missing entries, drop
        unused ones, follow dtype changes of the parameters (``model.to``)."""
        names = self._state_names(hyper)
        for index, (param, state) in enumerate(zip(self.params, self.state, strict=True)):
            for name in names:
                if name in state and state[name].shape != param.shape:
                    raise ValueError(
                        f"{type(self).__name__}: parameter {index} changed shape to {param.shape}; "
                        f"its state {name!r} has shape {state[name].shape}"
                    )
        for param, state in zip(self.params, self.state, strict=True):
            for stale in set(state) - set(names):
                del state[stale]
            for name in names:
                if name not in state:
                    state[name] = self._initial_state(name, param.data, hyper)
                elif state[name].dtype != param.dtype:
                    state[name] = state[name].astype(param.dtype)

    def _staged(
        self, state: Mapping[str, Any]
    ) -> tuple[dict[str, Any], int, list[dict[str, np.ndarray]]]:
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where}: expected a mapping, got {type(state).__name__}")
        top_level = {key for key in state if isinstance(key, str) and "." not in key}
        check_keys(where, [*self.hyper_fields, "step"], top_level)
        hyper = self._checked({name: np.asarray(state[name]) for name in self.hyper_fields}, where)
        step_count = coerce_scalar(np.asarray(state["step"]), "int", f"{where}: step")
        if step_count < 0:
            raise ValueError(f"{where}: step must be >= 0, got {step_count}")
        names = self._state_names(hyper)
        targets = {
            f"state.{index}.{name}": (param.shape, param.dtype)
            for index, param in enumerate(self.params)
            for name in names
        }
        check_keys(where, targets, [key for key in state if key not in top_level])
        staged = staged_arrays(where, state, targets)
        per_param = [
            {name: staged[f"state.{index}.{name}"] for name in names}
            for index in range(len(self.params))
        ]
        return hyper, step_count, per_param

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.hyper_parameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"
