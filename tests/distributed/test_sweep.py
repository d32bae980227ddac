"""sweep() and ``minitorch-rnn sweep subtract`` on a local Ray (2 CPUs) shared by the module."""

from __future__ import annotations

import csv
import importlib.util
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from minitorch_rnn.cli import main

ray = pytest.importorskip("ray")

from minitorch_rnn.distributed import SweepError, sweep  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _score(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"score": config["width"] * 10 + config["seed"], "label": f"w{config['width']}"}


def _fail_on_width_two(config: Mapping[str, Any]) -> dict[str, Any]:
    if config["width"] == 2:
        raise ArithmeticError("width two is not allowed")
    return {"score": 0}


def test_sweep_returns_one_row_per_point_and_seed_in_grid_order() -> None:
    rows = sweep(_score, {"width": [3, 1], "tag": ["a"]}, seeds=[5, 0], num_workers=2)
    assert rows == [
        {"width": 3, "tag": "a", "seed": 5, "score": 35, "label": "w3"},
        {"width": 3, "tag": "a", "seed": 0, "score": 30, "label": "w3"},
        {"width": 1, "tag": "a", "seed": 5, "score": 15, "label": "w1"},
        {"width": 1, "tag": "a", "seed": 0, "score": 10, "label": "w1"},
    ]


def test_a_failing_trial_fails_the_sweep_naming_its_configuration() -> None:
    with pytest.raises(SweepError, match=r"1 of 2 trials failed.*'width': 2.*width two"):
        sweep(_fail_on_width_two, {"width": [1, 2]}, num_workers=2)


@pytest.mark.parametrize(
    ("grid", "seeds", "message"),
    [
        ({}, [0], "grid must be a non-empty mapping"),
        ({"width": []}, [0], r"grid\['width'\] must be a non-empty list"),
        ({"width": [1, 1]}, [0], r"grid\['width'\] repeats a value"),
        ({"seed": [1]}, [0], "grid keys must be strings other than 'seed'"),
        ({"width": [1]}, [], "seeds must be a non-empty list of ints"),
        ({"width": [1]}, [0.5], "seeds must be a non-empty list of ints"),
    ],
)
def test_a_bad_grid_is_refused_before_anything_runs(
    grid: dict[str, Any], seeds: list[Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"sweep: {message}"):
        sweep(_score, grid, seeds)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_request:
        code = int(exit_request.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_sweep_command_runs_a_tiny_grid_and_writes_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # the folder does not exist yet: the command creates it (``--output runs/subtract.csv``)
    output, plot = tmp_path / "runs" / "table.csv", tmp_path / "table.png"
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    code, out, err = _cli(
        capsys,
        "sweep", "subtract", "--nonlinearity", "tanh", "--bias", "yes", "no", "--hidden", "8",
        "--seeds", "0", "1", "--bits", "2", "--epochs", "3", "--num-workers", "2",
        "--output", str(output), *(["--plot", str(plot)] if has_matplotlib else []),
    )  # fmt: skip
    assert code == 0, err
    if has_matplotlib:
        assert plot.read_bytes().startswith(b"\x89PNG")
    assert "| tanh | yes |" in out and "| tanh | no |" in out
    with output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["bias"], row["seed"]) for row in rows] == [
        ("True", "0"), ("True", "1"), ("False", "0"), ("False", "1")
    ]  # fmt: skip
    for row in rows:
        assert row["hidden"] == "8" and 0.0 <= float(row["accuracy"]) <= 1.0
        assert 1 <= int(row["epochs"]) <= 3


def test_a_sweep_trial_is_the_subtract_commands_training(tmp_path: Path) -> None:
    """The sweep's trial and ``minitorch-rnn subtract`` at the same settings agree exactly."""
    from minitorch_rnn.examples.sweep import subtract_trial

    fixed = {"bits": 2, "epochs": 4, "lr": 0.01, "batch_size": 16}
    config = {"nonlinearity": "sigmoid", "bias": False, "hidden": 4, "seed": 3}
    history = tmp_path / "history.json"
    code = main(
        ["subtract", "--bits", "2", "--epochs", "4", "--nonlinearity", "sigmoid", "--no-bias",
         "--hidden", "4", "--seed", "3", "--no-progress", "--history", str(history)]
    )  # fmt: skip
    assert code == 0
    expected = json.loads(history.read_text(encoding="utf-8"))
    result = subtract_trial(config, fixed)
    assert result["accuracy"] == expected["val_sequence_accuracy"][-1]
    assert result["epochs"] == len(expected["loss"])


def test_the_table_shows_epochs_for_one_seed_and_the_mean_and_solved_counts_for_several() -> None:
    from minitorch_rnn.examples.sweep import format_table

    rows = [
        {"nonlinearity": "tanh", "bias": True, "hidden": 4, "seed": 0, "accuracy": 1.0,
         "epochs": 465, "seconds": 3.5},
        {"nonlinearity": "tanh", "bias": False, "hidden": 4, "seed": 0, "accuracy": 1.0,
         "epochs": 10, "seconds": 0.1},
        {"nonlinearity": "tanh", "bias": False, "hidden": 4, "seed": 1, "accuracy": 0.5,
         "epochs": 1000, "seconds": 9.0},
    ]  # fmt: skip
    assert format_table(rows, [4, 8]).splitlines() == [
        "| nonlinearity | biases | 4 units | 8 units |",
        "| --- | --- | --- | --- |",
        "| tanh | yes | 100 % (465 ep, 3.5 s) | — |",
        "| tanh | no | mean 75.0 % (1/2 seeds at 100 %) | — |",
    ]
