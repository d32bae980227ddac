"""A griffe extension (used only by the docs build) that gives the optimisers and schedulers the
constructor signature Python gives them at run time.

Their hyper-parameters are declared once, as class attributes ``name: type = hyper(...)`` (see
``minitorch_rnn/optim/hyper.py``), and the constructor is derived from them when the class is
created. Griffe reads the source without running it, so here the same signature is derived from
the same declarations: the ``leading()`` argument, then every ``hyper(...)`` attribute without
``init=False``, in declaration order with a base class's first (a redeclaration keeps its place and
takes the new default). Loaded by ``mkdocs.yml``.
"""

from __future__ import annotations

from typing import Any

import griffe

_HYPER = "minitorch_rnn.optim.hyper.hyper"
_LEADING = "minitorch_rnn.optim.hyper.leading"


def _declarations(cls: griffe.Class, leading: set[str]) -> dict[str, griffe.Parameter]:
    """The constructor parameters declared by ``cls`` and its bases, in order."""
    parameters: dict[str, griffe.Parameter] = {}
    for klass in [*reversed(cls.mro()), cls]:
        for member in klass.members.values():
            value = getattr(member, "value", None)
            if member.is_alias:
                continue
            if member.path in leading:
                parameters[member.name] = griffe.Parameter(
                    member.name,
                    annotation=member.annotation,
                    kind=griffe.ParameterKind.positional_or_keyword,
                )
                continue
            if not isinstance(value, griffe.ExprCall) or value.function.canonical_path != _HYPER:
                continue
            keywords = {
                argument.name: argument.value
                for argument in value.arguments
                if isinstance(argument, griffe.ExprKeyword)
            }
            if str(keywords.get("init", "True")) == "False":
                parameters.pop(member.name, None)
                continue
            parameters[member.name] = griffe.Parameter(
                member.name,
                annotation=member.annotation,
                kind=griffe.ParameterKind.positional_or_keyword,
                default=keywords.get("default"),
            )
    return parameters


def _declared(cls: griffe.Class) -> bool:
    try:
        return any(base.path == "minitorch_rnn.optim.hyper.Declared" for base in cls.mro())
    except ValueError:
        return False


class HyperSignatures(griffe.Extension):
    """Set ``__init__`` of every subclass of ``Declared`` from its declarations."""

    def __init__(self) -> None:
        super().__init__()
        # The leading() attributes, remembered when first seen: ``self.params = ...`` in
        # ``__init__`` later replaces the value griffe keeps.
        self._leading: set[str] = set()

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        value = attr.value
        if isinstance(value, griffe.ExprCall) and value.function.canonical_path == _LEADING:
            self._leading.add(attr.path)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for cls in _classes(pkg):
            if _declared(cls):
                declared = _declarations(cls, self._leading)
                init = griffe.Function(
                    "__init__",
                    lineno=cls.lineno,
                    endlineno=cls.lineno,
                    parent=cls,
                    parameters=griffe.Parameters(
                        griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword),
                        *declared.values(),
                    ),
                    returns="None",
                )
                cls.set_member("__init__", init)


def _classes(obj: griffe.Module | griffe.Class) -> list[griffe.Class]:
    found: list[griffe.Class] = []
    for member in obj.members.values():
        if member.is_alias:
            continue
        if isinstance(member, griffe.Class):
            found.append(member)
            found.extend(_classes(member))
        elif isinstance(member, griffe.Module):
            found.extend(_classes(member))
    return found
