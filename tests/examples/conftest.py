"""Helpers for the end-to-end tests of the ``minitorch-rnn`` command.

The command runs in-process through :func:`minitorch_rnn.cli.main`, which returns the exit code;
its output is captured. Trainings shared by several tests run once per session, on tiny settings.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from minitorch_rnn.cli import main


@dataclass(frozen=True)
class CLIResult:
    """Exit code and captured output of one in-process ``minitorch-rnn`` call."""

    code: int
    out: str
    err: str

    def assert_one_line_error(self, *fragments: str) -> None:
        """Exit code 2 and exactly one line on stderr (no traceback) holding every fragment."""
        assert self.code == 2, self
        assert "Traceback" not in self.err
        lines = self.err.splitlines()
        assert len(lines) == 1 and self.err.endswith("\n"), self.err
        assert lines[0].startswith("minitorch-rnn"), lines[0]
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])


def run_cli(*argv: str) -> CLIResult:
    """Run ``minitorch-rnn ARGV`` in-process, capturing stdout and stderr.

    argparse ends ``--help``, ``--version`` and usage errors with ``SystemExit``; its code is the
    exit code the console script would return.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_request:
            code = 0 if exit_request.code is None else int(exit_request.code)
    return CLIResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., CLIResult]:
    """``cli("dinos", "--epochs", "1", ...)`` runs the command and returns a :class:`CLIResult`."""
    return run_cli


@dataclass(frozen=True)
class TrainedRun:
    """A finished training run: its result and the files it wrote."""

    result: CLIResult
    checkpoint: Path
    history: Path


DINOS_EPOCHS = 5


@pytest.fixture(scope="session")
def dinos_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """``dinos`` on the shipped names, 5 epochs of a 16-unit RNN, with checkpoint and JSON history."""
    folder = tmp_path_factory.mktemp("dinos")
    checkpoint, history = folder / "dinos.npz", folder / "history.json"
    result = run_cli(
        "dinos",
        "--epochs",
        str(DINOS_EPOCHS),
        "--hidden",
        "16",
        "--embedding-dim",
        "8",
        "--samples",
        "1",
        "--no-progress",
        "--save",
        str(checkpoint),
        "--history",
        str(history),
    )
    return TrainedRun(result, checkpoint, history)


SENTENCES = (
    "the quick brown fox jumps over the lazy dog.\n"
    "she sells sea shells by the sea shore, and the shells are small.\n"
    "a stitch in time saves nine; a penny saved is a penny earned.\n"
)


@pytest.fixture(scope="session")
def text_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few KB of repeated sentences for the character language model."""
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text(SENTENCES * 25, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def charlm_run(tmp_path_factory: pytest.TempPathFactory, text_file: Path) -> TrainedRun:
    """``charlm`` on :func:`text_file`, 2 epochs of a 16-unit LSTM, with checkpoint and CSV history."""
    folder = tmp_path_factory.mktemp("charlm")
    checkpoint, history = folder / "charlm.npz", folder / "history.csv"
    result = run_cli(
        "charlm",
        "--data",
        str(text_file),
        "--cell",
        "lstm",
        "--hidden",
        "16",
        "--embedding-dim",
        "8",
        "--epochs",
        "2",
        "--seq-len",
        "20",
        "--batch-size",
        "4",
        "--sample-length",
        "20",
        "--no-progress",
        "--save",
        str(checkpoint),
        "--history",
        str(history),
    )
    return TrainedRun(result, checkpoint, history)
