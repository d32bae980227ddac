"""The fenced ``python`` blocks of a documentation page, as the docs tests execute them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SKIP_MARKER = "<!-- skip -->"

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced ``python`` block of a page."""

    page: Path
    line: int  # 1-based line of the first code line
    code: str
    skipped: bool


def language(info: str) -> str:
    """The language of a fence's info string: ``python`` in ``python title="x.py"`` or ``{.python}``."""
    first = info.strip().split(maxsplit=1)[0] if info.strip() else ""
    return first.strip("{}").lstrip(".").lower()


def python_blocks(page: Path) -> list[Block]:
    """Every fenced ``python`` block of ``page``, in order, dedented to its fence's indentation."""
    lines = page.read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        start = index + 1
        end = start
        while end < len(lines) and not (
            lines[end].startswith(indent)
            and lines[end][len(indent) :].startswith(fence)
            and not lines[end][len(indent) + len(fence) :].strip()
        ):
            end += 1
        if language(opening["info"]) == "python":
            code = "\n".join(line[len(indent) :] for line in lines[start:end])
            skipped = index > 0 and lines[index - 1].strip() == SKIP_MARKER
            blocks.append(Block(page, start + 1, code, skipped))
        index = end + 1
    return blocks


def run_block(block: Block, namespace: dict[str, object], root: Path) -> None:
    """Execute ``block`` in ``namespace``; tracebacks point at its lines in the Markdown file."""
    source = "\n" * (block.line - 1) + block.code
    exec(compile(source, str(block.page.relative_to(root)), "exec"), namespace)
