"""``minitorch-rnn seq2seq``: tiny runs of both tasks, their report, files and errors; the README
rows at reduced size (full size: ``slow``)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from minitorch_rnn.examples import seq2seq as seq2seq_example
from minitorch_rnn.serialization import read_meta

EPOCH = re.compile(r"^epoch (\d+): loss [\d.]+, held-out exact match ([\d.]+) % \(\d+ s\)$", re.M)
FINAL = re.compile(
    r"held-out exact match after (\d+) epochs? \((\d+) s\): greedy ([\d.]+) %(?:, beam (\d+) "
    r"([\d.]+) %)?"
)
EXAMPLE = re.compile(r"^ +(\S.*) -> (\S*)  (ok|WRONG \(expected \S+\))$", re.M)
TINY = ("--pairs", "700", "--test-size", "100", "--hidden", "16", "--embedding", "8")


def test_dates_run_reports_every_epoch_examples_and_writes_its_files(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    checkpoint, plot = tmp_path / "dates.npz", tmp_path / "dates.png"
    plotting = "matplotlib" in sys.modules or _has_matplotlib()
    extra = ["--plot", str(plot)] if plotting else []
    result = cli(
        "seq2seq", "--task", "dates", *TINY, "--epochs", "2", "--beam", "3", "--examples", "4",
        "--no-progress", "--summary", "--save", str(checkpoint), *extra,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "dates: 600 training pairs, 100 held out; LSTM encoder-decoder, 16 units" in result.out
    assert "Total params" in result.out  # --summary
    epochs = EPOCH.findall(result.out)
    assert [int(e) for e, _ in epochs] == [1, 2]
    final = FINAL.search(result.out)
    assert final is not None, result.out
    assert final.group(1) == "2" and final.group(4) == "3"
    assert float(final.group(3)) == float(epochs[-1][1])  # the last epoch's greedy accuracy
    examples = EXAMPLE.findall(result.out)
    assert len(examples) == 4
    assert all(re.fullmatch(r"[\d-]*", prediction) for _, prediction, _ in examples)
    meta = read_meta(checkpoint)
    assert (meta["app"], meta["task"], meta["attention"], meta["hidden"]) == (
        "seq2seq", "dates", "dot", 16,
    )  # fmt: skip
    assert "".join(meta["target_tokens"]) == "-0123456789"
    if plotting:
        assert plot.read_bytes().startswith(b"\x89PNG")
        assert f"attention plot written to {plot}" in result.out


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("attention", ["none", "dot", "additive"])
def test_addition_runs_with_each_attention_and_a_reversed_source(
    cli: Callable[..., Any], attention: str
) -> None:
    result = cli(
        "seq2seq", "--task", "addition", *TINY, "--epochs", "1", "--beam", "1", "--cell", "gru",
        "--attention", attention, "--reverse-source", "--no-progress", "--examples", "2",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert f"GRU encoder-decoder, 16 units, attention {attention}, reversed source" in result.out
    final = FINAL.search(result.out)
    assert final is not None and final.group(4) is None  # --beam 1: greedy only
    sources = [source.strip() for source, _, _ in EXAMPLE.findall(result.out)]
    assert len(sources) == 2 and all(re.fullmatch(r"\d+\+\d+", s) for s in sources)


@pytest.mark.parametrize(("right", "stops"), [(99, False), (100, True)])
def test_reaching_the_target_exact_match_stops_training(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], right: int, stops: bool
) -> None:
    data = seq2seq_example.encode_task("addition", 200, 100, 0, False)
    targets = [target for _, target in data.test_pairs]
    predictions = targets[:right] + ["?"] * (100 - right)
    monkeypatch.setattr(seq2seq_example, "decode_all", lambda *args: predictions)
    callback = seq2seq_example.HeldOutExactMatch(None, data, target=1.0)  # type: ignore[arg-type]
    callback.trainer = SimpleNamespace(stop_training=False)  # type: ignore[assignment]
    logs = {"loss": 0.5}
    callback.on_epoch_end(0, logs)
    assert logs["val_exact_match"] == right / 100
    assert callback.trainer.stop_training is stops
    assert f"held-out exact match {right:.2f} %" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--task", "poetry"], ["--task", "invalid choice"]),
        (["--attention", "cosine"], ["--attention", "invalid choice"]),
        (["--pairs", "100", "--test-size", "100"], ["--test-size (100) must be smaller"]),
        (["--target", "2"], ["--target is a fraction"]),
        (["--lr-decay", "1.5"], ["--lr-decay must be at most 1"]),
        (["--attention", "none", "--plot", "a.png"], ["--plot draws attention weights"]),
        (["--pairs", "2000000", "--task", "addition"], ["only 1000000 distinct sums"]),
        (["--plot", "a.jpg"], ["plot file must end in .png"]),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    cli: Callable[..., Any], argv: list[str], fragments: list[str]
) -> None:
    cli("seq2seq", *argv).assert_one_line_error(*fragments)


def test_plot_without_matplotlib_is_refused_before_training(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes "import matplotlib" fail
    result = cli("seq2seq", *TINY, "--plot", str(tmp_path / "a.png"))
    result.assert_one_line_error("--plot needs matplotlib", "pip install")
    assert result.out == ""


# -- the README rows, re-run ------------------------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(minitorch-rnn seq2seq [^`]*)` \| [^|]* \| ([^|]*) \|$", re.M)


def readme_rows() -> list[tuple[str, str]]:
    """(command, result cell) of every seq2seq row of the README's application table."""
    return ROW.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_rows_for_both_tasks_with_and_without_attention() -> None:
    commands = [command for command, _ in readme_rows()]
    assert any("--task dates" in c and "--attention" not in c for c in commands)
    assert any("--task addition" in c and "--attention" not in c for c in commands)
    assert any("--attention none" in c for c in commands)


@pytest.mark.parametrize("row", range(3))
def test_readme_rows_run_at_a_reduced_size(cli: Callable[..., Any], row: int) -> None:
    command, _ = readme_rows()[row]
    argv = command.split()[1:]  # "seq2seq --task ..."
    argv = [a for a in argv if not a.endswith(".png") and a != "--plot"]  # no file writing
    result = cli(*argv, *TINY, "--epochs", "1", "--beam", "2", "--no-progress")
    assert result.code == 0, result.err
    assert FINAL.search(result.out) is not None, result.out


@pytest.mark.slow
@pytest.mark.parametrize("row", range(3))
def test_readme_rows_show_the_output_of_their_commands(
    cli: Callable[..., Any],
    tmp_path: Path,
    row: int,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("a full-size training of minutes: run it with -m slow")
    monkeypatch.chdir(tmp_path)  # the --plot file of a row is written here
    command, shown = readme_rows()[row]
    result = cli(*command.split()[1:], "--no-progress")
    assert result.code == 0, result.err
    final = FINAL.search(result.out)
    assert final is not None, result.out
    epochs, greedy, beam = final.group(1), final.group(3), final.group(5)
    epochs_text = f"{epochs} epoch" + ("" if epochs == "1" else "s")
    assert shown.startswith(
        f"{greedy} % exact match held out (beam 5: {beam} %) after {epochs_text}"
    ), shown
