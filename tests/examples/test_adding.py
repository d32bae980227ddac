"""``minitorch-rnn adding``: tiny runs of the adding problem, its report and its errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from minitorch_rnn.serialization import read_meta

REPORT = re.compile(
    r"test MSE (?P<mse>[\d.]+) \(baseline 0\.167\): (?P<verdict>solved|not solved) after "
    r"(?P<epochs>\d+) epochs, (?P<steps>\d+) steps, \d+ s"
)


def _report(output: str) -> dict[str, str]:
    match = REPORT.search(output)
    assert match, output
    return match.groupdict()


def test_gru_solves_short_sequences_and_stops_at_the_target(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    history, checkpoint = tmp_path / "history.json", tmp_path / "adding.npz"
    result = cli(
        "adding", "--steps", "4", "--cell", "gru", "--hidden", "8", "--epoch-batches", "20",
        "--test-size", "200", "--target", "0.03", "--minutes", "1", "--no-progress", "--summary",
        "--history", str(history), "--save", str(checkpoint),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "T=4: GRU with 8 units, Adam lr 0.01, clip 1" in result.out
    gru_params = 3 * 8 * (2 + 8) + 2 * 3 * 8  # weights and both biases
    assert f"Total params: {gru_params + 8 + 1}" in result.out  # --summary, with Dense(8, 1)
    report = _report(result.out)
    assert report["verdict"] == "solved" and float(report["mse"]) < 0.03
    losses = json.loads(history.read_text())["val_loss"]
    assert len(losses) == int(report["epochs"]) and losses[-1] < 0.03 <= min(losses[:-1] + [1])
    assert int(report["steps"]) == 20 * len(losses)
    meta = read_meta(checkpoint)
    assert (meta["app"], meta["steps"], meta["cell"], meta["hidden"]) == ("adding", 4, "gru", 8)


def test_time_budget_ends_an_unsolved_run(cli: Callable[..., Any]) -> None:
    result = cli(
        "adding", "--steps", "30", "--cell", "rnn", "--hidden", "4", "--epoch-batches", "2",
        "--test-size", "20", "--target", "1e-9", "--minutes", "0.005", "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert _report(result.out)["verdict"] == "not solved"


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--steps", "1"], ["--steps", "at least 2 steps"]),
        (["--cell", "tcn"], ["--cell", "invalid choice"]),
        (["--minutes", "0"], ["--minutes", "positive number"]),
        (["--lr", "-1"], ["--lr"]),
        (["--history", "h.txt"], ["history file must end in .json or .csv"]),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    cli: Callable[..., Any], argv: list[str], fragments: list[str]
) -> None:
    cli("adding", *argv).assert_one_line_error(*fragments)


def test_adding_progress_shows_the_epoch_without_a_meaningless_total(
    cli: Callable[..., Any],
) -> None:
    # not a terminal: one progress line per epoch on stderr; the run ends by its time budget
    result = cli(
        "adding", "--steps", "5", "--hidden", "4", "--minutes", "0.001", "--epoch-batches", "2",
        "--test-size", "10",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.err.startswith("Epoch 1 - "), result.err
    assert "Epoch 1/" not in result.err


def test_a_cell_registered_by_name_trains_in_adding_with_the_untuned_defaults(
    cli: Callable[..., Any],
) -> None:
    import minitorch_rnn as mt

    mt.recurrent.register_cell("test_adding_gru", mt.GRUCell, reset_after=False)
    result = cli(
        "adding", "--cell", "test_adding_gru", "--steps", "5", "--hidden", "4", "--minutes",
        "0.001", "--epoch-batches", "2", "--test-size", "10", "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "TEST_ADDING_GRU with 4 units, Adam lr 0.001, clip 1" in result.out
