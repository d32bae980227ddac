"""The ``minitorch-rnn`` command itself: help, version, usage errors and the shared output options."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import minitorch_rnn as mt

TRAINING_APPS = ("dinos", "subtract", "sentiment", "charlm")
SUBCOMMANDS = ("dinos", "sample", "subtract", "sentiment", "charlm")

# Settings that make each training application finish in about a second.
TINY = {
    "dinos": ["--epochs", "1", "--hidden", "8", "--embedding-dim", "4", "--samples", "0"],
    "subtract": ["--bits", "2", "--epochs", "3"],
    "sentiment": ["--train-size", "60", "--test-size", "20", "--epochs", "1", "--hidden", "8"],
    "charlm": ["--hidden", "8", "--embedding-dim", "4", "--epochs", "1", "--seq-len", "20"],
}


def tiny_arguments(app: str, text_file: Path) -> list[str]:
    extra = ["--data", str(text_file), "--batch-size", "4"] if app == "charlm" else []
    return [app, *TINY[app], *extra, "--no-progress"]


def test_python_dash_m_runs_the_command_in_a_fresh_interpreter() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "minitorch_rnn", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: minitorch-rnn")
    for command in SUBCOMMANDS:
        assert command in completed.stdout


def test_version_prints_the_package_version(cli: Callable[..., Any]) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"minitorch-rnn {mt.__version__}"


def test_missing_subcommand_is_a_one_line_usage_error(cli: Callable[..., Any]) -> None:
    cli().assert_one_line_error("required", "--help")


def test_unknown_option_is_a_one_line_usage_error(cli: Callable[..., Any]) -> None:
    cli("subtract", "--no-such-option").assert_one_line_error("unrecognized arguments")


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_non_positive_epochs_are_rejected_by_the_parser(
    cli: Callable[..., Any], value: str
) -> None:
    cli("subtract", "--epochs", value).assert_one_line_error("--epochs", "positive integer")


@pytest.mark.parametrize("app", TRAINING_APPS)
def test_help_of_every_training_app_lists_the_common_options(
    cli: Callable[..., Any], app: str
) -> None:
    result = cli(app, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: minitorch-rnn {app}")
    for option in ("--seed", "--cell", "--epochs", "--lr", "--save", "--history", "--plot"):
        assert option in result.out, option
    for cell in ("rnn", "gru", "lstm"):
        assert cell in result.out


def test_help_of_sample_lists_its_options(cli: Callable[..., Any]) -> None:
    result = cli("sample", "--help")
    assert result.code == 0
    for option in ("CKPT", "--n", "--temperature", "--top-k", "--length", "--prime", "--seed"):
        assert option in result.out, option


@pytest.mark.parametrize("app", TRAINING_APPS)
def test_history_file_with_another_suffix_is_refused_before_training(
    cli: Callable[..., Any], app: str, text_file: Path, tmp_path: Path
) -> None:
    history = tmp_path / "foo.txt"
    result = cli(*tiny_arguments(app, text_file), "--history", str(history))
    result.assert_one_line_error(f"minitorch-rnn {app}: error", ".json or .csv", "foo.txt")
    assert result.out == ""  # failed before any training output
    assert not history.exists()


@pytest.mark.parametrize(
    "option, name", [("--history", "h.json"), ("--save", "m.npz"), ("--plot", "p.png")]
)
def test_output_into_a_missing_folder_creates_the_folder(
    cli: Callable[..., Any], tmp_path: Path, option: str, name: str
) -> None:
    target = tmp_path / "no" / "such" / "folder" / name
    result = cli("subtract", "--bits", "2", "--no-progress", option, str(target))
    assert result.code == 0, result.err
    assert target.is_file()


def test_plot_file_must_be_a_png(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("subtract", "--bits", "2", "--no-progress", "--plot", str(tmp_path / "x.jpg"))
    result.assert_one_line_error(".png")


@pytest.mark.parametrize(
    "command",
    [
        ["subtract", "--bits", "2", "--no-progress"],
        ["gradflow", "--steps", "4"],
        ["sweep", "subtract"],
    ],
    ids=["subtract", "gradflow", "sweep"],
)
def test_plot_without_matplotlib_is_refused_before_training_with_the_install_hint(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes "import matplotlib" fail
    plot = tmp_path / "x.png"
    result = cli(*command, "--plot", str(plot))
    result.assert_one_line_error("--plot needs matplotlib", "pip install")
    assert result.out == ""  # refused before any training
    assert not plot.exists()


def test_plot_with_matplotlib_is_written(cli: Callable[..., Any], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    plot = tmp_path / "x.png"
    result = cli("subtract", "--bits", "2", "--no-progress", "--plot", str(plot))
    assert result.code == 0, result.err
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert f"plot written to {plot}" in result.out


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_history_is_written_in_the_format_its_suffix_names(
    cli: Callable[..., Any], tmp_path: Path, suffix: str
) -> None:
    history = tmp_path / f"history{suffix}"
    result = cli(
        "dinos", *TINY["dinos"], "--epochs", "3", "--no-progress", "--history", str(history)
    )
    assert result.code == 0, result.err
    assert f"history written to {history}" in result.out
    text = history.read_text(encoding="utf-8")
    if suffix == ".json":
        columns = json.loads(text)
        assert {"loss", "val_loss"} <= set(columns)
        assert all(len(values) == 3 for values in columns.values())
    else:
        lines = text.splitlines()
        assert lines[0].split(",")[:2] == ["epoch", "loss"]
        assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]


@pytest.mark.parametrize(
    "arguments, option",
    [
        (["dinos", "--samples", "-1"], "--samples"),
        (["charlm", "--data", "x.txt", "--sample-length", "-1"], "--sample-length"),
        (["subtract", "--examples", "-1"], "--examples"),
        (["subtract", "--seed", "-1"], "--seed"),
        (["sample", "x.npz", "--seed", "-2"], "--seed"),
    ],
    ids=["dinos-samples", "charlm-sample-length", "subtract-examples", "seed", "sample-seed"],
)
def test_negative_counts_and_seeds_are_rejected_by_the_parser(
    cli: Callable[..., Any], arguments: list[str], option: str
) -> None:
    cli(*arguments).assert_one_line_error(option, "integer >= 0")


def test_output_into_a_closed_pipe_ends_quietly_without_a_traceback() -> None:
    # "minitorch-rnn subtract ... | head -1": the reader is gone before the output is written
    process = subprocess.Popen(
        [sys.executable, "-m", "minitorch_rnn", "subtract", "--bits", "1", "--epochs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(mt.__file__).parent.parent,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_help_texts_name_ideas_not_source_files(cli: Callable[..., Any]) -> None:
    for command in SUBCOMMANDS:
        result = cli(command, "--help")
        assert result.code == 0
        assert "seeds/" not in result.out, command


@pytest.mark.parametrize("app", [*SUBCOMMANDS, "adding", "gradflow", "sweep"])
def test_help_shows_no_rest_double_backticks(cli: Callable[..., Any], app: str) -> None:
    result = cli(app, "--help")
    assert result.code == 0
    assert "``" not in result.out


@pytest.mark.parametrize("app", [*TRAINING_APPS, "adding"])
def test_clip_and_clip_norm_mean_the_same_in_every_training_app(
    cli: Callable[..., Any], app: str
) -> None:
    text = " ".join(cli(app, "--help").out.split())
    assert "--clip VALUE clip every gradient entry to [-VALUE, VALUE]" in text
    assert "--clip-norm NORM rescale the gradients to a global norm of at most NORM" in text


@pytest.mark.parametrize("app", TRAINING_APPS)
def test_a_cell_registered_by_name_trains_in_every_training_app(
    cli: Callable[..., Any], app: str, text_file: Path
) -> None:
    mt.recurrent.register_cell("test_cli_gru", mt.GRUCell, reset_after=False)
    result = cli(*tiny_arguments(app, text_file), "--cell", "test_cli_gru")
    assert result.code == 0, result.err
    assert "TEST_CLI_GRU" in result.out


def _unwritable_outputs(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(option, path, fragment of the error) for outputs that cannot be written."""
    folder = tmp_path / "a-folder.json"
    folder.mkdir(exist_ok=True)
    return [
        ("--history", str(folder), "is a directory"),
        ("--save", str(tmp_path), "is a directory"),
        ("--history", "/proc/history.json", "cannot write history file"),
        ("--save", "/proc/version", "cannot write checkpoint file"),
        ("--plot", "/proc/new-folder/plot.png", "cannot write plot file"),
    ]


