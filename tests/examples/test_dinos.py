"""``minitorch-rnn dinos`` end to end: training, reports, checkpoint, history and its user errors."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch_rnn.datasets.dinos import (
    CharVocabulary,
    bigram_cross_entropy,
    load_dino_names,
    split_names,
)
from minitorch_rnn.serialization import read_meta

EPOCHS = 5  # the session fixture ``dinos_run`` trains this many epochs
HELD_OUT_LINE = re.compile(
    r"held-out cross-entropy per character: RNN (?P<nats>[\d.]+) nats \((?P<bits>[\d.]+) bits\), "
    r"bigram baseline (?P<bigram_nats>[\d.]+) nats \((?P<bigram_bits>[\d.]+) bits\)"
)
TINY = ["--hidden", "8", "--embedding-dim", "4", "--samples", "0", "--no-progress"]

CUSTOM_NAMES = [
    "rexo",
    "tricero",
    "velocira",
    "stego",
    "brachio",
    "anky",
    "diplo",
    "iguano",
    "spino",
    "allo",
    "pachy",
    "compso",
]


def held_out_numbers(output: str) -> dict[str, float]:
    match = HELD_OUT_LINE.search(output)
    assert match, output
    return {key: float(value) for key, value in match.groupdict().items()}


def test_dinos_run_succeeds_and_writes_checkpoint_and_history(dinos_run: Any) -> None:
    assert dinos_run.result.code == 0, dinos_run.result.err
    assert dinos_run.checkpoint.is_file()
    assert dinos_run.history.is_file()
    out = dinos_run.result.out
    assert f"model saved to {dinos_run.checkpoint}" in out
    assert f"history written to {dinos_run.history}" in out


def test_dinos_reports_the_shipped_corpus_and_its_split(dinos_run: Any) -> None:
    first_line = dinos_run.result.out.splitlines()[0]
    assert first_line == (
        "1536 names, 27 characters; training on 1382, holding out 154; RNN with 16 units"
    )


def test_dinos_history_has_one_value_per_epoch_and_the_loss_falls(dinos_run: Any) -> None:
    history = json.loads(dinos_run.history.read_text(encoding="utf-8"))
    for key in ("loss", "val_loss", "bits_per_char", "val_bits_per_char"):
        assert len(history[key]) == EPOCHS, key
        assert all(math.isfinite(value) for value in history[key])
    assert (np.diff(history["loss"]) < 0).all()
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_dinos_prints_held_out_cross_entropy_against_the_bigram_baseline(dinos_run: Any) -> None:
    out = dinos_run.result.out
    numbers = held_out_numbers(out)
    assert numbers["bits"] == pytest.approx(numbers["nats"] / math.log(2), abs=2e-3)
    assert numbers["bigram_bits"] == pytest.approx(numbers["bigram_nats"] / math.log(2), abs=2e-3)
    # the baseline is the count-based bigram of the same split (--seed 0, --holdout 0.1)
    names = load_dino_names()
    train, held_out = split_names(names, 0.1, seed=0)
    expected = bigram_cross_entropy(train, held_out, CharVocabulary.from_texts(names))
    assert numbers["bigram_nats"] == pytest.approx(expected, abs=1e-4)
    verdict = (
        "the RNN beats the bigram"
        if numbers["nats"] < numbers["bigram_nats"]
        else "the RNN does NOT beat the bigram yet"
    )
    assert verdict in out.splitlines()


def test_dinos_held_out_figure_matches_the_last_validation_epoch(dinos_run: Any) -> None:
    history = json.loads(dinos_run.history.read_text(encoding="utf-8"))
    numbers = held_out_numbers(dinos_run.result.out)
    assert history["val_bits_per_char"][-1] == pytest.approx(numbers["bits"], abs=1e-3)


def test_dinos_prints_a_sample_every_epoch_and_ten_generated_names(dinos_run: Any) -> None:
    lines = dinos_run.result.out.splitlines()
    for epoch in range(1, EPOCHS + 1):
        assert any(line.startswith(f"  epoch {epoch} samples: ") for line in lines), epoch
    start = lines.index("generated names:")
    names = [line.strip() for line in lines[start + 1 : start + 11]]
    assert len(names) == 10
    for name in names:
        assert len(name) <= 50
        assert name == name.capitalize()
        assert set(name.lower()) <= set("abcdefghijklmnopqrstuvwxyz")


def test_dinos_checkpoint_records_the_model_config_for_sample(dinos_run: Any) -> None:
    meta = read_meta(dinos_run.checkpoint)
    assert meta["app"] == "dinos"
    assert meta["vocabulary"] == "\n" + "abcdefghijklmnopqrstuvwxyz"
    embedding, stack, _ = meta["config"]["modules"]
    assert (stack["cell_class"], stack["hidden_size"], embedding["embedding_dim"]) == (
        "RNNCell",
        16,
        8,
    )
    assert (stack["num_layers"], stack["dropout"]) == (1, 0.0)
    assert meta["held_out_nats"] == pytest.approx(
        held_out_numbers(dinos_run.result.out)["nats"], abs=1e-4
    )


def test_dinos_trains_on_a_custom_names_file_and_writes_csv_history(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "names.txt"
    # upper case and blank lines are tolerated: names are lower-cased, blanks dropped
    data.write_text("\n".join([*CUSTOM_NAMES[:6], "", *(n.upper() for n in CUSTOM_NAMES[6:])]))
    history = tmp_path / "history.csv"
    result = cli(
        "dinos", "--data", str(data), "--epochs", "2", *TINY, "--samples", "1",
        "--history", str(history),
    )  # fmt: skip
    assert result.code == 0, result.err
    letters = set("".join(CUSTOM_NAMES))
    assert result.out.startswith(
        f"{len(CUSTOM_NAMES)} names, {len(letters) + 1} characters; training on 11, holding out 1"
    )
    with history.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert all(math.isfinite(float(row["val_loss"])) for row in rows)
    lines = result.out.splitlines()
    start = lines.index("generated names:")
    for name in lines[start + 1 : start + 11]:
        assert set(name.strip().lower()) <= letters


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_dinos_trains_with_gated_cells(cli: Callable[..., Any], cell: str) -> None:
    result = cli("dinos", "--epochs", "1", "--cell", cell, *TINY)
    assert result.code == 0, result.err
    assert f"{cell.upper()} with 8 units" in result.out


def test_dinos_with_a_missing_data_file_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    missing = tmp_path / "no_such_names.txt"
    result = cli("dinos", "--data", str(missing), "--epochs", "1", *TINY)
    result.assert_one_line_error("minitorch-rnn dinos: error", "no_such_names.txt")
    assert result.out == ""


def test_dinos_with_a_folder_as_data_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    cli("dinos", "--data", str(tmp_path), "--epochs", "1", *TINY).assert_one_line_error(
        "cannot read names"
    )


@pytest.mark.parametrize("holdout", ["0", "0.5", "-0.1"])
def test_dinos_holdout_out_of_range_is_a_one_line_error(
    cli: Callable[..., Any], holdout: str
) -> None:
    cli("dinos", "--holdout", holdout, *TINY).assert_one_line_error("--holdout")


def test_dinos_with_an_empty_names_file_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "empty.txt"
    data.write_text("\n\n", encoding="utf-8")
    cli("dinos", "--data", str(data), "--epochs", "1", *TINY).assert_one_line_error("no names")


def test_dinos_with_a_single_name_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "one.txt"
    data.write_text("rex\n", encoding="utf-8")
    cli("dinos", "--data", str(data), "--epochs", "1", *TINY).assert_one_line_error()


def test_dinos_says_one_epoch_and_names_the_cell_it_trained(cli: Callable[..., Any]) -> None:
    result = cli("dinos", "--epochs", "1", "--cell", "lstm", *TINY)
    assert result.code == 0, result.err
    assert "1 epoch; weights" in result.out and "1 epochs" not in result.out
    assert "the LSTM beats the bigram" in result.out or "the LSTM does NOT beat" in result.out
    assert "RNN" not in result.out.replace("held-out", "")


def interrupt_at_epoch(monkeypatch: pytest.MonkeyPatch, callback: type, epoch: int) -> None:
    """Make ``callback`` raise KeyboardInterrupt (as Ctrl-C would) when epoch ``epoch`` begins."""

    def on_epoch_begin(self: Any, index: int, logs: Any = None) -> None:
        if index == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(callback, "on_epoch_begin", on_epoch_begin)


def test_interrupted_dinos_keeps_the_best_epoch_so_far_and_says_where(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minitorch_rnn.examples.dinos import PrintSamples

    interrupt_at_epoch(monkeypatch, PrintSamples, 2)  # after two whole epochs
    checkpoint = tmp_path / "dinos {x}.npz"  # braces are taken literally
    result = cli("dinos", "--epochs", "5", *TINY, "--save", str(checkpoint))
    assert result.code == 130
    (line,) = result.err.splitlines()
    assert line.startswith("minitorch-rnn dinos: interrupted; the best epoch so far (")
    assert str(checkpoint) in line
    meta = read_meta(checkpoint)
    assert meta["app"] == "dinos" and meta["config"]["modules"][1]["hidden_size"] == 8
    sampled = cli("sample", str(checkpoint), "--n", "2")
    assert sampled.code == 0, sampled.err
    assert len(sampled.out.splitlines()) == 2


def test_interrupted_dinos_without_save_says_nothing_was_saved(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from minitorch_rnn.examples.dinos import PrintSamples

    interrupt_at_epoch(monkeypatch, PrintSamples, 1)
    result = cli("dinos", "--epochs", "3", *TINY)
    assert result.code == 130
    assert result.err == "minitorch-rnn dinos: interrupted; nothing was saved (no --save given)\n"


def test_dinos_with_zero_samples_prints_no_names(cli: Callable[..., Any]) -> None:
    result = cli(
        "dinos", "--epochs", "1", "--hidden", "8", "--embedding-dim", "4", "--samples", "0",
        "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "generated names" not in result.out and "samples:" not in result.out
