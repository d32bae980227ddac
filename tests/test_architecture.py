"""The import rule of ARCHITECTURE.md, checked on the source: the core never imports training, the
command line or Ray, and training never imports the command line or the distributed package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "minitorch_rnn"

# Top-level parts of the package above the core, and what each of them must never import.
FRONT_ENDS = ("examples", "cli", "__main__")
UPPER = ("training", "distributed", *FRONT_ENDS)
FORBIDDEN = {
    "core": {"training", "distributed", *FRONT_ENDS, "ray"},
    "training": {"distributed", *FRONT_ENDS, "ray"},
}


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _layer(path: Path) -> str | None:
    part = _part(path)
    if part == "__init__":
        return None  # the package root re-exports everything, by design
    if part == "training":
        return "training"
    return None if part in UPPER else "core"


def _imported(path: Path) -> set[str]:
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    return _imported_from(path.read_text(encoding="utf-8"), package)


def _imported_from(text: str, package: tuple[str, ...]) -> set[str]:
    """The first component below ``minitorch_rnn`` (or the top-level module) of every import in
    ``text``, a module of ``package`` (e.g. ``("minitorch_rnn", "optim")``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join([*base, node.module] if node.module else base)
                names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            found.add(parts[1] if parts[0] == "minitorch_rnn" and len(parts) > 1 else parts[0])
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    layer = _layer(path)
    if layer is None:
        return
    wrong = _imported(path) & FORBIDDEN[layer]
    assert not wrong, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(wrong)}"


def test_the_rule_sees_relative_absolute_and_lazy_imports() -> None:
    text = (
        "from ..training import Trainer\n"
        "from . import sgd\n"
        "def later():\n"
        "    import ray.tune\n"
        "    from minitorch_rnn.examples import dinos\n"
    )
    found = _imported_from(text, ("minitorch_rnn", "optim"))
    assert found & FORBIDDEN["core"] == {"training", "ray", "examples"}
    assert "optim" in found
