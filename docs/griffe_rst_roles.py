"""A griffe extension (used only by the docs build) that turns the reStructuredText markup of the
package's docstrings into the Markdown the site renders.

The docstrings are written for readers of the source and for Sphinx-style tools: ``:math:`...```,
``.. math::`` blocks, ``:class:`~pkg.Name``` roles and ``::`` literal-block markers. mkdocstrings
renders Markdown, where these would show up verbatim, so before rendering:

- ``:math:`x``` becomes inline math ``\\(x\\)`` and a ``.. math::`` block becomes display math
  (``aligned`` when it has ``&`` or ``\\\\``), both rendered by pymdownx.arithmatex and MathJax;
- ``:class:`~a.b.Name``` (and ``:func:``, ``:meth:``, ``:mod:``, ...) becomes the code span
  ``Name`` (``a.b.Name`` without the ``~``);
- a paragraph ending in ``::`` ends in ``:`` (the indented block after it is already code);
- in the *type* of a numpy-style item (``name : type`` in Parameters, Attributes, ...; the whole
  item line in Returns, Yields, Raises, ...) the markup is removed instead: a double-backtick
  literal becomes its bare text, a role its target, inline math its TeX source. mkdocstrings shows
  a type that is not a Python expression verbatim inside one ``<code>`` element, where any markup
  would appear as raw backticks or unrendered math delimiters; the type is code already.

The package sources are not changed; this file is loaded by ``mkdocs.yml``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_INLINE_MATH = re.compile(r":math:`([^`]+)`")
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|ref):`(~?)([^`]+)`")
_LITERAL_MARKER = re.compile(r"(\S)::$", re.M)
_DOUBLE_BACKTICK_LITERAL = re.compile(r"``(.+?)``")
_ANY_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_SINGLE_BACKTICK = re.compile(r"`([^`]+)`")

# numpy-style sections whose items start with ``name : type`` / ``type`` on an unindented line
_NAMED_ITEM_SECTIONS = {"parameters", "other parameters", "attributes"}
_TYPE_ONLY_SECTIONS = {"returns", "yields", "receives", "raises", "warns"}
_NAME_AND_TYPE = re.compile(
    r"^(?P<names>\*{0,2}[_a-zA-Z]\w*(?:,\s*\*{0,2}[_a-zA-Z]\w*)*)\s:\s(?P<type>.*)$"
)


def _role_to_code(match: re.Match[str]) -> str:
    shorten, target = match.group(1), match.group(2)
    if shorten:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _math_blocks(text: str) -> str:
    """Replace each ``.. math::`` directive (and its indented body) by a ``$$`` block."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip()
        if not stripped.startswith(".. math::"):
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(stripped)]
        body = [stripped[len(".. math::") :].strip()]
        index += 1
        while index < len(lines) and (
            not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > len(indent)
        ):
            body.append(lines[index].strip())
            index += 1
        while body and not body[-1]:
            body.pop()
        equations = [part for part in body if part]
        if any("&" in part or "\\\\" in part for part in equations):
            formula = "\\begin{aligned}\n" + "\n".join(equations) + "\n\\end{aligned}"
        else:
            formula = "\n".join(equations)
        if out and out[-1].strip():
            out.append("")
        out.extend([f"{indent}$$", formula, f"{indent}$$", ""])
    return "\n".join(out)


def plain_type(text: str) -> str:
    """A docstring type without markup: it is rendered as code as it stands."""
    text = _INLINE_MATH.sub(lambda m: m.group(1), text)
    text = _ANY_ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = _DOUBLE_BACKTICK_LITERAL.sub(lambda m: m.group(1), text)
    return _SINGLE_BACKTICK.sub(lambda m: m.group(1), text)


def _plain_item_types(text: str) -> str:
    """Strip the markup from the type of every item line of the numpy-style typed sections.

    A section starts at a title line underlined by dashes; its item lines are the unindented ones
    (descriptions are indented), as griffe's numpy parser reads them.
    """
    lines = text.split("\n")
    section = ""
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and following.strip() and not following.strip().strip("-"):
            section = line.strip().lower()
            continue
        if not line.strip() or line[0].isspace() or not line.strip().strip("-") or not section:
            continue
        if section in _TYPE_ONLY_SECTIONS:
            named = _NAME_AND_TYPE.match(line)
            if named is None:
                lines[index] = plain_type(line)
            else:
                lines[index] = f"{named['names']} : {plain_type(named['type'])}"
        elif section in _NAMED_ITEM_SECTIONS:
            named = _NAME_AND_TYPE.match(line)
            if named is not None:
                lines[index] = f"{named['names']} : {plain_type(named['type'])}"
    return "\n".join(lines)


def convert(text: str) -> str:
    """The Markdown form of a docstring written with reStructuredText roles and directives."""
    text = _plain_item_types(text)
    text = _math_blocks(text)
    text = _INLINE_MATH.sub(lambda m: f"\\({m.group(1)}\\)", text)
    text = _ROLE.sub(_role_to_code, text)
    return _LITERAL_MARKER.sub(r"\1:", text)


class RstRoles(griffe.Extension):
    """Convert every loaded object's docstring with :func:`convert`."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
