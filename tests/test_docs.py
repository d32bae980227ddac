"""The documentation cannot rot: its Python examples run, and its API reference covers every export.

Executed examples
    Every fenced block whose language is ``python`` in ``docs/**/*.md`` runs. The blocks of one page
    run in order in one fresh namespace, so a later block may use the names of an earlier one, as a
    reader following the page would. Each page runs in its own temporary working directory, so a
    block that writes a checkpoint leaves nothing behind. Blocks must be fast (tiny sizes, few
    epochs): the whole page should take seconds.

Skipped examples
    A block that cannot run here (it needs PyTorch, a long training run, a file the reader has) is
    marked by the HTML comment ``<!-- skip -->`` on the line directly above its opening fence. The
    comment is invisible on the rendered site. Any other text, or a blank line, between the comment
    and the fence is an error, so a marker cannot silently drift away from its block.

Examples that need an extra
    A block that imports an optional extra (``torch``, ``ray``, ``matplotlib``) runs when the extra
    is installed (CI installs them all) and is skipped, with the reason, when it is not: the
    README's test command installs only the ``test`` extra.

Command-line pages
    The options table of each ``minitorch-rnn`` subcommand's tutorial lists exactly the options of
    the command, with the defaults that ``minitorch_rnn.cli`` really uses.

API coverage
    Every name in ``minitorch_rnn.__all__`` must have a mkdocstrings directive
    ``::: minitorch_rnn.<name>`` in ``docs/api/*.md``, and every directive there must name an object
    that exists, so that a new export cannot be left out of the reference.

Navigation
    Every page under ``docs/`` appears in the ``nav`` of ``mkdocs.yml``.

The test needs only the package's runtime dependencies and pytest, not mkdocs.
"""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

import minitorch_rnn as mt
from minitorch_rnn.cli import build_parser
from tests.helpers.markdown import FENCE, SKIP_MARKER, language, python_blocks, run_block

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_OPTIONAL_IMPORT = re.compile(r"^\s*(?:import|from)\s+(torch|ray|matplotlib|safetensors)\b", re.M)
_DIRECTIVE = re.compile(r"^:::\s+(?P<identifier>[\w.]+)\s*$", re.M)


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


PAGES_WITH_CODE = [page for page in _pages() if any(not b.skipped for b in python_blocks(page))]


def test_the_docs_have_executable_examples() -> None:
    assert len(PAGES_WITH_CODE) >= 5, f"expected examples on many pages, found {PAGES_WITH_CODE}"


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=_page_id)
def test_page_examples_run_in_order(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for block in python_blocks(page):
        if block.skipped:
            continue
        for extra in _OPTIONAL_IMPORT.findall(block.code):
            pytest.importorskip(extra, reason=f"{_page_id(page)} needs the optional {extra}")
        run_block(block, namespace, ROOT)


def test_skip_markers_sit_directly_above_a_python_block() -> None:
    misplaced = []
    for page in _pages():
        lines = page.read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, start=1):
            if line.strip() != SKIP_MARKER:
                continue
            following = lines[number] if number < len(lines) else ""
            opening = FENCE.match(following)
            if opening is None or language(opening["info"]) != "python":
                misplaced.append(f"{_page_id(page)}:{number}")
    assert not misplaced, f"{SKIP_MARKER} not directly above a ```python fence at {misplaced}"


def test_the_custom_cell_tutorial_is_executed_and_gradchecked() -> None:
    page = DOCS / "tutorials" / "custom-cell.md"
    executed = [block.code for block in python_blocks(page) if not block.skipped]
    assert any("RecurrentCell" in code for code in executed), "the cell definition must run"
    assert any("mt.gradcheck(" in code for code in executed), "the gradient check must run"


def _api_directives() -> list[str]:
    pages = sorted((DOCS / "api").glob("*.md"))
    assert pages, "docs/api/ has no pages"
    return [m["identifier"] for page in pages for m in _DIRECTIVE.finditer(page.read_text("utf-8"))]


def test_every_public_name_has_an_api_entry() -> None:
    documented = set(_api_directives())
    missing = [name for name in mt.__all__ if f"minitorch_rnn.{name}" not in documented]
    assert not missing, f"add '::: minitorch_rnn.<name>' to a docs/api page for: {missing}"


def _resolve(identifier: str) -> object:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = identifier.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(identifier)


def test_every_api_directive_names_an_existing_object() -> None:
    broken = []
    for identifier in _api_directives():
        try:
            _resolve(identifier)
        except (ImportError, AttributeError):
            broken.append(identifier)
    assert not broken, f"docs/api directives name objects that do not exist: {broken}"


def test_every_page_is_in_the_site_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    in_nav = set(re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?(\S+\.md)\s*$", config, re.M))
    absent = [_page_id(page) for page in _pages() if _page_id(page) not in in_nav]
    assert not absent, f"pages missing from the nav of mkdocs.yml: {absent}"


COMMAND_PAGES = {
    "dinos": "dinos.md",
    "subtract": "subtract.md",
    "sentiment": "sentiment.md",
    "charlm": "charlm.md",
    "adding": "adding.md",
    "gradflow": "gradflow.md",
    "seq2seq": "seq2seq.md",
}
_OPTION_ROW = re.compile(r"^\|\s*`(?P<option>--[\w-]+)[^|]*\|\s*(?P<default>[^|]*?)\s*\|", re.M)


def _command_defaults(command: str) -> dict[str, object]:
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        action.option_strings[-1]: action.default
        for action in subcommands.choices[command]._actions
        if action.option_strings and action.dest != "help"
    }


@pytest.mark.parametrize("command", sorted(COMMAND_PAGES))
def test_command_page_lists_the_real_options_and_defaults(command: str) -> None:
    page = DOCS / "tutorials" / COMMAND_PAGES[command]
    documented = {
        m["option"]: m["default"].strip("`") for m in _OPTION_ROW.finditer(page.read_text("utf-8"))
    }
    actual = _command_defaults(command)
    assert set(documented) == set(actual), (
        f"{_page_id(page)}: options only in the docs {sorted(set(documented) - set(actual))}, "
        f"only in the command {sorted(set(actual) - set(documented))}"
    )
    wrong = []
    for option, default in actual.items():
        if default is None or isinstance(default, bool):
            continue  # documented in words ("—", "required", "all", ...)
        text = documented[option]
        same = float(text) == default if isinstance(default, (int, float)) else text == default
        if not same:
            wrong.append(f"{option}: docs say {text!r}, the command uses {default!r}")
    assert not wrong, f"{_page_id(page)}: " + "; ".join(wrong)
