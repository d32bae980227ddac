"""Parameter, Module and Sequential: the object model every layer is built on.

A :class:`Module` owns an explicit ``forward`` and ``backward``. ``backward(grad_output)`` returns
the gradient for the module's input and *accumulates* (``+=``) into the ``.grad`` of its parameters,
so a parameter used twice (tied weights, or a cell at every time step) receives the sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, TypeAlias

import numpy as np
from numpy.typing import DTypeLike

from .dtype import as_float_dtype
from .validation import check_flag, check_keys, staged_arrays

__all__ = [
    "Config",
    "Module",
    "Parameter",
    "Sequential",
    "Shapes",
    "accepts_lengths",
    "input_grad_needed",
]

#: A module's description (see :meth:`Module.config`): JSON values, ``"class"`` naming its class.
Config: TypeAlias = dict[str, Any]
#: Parameter name to shape, as :meth:`Module.state_dict` would hold them.
Shapes: TypeAlias = dict[str, tuple[int, ...]]


class Parameter:
    """A trainable array and its gradient.

    Parameters
    ----------
    data : array_like
        Initial value; converted to a float array (the default dtype for non-float input).
    dtype : dtype, optional
        float32 or float64; default: the dtype of ``data`` if it is a float, else the default dtype.
    requires_grad : bool
        Whether optimisers update it (PyTorch's name). A frozen parameter (False) still receives
        ``.grad`` from ``backward``; optimisers, their state and gradient clipping leave it alone.

    Attributes
    ----------
    data : np.ndarray
        The value. Assigning a new array replaces it; the gradient is reset to zeros when the
        shape or dtype changes.
    grad : np.ndarray
        Same shape and dtype as ``data``; zeros until a ``backward`` accumulates into it.
    """

    __slots__ = ("_data", "_requires_grad", "grad")

    def __init__(
        self, data: Any, dtype: DTypeLike | None = None, requires_grad: bool = True
    ) -> None:
        array = np.asarray(data)
        if dtype is None and array.dtype.kind == "f":
            dtype = array.dtype
        self.requires_grad = requires_grad
        self._data = np.array(array, dtype=as_float_dtype(dtype), copy=True)
        self.grad = np.zeros_like(self._data)

    @property
    def requires_grad(self) -> bool:
        """Whether optimisers update this parameter; False freezes it (see the class)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._requires_grad = check_flag(value, "Parameter", "requires_grad")

    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        array = np.asarray(value)
        if array.dtype.kind != "f":
            raise TypeError(f"Parameter.data must be a float array, got dtype {array.dtype}")
        array = array.astype(as_float_dtype(array.dtype), copy=False)
        if array.shape != self._data.shape or array.dtype != self._data.dtype:
            self.grad = np.zeros_like(array)
        self._data = array

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

    def zero_grad(self) -> None:
        """Set the gradient to zeros in place."""
        self.grad[...] = 0

    def __repr__(self) -> str:
        frozen = "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.shape}, dtype={self.dtype}{frozen})"


class Module:
    """Base class of every layer, cell, container and user model.

    Subclasses set parameters and submodules as attributes in ``__init__`` (they register
    themselves, as in PyTorch) and implement ``forward`` and ``backward``.

    Attributes
    ----------
    accepts_lengths : bool (class attribute, default False)
        Whether ``forward`` takes a ``lengths=`` keyword (the valid lengths of a padded batch).
        ``Sequential`` and the Trainer pass ``lengths`` only to modules that declare it; a user
        module whose ``forward`` takes it sets ``accepts_lengths = True``.
    training : bool
        Training mode (the default) or eval mode, see :meth:`train` and :meth:`eval`.
    """

    accepts_lengths: ClassVar[bool] = False

    training: bool
    _parameters: dict[str, Parameter]
    _modules: dict[str, Module]

    needs_input_grad: bool = True
    """Whether ``backward`` must return the gradient of the input. A parent sets it to False
    (with :func:`input_grad_needed`) around a ``backward`` whose input is data, which needs no
    gradient; a module may then skip that work and return None (``Unroll`` does). Direct calls
    and ``gradcheck`` always get input gradients."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # -- registration ------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # -- the contract -------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the output and remember what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output: Any) -> Any:
        """Return d loss / d input and accumulate d loss / d parameter into each ``.grad``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def check_backward_ready(self) -> None:
        """Raise the error ``backward`` would raise for want of a pending forward pass, or
        return.

        A container that runs several modules backwards calls it on all of them first, so that
        a module which cannot go back (its forward ran in eval mode and kept nothing, or a
        backward already used it) refuses before any other module has accumulated a gradient.
        The default returns: a module whose ``backward`` can always run needs nothing here.
        """

    # -- traversal ----------------------------------------------------------------------------

    def children(self) -> Iterator[Module]:
        """The directly registered submodules, in assignment order."""
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it, with dotted names (each module once)."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop(0)
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack[0:0] = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module._modules.items()
            ]

    def modules(self) -> Iterator[Module]:
        """This module and every submodule below it."""
        for _, module in self.named_modules():
            yield module

    def named_generators(self) -> Iterator[tuple[str, np.random.Generator]]:
        """Every numpy ``Generator`` held by a module of the tree (e.g. ``Dropout``'s), once each,
        by dotted attribute name (``"2.rng"``).

        The one walk over a model's random state: checkpoints save and restore it, ``gradcheck``
        replays it, data-parallel replicas reseed it.
        """
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            for attribute, value in vars(module).items():
                if isinstance(value, np.random.Generator) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{module_name}.{attribute}" if module_name else attribute), value

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every parameter once, with its dotted name (``"0.weight"``, ``"cell.weight_ih"``).

        A parameter reachable under several names (tied weights) is listed under the first.
        """
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            for name, parameter in module._parameters.items():
                if id(parameter) in seen:
                    continue
                seen.add(id(parameter))
                yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self) -> list[Parameter]:
        """Every parameter once, in registration order."""
        return [parameter for _, parameter in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of scalars in every parameter, frozen ones included."""
        return sum(p.size for p in self.parameters())

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set :attr:`Parameter.requires_grad` of every parameter below this module; returns
        ``self``.

        ``embedding.requires_grad_(False)`` freezes a layer (PyTorch's name): optimisers then skip
        its parameters and leave their state untouched, while ``backward`` still passes the
        gradient through it to the layers before.

        Raises
        ------
        TypeError
            If ``requires_grad`` is not a bool (checked before any parameter changes).
        """
        flag = check_flag(requires_grad, f"{type(self).__name__}.requires_grad_", "requires_grad")
        for parameter in self.parameters():
            parameter.requires_grad = flag
        return self

    # -- rebuilding from a description ---------------------------------------------------------

    def config(self) -> Config:
        """A JSON-able description from which :func:`minitorch_rnn.build` makes an equal,
        freshly initialised module: ``{"class": <class name>, <constructor argument>: <value>,
        ...}``, nested modules as their own configs.

        Every built-in module has one; ``mt.save`` stores it so that ``mt.load_model`` rebuilds
        the model without its code. A user's subclass joins by overriding this method (and
        :meth:`parameter_shapes`, so that a file's sizes are checked before anything is
        allocated) and registering its class with :func:`minitorch_rnn.register_module`.

        Raises
        ------
        NotImplementedError
            Here, in the base class: a module without a config is saved with its weights only.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no config(): implement it (and register the class with "
            "mt.register_module) to save a model that rebuilds itself"
        )

    @classmethod
    def from_config(
        cls, arguments: dict[str, Any], classes: Callable[[str], type[Module]]
    ) -> Module:
        """Make the module from the arguments of its config (nested modules already built).

        ``classes`` turns a class name found in the config into a class, from the table of
        built-in and registered ones only. Default: ``cls(**arguments)``.
        """
        return cls(**arguments)

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        """The names and shapes of the parameters that the config with these ``arguments``
        would create, computed without creating them; None when unknown without building.

        ``shapes_of(nested_config)`` answers the same for a nested module's config. Sizes are
        checked here as the constructor would check them (``TypeError``/``ValueError``), so
        that ``mt.load_model`` compares a file's sizes with its weights before allocating.
        Default: None (a registered user class is then built before its shapes are compared).
        """
        return None

    # -- state --------------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zeros."""
        for parameter in self.parameters():
            parameter.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its submodules to training mode (``mode=False``: eval)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: no dropout, cells remember no steps."""
        return self.train(False)

    def to(self, dtype: DTypeLike) -> Module:
        """Convert every parameter to ``dtype`` (float32 or float64) in place; returns ``self``."""
        resolved = as_float_dtype(dtype)
        for parameter in self.parameters():
            parameter.data = parameter.data.astype(resolved)
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's value, keyed by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values from ``state`` into the parameters, all or nothing.

        Parameters
        ----------
        state : mapping of str to array_like
            As returned by :meth:`state_dict` (or a converted PyTorch state dict).
        strict : bool
            If True, missing and unexpected keys are errors. Shape mismatches always are.

        Raises
        ------
        TypeError
            If ``state`` is not a mapping (a list of pairs, None).
        KeyError
            Listing the missing and unexpected keys (strict mode).
        ValueError
            Listing every key whose shape differs, or whose value is not a finite float array.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{owner}: state must be a mapping of parameter names to arrays (as state_dict() "
                f"returns), got {type(state).__name__}"
            )
        own = dict(self.named_parameters())
        if strict:
            check_keys(owner, own, state, error=KeyError)
        present = {name: (p.shape, p.dtype) for name, p in own.items() if name in state}
        staged = staged_arrays(owner, state, present, kinds="iuf")
        for name, value in staged.items():
            own[name].data[...] = value

    # -- display ------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr``; override in subclasses."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not self._modules:
            return head + ")"
        lines = [head]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return "\n".join(lines) + "\n)"


def described(module: Module, **arguments: Any) -> Config:
    """``{"class": <the module's class name>, **arguments}``: how every ``config()`` starts.

    The name is the class of ``module`` itself, so a subclass that inherits ``config()`` is
    named as what it is, and rebuilding it needs that class registered.
    """
    return {"class": type(module).__name__, **arguments}


def no_parameters(
    cls: type[Module], arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
) -> Shapes:
    """:meth:`Module.parameter_shapes` of a module that has none: ``parameter_shapes =
    classmethod(no_parameters)``."""
    return {}


def dtype_name(dtype: np.dtype) -> str:
    """A dtype as a config stores it (``"float32"``)."""
    return np.dtype(dtype).name


def accepts_lengths(module: Module) -> bool:
    """Whether ``module.forward`` takes a ``lengths`` keyword: its declared
    :attr:`Module.accepts_lengths` (a ``Sequential`` accepts it when a child does)."""
    return bool(module.accepts_lengths)


class StateSnapshot:
    """The attributes of every module below each of ``roots``, to undo a forward pass that failed
    midway.

    A snapshot stands in for validate-then-run here because whether a child accepts its input is
    known only once the children before it have run, and a forward pass changes caches, carried
    states and random generators in ways no check can predict (see ARCHITECTURE.md, *Undo*).

    Layers replace their caches by new objects, so shallow copies of their attribute dicts suffice;
    lists (a cell's remembered steps) are copied and random generators' states saved, since those
    change in place.
    """

    def __init__(self, *roots: Module) -> None:
        self._saved = []
        modules = {id(m): m for root in roots for m in root.modules()}  # each once, in order
        for module in modules.values():
            attributes = dict(vars(module))
            lists = {k: list(v) for k, v in attributes.items() if isinstance(v, list)}
            generators = {
                k: v.bit_generator.state
                for k, v in attributes.items()
                if isinstance(v, np.random.Generator)
            }
            self._saved.append((module, attributes, lists, generators))

    def restore(self) -> None:
        for module, attributes, lists, generators in self._saved:
            vars(module).clear()
            vars(module).update(attributes)
            for name, items in lists.items():
                getattr(module, name)[:] = items
            for name, state in generators.items():
                getattr(module, name).bit_generator.state = state


class Sequential(Module):
    """Modules applied in order; ``backward`` runs them in reverse.

    ``forward(x, lengths=...)`` hands ``lengths`` (a padded batch's valid lengths) to every child
    whose ``forward`` declares a ``lengths`` keyword, such as :class:`Unroll`.

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> model = mt.Sequential(mt.Dense(2, 8, seed=0), mt.Tanh(), mt.Dense(8, 1, seed=1))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    @property  # a class attribute elsewhere, derived from the children here
    def accepts_lengths(self) -> bool:  # type: ignore[override]
        """True when any child accepts ``lengths`` (it is then passed on to those children)."""
        return any(accepts_lengths(child) for child in self.children())

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {index} must be a Module, got {type(module).__name__}"
                )
            setattr(self, str(index), module)

    def config(self) -> Config:
        """``{"class": "Sequential", "modules": [<each child's config>, ...]}``."""
        return described(self, modules=[child.config() for child in self.children()])

    @classmethod
    def from_config(
        cls, arguments: dict[str, Any], classes: Callable[[str], type[Module]]
    ) -> Module:
        modules = arguments.get("modules", [])
        extra = sorted(set(arguments) - {"modules"})
        if extra:
            raise TypeError(f"Sequential: unexpected config arguments {extra}")
        if not isinstance(modules, list):
            raise TypeError(f"Sequential: 'modules' must be a list, got {type(modules).__name__}")
        return cls(*modules)

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        modules = arguments.get("modules", [])
        if not isinstance(modules, list):
            raise TypeError(f"Sequential: 'modules' must be a list, got {type(modules).__name__}")
        return {
            f"{index}.{name}": shape
            for index, child in enumerate(modules)
            for name, shape in shapes_of(child).items()
        }

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, index: int) -> Module:
        layers = list(self._modules.values())
        return layers[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def forward(self, x: Any, lengths: Any = None) -> Any:
        """Apply each module in turn; pass ``lengths`` to those that accept it.

        A rejected call changes nothing. Every child checks its input before it changes any
        state, so what can go wrong after a child has run is only that a *later* child rejects
        what it produced; then the children that ran are restored. Whether that happens is
        known only by running them, so their state is snapshotted first — theirs only: the last
        child has no later one to fail after it, and a single child needs no snapshot at all.
        """
        children = list(self._modules.values())
        snapshot = StateSnapshot(*children[:-1]) if len(children) > 1 else None
        try:
            for module in children:
                if lengths is not None and accepts_lengths(module):
                    x = module.forward(x, lengths=lengths)
                else:
                    x = module.forward(x)
        except Exception:
            if snapshot is not None:
                snapshot.restore()
            raise
        return x

    def check_backward_ready(self) -> None:
        """Ask every child (see :meth:`Module.check_backward_ready`)."""
        for child in self.children():
            child.check_backward_ready()

    def backward(self, grad_output: Any) -> Any:
        """Back-propagate through the modules in reverse order.

        All or nothing, by validating before running: every child is first asked whether it
        can go back (:meth:`Module.check_backward_ready`), so a child that would refuse (an
        ``Unroll`` whose trace was already used, say) does so before any later child has added
        to a ``.grad``. Each child then checks its own gradient argument before it accumulates.
        The first child is told whether its input needs a gradient
        (:attr:`Module.needs_input_grad`).
        """
        children = list(self._modules.values())
        if not children:
            return grad_output
        self.check_backward_ready()
        grad = grad_output
        for module in reversed(children[1:]):
            grad = module.backward(grad)
        with input_grad_needed(children[0], self.needs_input_grad):
            return children[0].backward(grad)


@contextmanager
def input_grad_needed(module: Module, needed: bool) -> Iterator[None]:
    """Set ``module.needs_input_grad`` to ``needed`` for the duration of a ``with`` block.

    The Trainer wraps ``model.backward`` in ``input_grad_needed(model, False)``: the model's input
    is data, so its first layer may skip the input gradient.
    """
    previous = module.needs_input_grad
    module.needs_input_grad = bool(needed)
    try:
        yield
    finally:
        module.needs_input_grad = previous
