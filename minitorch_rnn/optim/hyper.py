"""Hyper-parameters declared once: a typed class attribute whose value is :func:`hyper`.

An optimiser or scheduler lists each hyper-parameter one time, as a typed class attribute::

    class SGD(Optimizer):
        lr: float = hyper(minimum=0.0)
        momentum: float = hyper(default=0.0, minimum=0.0)

and everything else is derived from that line: the constructor's signature (the argument's
position, type and default, which type checkers see too, as for a dataclass), the check of its
type and range in the constructor, at every later assignment (``opt.lr = -5`` raises at once) and
in ``load_state_dict``, and the entry of the flat state dict.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


__all__ = ["Declared", "HyperField", "coerce_scalar", "hyper", "leading"]

_MISSING: Any = object()
# The annotation of a hyper-parameter decides its kind (see coerce_scalar).
_KINDS = {
    "float": "float",
    "int": "int",
    "bool": "bool",
    "str": "str",
    "tuple[float, float]": "pair",
}


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


@dataclass
class HyperField:
    """The declaration made by :func:`hyper`: default, range, choices; kind and name are filled in
    from the class attribute it is assigned to."""

    default: Any = _MISSING
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple[str, ...] = ()
    finite: bool = True
    init: bool = True
    name: str = ""
    kind: str = ""

    def range_text(self) -> str:
        """``">= 0"``, ``"in [0, 1)"``, ...: the allowed range in words."""
        low = self.minimum if self.minimum is not None else self.above
        high = self.maximum if self.maximum is not None else self.below
        if low is not None and high is not None:
            left, right = (
                "[" if self.minimum is not None else "(",
                "]" if self.maximum is not None else ")",
            )
            return f"in {left}{low:g}, {high:g}{right}"
        if low is not None:
            return f"{'>=' if self.minimum is not None else '>'} {low:g}"
        return f"{'<=' if self.maximum is not None else '<'} {high:g}"

    @property
    def coerce_kind(self) -> str:
        """The kind :func:`coerce_scalar` checks: ``"real"`` for a float that may be infinite."""
        return "real" if self.kind == "float" and not self.finite else self.kind

    def check(self, value: Any, owner: str) -> Any:
        """``value`` converted to this kind and checked against the range; else raise."""
        value = coerce_scalar(value, self.coerce_kind, f"{owner}: {self.name}")
        if self.choices and value not in self.choices:
            options = " or ".join(repr(choice) for choice in self.choices)
            raise ValueError(f"{owner}: {self.name} must be {options}, got {value!r}")
        items = value if self.kind == "pair" else (value,)
        for index, item in enumerate(items):
            if not self._in_range(item):
                label = f"{self.name}[{index}]" if self.kind == "pair" else self.name
                raise ValueError(f"{owner}: {label} must be {self.range_text()}, got {item}")
        return value

    def _in_range(self, item: float) -> bool:
        return not (
            (self.minimum is not None and not item >= self.minimum)
            or (self.maximum is not None and not item <= self.maximum)
            or (self.above is not None and not item > self.above)
            or (self.below is not None and not item < self.below)
        )

    # A descriptor: every assignment is checked, so a bad value never reaches an update.
    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.name] = self.check(value, type(instance).__name__)


def hyper(
    *,
    default: Any = _MISSING,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    choices: tuple[str, ...] = (),
    finite: bool = True,
    init: bool = True,
) -> Any:
    """Declare a hyper-parameter (a class attribute of a :class:`Declared` subclass).

    Parameters
    ----------
    default : optional
        The constructor's default; none: a required argument.
    minimum, maximum : float, optional
        Inclusive bounds (for a pair, of each item).
    above, below : float, optional
        Exclusive bounds.
    choices : tuple of str
        The allowed values of a ``str`` hyper-parameter.
    finite : bool
        False allows ±inf and NaN (a float that is progress, such as a best value so far).
    init : bool
        False: not a constructor argument (progress, or fixed by the class, as AdamW's
        ``decoupled``); the class sets it in ``__init__``.
    """
    return HyperField(default, minimum, maximum, above, below, choices, finite, init)


def _kind_of(annotation: Any, where: str) -> str:
    """The kind of a hyper-parameter from its annotation (a string under postponed evaluation)."""
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    if text not in _KINDS:
        raise TypeError(f"{where}: a hyper-parameter is annotated with one of {sorted(_KINDS)}")
    return _KINDS[text]


class _Leading:
    """Marks the first constructor argument (``params``, ``optimizer``): not a hyper-parameter."""


def leading() -> Any:
    """Declare the constructor's first argument, which is not a hyper-parameter."""
    return _Leading()


@dataclass_transform(eq_default=False, field_specifiers=(hyper, leading))
class Declared:
    """Base of classes whose constructor arguments are declared with :func:`hyper`.

    The constructor takes :attr:`leading` (e.g. ``params``) and then the ``init=True``
    hyper-parameters in declaration order (a base class's first); a redeclaration in a subclass
    changes the default or range in place. :meth:`_check_together` checks rules that involve
    several values (``nesterov`` needs ``momentum > 0``).
    """

    hyper_fields: ClassVar[dict[str, HyperField]] = {}
    leading: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls.hyper_fields)
        annotations = inspect.get_annotations(cls)
        for name, value in list(vars(cls).items()):
            if isinstance(value, _Leading):
                cls.leading = name
                delattr(cls, name)
            elif isinstance(value, HyperField):
                value.name = name
                value.kind = _kind_of(annotations.get(name), f"{cls.__name__}.{name}")
                fields[name] = value
        cls.hyper_fields = fields
        parameters = [inspect.Parameter(cls.leading, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        parameters += [
            inspect.Parameter(
                field.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=inspect.Parameter.empty if field.default is _MISSING else field.default,
            )
            for field in fields.values()
            if field.init
        ]
        cls.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The leading argument and the hyper-parameters (not yet checked) of a constructor
        call, matched to the declarations as Python matches a call to the derived signature; a
        missing or unknown argument is a ``TypeError`` naming the class."""
        owner = type(self).__name__
        declared = [field for field in self.hyper_fields.values() if field.init]
        names = [self.leading, *(field.name for field in declared)]
        if len(args) > len(names):
            raise TypeError(
                f"{owner}: takes {len(names)} positional arguments but {len(args)} were given"
            )
        values = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"{owner}: got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{owner}: multiple values for argument {name!r}")
            values[name] = value
        for field in self.hyper_fields.values():
            # Not a constructor argument (init=False): the declared default, if any.
            if field.name not in values and field.default is not _MISSING:
                values[field.name] = field.default
        missing = [name for name in names if name not in values]
        if missing:
            raise TypeError(f"{owner}: missing a required argument: {missing[0]!r}")
        hyper = {name: values[name] for name in self.hyper_fields if name in values}
        return values[self.leading], hyper

    def _checked(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Every value of ``raw`` checked by its declaration, then together; changes nothing."""
        owner = where or type(self).__name__
        values = {name: self.hyper_fields[name].check(value, owner) for name, value in raw.items()}
        self._check_together(values)
        return values

    def _assign(self, values: Mapping[str, Any]) -> None:
        """Assign values that :meth:`_checked` accepted."""
        for name, value in values.items():
            self.__dict__[name] = value

    def _check_together(self, values: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` if a combination of values is invalid (nothing by default)."""

    def hyper_parameters(self) -> dict[str, Any]:
        """The current hyper-parameters as plain Python values, checked together."""
        values = {name: getattr(self, name) for name in self.hyper_fields}
        self._check_together(values)
        return values
