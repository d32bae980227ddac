"""The import rules of ARCHITECTURE.md, checked on the source with ``ast``.

- The core never imports training, the distributed package, the command line or Ray.
- Training never imports the distributed package, the command line or Ray.
- The distributed package may import training and the core, never the command line (a sweep's
  trial function is the caller's: the ``sweep`` subcommand passes its own).
- Optional extras (Ray, PyTorch, matplotlib, safetensors) are imported inside functions only, never
  at a module's top level, so ``import minitorch_rnn`` needs none of them.
"""

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
    "distributed": {*FRONT_ENDS},
}
OPTIONAL_EXTRAS = {"ray", "torch", "matplotlib", "safetensors"}


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _layer(path: Path) -> str | None:
    part = _part(path)
    if part == "__init__":
        return None  # the package root re-exports everything, by design
    if part in ("training", "distributed"):
        return part
    return None if part in UPPER else "core"


def _imported(path: Path) -> set[str]:
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    return _imported_from(path.read_text(encoding="utf-8"), package)


def _imported_from(
    text: str, package: tuple[str, ...], *, top_level_only: bool = False
) -> set[str]:
    """The first component below ``minitorch_rnn`` (or the top-level module) of every import in
    ``text``, a module of ``package`` (e.g. ``("minitorch_rnn", "optim")``). With
    ``top_level_only``, only the imports that run when the module is imported: those of its body
    and its plain ``if``/``try`` blocks, not those inside functions or under ``TYPE_CHECKING``."""
    found: set[str] = set()
    tree = ast.parse(text)
    nodes = _top_level_statements(tree.body) if top_level_only else list(ast.walk(tree))
    for node in nodes:
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


def _top_level_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    statements: list[ast.stmt] = []
    for node in body:
        statements.append(node)
        if isinstance(node, ast.If) and not _is_type_checking(node.test):
            statements += _top_level_statements(node.body) + _top_level_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                statements += _top_level_statements(block)
            for handler in node.handlers:
                statements += _top_level_statements(handler.body)
    return statements


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    layer = _layer(path)
    if layer is None:
        return
    wrong = _imported(path) & FORBIDDEN[layer]
    assert not wrong, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(wrong)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_an_optional_extra_at_import_time(path: Path) -> None:
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    text = path.read_text(encoding="utf-8")
    eager = _imported_from(text, package, top_level_only=True) & OPTIONAL_EXTRAS
    assert not eager, f"{path.relative_to(PACKAGE)} imports {sorted(eager)} at import time"


def test_the_distributed_package_is_checked_and_may_import_training_but_not_the_cli() -> None:
    distributed = sorted((PACKAGE / "distributed").glob("*.py"))
    assert distributed, "minitorch_rnn/distributed/ has no modules"
    assert {_layer(path) for path in distributed} == {"distributed"}
    assert "training" not in FORBIDDEN["distributed"]
    assert {"examples", "cli"} <= FORBIDDEN["distributed"]


def test_the_import_time_rule_skips_functions_and_type_checking_blocks() -> None:
    text = (
        "from typing import TYPE_CHECKING\n"
        "import numpy\n"
        "try:\n"
        "    import matplotlib\n"
        "except ImportError:\n"
        "    pass\n"
        "if TYPE_CHECKING:\n"
        "    import torch\n"
        "def later():\n"
        "    import ray\n"
    )
    eager = _imported_from(text, ("minitorch_rnn",), top_level_only=True)
    assert eager & OPTIONAL_EXTRAS == {"matplotlib"}
    assert _imported_from(text, ("minitorch_rnn",)) & OPTIONAL_EXTRAS == {
        "matplotlib",
        "torch",
        "ray",
    }


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
