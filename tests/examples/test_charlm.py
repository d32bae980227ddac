"""``minitorch-rnn charlm``: a stateful character language model on a text file."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from minitorch_rnn.serialization import read_meta

TINY = [
    "--hidden",
    "8",
    "--embedding-dim",
    "4",
    "--epochs",
    "1",
    "--seq-len",
    "20",
    "--batch-size",
    "4",
    "--sample-length",
    "0",
    "--no-progress",
]


def test_charlm_trains_and_keeps_the_best_model(charlm_run: Any, text_file: Path) -> None:
    result = charlm_run.result
    assert result.code == 0, result.err
    text = text_file.read_text(encoding="utf-8")
    assert result.out.startswith(f"{len(text):,} characters, {len(set(text))} distinct; ")
    assert "1-layer LSTM with 16 units" in result.out
    assert result.out.count("--- sample after epoch ") == 2
    assert "best validation loss " in result.out
    assert f"best model kept at {charlm_run.checkpoint}" in result.out
    assert charlm_run.checkpoint.is_file()


def test_charlm_checkpoint_holds_the_architecture(charlm_run: Any, text_file: Path) -> None:
    meta = read_meta(charlm_run.checkpoint)
    text = text_file.read_text(encoding="utf-8")
    assert meta["app"] == "charlm"
    assert meta["vocabulary"][0] == "\n"
    assert set(meta["vocabulary"]) == set(text)
    assert (meta["cell"], meta["hidden"], meta["embedding_dim"], meta["layers"]) == (
        "lstm",
        16,
        8,
        1,
    )


def test_charlm_csv_history_has_one_row_per_epoch(charlm_run: Any) -> None:
    with charlm_run.history.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    for row in rows:
        loss, bits = float(row["val_loss"]), float(row["val_bits_per_char"])
        assert math.isfinite(loss)
        assert bits == pytest.approx(loss / math.log(2), rel=1e-6)
    assert float(rows[1]["loss"]) < float(rows[0]["loss"])


def test_charlm_with_two_gru_layers_and_dropout_runs(
    cli: Callable[..., Any], text_file: Path
) -> None:
    result = cli(
        "charlm",
        "--data",
        str(text_file),
        *TINY,
        "--cell",
        "gru",
        "--layers",
        "2",
        "--dropout",
        "0.2",
    )
    assert result.code == 0, result.err
    assert "2-layer GRU with 8 units" in result.out


def test_charlm_needs_a_data_file(cli: Callable[..., Any]) -> None:
    cli("charlm", *TINY).assert_one_line_error("--data")


def test_charlm_with_a_missing_data_file_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = cli("charlm", "--data", str(tmp_path / "missing.txt"), *TINY)
    result.assert_one_line_error("minitorch-rnn charlm: error", "missing.txt")
    assert result.out == ""


def test_charlm_with_under_a_hundred_characters_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "short.txt"
    data.write_text("too short\n", encoding="utf-8")
    cli("charlm", "--data", str(data), *TINY).assert_one_line_error("at least 100")


def test_charlm_text_too_short_for_the_batches_is_a_one_line_error(
    cli: Callable[..., Any], text_file: Path
) -> None:
    result = cli("charlm", "--data", str(text_file), *TINY, "--max-chars", "150")
    result.assert_one_line_error("text too short", "--batch-size 4", "--seq-len 20")


@pytest.mark.parametrize(
    "option, value", [("--dropout", "1.0"), ("--dropout", "-0.1"), ("--val-share", "0.5")]
)
def test_charlm_out_of_range_fractions_are_one_line_errors(
    cli: Callable[..., Any], text_file: Path, option: str, value: str
) -> None:
    cli("charlm", "--data", str(text_file), *TINY, option, value).assert_one_line_error(option)


def test_charlm_with_one_character_says_character_not_characters(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "one.txt"
    data.write_text("x", encoding="utf-8")
    cli("charlm", "--data", str(data), *TINY).assert_one_line_error("holds 1 character;")


def test_interrupted_charlm_keeps_the_best_epoch_so_far_and_says_where(
    cli: Callable[..., Any], text_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minitorch_rnn.examples.charlm import PrintSample

    def on_epoch_begin(self: Any, index: int, logs: Any = None) -> None:
        if index == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(PrintSample, "on_epoch_begin", on_epoch_begin)
    checkpoint = tmp_path / "charlm.npz"
    arguments = ["--data", str(text_file), *TINY, "--epochs", "3", "--save", str(checkpoint)]
    result = cli("charlm", *arguments)
    assert result.code == 130
    (line,) = result.err.splitlines()
    assert line.startswith("minitorch-rnn charlm: interrupted; the best epoch so far (1, val_loss")
    assert line.endswith(f"is saved in {checkpoint}")
    assert read_meta(checkpoint)["app"] == "charlm"
