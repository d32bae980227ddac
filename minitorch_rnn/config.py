"""Models that rebuild themselves: :func:`build` a module from its :meth:`Module.config`.

A config names classes, and a file that holds one may come from anyone, so names are looked up
in an explicit table and nowhere else: the built-in classes below, and the classes a program
registers in its own code with :func:`register_module`. Nothing named in a config is imported,
and no function it names is called.

:func:`parameter_shapes` answers, from a config alone, which parameters :func:`build` would
create and their shapes, so that ``mt.load_model`` compares every size with the weights a file
holds before it allocates anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .layers import Dense, Dropout, Embedding, Logistic, MeanPool, ReLU, Softmax, Tanh
from .module import Module, Sequential, Shapes
from .recurrent import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    RecurrentStack,
    RNNCell,
    Unroll,
)
from .seq2seq import Attention, Seq2Seq

__all__ = [
    "BUILT_IN_MODULES",
    "MAX_CONFIG_DEPTH",
    "MAX_CONFIG_MODULES",
    "build",
    "check_config",
    "module_class",
    "parameter_shapes",
    "register_module",
]

#: The classes a config may name without registration, by class name.
BUILT_IN_MODULES: Mapping[str, type[Module]] = MappingProxyType(
    {
        cls.__name__: cls
        for cls in (
            Dense,
            Dropout,
            Embedding,
            Logistic,
            MeanPool,
            ReLU,
            Softmax,
            Tanh,
            Sequential,
            RNNCell,
            GRUCell,
            LSTMCell,
            Unroll,
            Bidirectional,
            RecurrentStack,
            RNN,
            GRU,
            LSTM,
            Attention,
            Seq2Seq,
        )
    }
)

#: The deepest nesting of lists and dicts a config may have (a stack of cells is 3 deep).
MAX_CONFIG_DEPTH = 32
#: The most modules a config may describe (a stack counts once): modules without parameters,
#: such as ``Tanh``, are not bounded by a file's weights, so they are bounded here.
MAX_CONFIG_MODULES = 10_000

_REGISTERED: dict[str, type[Module]] = {}


def register_module(cls: type[Module]) -> type[Module]:
    """Let configs name ``cls`` (by its ``__name__``), so that :func:`build` and
    ``mt.load_model`` rebuild it; returns ``cls``, so it also works as a class decorator.

    The class should implement :meth:`Module.config` (and :meth:`Module.parameter_shapes`, so
    that a file's sizes are checked before anything is allocated; without it the model is built
    first and its shapes compared after). Registering the same name again replaces the class.

    Raises
    ------
    TypeError
        If ``cls`` is not a subclass of ``Module``.
    ValueError
        If its name is that of a built-in class (which cannot be replaced).
    """
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_module: expected a subclass of Module, got {cls!r}")
    if cls.__name__ in BUILT_IN_MODULES and BUILT_IN_MODULES[cls.__name__] is not cls:
        raise ValueError(
            f"register_module: {cls.__name__!r} is the name of a built-in class; rename yours"
        )
    _REGISTERED[cls.__name__] = cls
    return cls


def module_class(name: Any) -> type[Module]:
    """The class a config names: built in, or registered with :func:`register_module`.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If no such class is built in or registered (the message says how to register one).
    """
    if not isinstance(name, str):
        raise TypeError(f"build: a config's 'class' must be a class name, got {name!r}")
    cls = BUILT_IN_MODULES.get(name) or _REGISTERED.get(name)
    if cls is None:
        shown = name if len(name) <= 80 else name[:80] + "..."
        raise ValueError(
            f"build: {shown!r} is neither a built-in module class nor a registered one; a "
            f"config only names classes, it never imports them: if it is your class, call "
            f"mt.register_module({shown}) in your code before loading"
        )
    return cls


def build(config: Mapping[str, Any]) -> Module:
    """A new module (with fresh weights) from a :meth:`Module.config` description.

    Parameters
    ----------
    config : dict
        ``{"class": <class name>, <argument>: <value>, ...}``; a nested module is a nested
        config, a list of modules a list of configs (``Sequential``'s ``"modules"``).

    Returns
    -------
    Module
        ``build(m.config())`` has the state-dict keys and shapes of ``m``.

    Raises
    ------
    TypeError
        If ``config`` or a part of it has the wrong type, or a class does not take an argument.
    ValueError
        If a class is neither built in nor registered, the nesting is deeper than
        ``MAX_CONFIG_DEPTH``, or a value is refused by the class's constructor.
    """
    check_config(config)
    try:
        return _build(config)
    except (TypeError, ValueError) as error:
        if str(error).startswith("build:"):
            raise
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"build: {error}") from error


def parameter_shapes(config: Mapping[str, Any], max_entries: int | None = None) -> Shapes | None:
    """The parameter names and shapes :func:`build` would create, computed without building.

    Every size is checked as the constructors check them. ``max_entries`` bounds the work: a
    config that declares more parameters than that (a stack of a billion layers) is refused
    as soon as the count passes it. Returns None when a registered class in the config cannot
    tell its shapes without being built (its :meth:`Module.parameter_shapes` returns None).

    Raises
    ------
    TypeError, ValueError
        As :func:`build`, and when more than ``max_entries`` parameters are declared.
    """
    check_config(config)
    counted = 0
    calls = 0

    def shapes_of(nested: Any) -> Shapes:
        nonlocal counted, calls
        if not isinstance(nested, Mapping) or "class" not in nested:
            raise TypeError(f"build: a nested module must be a config dict, got {nested!r}")
        cls = module_class(nested["class"])
        calls_before = calls = calls + 1
        arguments = {key: value for key, value in nested.items() if key != "class"}
        shapes = cls.parameter_shapes(arguments, shapes_of)
        if shapes is None:
            raise _ShapesUnknown
        if calls == calls_before:  # a leaf: its entries are counted once, not by every parent
            counted += len(shapes)
            if max_entries is not None and counted > max_entries:
                raise ValueError(
                    f"build: the config declares more than {max_entries} parameters, the "
                    "number of weights it must match"
                )
        return shapes

    try:
        return shapes_of(config)
    except _ShapesUnknown:
        return None


class _ShapesUnknown(Exception):
    """A registered class in the config cannot tell its shapes before it is built."""


def check_config(config: Any, *, known_classes: bool = True) -> None:
    """Check the structure of a config before anything of it is used.

    It must be a dict with a string ``"class"`` naming a built-in or registered class (with
    ``known_classes=False``: any class name, as ``mt.save`` stores a user's class that the
    loading program may register); values are JSON values, nested module configs or lists of
    them, at most ``MAX_CONFIG_DEPTH`` deep and ``MAX_CONFIG_MODULES`` modules in all.

    Raises
    ------
    TypeError
        If a part has the wrong type.
    ValueError
        If it is nested too deep, describes too many modules or names an unknown class.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"build: a config must be a dict, got {type(config).__name__}")
    pending: list[tuple[Any, int]] = [(config, 1)]
    modules = 0
    while pending:  # iterative: a hostile depth cannot exhaust the Python stack
        value, depth = pending.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise ValueError(f"build: config nested deeper than {MAX_CONFIG_DEPTH} levels")
        if isinstance(value, Mapping):
            modules += 1
            if modules > MAX_CONFIG_MODULES:
                raise ValueError(f"build: config describes more than {MAX_CONFIG_MODULES} modules")
            if "class" not in value:
                raise ValueError(
                    f"build: every dict in a config is a module's config with a 'class' entry, "
                    f"got keys {sorted(map(str, value))[:10]}"
                )
            if known_classes:
                module_class(value["class"])
            elif not isinstance(value["class"], str):
                raise TypeError(f"build: 'class' must be a class name, got {value['class']!r}")
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError(f"build: config keys must be strings, got {key!r}")
                pending.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            pending.extend((item, depth + 1) for item in value)
        elif not (value is None or isinstance(value, bool | int | float | str)):
            raise TypeError(f"build: config values must be JSON values, got {type(value).__name__}")


def _build(config: Mapping[str, Any]) -> Module:
    cls = module_class(config["class"])
    arguments = {key: _built(value) for key, value in config.items() if key != "class"}
    return cls.from_config(arguments, module_class)


def _built(value: Any) -> Any:
    """A config value with every nested module config built."""
    if isinstance(value, Mapping):
        return _build(value)
    if isinstance(value, list | tuple):
        return [_built(item) for item in value]
    return value