@pytest.mark.parametrize("case", range(5))
def test_an_unwritable_output_is_refused_before_training(
    cli: Callable[..., Any], tmp_path: Path, case: int
) -> None:
    option, path, fragment = _unwritable_outputs(tmp_path)[case]
    if option == "--plot":
        pytest.importorskip("matplotlib")
    result = cli("subtract", "--bits", "2", "--no-progress", option, path)
    result.assert_one_line_error("minitorch-rnn subtract: error", fragment)
    assert result.out == ""  # before any training output


def test_sweep_output_on_a_directory_is_refused_before_the_sweep(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    folder = tmp_path / "table.csv"
    folder.mkdir()
    result = cli("sweep", "subtract", "--output", str(folder))
    result.assert_one_line_error("is a directory")
    assert result.out == ""


def test_stdout_and_stderr_keep_their_order_when_redirected_together() -> None:
    # ``minitorch-rnn subtract > log 2>&1``: the first stdout line is printed before the first
    # per-epoch progress line on stderr, and must reach the log first
    completed = subprocess.run(
        [sys.executable, "-m", "minitorch_rnn", "subtract", "--bits", "2", "--epochs", "2"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("10 pairs of 2-bit numbers"), lines[:3]
    assert lines[1].startswith("Epoch 1/2 - "), lines[:3]


def test_the_checkpoints_the_readme_commands_write_are_ignored_by_git() -> None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    checked = subprocess.run(
        ["git", "check-ignore", "dinos.npz", "shakespeare.npz"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.stdout.split() == ["dinos.npz", "shakespeare.npz"]
