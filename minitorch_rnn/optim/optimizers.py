r"""First-order optimisers whose update rules equal :mod:`torch.optim`'s of the same name.

Every optimiser holds one flat list of :class:`~minitorch_rnn.module.Parameter` objects (one
"parameter group" in PyTorch's terms), updates each ``param.data`` in place (layers holding the
Parameter see the new values) and keeps its per-parameter state in the parameter's dtype: a float32
model stays float32, because every scalar that enters the arithmetic is a Python ``float`` (numpy
keeps float32 for those, but would promote to float64 for ``np.float64`` scalars).

``state_dict()`` is a flat ``dict[str, np.ndarray]`` (hyper-parameters and the step counter as 0-d
arrays, per-parameter state under ``"state.<index>.<name>"``) that fits in an ``.npz`` without
pickle; ``load_state_dict`` restores it all or nothing, so that training continues exactly as if it
had never stopped.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from ..module import Module, Parameter

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "parameter_list"]


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


def coerce_scalar(value: Any, kind: str, where: str) -> Any:
    """Return ``value`` as a plain Python ``float``, ``int``, ``bool``, ``str`` or float pair.

    Accepts Python and numpy scalars and the 0-d (or, for ``"pair"``, shape ``(2,)``) arrays that a
    flat state dict holds, so constructors and ``load_state_dict`` share one conversion.

    Parameters
    ----------
    value : object
        The value to convert.
    kind : {"float", "real", "int", "bool", "str", "pair"}
        What is expected: ``"float"`` a finite real number, ``"real"`` any (±inf and NaN
        included), ``"pair"`` two finite floats.
    where : str
        ``"<Class>: <name>"``, the start of any error message.

    Raises
    ------
    TypeError
        If ``value`` has the wrong type or shape.
    ValueError
        If a float is NaN or infinite.
    """
    expected_ndim = 1 if kind == "pair" else 0
    if isinstance(value, np.ndarray):
        if value.ndim != expected_ndim or (kind == "pair" and value.shape != (2,)):
            wanted = "shape (2,)" if kind == "pair" else "a scalar (0-d array)"
            raise TypeError(f"{where} must be {wanted}, got an array of shape {value.shape}")
        value = value.tolist()
    if kind == "pair":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise TypeError(f"{where} must be a pair of floats, got {value!r}")
        return tuple(coerce_scalar(item, "float", f"{where}[{i}]") for i, item in enumerate(value))
    if kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{where} must be a bool, got {type(value).__name__}")
        return bool(value)
    if kind == "str":
        if not isinstance(value, str):
            raise TypeError(f"{where} must be a str, got {type(value).__name__}")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} must be a real number, got {type(value).__name__}")
    if kind == "int":
        if not isinstance(value, numbers.Integral):
            raise TypeError(f"{where} must be an integer, got {value!r}")
        return int(value)
    number = float(value)
    if kind == "float" and not math.isfinite(number):
        raise ValueError(f"{where} must be finite, got {number}")
    return number


def check_keys(owner: str, expected: Iterable[str], given: Iterable[str]) -> None:
    """Raise a ``ValueError`` naming the missing and unexpected keys of a state dict, if any."""
    expected_set, given_set = set(expected), set(given)
    missing = sorted(expected_set - given_set)
    # key=repr: a non-str key (a mistake) is reported, not a sorting error.
    unexpected = sorted(given_set - expected_set, key=repr)
    if missing or unexpected:
        raise ValueError(
            f"{owner}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
        )


class Optimizer:
    """Base class: the parameter list, hyper-parameters, step counter and per-parameter state.

    Subclasses declare their hyper-parameters in :attr:`hyper_kinds` (name -> kind, see
    :func:`coerce_scalar`), check their ranges in :meth:`_check_ranges`, name their per-parameter
    state in :meth:`_state_names` and implement the update of one parameter in :meth:`_update`.
    Hyper-parameters are plain attributes (``opt.lr = 0.01`` takes effect at the next step; this
    is how schedulers work). Assigning one that decides which state exists (``momentum``,
    ``amsgrad``, ``centered``) creates that state from its initial value, or drops it, at the
    next :meth:`step` or :meth:`state_dict`.

    Parameters
    ----------
    params : iterable of Parameter
        For example ``model.parameters()``; duplicates are dropped; must not be empty.
    **hyper
        The subclass's hyper-parameters.

    Attributes
    ----------
    params : list of Parameter
        The parameters updated by :meth:`step`.
    step_count : int
        Number of :meth:`step` calls so far (PyTorch's per-parameter ``"step"``).
    state : list of dict of str to ndarray
        Per-parameter state (e.g. ``exp_avg``), same shape and dtype as the parameter.
    """

    hyper_kinds: ClassVar[dict[str, str]] = {"lr": "float"}
    lr: float

    def __init__(self, params: Any, **hyper: Any) -> None:
        owner = type(self).__name__
        self.params = parameter_list(params, owner)
        self._set_hyper(self._validated_hyper(hyper))
        self.step_count = 0
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        self._prepare_state()

    # -- to implement in subclasses ----------------------------------------------------------

    def _check_ranges(self, hyper: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` if a hyper-parameter is out of range (``lr >= 0`` here)."""
        self._require_nonnegative(hyper, "lr")

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        """The per-parameter state this configuration keeps (none by default)."""
        return ()

    def _initial_state(self, name: str, data: np.ndarray, hyper: Mapping[str, Any]) -> np.ndarray:
        """The value state ``name`` starts from (zeros of the parameter's shape and dtype)."""
        return np.zeros_like(data)

    def _update(
        self,
        data: np.ndarray,
        grad: np.ndarray,
        state: dict[str, np.ndarray],
        hyper: Mapping[str, Any],
        step: int,
    ) -> None:
        """Update ``data`` and ``state`` in place; ``step`` counts from 1."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # -- public API ---------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zeros in place."""
        for param in self.params:
            param.zero_grad()

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``.

        Raises
        ------
        ValueError
            If a gradient's or parameter's shape no longer matches (nothing is updated then).
        """
        grads = [self._checked_grad(index, param) for index, param in enumerate(self.params)]
        self._prepare_state()
        hyper = self.hyper_parameters()
        self.step_count += 1
        for param, grad, state in zip(self.params, grads, self.state, strict=True):
            self._update(param.data, grad, state, hyper, self.step_count)

    def hyper_parameters(self) -> dict[str, Any]:
        """The current hyper-parameters as plain Python values."""
        owner = type(self).__name__
        return {
            name: coerce_scalar(getattr(self, name), kind, f"{owner}: {name}")
            for name, kind in self.hyper_kinds.items()
        }

    def state_dict(self) -> dict[str, np.ndarray]:
        """A flat copy of everything needed to resume: hyper-parameters, step count, state.

        Returns
        -------
        dict of str to ndarray
            ``"<hyper-parameter>"`` (0-d, or shape (2,) for ``betas``), ``"step"`` (0-d int64) and
            ``"state.<parameter index>.<name>"`` (the parameter's shape and dtype). Storable with
            ``np.savez`` and loadable with ``allow_pickle=False``.
        """
        self._prepare_state()
        result = {name: np.asarray(value) for name, value in self.hyper_parameters().items()}
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
        self._set_hyper(hyper)
        self.step_count = step_count
        self.state = per_param

    # -- shared machinery ---------------------------------------------------------------------

    def _validated_hyper(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        where = where or type(self).__name__
        hyper = {
            name: coerce_scalar(raw[name], kind, f"{where}: {name}")
            for name, kind in self.hyper_kinds.items()
        }
        self._check_ranges(hyper)
        return hyper

    def _set_hyper(self, hyper: Mapping[str, Any]) -> None:
        for name, value in hyper.items():
            setattr(self, name, value)

    def _require_nonnegative(self, hyper: Mapping[str, Any], *names: str) -> None:
        for name in names:
            if hyper[name] < 0.0:
                raise ValueError(
                    f"{type(self).__name__}: invalid {name} {hyper[name]}, must be >= 0"
                )

    def _checked_grad(self, index: int, param: Parameter) -> np.ndarray:
        grad = np.asarray(param.grad)
        if grad.shape != param.shape:
            raise ValueError(
                f"{type(self).__name__}: parameter {index} has shape {param.shape} but its grad "
                f"has shape {grad.shape}"
            )
        # A user-assigned grad of another dtype must not change the parameter's dtype.
        return grad.astype(param.dtype, copy=False)

    def _prepare_state(self) -> None:
        """Match the state to the hyper-parameters and parameters: create missing entries, drop
        unused ones, follow dtype changes of the parameters (``model.to``)."""
        hyper = self.hyper_parameters()
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
        owner = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{owner}.load_state_dict: expected a mapping, got {type(state).__name__}"
            )
        top_level = {key for key in state if isinstance(key, str) and "." not in key}
        check_keys(owner, [*self.hyper_kinds, "step"], top_level)
        where = f"{owner}.load_state_dict"
        raw = {name: np.asarray(state[name]) for name in self.hyper_kinds}
        hyper = self._validated_hyper(raw, where)
        step_count = coerce_scalar(np.asarray(state["step"]), "int", f"{where}: step")
        if step_count < 0:
            raise ValueError(f"{where}: step must be >= 0, got {step_count}")
        names = self._state_names(hyper)
        expected = [f"state.{i}.{name}" for i in range(len(self.params)) for name in names]
        check_keys(owner, expected, [key for key in state if key not in top_level])
        per_param: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        problems: list[str] = []
        for index, param in enumerate(self.params):
            for name in names:
                key = f"state.{index}.{name}"
                value = np.asarray(state[key])
                if value.dtype.kind != "f":
                    problems.append(f"{key}: expected a float array, got dtype {value.dtype}")
                elif value.shape != param.shape:
                    problems.append(f"{key}: expected shape {param.shape}, got {value.shape}")
                elif not np.isfinite(value).all():
                    problems.append(f"{key}: contains NaN or inf")
                else:
                    per_param[index][name] = value.astype(param.dtype, copy=True)
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))
        return hyper, step_count, per_param

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.hyper_parameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


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
        Learning rate, >= 0.
    momentum : float
        Momentum factor, >= 0.
    dampening : float
        Dampening of the momentum, in [0, 1].
    nesterov : bool
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    weight_decay : float
        L2 penalty added to the gradient, >= 0.
    """

    hyper_kinds: ClassVar[dict[str, str]] = {
        "lr": "float",
        "momentum": "float",
        "dampening": "float",
        "nesterov": "bool",
        "weight_decay": "float",
    }
    momentum: float
    dampening: float
    nesterov: bool
    weight_decay: float

    def __init__(
        self,
        params: Any,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
        )

    def _check_ranges(self, hyper: Mapping[str, Any]) -> None:
        self._require_nonnegative(hyper, "lr", "momentum", "weight_decay")
        if not 0.0 <= hyper["dampening"] <= 1.0:
            raise ValueError(f"SGD: invalid dampening {hyper['dampening']}, must be in [0, 1]")
        if hyper["nesterov"] and (hyper["momentum"] <= 0.0 or hyper["dampening"] != 0.0):
            raise ValueError(
                "SGD: nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={hyper['momentum']}, dampening={hyper['dampening']}"
            )

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if hyper["momentum"] != 0.0 else ()

    def _update(
        self,
        data: np.ndarray,
        grad: np.ndarray,
        state: dict[str, np.ndarray],
        hyper: Mapping[str, Any],
        step: int,
    ) -> None:
        if hyper["weight_decay"] != 0.0:
            grad = grad + hyper["weight_decay"] * data
        momentum = hyper["momentum"]
        if momentum != 0.0:
            buffer = state["momentum_buffer"]
            if step == 1:
                # PyTorch starts the buffer at the first gradient, undamped.
                buffer[...] = grad
            else:
                buffer *= momentum
                buffer += (1.0 - hyper["dampening"]) * grad
            grad = grad + momentum * buffer if hyper["nesterov"] else buffer
        data -= hyper["lr"] * grad


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
        Learning rate, >= 0.
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

    hyper_kinds: ClassVar[dict[str, str]] = {
        "lr": "float",
        "betas": "pair",
        "eps": "float",
        "weight_decay": "float",
        "amsgrad": "bool",
        "decoupled": "bool",
    }
    betas: tuple[float, float]
    eps: float
    weight_decay: float
    amsgrad: bool
    decoupled: bool

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        decoupled: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            decoupled=decoupled,
        )

    def _check_ranges(self, hyper: Mapping[str, Any]) -> None:
        self._require_nonnegative(hyper, "lr", "eps", "weight_decay")
        for index, beta in enumerate(hyper["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(
                    f"{type(self).__name__}: invalid betas[{index}] {beta}, must be in [0, 1)"
                )

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        names = ("exp_avg", "exp_avg_sq")
        return (*names, "max_exp_avg_sq") if hyper["amsgrad"] else names

    def _update(
        self,
        data: np.ndarray,
        grad: np.ndarray,
        state: dict[str, np.ndarray],
        hyper: Mapping[str, Any],
        step: int,
    ) -> None:
        lr, weight_decay = hyper["lr"], hyper["weight_decay"]
        beta1, beta2 = hyper["betas"]
        if weight_decay != 0.0:
            if hyper["decoupled"]:
                data *= 1.0 - lr * weight_decay
            else:
                grad = grad + weight_decay * data
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        # PyTorch's lerp form of beta1 * m + (1 - beta1) * g.
        exp_avg += (1.0 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * grad * grad
        second_moment = exp_avg_sq
        if hyper["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second_moment = state["max_exp_avg_sq"]
        step_size = lr / (1.0 - beta1**step)
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
        denominator = np.sqrt(second_moment) / bias_correction2_sqrt + hyper["eps"]
        data -= step_size * (exp_avg / denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay; PyTorch's ``AdamW`` (default ``weight_decay=1e-2``).

    Parameters are those of :class:`Adam` without ``decoupled``, which is always True.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled=True)

    def _check_ranges(self, hyper: Mapping[str, Any]) -> None:
        super()._check_ranges(hyper)
        if not hyper["decoupled"]:
            raise ValueError("AdamW: decoupled must be True (use Adam for coupled weight decay)")


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
        Learning rate, >= 0.
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

    hyper_kinds: ClassVar[dict[str, str]] = {
        "lr": "float",
        "alpha": "float",
        "eps": "float",
        "weight_decay": "float",
        "momentum": "float",
        "centered": "bool",
    }
    alpha: float
    eps: float
    weight_decay: float
    momentum: float
    centered: bool

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )

    def _check_ranges(self, hyper: Mapping[str, Any]) -> None:
        self._require_nonnegative(hyper, "lr", "eps", "weight_decay", "momentum")
        if not 0.0 <= hyper["alpha"] <= 1.0:
            raise ValueError(f"RMSprop: invalid alpha {hyper['alpha']}, must be in [0, 1]")

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        names = ["square_avg"]
        if hyper["momentum"] > 0.0:
            names.append("momentum_buffer")
        if hyper["centered"]:
            names.append("grad_avg")
        return tuple(names)

    def _update(
        self,
        data: np.ndarray,
        grad: np.ndarray,
        state: dict[str, np.ndarray],
        hyper: Mapping[str, Any],
        step: int,
    ) -> None:
        alpha = hyper["alpha"]
        if hyper["weight_decay"] != 0.0:
            grad = grad + hyper["weight_decay"] * data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * grad * grad
        if hyper["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1.0 - alpha) * (grad - grad_avg)
            denominator = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denominator = np.sqrt(square_avg)
        denominator += hyper["eps"]
        if hyper["momentum"] > 0.0:
            buffer = state["momentum_buffer"]
            buffer *= hyper["momentum"]
            buffer += grad / denominator
            data -= hyper["lr"] * buffer
        else:
            data -= hyper["lr"] * (grad / denominator)


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
        Learning rate, >= 0.
    lr_decay : float
        Learning-rate decay per step, >= 0.
    weight_decay : float
        L2 penalty added to the gradient, >= 0.
    initial_accumulator_value : float
        Starting value of the squared-gradient sum, >= 0.
    eps : float
        Added to the denominator, >= 0.
    """

    hyper_kinds: ClassVar[dict[str, str]] = {
        "lr": "float",
        "lr_decay": "float",
        "weight_decay": "float",
        "initial_accumulator_value": "float",
        "eps": "float",
    }
    lr_decay: float
    weight_decay: float
    initial_accumulator_value: float
    eps: float

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )

    def _check_ranges(self, hyper: Mapping[str, Any]) -> None:
        self._require_nonnegative(
            hyper, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"
        )

    def _state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        return ("sum",)

    def _initial_state(self, name: str, data: np.ndarray, hyper: Mapping[str, Any]) -> np.ndarray:
        return np.full_like(data, hyper["initial_accumulator_value"])

    def _update(
        self,
        data: np.ndarray,
        grad: np.ndarray,
        state: dict[str, np.ndarray],
        hyper: Mapping[str, Any],
        step: int,
    ) -> None:
        if hyper["weight_decay"] != 0.0:
            grad = grad + hyper["weight_decay"] * data
        decayed_lr = hyper["lr"] / (1.0 + (step - 1) * hyper["lr_decay"])
        squared_sum = state["sum"]
        squared_sum += grad * grad
        data -= decayed_lr * (grad / (np.sqrt(squared_sum) + hyper["eps"]))
