"""README.md cannot rot: its ```python blocks run, and its figures are the output of its commands."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_readme_has_python_examples() -> None:
    assert BLOCKS, "README.md has no ```python block"


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int) -> None:
    code = compile(BLOCKS[index], f"README.md python block {index}", "exec")
    exec(code, {"__name__": f"readme_block_{index}"})


# -- the figures of the README come from the commands beside them ------------------------------

README_TEXT = README.read_text(encoding="utf-8")
TRAINING_SUBCOMMANDS = ("dinos", "subtract", "sentiment", "charlm")


def table_result(command: str) -> str:
    """The "result" cell of the README's application table for the row of ``command``."""
    for line in README_TEXT.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] == f"`{command}`":
            return cells[2]
    raise AssertionError(f"README.md has no table row for `{command}`")


def run_command(*argv: str) -> str:
    """Stdout of ``minitorch-rnn ARGV`` run in-process; fails on a non-zero exit code."""
    from minitorch_rnn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_readme_and_docs_start_with_the_same_first_command() -> None:
    root = README.parent
    first = re.search(r"^```bash\n(.*)\n", README_TEXT, re.M)
    assert first is not None
    for page in ("docs/index.md", "docs/getting-started.md"):
        text = (root / page).read_text(encoding="utf-8")
        assert first.group(1) in text.splitlines(), f"{page} does not show {first.group(1)!r}"


def test_the_options_the_readme_promises_exist_in_every_training_subcommand() -> None:
    from minitorch_rnn.cli import build_parser

    sentence = re.search(r"Every training\s+subcommand \((.*?)\) has (.*?);", README_TEXT, re.S)
    assert sentence is not None, "README.md no longer says which options every subcommand has"
    named = re.findall(r"`(\w+)`", sentence.group(1))
    assert tuple(named) == TRAINING_SUBCOMMANDS
    options = re.findall(r"`(--[\w-]+)", sentence.group(2))
    assert len(options) >= 8
    parser = build_parser()
    for command in named:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            parser.parse_args([command, "--help"])
        for option in options:
            assert option in out.getvalue(), (command, option)


def test_dinos_and_sample_rows_show_the_output_of_their_commands(tmp_path: Path) -> None:
    checkpoint = tmp_path / "dinos.npz"
    trained = run_command("dinos", "--save", str(checkpoint), "--no-progress")
    held_out = re.search(r"RNN ([\d.]+) nats .* bigram baseline ([\d.]+) nats", trained)
    epochs = re.search(r"^(\d+) epochs?;", trained, re.M)
    assert held_out is not None and epochs is not None, trained
    shown = table_result("minitorch-rnn dinos --save dinos.npz")
    assert shown.startswith(
        f"{float(held_out.group(1)):.3f} nats/char held out vs {float(held_out.group(2)):.3f} "
        f"for a bigram baseline; {epochs.group(1)} epochs"
    ), shown
    arguments = ("--n", "3", "--temperature", "0.8", "--top-k", "5")
    sampled = run_command("sample", str(checkpoint), *arguments).splitlines()
    shown = table_result(f"minitorch-rnn sample dinos.npz {' '.join(arguments)}")
    assert shown == f"*{', '.join(sampled)}*"


def test_subtract_row_shows_the_output_of_its_command() -> None:
    output = run_command("subtract", "--bits", "4", "--no-progress")
    found = re.search(r"exact-match accuracy 100\.00% after (\d+) epochs", output)
    assert found is not None, output
    shown = table_result("minitorch-rnn subtract --bits 4")
    assert shown.startswith(f"100% exact match after {found.group(1)} epochs"), shown


@pytest.fixture(scope="module")
def shakespeare_400k(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The README's 400,000-character row, trained once (about 30 s): its output and the folder
    holding its ``shakespeare.npz``."""
    folder = tmp_path_factory.mktemp("charlm")
    trained = run_command(
        "charlm", "--data", str(README.parent / "data" / "tinyshakespeare.txt"), "--max-chars",
        "400000", "--epochs", "1", "--save", str(folder / "shakespeare.npz"), "--no-progress",
        "--sample-length", "0",
    )  # fmt: skip
    return trained, folder


def test_charlm_first_400000_characters_row_shows_the_output_of_its_command(
    shakespeare_400k: tuple[str, Path],
) -> None:
    """One epoch of the default GRU 512 on 400,000 characters: no clock involved, so the figure
    is exact."""
    trained, _ = shakespeare_400k
    found = re.search(r"best validation loss ([\d.]+) nats/char \(([\d.]+) bits/char\)", trained)
    assert found is not None, trained
    command = (
        "minitorch-rnn charlm --data data/tinyshakespeare.txt --max-chars 400000 --epochs 1 "
        "--save shakespeare.npz"
    )
    shown = table_result(command)
    assert shown.startswith(
        f"{float(found.group(1)):.3f} nats/char ({float(found.group(2)):.3f} bits) on the held-out "
        "10 % after 1 epoch"
    ), shown


def test_readme_sample_command_continues_its_prime_from_a_charlm_checkpoint(
    shakespeare_400k: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's ``minitorch-rnn sample shakespeare.npz ...`` line, as written, run where a
    ``charlm`` checkpoint of that name lies: the prime, then ``--length`` new characters."""
    found = re.search(r"`minitorch-rnn (sample shakespeare\.npz [^`]*)`", README_TEXT)
    assert found is not None, "README.md shows no sample command"
    argv = shlex.split(found.group(1))
    monkeypatch.chdir(shakespeare_400k[1])
    text = run_command(*argv).rstrip("\n")
    prime, length = argv[argv.index("--prime") + 1], int(argv[argv.index("--length") + 1])
    assert text.startswith(prime) and len(text) == len(prime) + length, text
