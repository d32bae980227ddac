"""The API reference renders its docstrings without raw markup.

The package's docstrings use reStructuredText markup (``:math:``, roles, double-backtick
literals). The docs build converts it with the griffe extension ``docs/griffe_rst_roles.py``; this
test loads the package through griffe with that same extension, parses every docstring as the
site does (numpy style) and checks what mkdocstrings would print verbatim: the type of every
parameter, attribute, return value and exception, which it shows as code when it is not a Python
expression. A type with markup in it appeared on the site as literal ````x```` or ``\\(x\\)``.

Needs the ``docs`` extra (griffe); skipped without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

griffe = pytest.importorskip("griffe", reason="rendering the API docstrings needs the docs extra")

from docs import griffe_rst_roles  # noqa: E402  (after the skip: the module imports griffe)

RAW_MARKUP = re.compile(r"``|`|:math:|:[a-z]+:`|\\\(|\\\)")


def _objects(obj: Any) -> Iterator[Any]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


def _rendered_types() -> list[tuple[str, str]]:
    extensions = griffe.load_extensions("docs/griffe_rst_roles.py:RstRoles")
    package = griffe.load(
        "minitorch_rnn", extensions=extensions, search_paths=["."], docstring_parser="numpy"
    )
    found = []
    for obj in _objects(package):
        if obj.docstring is None:
            continue
        for section in obj.docstring.parsed:
            items = section.value if isinstance(section.value, list) else []
            for item in items:
                annotation = getattr(item, "annotation", None)
                if isinstance(annotation, str):  # not a parsed expression: shown verbatim
                    found.append((f"{obj.path} ({section.kind.value})", annotation))
    return found


def test_no_docstring_type_shows_raw_markup_on_the_api_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    types = _rendered_types()
    assert len(types) > 20, "expected many free-text types in the docstrings"
    raw = [f"{where}: {text!r}" for where, text in types if RAW_MARKUP.search(text)]
    assert not raw, "types rendered with raw markup:\n" + "\n".join(raw)


def test_markup_in_an_item_type_becomes_plain_and_stays_in_the_description() -> None:
    docstring = (
        "Summary with ``code`` and :math:`x^2`.\n"
        "\n"
        "Parameters\n"
        "----------\n"
        "state : ``(B, H)`` array, like :class:`~minitorch_rnn.Unroll`\n"
        "    The state, ``h``.\n"
        "\n"
        "Returns\n"
        "-------\n"
        "ndarray, like ``a``, in :math:`[0, 1]`.\n"
        "    Described with ``a``.\n"
        "grad_x : ``(B, T, I)``\n"
    )
    converted = griffe_rst_roles.convert(docstring).split("\n")
    assert converted[0] == "Summary with ``code`` and \\(x^2\\)."
    assert converted[4] == "state : (B, H) array, like Unroll"
    assert converted[5] == "    The state, ``h``."
    assert converted[9] == "ndarray, like a, in [0, 1]."
    assert converted[10] == "    Described with ``a``."
    assert converted[11] == "grad_x : (B, T, I)"


def test_prose_outside_typed_sections_keeps_its_markdown_code_spans() -> None:
    docstring = "Notes\n-----\n``x`` at the start of a line stays code.\n"
    assert griffe_rst_roles.convert(docstring) == docstring
